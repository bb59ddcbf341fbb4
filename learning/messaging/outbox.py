"""The sender: claim due outbox rows, re-check them, notify in-app, mail them within the budget.

Claiming marks rows ``sending`` with a lease (``FOR UPDATE SKIP LOCKED`` on PostgreSQL; a single
conditional UPDATE on SQLite, whose writers take turns). A sender that dies between claim and send
leaves rows whose lease (``LEARNING_OUTBOX_CLAIM_SECONDS``) runs out; the next sender claims them
again. A living sender renews the lease of the rows it still holds every third of it, so a slow SMTP
server never lets a second sender claim them. A person's due rows are claimed together, so that they
become one mail.

For every claimed row, in this order: the person must be active; an optional kind the person
switched off is dropped (mandatory rows never are); the kind's checker must still find the work
open (else the row is dropped, "done"); then the in-app notification is made; then the mail waits
for the person's digest time, the mail hours and the daily cap, and goes out with all the person's
ready reminders in it. A server that refuses a message costs the row an attempt (after
``LEARNING_MAIL_MAX_ATTEMPTS`` it fails for good); a server that cannot be reached costs nothing but
time: the rows wait with capped exponential backoff, and nothing is lost.

A mail is never sent twice. Just before the server gets a message's final dot (until then, the
server throws the message away if the connection ends), the sender records that it hands the mail
over: it commits the rows' ``message_id``. A sender that dies after that leaves ``sending`` rows
with a ``message_id``; when their lease lapses they count as sent, "not confirmed", and are not sent
again (the admin's *Outbox* page lists them and can send one again). The same holds when the
server's answer to the dot never comes.

So ``send_due`` is the one use case that commits in steps, inside the job's unit of work: a claim,
a hand-over and a lease renewal are promises to other senders and must be visible to them at once,
and each person's mail is settled (sent, waiting, failed) in its own commit, so that a crash loses
at most one person's bookkeeping and never sends a mail twice. The admin actions (``retry``) only
flush, like every other service.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from email.utils import formataddr

from flask import current_app
from sqlalchemy import and_, func, or_, select, update

from learning.audit.services import record
from learning.db import db, utcnow
from learning.errors import NotFound
from learning.mail import (
    Mailer,
    MailRejected,
    MailUnavailable,
    MailUnconfirmed,
    absolute_url,
    build_message,
    sender_domain,
)
from learning.messaging.budget import MailWindow, backoff
from learning.messaging.compose import compose_reminders
from learning.messaging.models import Outbox, OutboxStatus
from learning.messaging.reminders import Pending, PlanContext, kind_named
from learning.notifications.models import Digest
from learning.notifications.services import Delivered, add_notifications, preferences_for, withdraw_notifications
from learning.org.models import User

logger = logging.getLogger(__name__)

UNCONFIRMED = "not confirmed"  # the outcome of a mail handed to the server whose answer never came
PEOPLE_PER_BATCH = 200
MAX_BATCHES = 50  # per run; what is left waits for the next run a minute later

WORKER = f"{socket.gethostname()}:{os.getpid()}"
OUTBOX = Outbox.__table__  # state changes go through the table (Core): no ORM bookkeeping per row


@dataclass
class SendReport:
    claimed: int = 0
    mails: int = 0
    sent: int = 0  # outbox rows delivered by mail (a digest delivers several)
    notified: int = 0
    dropped: int = 0
    waiting: int = 0  # rows put back to wait for their digest, the mail hours or the daily cap
    retrying: int = 0
    failed: int = 0
    unconfirmed: int = 0  # rows whose mail was handed over but never confirmed (not sent again)
    smtp_unavailable: bool = False

    def counts(self) -> dict[str, int]:
        return {k: int(v) for k, v in asdict(self).items() if v}


def _claimable(now: datetime, waiting_too: bool = False):
    queued = Outbox.status == OutboxStatus.QUEUED.value
    return or_(
        queued if waiting_too else and_(queued, Outbox.next_attempt_at <= now),
        and_(_lapsed(now), Outbox.message_id.is_(None)),  # a dead sender's rows it had not handed over yet
    )


def _lapsed(now: datetime):
    return and_(Outbox.status == OutboxStatus.SENDING.value, Outbox.lease_until < now)


def settle_handed_over(now: datetime) -> int:
    """Rows whose sender handed their mail to the server and then stopped: sent, not confirmed (commits)."""
    settled = db.session.execute(
        update(OUTBOX).where(_lapsed(now), Outbox.message_id.is_not(None))
        .values(status=OutboxStatus.SENT.value, outcome=UNCONFIRMED, claimed_by=None, lease_until=None)).rowcount
    db.session.commit()
    if settled:
        logger.warning("%d reminder(s) were handed to the mail server by a sender that stopped before the "
                       "server confirmed them; they are not sent again (outbox: sent, not confirmed)", settled)
    return settled


def claim_lease() -> timedelta:
    """How long a claim holds without renewal; a sender renews its claims every third of it."""
    return timedelta(seconds=current_app.config["OUTBOX_CLAIM_SECONDS"])


def claim(now: datetime, worker: str = WORKER, people: int = PEOPLE_PER_BATCH, waiting_too: bool = False) -> list[int]:
    """Claim every due row of up to ``people`` persons (those waiting longest first); commit; return ids.

    ``waiting_too`` also claims rows waiting for a later time (digest, mail hours, retry).
    """
    claimable = _claimable(now, waiting_too)
    persons = (select(Outbox.user_id).where(claimable).group_by(Outbox.user_id)
               .order_by(func.min(Outbox.next_attempt_at)).limit(people))
    rows = select(Outbox.id).where(claimable, Outbox.user_id.in_(persons))
    if db.engine.dialect.name == "postgresql":
        rows = rows.with_for_update(skip_locked=True)  # a row another sender holds is simply skipped
    statement = (
        update(OUTBOX).where(Outbox.id.in_(rows), claimable)
        .values(status=OutboxStatus.SENDING.value, claimed_by=worker, lease_until=now + claim_lease(),
                message_id=None)  # set again only when this claim hands the mail over
        .returning(Outbox.id)
    )
    ids = list(db.session.execute(statement).scalars())
    db.session.commit()
    return ids


def message_id_for(row) -> str:
    """The same Message-ID for every attempt at a row's mail, so mail servers can spot a repeat."""
    domain = sender_domain(current_app.config["MAIL_FROM"])
    return f"<reminder.{row.id}.{int(row.planned_at.timestamp())}@{domain}>"


