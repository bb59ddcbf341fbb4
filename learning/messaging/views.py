from flask import current_app, render_template
from sqlalchemy import select

from learning.db import db
from learning.messaging import bp
from learning.messaging.models import CapturedMail
from learning.org.models import Role
from learning.security import allow


@bp.route("/")
@allow(Role.ADMIN)
def captured_mail():
    page = db.paginate(select(CapturedMail).order_by(CapturedMail.created_at.desc(), CapturedMail.id.desc()),
                       per_page=20, max_per_page=20, error_out=False)
    return render_template("messaging/captured_mail.html", page=page,
                           capturing=not current_app.config["SMTP_URL"])
