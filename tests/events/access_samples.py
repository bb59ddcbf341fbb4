"""Records for the access matrix: an event with one session, a booking of the employee, a deputy.

The employee and the manager organise the event, so that the organisers' pages (open to anyone
signed in, refused with 404 to people who do not organise the event) show them a real page. The
manager named the employee as deputy for booking requests (``deputy_id``).
Certificates of attendance (``/events/certificates/<code>``, ``/events/verify/<code>``) take the
matrix's made-up ``code``: a code is a secret, so a wrong one must lead to an error page for everyone;
who may open a real one is tested in ``test_attendance_results.py``.
"""

from __future__ import annotations

from datetime import timedelta


def samples(app, people) -> dict:
    from learning.db import db, utcnow
    from learning.events.models import ApprovalDeputy, Booking, Event, EventSession

    with app.app_context():
        event = Event(kind="workshop", title="Zugangstest", description="Text", audience="everyone",
                      audience_values=[])
        from learning.org.models import User

        event.organisers = [db.session.get(User, people["employee"].id), db.session.get(User, people["manager"].id)]
        start = utcnow().replace(microsecond=0) + timedelta(days=3)
        session = EventSession(starts_at=start, ends_at=start + timedelta(hours=1), capacity=5, place="Raum 1")
        event.sessions.append(session)
        db.session.add(event)
        db.session.flush()
        booking = Booking(session_id=session.id, user_id=people["employee"].id, state="confirmed")
        db.session.add(booking)
        db.session.add(ApprovalDeputy(manager_id=people["manager"].id, deputy_id=people["employee"].id))
        db.session.commit()
        return {"event_id": event.id, "session_id": session.id, "booking_id": booking.id,
                "deputy_id": people["employee"].id}