class _Batch:
    """Updates to claimed rows, each only while the row is still ours (``claimed_by``, ``sending``)."""

    def __init__(self, worker: str, report: SendReport):
        self.worker = worker
        self.report = report

    def _ours(self, ids):
        return and_(Outbox.id.in_(ids), Outbox.claimed_by == self.worker,
                    Outbox.status == OutboxStatus.SENDING.value)

    def finish(self, ids: list[int], status: OutboxStatus, **values) -> int:
        """End the claim of the rows still ours; a row that ends other than sent loses its hand-over record."""
        if not ids:
            return 0
        if status != OutboxStatus.SENT:
            values = {"message_id": None, "sent_at": None, **values}
        changed = db.session.execute(
            update(OUTBOX).where(self._ours(ids))
            .values(status=status.value, claimed_by=None, lease_until=None, **values)).rowcount
        if changed != len(ids):
            logger.warning("%d of %d outbox rows were no longer ours (lease ran out?)", len(ids) - changed, len(ids))
        return changed

    def drop(self, ids: list[int], outcome: str) -> None:
        self.report.dropped += self.finish(ids, OutboxStatus.DROPPED, outcome=outcome)

    def wait(self, ids: list[int], until: datetime) -> None:
        self.report.waiting += self.finish(ids, OutboxStatus.QUEUED, next_attempt_at=until)

    def hand_over(self, ids: list[int], message_id: str, now: datetime) -> None:
        """Record, committed, that the rows' mail is handed to the server: from now on it is never sent again."""
        db.session.execute(update(OUTBOX).where(self._ours(ids)).values(message_id=message_id, sent_at=now))
        db.session.commit()

    def renew(self, ids: list[int], until: datetime) -> None:
        """Keep holding the rows still ours until ``until`` (committed, so other senders see it)."""
        db.session.execute(update(OUTBOX).where(self._ours(ids)).values(lease_until=until))
        db.session.commit()


@dataclass(frozen=True)
class Recipient:
    id: int
    full_name: str
    email: str
    locale: str | None
    active: bool


