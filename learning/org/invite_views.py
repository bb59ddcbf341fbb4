"""Send first-password links to many people: a preview (who gets one, who is skipped and why), then the send."""

import re

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import select

from learning.db import unit_of_work
from learning.org import bp
from learning.org.forms import ActionForm
from learning.org.invitations import LISTED, MAX_SELECTED, InvitationPlan, invitation_plan, queue_invitations, selected
from learning.org.models import User
from learning.org.people_list import PeopleFilter
from learning.roles import Role
from learning.security import allow

ID = re.compile(r"[0-9]{1,12}")


def _selection(source):
    """(the people chosen, the filters, whether everyone the filters find is meant, the ticked ids)."""
    filters = PeopleFilter.from_args(source)
    if source.get("scope") == "filtered":
        return filters.apply(select(User)), filters, True, []
    ids = sorted({int(raw) for raw in source.getlist("user_id")[:MAX_SELECTED] if ID.fullmatch(raw.strip())})
    return selected(ids), filters, False, ids


@bp.route("/people/invite", methods=["GET", "POST"])
@allow(Role.ADMIN)
def invite_people():
    """GET: the preview of a bulk invitation; POST (from the preview): queue the links."""
    source = request.form if request.method == "POST" else request.args
    people, filters, everyone, ids = _selection(source)
    back = url_for("org.users", **filters.args())
    chosen = everyone or bool(ids)
    form = ActionForm()
    if chosen and form.validate_on_submit():  # a POST without a valid CSRF token never gets here (CSRFProtect)
        with unit_of_work():
            plan = queue_invitations(people, current_user._get_current_object())
        if plan.invited:
            flash(ngettext("A link to set a password is on its way to %(num)d person. The outbox sends it within "
                           "the mail hours.",
                           "Links to set a password are on their way to %(num)d people. The outbox sends them "
                           "within the mail hours.", len(plan.invited)), "sent")
        else:
            flash(_("Nobody of the people chosen can get a link."), "warning")
        return redirect(back)
    plan = invitation_plan(people) if chosen else InvitationPlan()
    hours = current_app.config["MAIL_HOURS"]
    return render_template("org/invite_preview.html", plan=plan, filters=filters, everyone=everyone, ids=ids,
                           back=back, form=form, chosen=chosen, listed=LISTED, start_hour=hours[0], end_hour=hours[1],
                           days=current_app.config["INVITATION_DAYS"])
