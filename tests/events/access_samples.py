"""Records for the access matrix: an event with one session, a booking of the employee."""

from __future__ import annotations

from datetime import timedelta


def samples(app, people) -> dict:
    from learning.db import db, utcnow
    from learning.events.models import Booking, Event, EventSession

    with app.app_context():
        event = Event(kind="workshop", title="Zugangstest", description="Text", audience="everyone",
                      audience_values=[])
        start = utcnow().replace(microsecond=0) + timedelta(days=3)
        session = EventSession(starts_at=start, ends_at=start + timedelta(hours=1), capacity=5, place="Raum 1")
        event.sessions.append(session)
        db.session.add(event)
        db.session.flush()
        booking = Booking(session_id=session.id, user_id=people["employee"].id, state="confirmed")
        db.session.add(booking)
        db.session.commit()
        return {"event_id": event.id, "session_id": session.id, "booking_id": booking.id}