@dataclass(frozen=True)
class Row:
    """A claimed outbox row, copied out of the session so that commits in between cost no reloads."""

    id: int
    user: Recipient
    kind: str
    subject_key: str
    period_key: str
    payload: dict
    mandatory: bool
    planned_at: datetime
    attempts: int
    deferrals: int
    notified_at: datetime | None

    @property
    def user_id(self) -> int:
        return self.user.id


def _pending(row: Row) -> Pending:
    return Pending(row.id, row.user_id, row.subject_key, row.period_key, row.payload, row.mandatory)


def _claimed_rows(ids: list[int], worker: str) -> list[Row]:
    result = db.session.execute(
        select(Outbox.id, Outbox.kind, Outbox.subject_key, Outbox.period_key, Outbox.payload, Outbox.mandatory,
               Outbox.planned_at, Outbox.attempts, Outbox.deferrals, Outbox.notified_at, User.id.label("uid"),
               User.first_name, User.last_name, User.email, User.locale, User.active)
        .join(User, User.id == Outbox.user_id)
        .where(Outbox.id.in_(ids), Outbox.claimed_by == worker, Outbox.status == OutboxStatus.SENDING.value)
        .order_by(Outbox.user_id, Outbox.id))
    people: dict[int, Recipient] = {}
    rows = []
    for r in result:
        user = people.setdefault(r.uid, Recipient(r.uid, f"{r.first_name} {r.last_name}", r.email, r.locale,
                                                  r.active))
        rows.append(Row(r.id, user, r.kind, r.subject_key, r.period_key, r.payload or {}, r.mandatory,
                        r.planned_at, r.attempts, r.deferrals, r.notified_at))
    return rows


def _mails_sent_today(user_ids: set[int], window: MailWindow, now: datetime) -> dict[int, int]:
    """Mails (not rows: a digest counts once) sent to each person since local midnight (one query)."""
    return dict(db.session.execute(
        select(Outbox.user_id, func.count(func.distinct(Outbox.message_id)))
        .where(Outbox.user_id.in_(user_ids), Outbox.status == OutboxStatus.SENT.value,
               Outbox.sent_at >= window.start_of_day(now))
        .group_by(Outbox.user_id)).all())


def _recheck(rows: list[Row], ctx: PlanContext, batch: _Batch) -> dict[int, dict]:
    """Details of the rows whose work is still open (one checker call per kind); the others are dropped."""
    details: dict[int, dict] = {}
    by_kind: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        by_kind[row.kind].append(row)
    for name, kind_rows in by_kind.items():
        kind = kind_named(name)
        if kind is None or kind.still_due is None:
            batch.drop([r.id for r in kind_rows], "unknown kind")
            continue
        try:
            found = kind.still_due([_pending(r) for r in kind_rows], ctx)
        except Exception as exc:  # a broken checker must not lose reminders: they wait and are tried again
            db.session.rollback()
            logger.exception("Re-check of reminder kind %s failed", name)
            batch.finish([r.id for r in kind_rows], OutboxStatus.QUEUED, next_attempt_at=ctx.now + backoff(1),
                         last_error=f"re-check failed: {exc}"[:1000])
            batch.report.retrying += len(kind_rows)
            continue
        done = [r.id for r in kind_rows if r.id not in found]
        batch.drop(done, "done")
        withdraw_notifications(done)
        details.update({r.id: found[r.id] for r in kind_rows if r.id in found})
    return details


def send_due(now: datetime | None = None, *, worker: str = WORKER, ignore_schedule: bool = False,
             people: int = PEOPLE_PER_BATCH, max_batches: int = MAX_BATCHES) -> SendReport:
    """Deliver what is due: in-app notifications at once, mail within each person's budget.

    ``ignore_schedule`` mails at once, regardless of digests, mail hours and the daily cap (for the
    demo and for ``flask outbox send --now``).
    """
    report = SendReport()
    window = MailWindow.from_config()
    report.unconfirmed += settle_handed_over(now or utcnow())
    with Mailer() as mailer:
        for _batch_number in range(max_batches):
            moment = now or utcnow()
            ids = claim(moment, worker, people, waiting_too=ignore_schedule)
            if not ids:
                break
            report.claimed += len(ids)
            _deliver(ids, PlanContext.at(moment), window, mailer, worker, report, ignore_schedule)
            if report.smtp_unavailable:
                break
    if report.claimed:
        logger.info("Outbox: %s", report.counts())
    return report


