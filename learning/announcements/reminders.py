"""Announcements still to be confirmed ("Gelesen und verstanden"): at most two reminders per version.

The first reminder comes ``REMINDER_ACK_DAYS`` days after publication (or after the substantive
change that asked everyone to confirm again), the second after twice as many days. Audiences are
matched in Python against the active people, as the announcements feature does (three queries).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, select

from learning.announcements.models import Acknowledgement, Announcement, AnnouncementVersion
from learning.db import db
from learning.messaging.reminders import Entry, Pending, PlanContext, Planned, reminder_kind
from learning.org.audience import population

ROUNDS = 2

unacknowledged = reminder_kind(
    "announcements.unacknowledged", label=_l("Announcements to confirm"), order=20,
    lookback_days=lambda config: (ROUNDS + 1) * config["REMINDER_ACK_DAYS"] + 1,
    description=_l("When you have not yet confirmed an announcement that asks for it (at most twice)."))


def _to_confirm(now: datetime, ids: set[int] | None = None) -> list[tuple[Announcement, datetime]]:
    """Published announcements asking for confirmation, each with when its current version asked for it."""
    query = (
        select(Announcement, AnnouncementVersion.changed_at)
        .outerjoin(AnnouncementVersion, and_(AnnouncementVersion.announcement_id == Announcement.id,
                                             AnnouncementVersion.version == Announcement.substantive_version))
        .where(Announcement.requires_ack, Announcement.withdrawn_at.is_(None), Announcement.publish_at.is_not(None),
               Announcement.publish_at <= now)
    )
    if ids is not None:
        query = query.where(Announcement.id.in_(ids))
    return [(a, max(a.publish_at, changed_at) if changed_at else a.publish_at)
            for a, changed_at in db.session.execute(query)]


def _acknowledged(announcement_ids: set[int], user_ids: set[int] | None = None) -> dict[tuple[int, int], int]:
    query = select(Acknowledgement.announcement_id, Acknowledgement.user_id, Acknowledgement.version).where(
        Acknowledgement.announcement_id.in_(announcement_ids))
    if user_ids is not None:
        query = query.where(Acknowledgement.user_id.in_(user_ids))
    return {(a, u): v for a, u, v in db.session.execute(query)}


@unacknowledged.planner
def plan_unacknowledged(ctx: PlanContext) -> list[Planned]:
    days = ctx.config["REMINDER_ACK_DAYS"]
    due = []
    for announcement, since in _to_confirm(ctx.now):
        elapsed = (ctx.today - since.astimezone(ctx.timezone).date()).days
        round_ = elapsed // days
        # Reminder n comes from day n*days on, for ``days`` days (a scheduler that was down still sends it).
        if 1 <= round_ <= ROUNDS:
            due.append((announcement, round_))
    if not due:
        return []
    readers = population()
    acks = _acknowledged({a.id for a, _r in due})
    planned = []
    for announcement, round_ in due:
        for reader in readers:
            if announcement.addresses(reader) and not announcement.is_acknowledged_by(
                    acks.get((announcement.id, reader.user_id))):
                planned.append(Planned(
                    reader.user_id, f"announcement:{announcement.id}",
                    f"v{announcement.substantive_version}:{round_}",
                    {"announcement_id": announcement.id, "version": announcement.substantive_version}))
    return planned


@unacknowledged.checker
def unacknowledged_still_due(items: Sequence[Pending], ctx: PlanContext) -> dict[int, dict]:
    """Still published, still asking for this version, still addressed to the person, not yet confirmed."""
    ids = {item.payload.get("announcement_id") for item in items}
    announcements = {a.id: a for a, _since in _to_confirm(ctx.now, ids)}
    user_ids = {item.user_id for item in items}
    readers = {r.user_id: r for r in population(user_ids)}
    acks = _acknowledged(set(announcements), user_ids) if announcements else {}
    result = {}
    for item in items:
        announcement = announcements.get(item.payload.get("announcement_id"))
        reader = readers.get(item.user_id)
        if (announcement is None or reader is None or announcement.substantive_version != item.payload.get("version")
                or not announcement.addresses(reader)
                or announcement.is_acknowledged_by(acks.get((announcement.id, item.user_id)))):
            continue
        published = announcement.publish_at.astimezone(ctx.timezone).date()
        result[item.id] = {"announcement_id": announcement.id, "title": announcement.title,
                           "published_on": published.isoformat()}
    return result


@unacknowledged.shown_while
def still_unacknowledged(notification, today: date):
    """SQL: the announcement still asks the person to confirm its current version (as the checker)."""
    announcement_id = notification.details["announcement_id"].as_integer()
    # Correlated explicitly: the notification is two levels up, which automatic correlation does not reach.
    confirmed = select(Acknowledgement.id).where(
        Acknowledgement.announcement_id == Announcement.id, Acknowledgement.user_id == notification.user_id,
        Acknowledgement.version >= Announcement.substantive_version).correlate(Announcement, notification).exists()
    return select(Announcement.id).where(
        Announcement.id == announcement_id, Announcement.requires_ack, Announcement.withdrawn_at.is_(None),
        Announcement.publish_at.is_not(None), ~confirmed).exists()


@unacknowledged.describer
def describe_unacknowledged(details: dict, today: date) -> Entry:
    published = date.fromisoformat(details["published_on"])
    return Entry(
        title=details["title"],
        detail=_("Published on %(date)s. Please read it and confirm with “Read and understood”.",
                 date=format_date(published, "long")),
        endpoint="announcements.detail", values={"announcement_id": details["announcement_id"]})
