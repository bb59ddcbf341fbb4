"""Reminder kinds that features plug in, and planning them into the outbox.

A feature registers a kind in its module ``learning/<feature>/reminders.py`` (imported by
``learning.plugins.discover``, like every plug-in)::

    task_due = reminder_kind("onboarding.task_due", label=_l("Onboarding task due"),
                             description=_l("..."), optional=True, lookback_days=30,
                             applies_to=shows_in_navigation)   # optional: whom it can concern

    @task_due.planner
    def plan_task_due(ctx: PlanContext) -> Iterable[Planned]:
        ...  # ONE set-based query: every (user_id, subject_key, period_key, payload) due at ctx.now

    @task_due.checker
    def task_due_still_due(items: Sequence[Pending], ctx: PlanContext) -> dict[int, dict]:
        ...  # ONE query for all items: {item.id: details} for the items still due; the rest are dropped

    @task_due.describer
    def describe_task_due(details: dict, today: date) -> Entry:
        ...  # no query; runs in the reader's language (flask_babel.get_locale())

    @task_due.planned  # optional: runs after the rows are queued, in the same transaction (not in a dry run)
    def mark_handed_over(ctx: PlanContext, planned: list[Planned]) -> None: ...

    @task_due.shown_while  # optional, for reminders about work a person does: see below
    def task_still_open(notification, today: date) -> ColumnElement[bool]:
        ...  # SQL about one notification row (its ``details`` and ``user_id``): the work is still open

A kind with ``shown_while`` promises that its reminder "disappears as soon as the work is done":
the notification centre and the unread count in the header list a notification of the kind only
while the clause holds. It is evaluated when they are read, inside their one query (set-based, no
query per notification), so a course completed, a survey answered or an announcement confirmed
takes its notifications out of the list and the count at once. Mail needs no clause: the sender
re-checks every row with the ``checker`` just before the mail (or digest) goes out.

Planning is idempotent: rows are inserted with conflict-ignore on the outbox's UNIQUE key
(user, kind, subject key, period key), so the period key decides how often a reminder may come.
``lookback_days`` says how far back a planner may produce a key again; rows younger than that are
never deleted by retention. ``Planned(..., mandatory=True)`` reaches people who switched the kind
off; a kind with ``optional=False`` cannot be switched off at all. The in-app notification and the
mail are made from the checker's ``details`` by the describer, so texts are always current.
Sending re-checks every row (``checker``) and never mails a reminder for work already done.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from learning.db import db, utcnow
from learning.messaging.models import Outbox, OutboxStatus
from learning.plugins import discover

logger = logging.getLogger(__name__)

INSERT_CHUNK = 5000  # rows handed to one execute (SQLAlchemy batches them into INSERTs of its own)


@dataclass(frozen=True)
class PlanContext:
    """The moment a plan or a send runs: ``now`` (aware UTC), ``today`` in the organisation's time zone."""

    now: datetime
    today: date
    timezone: ZoneInfo
    config: Any
    notes: dict = field(default_factory=dict, compare=False)  # a planner's notes for its ``planned`` hook

    @classmethod
    def at(cls, now: datetime | None = None) -> PlanContext:
        now = now or utcnow()
        zone = ZoneInfo(current_app.config["TIMEZONE"])
        return cls(now=now, today=now.astimezone(zone).date(), timezone=zone, config=current_app.config)


@dataclass(frozen=True)
class Planned:
    """One reminder a planner wants in the outbox; ``payload`` is kept for the record and the re-check."""

    user_id: int
    subject_key: str
    period_key: str
    payload: dict = field(default_factory=dict)
    mandatory: bool = False  # True: delivered even to people who switched the kind off


@dataclass(frozen=True)
class Pending:
    """An outbox row as a checker sees it at send time."""

    id: int
    user_id: int
    subject_key: str
    period_key: str
    payload: dict
    mandatory: bool


@dataclass(frozen=True)
class Entry:
    """One reminder as a mail or the notification centre shows it, in the reader's language."""

    title: str
    detail: str = ""
    endpoint: str | None = None  # where the person can act: url_for(endpoint, **values)
    values: dict = field(default_factory=dict)
    lines: tuple[str, ...] = ()  # further lines, e.g. the people of an escalation digest


Planner = Callable[[PlanContext], Iterable[Planned]]
# (the Notification model, today) -> SQL condition on one notification row: its work is still open
ShownWhile = Callable[[Any, date], Any]
Checker = Callable[[Sequence[Pending], PlanContext], dict[int, dict]]
Describer = Callable[[dict, date], Entry]


