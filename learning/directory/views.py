"""The directory page (what is configured, its state, a connection test) and the decisions on pending links."""

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from learning.db import unit_of_work
from learning.directory import bp, sync_views  # noqa: F401 - sync_views: the sync page's routes
from learning.directory.forms import LinkDecisionForm, TestConnectionForm
from learning.directory.services import (
    confirm_link,
    directory_configured,
    directory_settings,
    directory_status,
    pending_links,
    refuse_link,
    try_connection,
)
from learning.errors import ServiceError
from learning.org.models import Role
from learning.security import allow


@bp.app_template_global("directory_configured")
def _directory_configured() -> bool:
    return directory_configured()


@bp.app_template_global("pending_directory_links")
def _pending_directory_links():
    """For the people page (templates/directory/_pending_links.html), which the org feature renders."""
    return pending_links()


@bp.route("/")
@allow(Role.ADMIN)
def index():
    settings = directory_settings()
    return render_template("directory/index.html", settings=settings, status=directory_status(),
                           links=pending_links(), form=TestConnectionForm(), decision_form=LinkDecisionForm())


@bp.route("/test", methods=["POST"])
@allow(Role.ADMIN)
def test():
    if not TestConnectionForm().validate_on_submit():
        flash(_("Your form has expired. Please try again."), "warning")
        return redirect(url_for("directory.index"))
    try:
        with unit_of_work():  # the outcome is noted on the page in either case
            worked, message = try_connection()
    except ServiceError as error:
        flash(str(error), "warning")
    else:
        if worked:
            flash(_("The connection works: %(message)s", message=message), "success")
        else:
            flash(_("The directory cannot be reached: %(message)s", message=message), "danger")
    return redirect(url_for("directory.index"))


def _decide(link_id: int, decide, done: str):
    if not LinkDecisionForm().validate_on_submit():
        flash(_("Your form has expired. Please try again."), "warning")
        return redirect(url_for("org.users", _anchor="pending-links-heading"))
    try:
        with unit_of_work():
            user = decide(link_id, current_user)
    except ServiceError as error:
        if error.status == 404:
            raise
        flash(str(error), "danger")
    else:
        flash(done % {"name": user.full_name}, "success")
    return redirect(url_for("org.users", _anchor="pending-links-heading"))


@bp.route("/links/<int:link_id>/confirm", methods=["POST"])
@allow(Role.ADMIN)
def confirm(link_id: int):
    return _decide(link_id, confirm_link, _("The directory account is now linked to %(name)s."))


@bp.route("/links/<int:link_id>/refuse", methods=["POST"])
@allow(Role.ADMIN)
def refuse(link_id: int):
    return _decide(link_id, refuse_link, _("The link to %(name)s was refused; nothing was linked."))
