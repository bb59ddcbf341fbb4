"""Event reminders: the day before a booked session, and before a seat offered runs out.

Both go through the outbox with the person's digest, mail hours and daily cap like every reminder;
the invitation itself (with the calendar attachment) was sent when the seat was booked.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta

from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from learning.db import db
from learning.events.models import Booking, BookingState, Event, EventSession
from learning.messaging.reminders import Entry, Pending, PlanContext, Planned, reminder_kind
from learning.org.models import User

OFFER_WARNING_HOURS = 12  # a seat offered is reminded this long before the offer runs out

tomorrow = reminder_kind(
    "events.tomorrow", label=_l("Booked event tomorrow"), order=30, lookback_days=3,
    description=_l("The day before a session you have booked a seat in."))
offer_ending = reminder_kind(
    "events.offer_ending", label=_l("Seat offer running out"), order=31, lookback_days=3,
    description=_l("A few hours before a seat offered to you from the waiting list goes to the next person."))


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
