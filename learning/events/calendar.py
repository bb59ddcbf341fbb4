"""Calendar source of events: the sessions the person has a seat in, in their calendar feed."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from flask_babel import gettext as _
from sqlalchemy import select

from learning.db import db
from learning.events.models import Booking, BookingState, Event, EventSession
from learning.notifications.calendar import FEED_DAYS_BACK, CalendarEvent, calendar_source


@calendar_source("events.sessions", order=30)
def booked_sessions(user, today: date) -> list[CalendarEvent]:
    """Sessions with a confirmed seat (or attended), not cancelled (one query)."""
    since = datetime.combine(today - timedelta(days=FEED_DAYS_BACK), time.min, tzinfo=UTC)
    rows = db.session.execute(
        select(Booking.id, EventSession.id, EventSession.starts_at, EventSession.ends_at, EventSession.place,
               Event.id, Event.title)
        .join(EventSession, EventSession.id == Booking.session_id).join(Event, Event.id == EventSession.event_id)
        .where(Booking.user_id == user.id, EventSession.cancelled_at.is_(None), EventSession.starts_at >= since,
               Booking.state.in_((BookingState.CONFIRMED.value, BookingState.ATTENDED.value)))
        .order_by(EventSession.starts_at)
    ).all()
    return [
        CalendarEvent(uid=f"event-session-{session_id}-booking-{booking_id}", start=starts_at, end=ends_at,
                      summary=title, description=_("Place: %(place)s", place=place) if place else "",
                      endpoint="events.event", values={"event_id": event_id}, categories=(_("Event"),))
        for booking_id, session_id, starts_at, ends_at, place, event_id, title in rows
    ]
