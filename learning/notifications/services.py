"""The notification centre, each person's reminder preferences and their calendar address.

Notifications are made by the sender (``learning.messaging.outbox``) when it delivers a reminder:
after the re-check and the person's opt-outs, before quiet hours and digests, which concern mail
only. A newer reminder about the same thing marks the older unread one as read, so the centre
shows each open item once.

A reminder disappears as soon as its work is done: the centre and the unread count list a
notification only while its kind's ``shown_while`` clause holds (course still open, survey still
unanswered, announcement still unconfirmed, ...). The clauses of all kinds are joined into one SQL
condition of the listing and counting queries, so the check costs no query of its own and takes
effect at once, whoever or whatever finished the work.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from datetime import date, datetime

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import and_, bindparam, delete, func, insert, or_, select, tuple_, update

from learning.db import db, utcnow
from learning.errors import ServiceError
from learning.i18n import local_today
from learning.messaging.reminders import Entry, kind_named, optional_kinds, registered_kinds
from learning.notifications.models import Digest, Notification, NotificationPreference, new_calendar_token
from learning.org.models import User
from learning.pagination import paginate

logger = logging.getLogger(__name__)

PER_PAGE = 20
CHUNK = 400


# Preferences ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Preferences:
    digest: str
    muted: frozenset[str]
    calendar_token: str | None

    def wants(self, kind: str, mandatory: bool) -> bool:
        """Whether a reminder of ``kind`` reaches the person (mandatory ones always do)."""
        return mandatory or kind not in self.muted


def default_digest() -> str:
    return current_app.config["REMINDER_DIGEST"]


def _from_row(row: NotificationPreference | None) -> Preferences:
    if row is None:
        return Preferences(default_digest(), frozenset(), None)
    return Preferences(row.digest or default_digest(), frozenset(row.muted_kinds or ()), row.calendar_token)


def preferences_of(user_id: int) -> Preferences:
    return _from_row(db.session.get(NotificationPreference, user_id))


def preferences_for(user_ids: set[int]) -> dict[int, Preferences]:
    """Everyone's preferences in one query; people without a row get the defaults."""
    rows = {row.user_id: row for row in db.session.scalars(
        select(NotificationPreference).where(NotificationPreference.user_id.in_(user_ids)))} if user_ids else {}
    return {user_id: _from_row(rows.get(user_id)) for user_id in user_ids}


def _row_for(user: User) -> NotificationPreference:
    row = db.session.get(NotificationPreference, user.id)
    if row is None:
        row = NotificationPreference(user_id=user.id, muted_kinds=[])
        db.session.add(row)
    return row


def save_preferences(user: User, *, digest: str, enabled_kinds: list[str]) -> Preferences:
    """Store how the person wants reminders; listed optional kinds not enabled are switched off."""
    if digest not in {d.value for d in Digest}:
        raise ServiceError(_("Please choose how often you want to get mail."))
    listed = {kind.name for kind in optional_kinds(user)}  # the kinds the settings show this person
    unknown = set(enabled_kinds) - listed
    if unknown:
        raise ServiceError(_("Please choose only from the reminders listed."))
    row = _row_for(user)
    row.digest = digest
    # Kinds not listed (they cannot concern the person now) keep their earlier choice.
    row.muted_kinds = sorted((listed - set(enabled_kinds)) | (set(row.muted_kinds or ()) - listed))
    db.session.flush()
    logger.info("Reminder preferences of %s: %s, muted %s", user.id, digest, row.muted_kinds)
    return _from_row(row)


# The calendar address -------------------------------------------------------------------------------

def renew_calendar_token(user: User) -> str:
    """Create the person's calendar address, or replace it so that the old one stops working."""
    row = _row_for(user)
    row.calendar_token, row.calendar_token_created_at = new_calendar_token(), utcnow()
    db.session.flush()
    logger.info("Calendar address renewed for %s", user.id)
    return row.calendar_token


def calendar_owner(token: str) -> User | None:
    """The active person a calendar token belongs to, or None."""
    if not token or len(token) > 64:
        return None
    return db.session.scalar(
        select(User).join(NotificationPreference, NotificationPreference.user_id == User.id)
        .where(NotificationPreference.calendar_token == token, User.active))


# Making notifications (called by the sender) ----------------------------------------------------------

@dataclass(frozen=True)
class Delivered:
    """A reminder that passed the re-check and the person's preferences."""

    outbox_id: int
    user_id: int
    kind: str
    subject_key: str
    details: dict


