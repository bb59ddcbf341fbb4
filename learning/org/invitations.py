"""Sending first-password links to many people at once: who gets one, who is skipped and why, and queuing them.

Without a directory, an admin invites people by mailing each a link to set their first password.
:func:`invitation_plan` says, for a selection of people (ticked on the people list, or everyone the
list's filters find), who gets a link and who is skipped, with the reason; :func:`queue_invitations`
puts the links into the outbox (reminder kind ``org.first_password``, ``learning/org/reminders.py``).
The outbox's sender mails them at its next run within the mail hours and the daily cap (not with the
person's digest: the kind is ``immediate``), re-checks each person just before (still active, still
without a password), makes the link at that moment, and never mails one twice; a server that is
down delays them, nothing is lost.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, exists, select

from learning.audit.services import record
from learning.db import db
from learning.directory.models import ExternalIdentity
from learning.i18n import local_today
from learning.messaging.models import Outbox, OutboxStatus
from learning.messaging.reminders import Planned, announce_now
from learning.org.models import User

KIND = "org.first_password"
SUBJECT = "first-password"
MAX_SELECTED = 1000  # people ticked at once; "everyone the filters find" has no such limit
LISTED = 100  # names shown per group on the preview; the rest is counted


class Skip(enum.StrEnum):
    NO_EMAIL = "no_email"
    DEACTIVATED = "deactivated"
    HAS_PASSWORD = "has_password"
    DIRECTORY = "directory"
    WAITING = "waiting"


SKIP_LABELS = {
    Skip.NO_EMAIL: _l("No email address"),
    Skip.DEACTIVATED: _l("Deactivated"),
    Skip.HAS_PASSWORD: _l("Already has a password"),
    Skip.DIRECTORY: _l("Signs in with the directory account"),
    Skip.WAITING: _l("A link is already waiting in the outbox"),
}


@dataclass(frozen=True)
class Invitee:
    id: int
    first_name: str
    last_name: str
    email: str

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


@dataclass
class InvitationPlan:
    invited: list[Invitee] = field(default_factory=list)
    skipped: dict[Skip, list[Invitee]] = field(default_factory=dict)

    @property
    def skipped_count(self) -> int:
        return sum(len(people) for people in self.skipped.values())

    def groups(self) -> list[tuple[str, list[Invitee]]]:
        """(reason in the reader's language, people) in a fixed order, only reasons that occur."""
        return [(str(SKIP_LABELS[reason]), self.skipped[reason]) for reason in Skip if self.skipped.get(reason)]


def _waiting():
    """SQL on ``User``: a first-password link for the person is queued or being sent."""
    return exists().where(Outbox.user_id == User.id, Outbox.kind == KIND,
                          Outbox.status.in_([OutboxStatus.QUEUED.value, OutboxStatus.SENDING.value]))


def _reason(row) -> Skip | None:
    if not row.active:
        return Skip.DEACTIVATED
    if not row.email or "@" not in row.email:
        return Skip.NO_EMAIL
    if row.has_password:
        return Skip.HAS_PASSWORD
    if row.directory:
        return Skip.DIRECTORY
    if row.waiting:
        return Skip.WAITING
    return None


def invitation_plan(people: Select) -> InvitationPlan:
    """Who of ``people`` (a select of ``User`` narrowed by filters or ids) gets a link, and who not, why (one query)."""
    directory = exists().where(ExternalIdentity.user_id == User.id)
    rows = db.session.execute(
        people.with_only_columns(User.id, User.first_name, User.last_name, User.email, User.active,
                                 User.password_hash.is_not(None).label("has_password"),
                                 directory.label("directory"), _waiting().label("waiting"))
        .order_by(User.last_name, User.first_name, User.id))
    plan = InvitationPlan()
    for row in rows:
        invitee = Invitee(row.id, row.first_name, row.last_name, row.email)
        reason = _reason(row)
        if reason is None:
            plan.invited.append(invitee)
        else:
            plan.skipped.setdefault(reason, []).append(invitee)
    return plan


def selected(user_ids: list[int]) -> Select:
    return select(User).where(User.id.in_(user_ids[:MAX_SELECTED]))


def queue_invitations(people: Select, actor: User) -> InvitationPlan:
    """Queue a first-password link for everyone of ``people`` the plan invites; audit-logged per person (flushes).

    The plan is made again here, so what changed since the preview (a password set meanwhile) counts.
    A link queued today is never queued twice (the outbox's key: person, kind, subject, day).
    """
    plan = invitation_plan(people)
    if not plan.invited:
        return plan
    day = local_today().isoformat()
    announce_now(KIND, [Planned(p.id, SUBJECT, day, {"by": actor.id}, mandatory=True) for p in plan.invited])
    for person in plan.invited:
        entry = record(actor, "account.invitation_queued", None, summary=f"{person.full_name} <{person.email}>")
        entry.target_type, entry.target_id = "user", person.id
    db.session.flush()
    return plan