def _deliver(ids: list[int], ctx: PlanContext, window: MailWindow, mailer: Mailer, worker: str,
             report: SendReport, ignore_schedule: bool) -> None:
    batch = _Batch(worker, report)
    rows = _claimed_rows(ids, worker)
    user_ids = {row.user_id for row in rows}
    preferences = preferences_for(user_ids)

    inactive = [r.id for r in rows if not r.user.active]
    batch.drop(inactive, "person inactive")
    muted = [r.id for r in rows if r.user.active
             and not preferences[r.user_id].wants(r.kind, r.mandatory or not _optional(r.kind))]
    batch.drop(muted, "switched off")
    withdraw_notifications(muted)
    live = [r for r in rows if r.user.active and r.id not in set(muted)]
    db.session.commit()  # before the checkers run: one that fails rolls back its own work only
    details = _recheck(live, ctx, batch)
    live = [r for r in live if r.id in details]

    new = [r for r in live if r.notified_at is None]
    report.notified += add_notifications(
        [Delivered(r.id, r.user_id, r.kind, r.subject_key, details[r.id]) for r in new], ctx.now)
    if new:
        db.session.execute(update(OUTBOX).where(Outbox.id.in_([r.id for r in new])).values(notified_at=ctx.now))
    db.session.commit()

    sent_today = {} if ignore_schedule else _mails_sent_today(user_ids, window, ctx.now)
    by_person: dict[int, list[Row]] = defaultdict(list)
    for row in live:
        by_person[row.user_id].append(row)
    people = list(by_person.items())
    lease = claim_lease()
    started = renewed = time.monotonic()
    for position, (user_id, person_rows) in enumerate(people):
        if time.monotonic() - renewed > lease.total_seconds() / 3:
            renewed = time.monotonic()
            batch.renew([r.id for _, rows_left in people[position:] for r in rows_left],
                        ctx.now + timedelta(seconds=renewed - started) + lease)
        digest = preferences[user_id].digest
        try:
            _mail_person(person_rows, details, digest, sent_today.get(user_id, 0), ctx, window, mailer, batch,
                         ignore_schedule)
        except MailUnavailable as exc:
            db.session.rollback()
            report.smtp_unavailable = True
            logger.warning("SMTP server unavailable; %d people's mail waits: %s", len(people) - position, exc)
            _wait_for_server(people[position:], ctx.now, batch, str(exc))
            db.session.commit()
            return
        db.session.commit()


def _optional(kind_name: str) -> bool:
    kind = kind_named(kind_name)
    return kind is not None and kind.optional


def _digest_of(kind_name: str, digest: str) -> str:
    """The person's digest choice, or "immediately" for kinds that never wait for a digest."""
    kind = kind_named(kind_name)
    return Digest.IMMEDIATE if kind is not None and kind.immediate else digest


def _mail_person(rows: list[Row], details: dict[int, dict], digest: str, sent_today: int, ctx: PlanContext,
                 window: MailWindow, mailer: Mailer, batch: _Batch, ignore_schedule: bool) -> None:
    """Mail one person's ready reminders as one message, or put the rows back to wait for their time."""
    now = ctx.now
    if ignore_schedule:
        ready, later = rows, []
    else:
        times = {row.id: window.digest_time(row.planned_at, _digest_of(row.kind, digest)) for row in rows}
        ready = [row for row in rows if times[row.id] <= now]
        later = [row for row in rows if times[row.id] > now]
        if later:
            batch.wait([r.id for r in later], min(times[r.id] for r in later))
        if ready and not window.is_open(now):
            batch.wait([r.id for r in ready], window.next_open(now))
            return
        if ready and sent_today >= current_app.config["MAIL_DAILY_CAP"]:
            batch.wait([r.id for r in ready], window.next_day_opening(now))
            return
    if not ready:
        return
    # One entry per subject: a newer reminder about the same thing replaces the older one in the mail.
    newest: dict[str, Row] = {}
    for row in sorted(ready, key=lambda r: (r.planned_at, r.id)):
        newest[row.subject_key] = row
    included = sorted(newest.values(), key=lambda r: r.id)
    included_ids = {r.id for r in included}
    superseded = [r.id for r in ready if r.id not in included_ids]
    user = rows[0].user
    composed = compose_reminders(user, [(kind_named(r.kind), details[r.id]) for r in included], ctx.today)
    config = current_app.config
    message_id = message_id_for(included[0])
    message = build_message(
        formataddr((user.full_name, user.email)), composed.subject, composed.text, sender=config["MAIL_FROM"],
        message_id=message_id, html=composed.html,
        headers={"List-Unsubscribe": f"<{absolute_url('notifications.preferences')}>",
                 "Content-Language": composed.language})
    ids = [r.id for r in included]
    try:
        mailer.send(message, handing_over=lambda: batch.hand_over(ids, message_id, now))
    except MailRejected as exc:
        _rejected(ready, now, batch, str(exc))
        return
    except MailUnconfirmed as exc:
        batch.report.unconfirmed += batch.finish(ids, OutboxStatus.SENT, outcome=UNCONFIRMED,
                                                 last_error=str(exc)[:1000])
        batch.drop(superseded, "replaced by a newer reminder")
        logger.warning("Reminder mail %s to user %s not confirmed; not sent again: %s", message_id, user.id, exc)
        return
    sent = batch.finish(ids, OutboxStatus.SENT, sent_at=now, message_id=message_id, last_error=None, outcome=None)
    batch.drop(superseded, "replaced by a newer reminder")
    batch.report.mails += 1
    batch.report.sent += sent
    logger.info("Reminder mail %s to user %s with %d item(s)", message_id, user.id, len(included))


