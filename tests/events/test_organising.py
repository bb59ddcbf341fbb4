"""Organising events: authors plan events for their own courses, a whole event is cancelled, and consultation
hours are planned as a series of one-seat slots."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from learning.audit.models import AuditEntry
from learning.db import db, utcnow
from learning.events.models import Booking, Event, EventMail, EventSession
from learning.roles import Role
from tests.events.test_views import _invitations as received_invitations


@pytest.fixture
def author(make_user):
    return make_user("autorin", roles={Role.AUTHOR})


@pytest.fixture
def own_course(make_draft, author):
    """A published course the author edits; returns its course id."""
    return make_draft(editors=[author], published=True, title="Meldewesen digital").course_id


def _event_form(**changes) -> dict:
    return {"kind": "workshop", "title": "Übung Meldewesen", "description": "Wir üben.", "audience": "everyone",
            "registration": "open", "waiting_list": "automatic", **changes}


def _invitations(smtp_server):
    """(method, uid, sequence) of every calendar part received (parsed with ``icalendar``)."""
    return [(method, uid, sequence) for method, uid, sequence, _entry in received_invitations(smtp_server)]


def _count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


# Authors ------------------------------------------------------------------------------------

def test_author_creates_an_event_for_their_own_course_and_organises_it(app, client, login, author, own_course,
                                                                       make_draft, make_course, make_user):
    foreign = make_draft(editors=[make_user()], published=True, title="Fremder Kurs").course_id
    files = make_course(title="Kurs aus Dateien")
    login(client, "autorin")
    form = client.get(f"/events/manage/new?course={own_course}")
    assert form.status_code == 200
    assert "Meldewesen digital" in form.text and "Fremder Kurs" not in form.text and "Kurs aus Dateien" not in form.text
    assert f'<option selected value="{own_course}">' in form.text or f'value="{own_course}" selected' in form.text
    response = client.submit("/events/manage/new", _event_form(course_id=str(own_course)))
    assert response.status_code == 302, response.text
    with app.app_context():
        event = db.session.scalar(select(Event))
        assert event.course_id == own_course and [o.username for o in event.organisers] == ["autorin"]
        event_id = event.id
    day = (utcnow() + timedelta(days=20)).strftime("%d.%m.%Y")
    response = client.submit(f"/events/manage/{event_id}/sessions/new", {
        "starts_at": f"{day} 09:00", "ends_at": f"{day} 11:00", "capacity": "8", "place": "Raum 3"})
    assert response.status_code == 302, response.text
    with app.app_context():
        session_id = db.session.scalar(select(EventSession.id))
    for path in (f"/events/manage/{event_id}", f"/events/manage/{event_id}/edit",
                 f"/events/manage/sessions/{session_id}/invite", f"/events/sessions/{session_id}/attendance",
                 f"/events/manage/{event_id}/cancel"):
        assert client.get(path).status_code == 200, path
    listing = client.get("/events/manage")
    assert "Übung Meldewesen" in listing.text
    assert "Übung Meldewesen" in client.get(f"/events/manage?course={own_course}").text
    assert "Übung Meldewesen" not in client.get(f"/events/manage?course={foreign}").text
    assert files.id  # a course managed as files is offered to nobody but the project group


def test_author_is_refused_a_foreign_or_no_course_and_nothing_is_stored(app, client, login, author, own_course,
                                                                       make_draft, make_user):
    foreign = make_draft(editors=[make_user()], published=True).course_id
    login(client, "autorin")
    cases = [(str(foreign), "You may link an event only to a course you edit."),
             ("999999", "You may link an event only to a course you edit."),
             ("", "Please choose one of the courses you edit.")]
    for course_id, message in cases:
        response = client.submit("/events/manage/new", _event_form(course_id=course_id))
        assert response.status_code == 200 and message in response.text, course_id
    with app.app_context():
        assert _count(Event) == 0


def test_author_cannot_move_their_event_to_a_foreign_course(app, client, login, author, own_course, make_draft,
                                                            make_user):
    foreign = make_draft(editors=[make_user()], published=True).course_id
    login(client, "autorin")
    client.submit("/events/manage/new", _event_form(course_id=str(own_course)))
    with app.app_context():
        event_id = db.session.scalar(select(Event.id))
    response = client.submit(f"/events/manage/{event_id}/edit", _event_form(course_id=str(foreign)))
    assert response.status_code == 200 and "You may link an event only to a course you edit." in response.text
    with app.app_context():
        assert db.session.get(Event, event_id).course_id == own_course


def test_author_cannot_manage_other_events(app, client, login, author, people, make_event):
    event_id, (session_id,) = make_event()
    login(client, "autorin")
    for path in (f"/events/manage/{event_id}", f"/events/manage/{event_id}/edit", f"/events/manage/{event_id}/cancel",
                 f"/events/manage/{event_id}/slots", f"/events/manage/{event_id}/sessions/new",
                 f"/events/manage/sessions/{session_id}/edit", f"/events/manage/sessions/{session_id}/invite"):
        assert client.get(path).status_code == 403, path
    assert client.submit(f"/events/manage/{event_id}/edit", _event_form(title="Gekapert")).status_code == 403
    assert client.submit(f"/events/manage/{event_id}/cancel", {"reason": "weg"}).status_code == 403
    assert client.submit(f"/events/manage/sessions/{session_id}/cancel").status_code == 403
    assert "Auftakt E-Akte" not in client.get("/events/manage").text
    with app.app_context():
        event = db.session.get(Event, event_id)
        assert event.title == "Auftakt E-Akte" and event.cancelled_at is None
    employee = app.test_client()
    login(employee, "employee")
    assert employee.get("/events/manage").status_code == 403
    assert employee.get(f"/events/manage/{event_id}/cancel").status_code == 404


def test_the_course_editor_links_to_the_course_events(client, login, author, own_course, app):
    from learning.training.models import Course

    with app.app_context():
        slug = db.session.get(Course, own_course).slug
    login(client, "autorin")
    page = client.get(f"/learning/author/{slug}")
    assert page.status_code == 200
    assert f"/events/manage/new?course={own_course}" in page.text and f"/events/manage?course={own_course}" in page.text
    assert "/events/manage" in client.get("/events/").text


# Cancelling a whole event -------------------------------------------------------------------

def test_cancelling_an_event_sends_one_cancel_per_booking_and_twice_changes_nothing(
        app, client, login, people, make_event, make_user, smtp_server):
    app.config["SMTP_URL"] = smtp_server.url
    event_id, sessions = make_event(capacity=2, sessions=2)
    first, second, third = make_user(locale="de"), make_user(), make_user()
    for person, session_id in ((first, sessions[0]), (second, sessions[0]), (third, sessions[0]),
                               (first, sessions[1])):
        other = app.test_client()
        login(other, person.username)
        assert other.submit(f"/events/sessions/{session_id}/book").status_code == 302
    requests = {uid for method, uid, _ in _invitations(smtp_server) if method == "REQUEST"}
    assert len(requests) == 3  # the third person waits: no invitation
    login(client, "projectgroup")
    confirm = client.get(f"/events/manage/{event_id}/cancel")
    assert confirm.status_code == 200 and "4 bookings end" in confirm.text
    response = client.submit(f"/events/manage/{event_id}/cancel", {"reason": "Der Raum ist nicht verfügbar."})
    assert response.status_code == 302
    cancels = [(uid, seq) for method, uid, seq in _invitations(smtp_server) if method == "CANCEL"]
    assert sorted(uid for uid, _ in cancels) == sorted(requests)  # once per booking with a seat
    assert all(seq > 0 for _, seq in cancels)
    with app.app_context():
        assert db.session.get(Event, event_id).cancelled_at is not None
        assert _count(EventMail, EventMail.method == "CANCEL") == 3
        assert _count(EventMail, EventMail.kind == "left") == 1  # the waiting person is told, without calendar
        assert set(db.session.scalars(select(Booking.state))) == {"cancelled"}
        assert set(db.session.scalars(select(Booking.reason))) == {"Der Raum ist nicht verfügbar."}
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "event.cancelled"))
        assert entry.details["reason"] == "Der Raum ist nicht verfügbar." and entry.details["sessions"] == 2
        mails = _count(EventMail)
    again = client.submit(f"/events/manage/{event_id}/cancel", {"reason": "Nochmal"})
    assert again.status_code == 302
    with app.app_context():
        assert _count(EventMail) == mails
        assert _count(AuditEntry, AuditEntry.action == "event.cancelled") == 1
    assert len(smtp_server.messages) == 3 + 1 + 3 + 1  # 3 confirmations, 1 waiting, 3 cancellations, 1 left
    told = [m for m in smtp_server.messages if m["To"].endswith(f"<{first.email}>") and "Abgesagt" in m["Subject"]]
    assert len(told) == 2 and all("Begründung: Der Raum ist nicht verfügbar." in m.get_body(("plain",)).get_content()
                                  for m in told)  # the reason, in the person's language
    booked = app.test_client()
    login(booked, first.username)
    assert "Auftakt E-Akte" not in booked.get("/events/").text
    page = booked.get(f"/events/{event_id}")
    assert page.status_code == 200 and "abgesagt" in page.text


def test_cancelling_needs_a_reason_and_keeps_past_sessions(app, client, login, people, make_event, make_user):
    event_id, (session_id,) = make_event()
    login(client, "projectgroup")
    for reason, message in (("", "Please give a reason for the cancellation."),
                            ("x" * 501, "at most 500 characters")):
        response = client.submit(f"/events/manage/{event_id}/cancel", {"reason": reason})
        assert response.status_code == 200 and message in response.text
    assert client.get(f"/events/manage/{event_id}/cancel").status_code == 200
    with app.app_context():
        assert db.session.get(Event, event_id).cancelled_at is None
        assert db.session.get(EventSession, session_id).cancelled_at is None
        past = EventSession(event_id=event_id, starts_at=utcnow() - timedelta(days=2),
                            ends_at=utcnow() - timedelta(days=2) + timedelta(hours=1), capacity=3, place="Raum")
        db.session.add(past)
        db.session.commit()
        past_id = past.id
    assert client.submit(f"/events/manage/{event_id}/cancel", {"reason": "Krank"}).status_code == 302
    with app.app_context():
        assert db.session.get(EventSession, session_id).cancelled_at is not None
        assert db.session.get(EventSession, past_id).cancelled_at is None


# Consultation hours as a series -------------------------------------------------------------

def _next_monday() -> date:
    today = date.today()
    return today + timedelta(days=7 - today.weekday() + 7)  # Monday of the week after next


def _series(**changes) -> dict:
    monday = _next_monday()
    return {"first_day": monday.isoformat(), "last_day": (monday + timedelta(days=6)).isoformat(),
            "weekdays": ["0", "2"], "start": "14:00", "end": "15:00", "slot_minutes": "15", "pause_minutes": "0",
            "place": "Zimmer 1.04", "action": "preview", **changes}


def test_series_preview_lists_the_slots_and_create_stores_them(app, client, login, people, make_event):
    event_id, _ = make_event(kind="consultation", sessions=0)
    login(client, "projectgroup")
    assert client.get(f"/events/manage/{event_id}/slots").status_code == 200
    preview = client.submit(f"/events/manage/{event_id}/slots", _series())
    assert preview.status_code == 200 and "8 slots will be created" in preview.text  # Mon and Wed, 4 each
    assert "14:00–14:15" in preview.text and "14:45–15:00" in preview.text
    with app.app_context():
        assert _count(EventSession) == 0  # a preview stores nothing
    german = _series(first_day=_next_monday().strftime("%d.%m.%Y"), last_day="", start="9.00", end="10.00",
                     slot_minutes="20", pause_minutes="10")
    assert "2 slots will be created" in client.submit(f"/events/manage/{event_id}/slots", german).text
    response = client.submit(f"/events/manage/{event_id}/slots", _series(action="create"))
    assert response.status_code == 302, response.text
    with app.app_context():
        slots = db.session.scalars(select(EventSession).order_by(EventSession.starts_at)).all()
        assert len(slots) == 8 and {s.capacity for s in slots} == {1} and {s.place for s in slots} == {"Zimmer 1.04"}
        assert {s.ends_at - s.starts_at for s in slots} == {timedelta(minutes=15)}
        assert {s.starts_at.date().weekday() for s in slots} <= {0, 2}
        assert _count(AuditEntry, AuditEntry.action == "event.slots_added") == 1


@pytest.mark.parametrize(("changes", "message"), [
    ({"first_day": ""}, "Please enter the day of the consultation hours."),
    ({"first_day": "31.02.2027"}, "Enter a date such as 31.03.2027"),
    ({"last_day": "2000-01-01"}, "The last day must not be before the first day."),
    ({"weekdays": []}, "Please choose at least one weekday."),
    ({"weekdays": ["5"], "last_day": ""}, None),  # a single day ignores the weekdays: valid
    ({"start": ""}, "Please enter when the consultation hours begin."),
    ({"start": "25:00"}, "Enter a time such as 14:00."),
    ({"end": "13:00"}, "The consultation hours must end after they begin."),
    ({"slot_minutes": "4"}, "Enter a slot length from 5 to 240 minutes."),
    ({"slot_minutes": "241"}, "Enter a slot length from 5 to 240 minutes."),
    ({"slot_minutes": "abc"}, "Enter a slot length from 5 to 240 minutes."),
    ({"pause_minutes": "-5"}, "Enter a pause from 0 to 240 minutes."),
    ({"end": "14:10"}, "No slot fits between the beginning and the end."),
    ({"end": "23:00", "slot_minutes": "5", "weekdays": ["0", "1", "2", "3", "4"]}, "more than 200 slots"),
    ({"place": "", "online_url": ""}, "Please enter a place, an online link or both."),
    ({"online_url": "javascript:alert(1)"}, "https://"),
    ({"first_day": "2020-01-06", "last_day": ""}, "lies in the past"),
    ({"last_day": "2099-01-01"}, "A series may span at most 366 days."),
])
def test_series_validation_shows_the_message_and_stores_nothing(app, client, login, people, make_event, changes,
                                                                message):
    event_id, _ = make_event(kind="consultation", sessions=0)
    login(client, "projectgroup")
    response = client.submit(f"/events/manage/{event_id}/slots", _series(action="create", **changes))
    with app.app_context():
        stored = _count(EventSession)
    if message is None:
        assert response.status_code == 302 and stored == 4
        return
    assert response.status_code == 200 and message in response.text
    assert stored == 0


def test_series_refuses_overlap_with_existing_sessions_and_names_the_clash(app, client, login, people, make_event):
    event_id, _ = make_event(kind="consultation", sessions=0)
    login(client, "projectgroup")
    monday = _next_monday()
    first = client.submit(f"/events/manage/{event_id}/slots", _series(action="create", last_day="",
                                                                      start="14:30", end="14:45"))
    assert first.status_code == 302
    response = client.submit(f"/events/manage/{event_id}/slots", _series(action="create"))
    assert response.status_code == 200 and "1 slot overlaps a session of this event" in response.text
    assert f"{monday.strftime('%d.%m.')} 14:30–14:45" in response.text
    with app.app_context():
        assert _count(EventSession) == 1


def test_series_only_for_consultation_hours(app, client, login, people, make_event):
    event_id, _ = make_event(kind="workshop", sessions=0)
    login(client, "projectgroup")
    page = client.get(f"/events/manage/{event_id}/slots")
    assert page.status_code == 200 and "only for consultation hours" in page.text
    response = client.submit(f"/events/manage/{event_id}/slots", _series(action="create"))
    assert response.status_code == 200 and "only for consultation hours" in response.text
    with app.app_context():
        assert _count(EventSession) == 0


# Fixed numbers of queries -------------------------------------------------------------------

def test_new_pages_run_a_fixed_number_of_queries(app, client, login, people, make_event, make_user, count_queries):
    event_id, _ = make_event(kind="consultation", sessions=1)
    login(client, "projectgroup")
    pages = [f"/events/manage/{event_id}/cancel", f"/events/manage/{event_id}/slots"]
    few = {}
    for path in pages:
        with count_queries() as statements:
            assert client.get(path).status_code == 200
        few[path] = len(statements)
    with count_queries() as statements:
        assert client.submit(f"/events/manage/{event_id}/slots", _series()).status_code == 200
    preview_few = len(statements)
    with app.app_context():
        event = db.session.get(Event, event_id)
        start = utcnow().replace(microsecond=0) + timedelta(days=3)
        for n in range(6):
            event.sessions.append(EventSession(starts_at=start + timedelta(hours=n), capacity=3, place="Raum",
                                               ends_at=start + timedelta(hours=n, minutes=30)))
        db.session.commit()
        session_ids = [s.id for s in event.sessions]
    for session_id in session_ids:
        for _ in range(2):
            other = app.test_client()
            login(other, make_user().username)
            other.submit(f"/events/sessions/{session_id}/book")
    for path in pages:
        with count_queries() as statements:
            assert client.get(path).status_code == 200
        assert len(statements) == few[path], path
    with count_queries() as statements:
        assert client.submit(f"/events/manage/{event_id}/slots", _series()).status_code == 200
    assert len(statements) == preview_few
