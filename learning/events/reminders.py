"""Event reminders: the day before a booked session, before a seat offered runs out, and a request to decide.

All go through the outbox with the person's digest, mail hours and daily cap like every reminder;
the invitation itself (with the calendar attachment) was sent when the seat was booked.

A booking request that needs approval is announced the moment it is made (``booking.announce_request``
calls ``announce_now``): to every manager of the person's team and their deputies, in the notification
centre at once and by mail with their next digest. The planner only catches requests made without
that call (the demo's). The notice leaves the centre once the request is decided or withdrawn.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta

from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, union_all
from sqlalchemy.orm import aliased

from learning.db import db
from learning.events.booking import APPROVAL_KIND, is_approver, request_notice
from learning.events.models import ApprovalDeputy, Booking, BookingState, Event, EventSession
from learning.messaging.reminders import Entry, Pending, PlanContext, Planned, reminder_kind
from learning.org.models import User, team_manager
from learning.roles import Role

OFFER_WARNING_HOURS = 12  # a seat offered is reminded this long before the offer runs out
REQUEST_LOOKBACK_DAYS = 2  # the planner's safety net: requests of the last days not yet announced

tomorrow = reminder_kind(
    "events.tomorrow", label=_l("Booked event tomorrow"), order=30, lookback_days=3,
    description=_l("The day before a session you have booked a seat in."))
offer_ending = reminder_kind(
    "events.offer_ending", label=_l("Seat offer running out"), order=31, lookback_days=3,
    description=_l("A few hours before a seat offered to you from the waiting list goes to the next person."))
approval_requested = reminder_kind(
    APPROVAL_KIND, label=_l("Booking requests to decide"), order=32, lookback_days=REQUEST_LOOKBACK_DAYS + 1,
    applies_to=lambda user: user.has_role(Role.MANAGER) or is_approver(user),
    description=_l("For managers and their deputies: when someone in their teams asks to book an event that "
                   "needs approval. At once in the notification centre, and by mail with your next digest."))


def _rows(*conditions):
    return db.session.execute(
        select(Booking.id, Booking.user_id, Booking.state, Booking.offered_until, EventSession.starts_at,
               EventSession.place, Event.id.label("event_id"), Event.title)
        .join(EventSession, EventSession.id == Booking.session_id).join(Event, Event.id == EventSession.event_id)
        .join(User, User.id == Booking.user_id)
        .where(User.active, EventSession.cancelled_at.is_(None), Event.cancelled_at.is_(None), *conditions)
    ).all()


def _day_bounds(ctx: PlanContext, day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, tzinfo=ctx.timezone)
    return start, start + timedelta(days=1)


@tomorrow.planner
def plan_tomorrow(ctx: PlanContext) -> list[Planned]:
    """Confirmed seats in sessions that start tomorrow (one query)."""
    start, end = _day_bounds(ctx, ctx.today + timedelta(days=1))
    rows = _rows(Booking.state == BookingState.CONFIRMED.value, EventSession.starts_at >= start,
                 EventSession.starts_at < end)
    return [Planned(r.user_id, f"event-booking:{r.id}", f"tomorrow:{r.starts_at.date().isoformat()}",
                    {"booking_id": r.id}) for r in rows]


@offer_ending.planner
def plan_offer_ending(ctx: PlanContext) -> list[Planned]:
    """Offers that run out within the next hours (one query)."""
    rows = _rows(Booking.state == BookingState.OFFERED.value, Booking.offered_until > ctx.now,
                 Booking.offered_until <= ctx.now + timedelta(hours=OFFER_WARNING_HOURS))
    return [Planned(r.user_id, f"event-booking:{r.id}", f"offer:{r.offered_until.isoformat()}",
                    {"booking_id": r.id}) for r in rows]


def _booking_id(item: Pending) -> int | None:
    prefix, _sep, value = item.subject_key.partition(":")
    return int(value) if prefix == "event-booking" and value.isdigit() else None


def _still(state: str):
    def check(items: Sequence[Pending], ctx: PlanContext) -> dict[int, dict]:
        ids = {i for i in map(_booking_id, items) if i is not None}
        if not ids:
            return {}
        rows = {r.id: r for r in _rows(Booking.id.in_(ids), Booking.state == state)}
        result = {}
        for item in items:
            row = rows.get(_booking_id(item))
            if row is None or row.user_id != item.user_id or row.starts_at <= ctx.now:
                continue
            result[item.id] = {"booking_id": row.id, "event_id": row.event_id, "title": row.title,
                               "starts_at": row.starts_at.isoformat(), "place": row.place,
                               "offered_until": row.offered_until.isoformat() if row.offered_until else None}
        return result

    return check


tomorrow.checker(_still(BookingState.CONFIRMED.value))
offer_ending.checker(_still(BookingState.OFFERED.value))


@tomorrow.describer
def describe_tomorrow(details: dict, today: date) -> Entry:
    when = format_datetime(datetime.fromisoformat(details["starts_at"]), "dd.MM.yyyy, HH:mm")
    detail = _("Tomorrow, %(when)s", when=when)
    if details.get("place"):
        detail += " · " + details["place"]
    return Entry(title=details["title"], detail=detail, endpoint="events.event",
                 values={"event_id": details["event_id"]})


@offer_ending.describer
def describe_offer_ending(details: dict, today: date) -> Entry:
    until = format_datetime(datetime.fromisoformat(details["offered_until"]), "dd.MM.yyyy, HH:mm") \
        if details.get("offered_until") else ""
    return Entry(title=details["title"], detail=_("A seat is kept for you until %(until)s. Please accept it.",
                                                  until=until),
                 endpoint="events.event", values={"event_id": details["event_id"]})


# Requests to decide -------------------------------------------------------------------------

def _request_rows(*conditions):
    """Open requests with everyone who decides on them: the team's managers and their deputies (one query).

    Nobody is listed for their own request; a deputy only while the manager who named them is active.
    """
    person, lead, recipient = aliased(User), aliased(User), aliased(User)
    open_request = (Booking.state == BookingState.REQUESTED.value, team_manager.c.user_id != Booking.user_id,
                    *conditions)
    approvers = union_all(
        select(Booking.id.label("booking_id"), team_manager.c.user_id.label("recipient_id"))
        .join(person, person.id == Booking.user_id).join(team_manager, team_manager.c.team_id == person.team_id)
        .where(*open_request),
        select(Booking.id, ApprovalDeputy.deputy_id)
        .join(person, person.id == Booking.user_id).join(team_manager, team_manager.c.team_id == person.team_id)
        .join(ApprovalDeputy, ApprovalDeputy.manager_id == team_manager.c.user_id)
        .join(lead, lead.id == team_manager.c.user_id)
        .where(*open_request, lead.active, ApprovalDeputy.deputy_id != Booking.user_id),
    ).subquery()
    return db.session.execute(
        select(approvers.c.booking_id, approvers.c.recipient_id, Booking.created_at, person.first_name,
               person.last_name, EventSession.starts_at, EventSession.place, Event.id.label("event_id"), Event.title)
        .distinct()
        .join(Booking, Booking.id == approvers.c.booking_id).join(person, person.id == Booking.user_id)
        .join(recipient, recipient.id == approvers.c.recipient_id)
        .join(EventSession, EventSession.id == Booking.session_id).join(Event, Event.id == EventSession.event_id)
        .where(person.active, recipient.active, EventSession.cancelled_at.is_(None), Event.cancelled_at.is_(None))
    ).all()


@approval_requested.planner
def plan_approval_requested(ctx: PlanContext) -> list[Planned]:
    """Requests of the last days for sessions to come (one query); those announced at once are queued already."""
    rows = _request_rows(Booking.created_at >= ctx.now - timedelta(days=REQUEST_LOOKBACK_DAYS),
                         Booking.created_at <= ctx.now)
    return [request_notice(r.booking_id, r.recipient_id, r.created_at) for r in rows if r.starts_at > ctx.now]


def _request_id(item: Pending) -> int | None:
    prefix, _sep, value = item.subject_key.partition(":")
    return int(value) if prefix == "event-request" and value.isdigit() else None


@approval_requested.checker
def approval_still_requested(items: Sequence[Pending], ctx: PlanContext) -> dict[int, dict]:
    """Requests still waiting, for people who still decide on them (one query); the same request asked anew
    after a withdrawal has a notice of its own."""
    ids = {i for i in map(_request_id, items) if i is not None}
    if not ids:
        return {}
    rows = {(r.booking_id, r.recipient_id): r for r in _request_rows(Booking.id.in_(ids))}
    result = {}
    for item in items:
        row = rows.get((_request_id(item), item.user_id))
        if row is None or row.starts_at <= ctx.now \
                or request_notice(row.booking_id, item.user_id, row.created_at).period_key != item.period_key:
            continue
        result[item.id] = {"booking_id": row.booking_id, "event_id": row.event_id, "title": row.title,
                           "person": f"{row.first_name} {row.last_name}", "starts_at": row.starts_at.isoformat(),
                           "place": row.place}
    return result


@approval_requested.shown_while
def request_still_open(notification, today: date):
    """SQL: the request is still waiting for a decision and its session is not over."""
    return select(Booking.id).join(EventSession, EventSession.id == Booking.session_id).where(
        Booking.id == notification.details["booking_id"].as_integer(),
        Booking.state == BookingState.REQUESTED.value,
        EventSession.starts_at >= datetime.combine(today, time.min, tzinfo=UTC)).exists()


@approval_requested.describer
def describe_approval_requested(details: dict, today: date) -> Entry:
    when = format_datetime(datetime.fromisoformat(details["starts_at"]), "dd.MM.yyyy, HH:mm")
    return Entry(title=_("Booking request from %(name)s", name=details.get("person", "")),
                 detail=_("%(title)s on %(when)s: please approve or decline.", title=details["title"], when=when),
                 endpoint="events.team")
