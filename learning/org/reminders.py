"""First-password links an admin sent to many people at once (``learning/org/invitations.py``), as outbox mail.

Never planned by the reminder run: the admin's bulk action queues them. Not optional (an invitation
is not a reminder one can switch off). The sender re-checks each row just before the mail goes out:
the person must still be active, without a password and without a directory account; the link is
made at that moment, so its validity (``LEARNING_INVITATION_DAYS``) counts from the mail.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import exists, select

from learning.auth.services import INVITATION, make_token
from learning.db import db
from learning.directory.models import ExternalIdentity
from learning.messaging.reminders import Entry, Pending, PlanContext, Planned, reminder_kind
from learning.org.invitations import KIND
from learning.org.models import User

first_password = reminder_kind(
    KIND, label=_l("Link to set your first password"), optional=False, order=5, lookback_days=1, immediate=True,
    description=_l("When the administration invites you to the learning platform."))


@first_password.planner
def plan_first_password(ctx: PlanContext) -> list[Planned]:
    """Nothing: the links are queued by the admin's bulk action, not by the reminder run."""
    return []


def _can_set_password():
    return (User.active, User.password_hash.is_(None), ~exists().where(ExternalIdentity.user_id == User.id))


@first_password.checker
def first_password_still_due(items: Sequence[Pending], ctx: PlanContext) -> dict[int, dict]:
    """Still active, still without a password or directory account: a fresh link for each (one query)."""
    people = {user.id: user for user in db.session.scalars(
        select(User).where(User.id.in_({item.user_id for item in items}), *_can_set_password()))}
    days = ctx.config["INVITATION_DAYS"]
    return {item.id: {"token": make_token(people[item.user_id], INVITATION), "days": days,
                      "username": people[item.user_id].username}
            for item in items if item.user_id in people}


@first_password.shown_while
def password_still_missing(notification, today: date):
    """SQL: the person has not set a password yet (afterwards the notification has done its work)."""
    return select(User.id).where(User.id == notification.user_id, User.password_hash.is_(None)).exists()


@first_password.describer
def describe_first_password(details: dict, today: date) -> Entry:
    days = details.get("days") or current_app.config["INVITATION_DAYS"]
    return Entry(
        title=_("Set your password for the learning platform"),
        detail=_("Your user name is %(username)s. The link can be used once and is valid for %(valid)s.",
                 username=details.get("username", ""), valid=ngettext("%(num)d day", "%(num)d days", days)),
        endpoint="auth.reset_password", values={"token": details["token"]})