def _rejected(rows: list[Row], now: datetime, batch: _Batch, error: str) -> None:
    limit = current_app.config["MAIL_MAX_ATTEMPTS"]
    for row in rows:
        attempts = row.attempts + 1
        if attempts >= limit:
            batch.report.failed += batch.finish([row.id], OutboxStatus.FAILED, attempts=attempts,
                                                outcome="refused by the mail server", last_error=error[:1000])
        else:
            batch.report.retrying += batch.finish(
                [row.id], OutboxStatus.QUEUED, attempts=attempts, last_error=error[:1000],
                next_attempt_at=now + backoff(attempts + row.deferrals))
    logger.warning("Mail to user %s refused: %s", rows[0].user_id, error)


def _wait_for_server(people: list[tuple[int, list[Row]]], now: datetime, batch: _Batch, error: str) -> None:
    """The server is unreachable: everyone's rows wait (backoff); no attempt is used up."""
    for _user_id, rows in people:
        for row in rows:
            deferrals = row.deferrals + 1
            batch.report.retrying += batch.finish(
                [row.id], OutboxStatus.QUEUED, deferrals=deferrals, last_error=error[:1000],
                next_attempt_at=now + backoff(deferrals + row.attempts))


# Admin ----------------------------------------------------------------------------------------------

def status_counts() -> dict[str, int]:
    counts = dict(db.session.execute(select(Outbox.status, func.count(Outbox.id)).group_by(Outbox.status)).all())
    return {status.value: counts.get(status.value, 0) for status in OutboxStatus}


def retryable(row: Outbox) -> bool:
    return (row.status in (OutboxStatus.FAILED.value, OutboxStatus.QUEUED.value)
            or (row.status == OutboxStatus.SENT.value and row.outcome == UNCONFIRMED))


def retry(row_id: int, actor) -> Outbox:
    """Queue a failed, waiting or unconfirmed row again at once, with fresh attempts; audited."""
    row = db.session.get(Outbox, row_id)
    if row is None or not retryable(row):
        raise NotFound()  # only failed, queued or unconfirmed messages can be retried
    row.status, row.attempts, row.deferrals = OutboxStatus.QUEUED.value, 0, 0
    row.next_attempt_at, row.outcome, row.claimed_by, row.lease_until = utcnow(), None, None, None
    record(actor, "outbox.retry", row, f"Reminder {row.id} ({row.kind}) queued again")
    db.session.flush()
    logger.info("Outbox row %s queued again by %s", row.id, getattr(actor, "id", None))
    return row


def retry_all_failed(actor) -> int:
    changed = db.session.execute(
        update(Outbox).where(Outbox.status == OutboxStatus.FAILED.value)
        .values(status=OutboxStatus.QUEUED.value, attempts=0, deferrals=0, next_attempt_at=utcnow(), outcome=None),
        execution_options={"synchronize_session": False}).rowcount
    if changed:
        record(actor, "outbox.retry_failed", None, f"{changed} failed reminder(s) queued again", count=changed)
    db.session.flush()
    return changed
