"""The notification centre, the reminder preferences and the personal calendar feed."""

from __future__ import annotations

from flask import abort, current_app, flash, g, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

from learning.db import db, unit_of_work
from learning.errors import ServiceError, show_on_form
from learning.guards import int_arg, page_arg
from learning.i18n import local_today
from learning.messaging.reminders import optional_kinds
from learning.notifications import bp
from learning.notifications.calendar import build_calendar
from learning.notifications.forms import ActionForm, PreferencesForm
from learning.notifications.models import Digest
from learning.notifications.services import (
    calendar_owner,
    mark_all_read,
    mark_read,
    notification_page,
    preferences_of,
    renew_calendar_token,
    save_preferences,
    unread_count,
)
from learning.security import AUTHENTICATED, PUBLIC, allow


@bp.app_context_processor
def notification_badge() -> dict:
    """``unread_notifications()`` for the header: one COUNT query, run only when a page asks for it."""

    def unread_notifications() -> int | None:
        if not getattr(current_user, "is_authenticated", False):
            return None
        if "unread_notifications" not in g:
            try:
                g.unread_notifications = unread_count(current_user)
            except SQLAlchemyError:  # e.g. the connection was lost: the link without a count, and the rest
                db.session.rollback()  # of the page runs its queries afresh (or reports the database as gone)
                g.unread_notifications = None
        return g.unread_notifications

    return {"unread_notifications": unread_notifications}


@bp.route("/", endpoint="index")
@allow(AUTHENTICATED)
def index():
    unread_only = request.args.get("show") == "unread"
    page, items = notification_page(current_user, page=page_arg(),
                                    unread_only=unread_only, today=local_today())
    return render_template("notifications/index.html", page=page, entries=items, unread_only=unread_only,
                           form=ActionForm())


@bp.route("/<int:notification_id>/read", methods=["POST"], endpoint="read")
@allow(AUTHENTICATED)
def read(notification_id: int):
    with unit_of_work():
        found = mark_read(current_user, notification_id)
    if not found:
        abort(404)
    return redirect(url_for("notifications.index", show=request.form.get("show") or None,
                            page=int_arg("page", source=request.form)))


@bp.route("/read-all", methods=["POST"], endpoint="read_all")
@allow(AUTHENTICATED)
def read_all():
    with unit_of_work():
        count = mark_all_read(current_user)
    if count:
        flash(_("All notifications are marked as read."), "success")
    return redirect(url_for("notifications.index"))


def _calendar_url(token: str | None) -> str | None:
    if not token:
        return None
    return current_app.config["BASE_URL"] + url_for("notifications.calendar", calendar_token=token)


@bp.route("/preferences", methods=["GET", "POST"], endpoint="preferences")
@allow(AUTHENTICATED)
def preferences():
    current = preferences_of(current_user.id)
    kinds = optional_kinds(current_user)
    form = PreferencesForm(kinds=kinds, data={
        "digest": current.digest, "kinds": [k.name for k in kinds if k.name not in current.muted]})
    if form.validate_on_submit():
        try:
            with unit_of_work():
                save_preferences(current_user, digest=form.digest.data, enabled_kinds=form.kinds.data or [])
        except ServiceError as error:
            show_on_form(form, error, default="kinds")
        else:
            flash(_("Your notification settings are saved."), "saved")
            return redirect(url_for("notifications.preferences"))
    config = current_app.config
    return render_template("notifications/preferences.html", form=form, kinds=kinds, action_form=ActionForm(),
                           calendar_url=_calendar_url(current.calendar_token), default_digest=config["REMINDER_DIGEST"],
                           Digest=Digest, hours=config["MAIL_HOURS"], weekends=config["MAIL_WEEKENDS"],
                           daily_cap=config["MAIL_DAILY_CAP"])


@bp.route("/calendar/renew", methods=["POST"], endpoint="renew_calendar")
@allow(AUTHENTICATED)
def renew_calendar():
    had_one = preferences_of(current_user.id).calendar_token is not None
    with unit_of_work():
        renew_calendar_token(current_user)
    flash(_("Your calendar has a new address. The old address no longer works; please subscribe to the new one.")
          if had_one else _("Your calendar address is ready. Add it to your calendar program as a subscription."),
          "success")
    return redirect(url_for("notifications.preferences", _anchor="calendar"))


@bp.route("/calendar/<calendar_token>.ics", endpoint="calendar")
@allow(PUBLIC)
def calendar(calendar_token: str):
    """The person's calendar (iCalendar); the secret token in the address identifies the person."""
    owner = calendar_owner(calendar_token)
    if owner is None:
        abort(404)
    response = make_response(build_calendar(owner, local_today()))
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    response.headers["Content-Disposition"] = 'inline; filename="lernplattform.ics"'
    response.headers["Cache-Control"] = "private, max-age=900"
    response.headers["X-Robots-Tag"] = "noindex"
    return response
