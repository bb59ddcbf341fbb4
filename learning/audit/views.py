from flask import render_template, request
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from learning.audit import bp
from learning.audit.models import AuditEntry
from learning.db import db
from learning.org.models import Role
from learning.security import allow


@bp.route("/")
@allow(Role.ADMIN)
def log():
    query = select(AuditEntry).options(selectinload(AuditEntry.actor))
    action = request.args.get("action", "").strip()
    if action:
        query = query.where(AuditEntry.action.startswith(action))
    page = db.paginate(query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc()), per_page=50,
                       max_per_page=50, error_out=False)
    return render_template("audit/log.html", page=page, action=action)