@dataclass
class ReminderKind:
    name: str
    label: Any  # lazy string: shown in preferences, the notification centre and the admin pages
    description: Any = ""
    optional: bool = True  # False: nobody can switch it off (e.g. managers' escalations)
    order: int = 50
    # Keys older than this many days are never planned again, so outbox rows past it may be deleted
    # (retention); a number, or a function of the app config.
    lookback_days: int | Callable[[Any], int] = 31
    plan: Planner | None = None
    still_due: Checker | None = None
    describe: Describer | None = None
    after_planning: Callable[[PlanContext, list[Planned]], None] | None = None
    still_open: ShownWhile | None = None  # None: the notification stays listed until read
    # Whom the kind can concern at all (user -> bool); the settings list a kind only to them. None: everyone.
    applies_to: Callable[[Any], bool] | None = None
    # True: mailed as soon as the mail hours allow, not with the person's digest (e.g. an invitation the
    # administration sends on purpose); the daily cap still applies.
    immediate: bool = False

    def concerns(self, user) -> bool:
        return self.applies_to is None or bool(self.applies_to(user))

    # Decorators, so that a feature module reads like a table of contents.
    def planner(self, function: Planner) -> Planner:
        self.plan = function
        return function

    def checker(self, function: Checker) -> Checker:
        self.still_due = function
        return function

    def describer(self, function: Describer) -> Describer:
        self.describe = function
        return function

    def planned(self, function: Callable[[PlanContext, list[Planned]], None]):
        """Optional: called after the rows are queued (not in a dry run), in the same transaction."""
        self.after_planning = function
        return function

    def shown_while(self, function: ShownWhile) -> ShownWhile:
        """Optional: SQL saying that a notification's work is still open (else it leaves the centre and count)."""
        self.still_open = function
        return function

    def __str__(self) -> str:
        return str(self.label)


_KINDS: dict[str, ReminderKind] = {}


def reminder_kind(name: str, *, label, description="", optional: bool = True, order: int = 50,
                  lookback_days: int | Callable[[Any], int] = 31,
                  applies_to: Callable[[Any], bool] | None = None, immediate: bool = False) -> ReminderKind:
    """Register (or replace) the reminder kind ``name``; attach its functions with the decorators.

    ``applies_to(user)`` says whether the kind can concern a person at all (e.g. managers only);
    the notification settings list it only to them. ``immediate`` kinds skip the digest wait.
    """
    kind = ReminderKind(name=name, label=label, description=description, optional=optional, order=order,
                        lookback_days=lookback_days, applies_to=applies_to, immediate=immediate)
    _KINDS[name] = kind
    return kind


def registered_kinds() -> list[ReminderKind]:
    discover()
    return sorted((k for k in _KINDS.values() if k.plan and k.still_due and k.describe),
                  key=lambda k: (k.order, k.name))


def kind_named(name: str) -> ReminderKind | None:
    discover()
    return _KINDS.get(name)


def optional_kinds(user=None) -> list[ReminderKind]:
    """The kinds a person may switch off; with ``user``, only those that can concern them."""
    return [k for k in registered_kinds() if k.optional and (user is None or k.concerns(user))]


# Planning -----------------------------------------------------------------------------------------

@dataclass
class KindPlan:
    kind: ReminderKind
    planned: list[Planned]
    new: int  # rows not in the outbox before (queued now, or that would be in a dry run)


@dataclass
class PlanResult:
    at: PlanContext
    kinds: list[KindPlan]
    dry_run: bool

    @property
    def new(self) -> int:
        return sum(k.new for k in self.kinds)

    @property
    def considered(self) -> int:
        return sum(len(k.planned) for k in self.kinds)

    def counts(self) -> dict[str, int]:
        return {"considered": self.considered, "queued": self.new,
                **{k.kind.name: k.new for k in self.kinds if k.new}}


def _insert_statement():
    if db.engine.dialect.name == "postgresql":
        return pg_insert(Outbox)
    return sqlite_insert(Outbox)


def _queue(kind: ReminderKind, rows: list[Planned], now: datetime) -> int:
    """Insert the rows, ignoring those already there; return how many were new."""
    return len(_queue_returning(kind, rows, now))


def _queue_returning(kind: ReminderKind, rows: list[Planned], now: datetime) -> list:
    """Insert the rows, ignoring those already there; return the new ones (id, user_id, subject_key, ...).

    One compiled INSERT ... ON CONFLICT DO NOTHING RETURNING, which SQLAlchemy sends in batches
    ("insertmanyvalues"); the rows returned are those actually inserted.
    """
    if not rows:
        return []
    statement = (_insert_statement()
                 .on_conflict_do_nothing(index_elements=["user_id", "kind", "subject_key", "period_key"])
                 .returning(Outbox.id, Outbox.user_id, Outbox.subject_key, Outbox.period_key, Outbox.payload,
                            Outbox.mandatory))
    values = [{"user_id": r.user_id, "kind": kind.name, "subject_key": r.subject_key, "period_key": r.period_key,
               "payload": r.payload, "mandatory": r.mandatory, "status": OutboxStatus.QUEUED.value,
               "planned_at": now, "next_attempt_at": now, "attempts": 0, "deferrals": 0} for r in rows]
    inserted = []
    for start in range(0, len(values), INSERT_CHUNK):
        inserted += db.session.execute(statement, values[start:start + INSERT_CHUNK]).all()
    return inserted


