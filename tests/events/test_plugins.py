"""Events' plug-ins: the calendar feed, the start page's next steps, reminders, the mail job."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from learning.db import db, unit_of_work
from learning.events import booking as service
from learning.events.models import EventMail
from learning.i18n import local_today
from learning.messaging.models import Outbox
from learning.messaging.reminders import plan_reminders
from learning.org.models import User


def _book(app, person, session_id):
    with app.test_request_context(), unit_of_work():
        return service.book(db.session.get(User, person.id), session_id).id


def test_booked_sessions_are_in_the_calendar_feed(app, make_event, make_user):
    from learning.notifications.calendar import events_for

    _, (booked, other) = make_event(sessions=2)
    person = make_user()
    booking_id = _book(app, person, booked)
    with app.test_request_context():
        found = [e for e in events_for(db.session.get(User, person.id), local_today()) if e.uid.startswith("event-")]
    assert [e.uid for e in found] == [f"event-session-{booked}-booking-{booking_id}"]


def test_next_steps_list_booked_sessions_and_offers(app, make_event, make_user):
    from learning.home.upnext import next_items

    _, (session_id,) = make_event(capacity=1)
    first, second = make_user(), make_user()
    first_booking = _book(app, first, session_id)
    _book(app, second, session_id)
    with app.test_request_context(), unit_of_work():
        service.cancel(db.session.get(User, first.id), first_booking)
    with app.test_request_context(headers={"Accept-Language": "en"}):
        items = next_items(db.session.get(User, second.id), local_today()).items
    assert [(i.title, i.action) for i in items] == [("Auftakt E-Akte", "Accept the seat")]


def test_reminder_the_day_before_is_planned_once(app, make_event, make_user):
    from learning.events.models import EventSession

    _, (session_id,) = make_event(days=3)
    person = make_user()
    booking_id = _book(app, person, session_id)
    with app.test_request_context():
        day_before = db.session.get(EventSession, session_id).starts_at - timedelta(days=1)
        for moment in (day_before - timedelta(days=1), day_before, day_before):
            with unit_of_work():
                plan_reminders(moment, kinds=["events.tomorrow"])
        rows = db.session.scalars(select(Outbox).where(Outbox.kind == "events.tomorrow")).all()
    assert [(r.user_id, r.subject_key) for r in rows] == [(person.id, f"event-booking:{booking_id}")]


def test_mail_job_sends_what_could_not_be_sent(app, make_event, make_user, smtp_server):
    from learning.events.jobs import mail_job

    _, (session_id,) = make_event()
    app.config["SMTP_URL"] = "smtp://127.0.0.1:1"  # nobody listens: the mail waits
    _book(app, make_user(), session_id)
    with app.app_context():
        mail = db.session.scalar(select(EventMail))
        assert (mail.status, mail.attempts) == ("queued", 1)
    app.config["SMTP_URL"] = smtp_server.url
    with app.test_request_context(), unit_of_work():
        counts = mail_job()
    assert counts["queued"] == 1
    assert len(smtp_server.messages) == 1
    with app.app_context():
        assert db.session.scalar(select(EventMail.status)) == "sent"


def test_metrics_count_registrations_attendance_and_waiting(app, make_event, make_user, make_team):
    from learning.events.models import Booking
    from learning.metrics.models import ALL_PHASES
    from learning.metrics.services import compute

    team = make_team()
    _, (session_id,) = make_event(capacity=2)
    people = [make_user(team=team) for _ in range(3)]
    for person in people:
        _book(app, person, session_id)
    with app.app_context():  # the session has taken place: one came, one did not
        first, second = db.session.scalars(select(Booking).where(Booking.state == "confirmed")
                                           .order_by(Booking.id)).all()
        first.state, second.state = "attended", "no_show"
        db.session.commit()
    with app.test_request_context():
        values = {(v.metric, v.unit_kind, v.unit_id): v for v in compute(local_today() + timedelta(days=30))
                  if v.phase_key == ALL_PHASES}
    assert values[("events.registrations", "team", team.id)].value == 2
    assert values[("events.attendance", "team", team.id)].value == 50.0
    assert values[("events.waiting", "team", team.id)].value == 0  # the session is past
    with app.test_request_context():
        today = {(v.metric, v.unit_kind, v.unit_id): v for v in compute(local_today()) if v.phase_key == ALL_PHASES}
    assert today[("events.waiting", "team", team.id)].value == 1
    assert today[("events.attendance", "team", team.id)].value is None  # nothing has taken place yet
