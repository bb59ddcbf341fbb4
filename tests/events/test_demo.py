"""The demo events: the kick-off with a full session and a waiting list, the workshop with anna's request
waiting for mara, consultation hours next week; on real pages."""

from __future__ import annotations

from sqlalchemy import func, select

from learning.db import db
from learning.events.models import Booking, Event, EventSession
from learning.i18n import local_today


def test_demo_events_as_the_issue_describes(app, client, login):
    from learning.demo.data import load_demo

    with app.app_context():
        counts = load_demo(local_today())
        assert counts["events"] == 3
        events = {e.kind: e for e in db.session.scalars(select(Event))}
        kickoff, workshop, consultation = events["information"], events["workshop"], events["consultation"]
        assert kickoff.phase.slug == "e-akte" and len(kickoff.sessions) == 2
        full = kickoff.sessions[0]
        states = dict(db.session.execute(select(Booking.state, func.count()).where(Booking.session_id == full.id)
                                         .group_by(Booking.state)).all())
        assert states == {"confirmed": full.capacity, "waiting": 3}
        assert workshop.approval_required
        request = db.session.scalar(select(Booking).where(Booking.session_id == workshop.sessions[0].id))
        assert (request.user.username, request.state) == ("anna", "requested")
        slots = db.session.scalars(select(EventSession).where(EventSession.event_id == consultation.id)).all()
        assert all(s.capacity == 1 for s in slots) and 0 < (slots[0].starts_at.date() - local_today()).days <= 9
    login(client, "mara", "demo")
    assert "E-Akte praktisch" in client.get("/events/team").text
    anna = app.test_client()
    login(anna, "anna", "demo")
    page = anna.get("/events/").text
    assert "Auftakt E-Akte" in page and "Sprechstunde der Change Agents" in page
    assert "Auftakt E-Akte" in anna.get("/").text  # the start page's next steps: her booked session