def lookback(kind: ReminderKind, config) -> int:
    return kind.lookback_days(config) if callable(kind.lookback_days) else kind.lookback_days


def _queued_keys(kind: ReminderKind, ctx: PlanContext) -> set[tuple[int, str, str]]:
    """Keys of the kind's rows planned within its lookback: what a plan finds there already (one query).

    Leaving those out before inserting makes a repeated plan cheap; the conflict-ignore of the
    UNIQUE key still guards against a second planner inserting the same rows at the same time.
    """
    since = ctx.now - timedelta(days=lookback(kind, ctx.config) + 1)
    return {(user_id, subject, period) for user_id, subject, period in db.session.execute(
        select(Outbox.user_id, Outbox.subject_key, Outbox.period_key)
        .where(Outbox.kind == kind.name, Outbox.planned_at >= since))}


def _unique(rows: Iterable[Planned]) -> list[Planned]:
    """One row per key (a planner may find the same reminder twice, e.g. through two teams)."""
    seen: dict[tuple, Planned] = {}
    for row in rows:
        seen.setdefault((row.user_id, row.subject_key, row.period_key), row)
    return list(seen.values())


def plan_reminders(now: datetime | None = None, *, dry_run: bool = False,
                   kinds: Sequence[str] | None = None) -> PlanResult:
    """Ask every kind what is due at ``now`` and queue it (or, in a dry run, only count it).

    Flushes; the caller's unit of work (the job runner, ``flask reminders plan``) commits. A dry run
    writes nothing: it neither inserts rows nor calls the kinds' ``planned`` hooks.
    """
    ctx = PlanContext.at(now)
    results = []
    for kind in registered_kinds():
        if kinds and kind.name not in kinds:
            continue
        rows = _unique(kind.plan(ctx))
        queued = _queued_keys(kind, ctx) if rows else set()
        fresh = [r for r in rows if (r.user_id, r.subject_key, r.period_key) not in queued]
        if dry_run:
            new = len(fresh)
        else:
            new = _queue(kind, fresh, ctx.now)
            if kind.after_planning is not None:
                kind.after_planning(ctx, rows)
        results.append(KindPlan(kind, rows, new))
        logger.debug("Reminder kind %s: %d due, %d new", kind.name, len(rows), new)
    if not dry_run:
        db.session.flush()  # what the ``planned`` hooks changed
    result = PlanResult(ctx, results, dry_run)
    logger.info("Reminders planned%s: %d due, %d new", " (dry run)" if dry_run else "", result.considered,
                result.new)
    return result


def announce_now(kind_name: str, rows: Iterable[Planned], now: datetime | None = None) -> int:
    """Queue reminders the moment their cause happens and show them in the notification centre at once.

    For news a person should not wait for (a course just assigned to them): the rows are queued as
    a planner's would be (conflict-ignore on the outbox key, so never twice), the kind's checker
    makes their details, and each person who has not switched the kind off gets the notification
    now. The sender mails the rows later with the person's next digest; their ``notified_at`` is
    set, so it does not notify again. Flushes only: runs in the caller's unit of work, and nothing
    is shown if that rolls back. A fixed number of queries per ``INSERT_CHUNK`` rows.
    Returns how many notifications were added.
    """
    from learning.notifications.services import Delivered, add_notifications, preferences_for

    kind = kind_named(kind_name)
    if kind is None or kind.still_due is None:
        raise LookupError(f"unknown reminder kind {kind_name!r}")
    ctx = PlanContext.at(now)
    rows = _unique(rows)
    notified = 0
    for start in range(0, len(rows), INSERT_CHUNK):
        queued = [Pending(r.id, r.user_id, r.subject_key, r.period_key, r.payload or {}, r.mandatory)
                  for r in _queue_returning(kind, rows[start:start + INSERT_CHUNK], ctx.now)]
        if not queued:
            continue
        details = kind.still_due(queued, ctx)
        preferences = preferences_for({item.user_id for item in queued})
        delivered = [Delivered(item.id, item.user_id, kind.name, item.subject_key, details[item.id])
                     for item in queued if item.id in details
                     and preferences[item.user_id].wants(kind.name, item.mandatory or not kind.optional)]
        notified += add_notifications(delivered, ctx.now)
        if delivered:
            db.session.execute(update(Outbox).where(Outbox.id.in_([d.outbox_id for d in delivered]))
                               .values(notified_at=ctx.now))
    db.session.flush()
    return notified


def retention_floor_days() -> int:
    """Outbox rows younger than this may still be planned again and must be kept (see ``lookback_days``)."""
    return max([lookback(k, current_app.config) for k in registered_kinds()] + [0]) + 2


def week_key(day: date) -> str:
    """ISO week of a day (``2026-W09``): the period of reminders that come at most once a week."""
    year, week, _weekday = day.isocalendar()
    return f"{year}-W{week:02d}"


def days_ago(ctx: PlanContext, days: int) -> date:
    return ctx.today - timedelta(days=days)
