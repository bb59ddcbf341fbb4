"""Metric sources of events: registrations, attendance rate and waiting-list length per phase and unit.

The dashboards show them next to training completion, with the usual small-group suppression (each
value carries its ``n``). Who attended is never a metric of its own: only counts and rates per unit.
"""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from learning.db import db
from learning.events.models import SEAT_STATES, Booking, BookingState, Event, EventSession
from learning.metrics.services import Metric, Tally, Units, Value, end_of_day, metric_source

REGISTRATIONS = Metric("events.registrations", _l("Event registrations"), "count", True,
                       _l("Seats booked in sessions of events (confirmed, offered or taken part)."))
ATTENDANCE = Metric("events.attendance", _l("Event attendance"), "percent", True,
                    _l("People who came out of those with a seat in sessions that have taken place and whose "
                       "attendance was recorded (excused absences not counted)."))
WAITING = Metric("events.waiting", _l("Waiting for a seat"), "count", False,
                 _l("People on the waiting lists of sessions still to come."))


@metric_source(REGISTRATIONS, ATTENDANCE, WAITING, order=60)
def event_figures(day: date) -> list[Value]:
    """Three queries: the bookings made by the end of the day with their session and phase, and the units."""
    end = end_of_day(day)
    rows = db.session.execute(
        select(Booking.user_id, Booking.state, EventSession.starts_at, Event.phase_id)
        .join(EventSession, EventSession.id == Booking.session_id).join(Event, Event.id == EventSession.event_id)
        .where(Booking.created_at < end, EventSession.cancelled_at.is_(None))
    ).all()
    units = Units.load()
    tally = Tally()
    for user_id, state, starts_at, phase_id in rows:
        where = units.of_person(user_id)
        if where is None:
            continue
        past = starts_at < end
        recorded = past and state in (BookingState.ATTENDED, BookingState.NO_SHOW)
        tally.count(phase_id, where, seats=int(state in SEAT_STATES), recorded=int(recorded),
                    attended=int(recorded and state == BookingState.ATTENDED),
                    waiting=int(state == BookingState.WAITING and not past))
    return (tally.totals(REGISTRATIONS.key, "seats", "seats") + tally.rates(ATTENDANCE.key, "attended", "recorded")
            + tally.totals(WAITING.key, "waiting", "seats"))