def add_notifications(items: list[Delivered], now: datetime) -> int:
    """Create one notification per reminder (never twice for one outbox row); no commit.

    Older unread notifications about the same thing are marked read: the newest one says it all.
    """
    if not items:
        return 0
    existing = set(db.session.scalars(select(Notification.outbox_id).where(
        Notification.outbox_id.in_([i.outbox_id for i in items]))))
    fresh = [i for i in items if i.outbox_id not in existing]
    subjects = list({(i.user_id, i.subject_key) for i in fresh})
    for start in range(0, len(subjects), CHUNK):
        db.session.execute(
            update(Notification)
            .where(Notification.read_at.is_(None),
                   tuple_(Notification.user_id, Notification.subject_key).in_(subjects[start:start + CHUNK]))
            .values(read_at=now))
    if fresh:
        db.session.execute(insert(Notification), [
            {"user_id": i.user_id, "kind": i.kind, "subject_key": i.subject_key, "outbox_id": i.outbox_id,
             "details": i.details, "created_at": now} for i in fresh])
    return len(fresh)


def withdraw_notifications(outbox_ids: list[int]) -> int:
    """Remove the unread notifications of reminders found done at a later re-check; no commit."""
    if not outbox_ids:
        return 0
    return db.session.execute(delete(Notification).where(
        Notification.outbox_id.in_(outbox_ids), Notification.read_at.is_(None))).rowcount


# The notification centre -------------------------------------------------------------------------------

@dataclass
class NotificationItem:
    notification: Notification
    label: str
    entry: Entry

    @property
    def unread(self) -> bool:
        return self.notification.read_at is None


def _shown_while() -> tuple:
    """The kinds' clauses as (clause, kind names) pairs, kinds sharing a clause together (no query)."""
    grouped: dict[object, list[str]] = {}
    for kind in registered_kinds():
        if kind.still_open is not None:
            grouped.setdefault(kind.still_open, []).append(kind.name)
    return tuple((clause, tuple(names)) for clause, names in grouped.items())


@functools.lru_cache(maxsize=16)
def _relevant(today: date, clauses: tuple):
    if not clauses:
        return Notification.id.is_not(None)
    known = [name for _clause, names in clauses for name in names]
    return or_(Notification.kind.not_in(known),
               *(and_(Notification.kind.in_(names), clause(Notification, today)) for clause, names in clauses))


def still_relevant(today: date):
    """SQL: the notification's work is not done yet (by its kind's ``shown_while``; other kinds always are).

    One OR over the kinds, evaluated inside the query that lists or counts: no query per
    notification, and nothing is written (GET pages change nothing). Built once per day and
    process: building it costs more than running it.
    """
    return _relevant(today, _shown_while())


@functools.lru_cache(maxsize=16)
def _unread_statement(today: date, clauses: tuple):
    return select(func.count(Notification.id)).where(
        Notification.user_id == bindparam("user_id"), Notification.read_at.is_(None), _relevant(today, clauses))


def unread_count(user: User, today: date | None = None) -> int:
    """Unread notifications whose work is still open (one query; the statement is built once a day)."""
    statement = _unread_statement(today or local_today(), _shown_while())
    return db.session.scalar(statement, {"user_id": user.id}) or 0


def notification_page(user: User, *, page: int = 1, unread_only: bool = False, today: date):
    """One page of the person's notifications whose work is still open, newest first, in the reader's language."""
    query = select(Notification).where(Notification.user_id == user.id, still_relevant(today))
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    result = paginate(query.order_by(Notification.created_at.desc(), Notification.id.desc()), page=page,
                      per_page=PER_PAGE)
    items = []
    for notification in result.items:
        kind = kind_named(notification.kind)
        if kind is None:  # a kind whose feature was removed: say so instead of failing
            items.append(NotificationItem(notification, notification.kind, Entry(title=_("Reminder"))))
            continue
        try:
            entry = kind.describe(notification.details, today)
        except (KeyError, ValueError, TypeError):
            logger.exception("Notification %s cannot be described", notification.id)
            entry = Entry(title=_("Reminder"))
        items.append(NotificationItem(notification, str(kind.label), entry))
    return result, items


def mark_read(user: User, notification_id: int) -> bool:
    """Mark one of the person's notifications read; False when there is no such notification."""
    changed = db.session.execute(
        update(Notification).where(Notification.id == notification_id, Notification.user_id == user.id)
        .values(read_at=func.coalesce(Notification.read_at, utcnow()))).rowcount
    return bool(changed)


def mark_all_read(user: User) -> int:
    changed = db.session.execute(
        update(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())).rowcount
    return changed
