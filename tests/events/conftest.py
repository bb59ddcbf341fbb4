"""Factories for event tests: an event with sessions written straight into the database."""

from __future__ import annotations

from datetime import timedelta

import pytest

from learning.db import db, utcnow
from learning.events.models import Event, EventSession


@pytest.fixture
def make_event(app):
    """An event with ``sessions`` sessions starting in ``days`` days; returns (event id, [session ids])."""

    def factory(title: str = "Auftakt E-Akte", *, capacity: int = 2, sessions: int = 1, days: int = 7,
                approval: bool = False, waiting_list: str = "automatic", registration: str = "open",
                audience: str = "everyone", values=(), organisers=(), course_id=None,
                completes_course: bool = False, cancellation_days: int | None = None, kind: str = "workshop"):
        with app.app_context():
            event = Event(kind=kind, title=title, description="Wir stellen **die E-Akte** vor.",
                          audience=audience, audience_values=list(values), registration=registration,
                          approval_required=approval, waiting_list=waiting_list, course_id=course_id,
                          completes_course=completes_course)
            from learning.org.models import User

            event.organisers = [db.session.get(User, o.id) for o in organisers]
            start = utcnow().replace(microsecond=0) + timedelta(days=days)
            for n in range(sessions):
                begin = start + timedelta(days=n)
                event.sessions.append(EventSession(
                    starts_at=begin, ends_at=begin + timedelta(hours=2), capacity=capacity, place="Raum 1.12",
                    online_url="https://video.example.org/raum",
                    cancellation_deadline=begin - timedelta(days=cancellation_days) if cancellation_days else None))
            db.session.add(event)
            db.session.commit()
            return event.id, [s.id for s in event.sessions]

    return factory
