"""Events' items of the start page's *What to do next* list: seats offered to the person, and booked sessions."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app, url_for
from flask_babel import format_datetime
from flask_babel import gettext as _
from sqlalchemy import select

from learning.db import db
from learning.events.models import Booking, BookingState, Event, EventSession
from learning.home.upnext import NextItem, next_source
from learning.org.models import User

SHOWN_DAYS = 30  # booked sessions this far ahead are listed


@next_source("events", order=30)
def booked_and_offered(user: User, today: date) -> list[NextItem]:
    """Open offers (accept by their deadline) and booked sessions of the next weeks (one query)."""
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    start_of_day = datetime.combine(today, time.min, tzinfo=zone)
    rows = db.session.execute(
        select(Booking.state, Booking.offered_until, EventSession.starts_at, Event.id, Event.title)
        .join(EventSession, EventSession.id == Booking.session_id).join(Event, Event.id == EventSession.event_id)
        .where(Booking.user_id == user.id, EventSession.cancelled_at.is_(None), Event.cancelled_at.is_(None),
               EventSession.starts_at >= start_of_day,
               EventSession.starts_at < start_of_day + timedelta(days=SHOWN_DAYS),
               Booking.state.in_((BookingState.CONFIRMED.value, BookingState.OFFERED.value)))
        .order_by(EventSession.starts_at)
    ).all()
    items = []
    for state, offered_until, starts_at, event_id, title in rows:
        url = url_for("events.event", event_id=event_id)
        when = format_datetime(starts_at, "dd.MM.yyyy, HH:mm")
        if state == BookingState.OFFERED:
            items.append(NextItem(title=title, kind=_("A seat is free for you"), url=url, action=_("Accept the seat"),
                                  due_on=offered_until.astimezone(zone).date() if offered_until else None,
                                  detail=_("Session on %(when)s", when=when)))
        else:
            items.append(NextItem(title=title, kind=_("Booked event"), url=url, action=_("Show the event"),
                                  due_on=starts_at.astimezone(zone).date(), detail=when))
    return items
