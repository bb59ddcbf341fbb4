"""Event pages: booking by the employee, approval by the manager, the organisers' forms, attendance, iTIP mail."""

from __future__ import annotations

from datetime import timedelta

import icalendar
import time_machine
from sqlalchemy import select

from learning.db import db, utcnow
from learning.events.models import Booking, Event, EventSession
from learning.roles import Role
from learning.training.models import CourseCompletion


def _invitations(smtp_server):
    """(method, uid, sequence, message) of every calendar part received."""
    found = []
    for message in smtp_server.messages:
        for part in message.walk():
            if part.get_content_type() == "text/calendar":
                calendar = icalendar.Calendar.from_ical(part.get_content())
                entry = next(iter(calendar.walk("VEVENT")))
                found.append((str(calendar["METHOD"]), str(entry["UID"]), int(entry["SEQUENCE"]), entry))
    return found


def test_employee_books_and_gets_an_invitation_calendars_understand(app, client, login, people, make_event,
                                                                    smtp_server):
    app.config["SMTP_URL"] = smtp_server.url
    event_id, (session_id,) = make_event(capacity=3)
    login(client, "employee")
    page = client.get(f"/events/{event_id}")
    assert page.status_code == 200 and "video.example.org" not in page.text  # the link only after booking
    response = client.submit(f"/events/sessions/{session_id}/book")
    assert response.status_code == 302
    assert "video.example.org" in client.get(f"/events/{event_id}").text
    (method, uid, sequence, entry), = _invitations(smtp_server)
    assert method == "REQUEST" and sequence == 0 and uid.startswith(f"event-session-{session_id}-booking-")
    assert entry.decoded("dtstart") > utcnow()
    assert "employee@example.org" in str(entry["ATTENDEE"])
    with app.app_context():
        booking_id = db.session.scalar(select(Booking.id).where(Booking.session_id == session_id))
    client.submit(f"/events/bookings/{booking_id}/cancel")
    methods = [(m, u, s) for m, u, s, _ in _invitations(smtp_server)]
    assert methods == [("REQUEST", uid, 0), ("CANCEL", uid, 1)]


def test_moving_a_session_sends_an_update_with_a_higher_sequence(app, client, login, people, make_event,
                                                                 smtp_server, make_user):
    app.config["SMTP_URL"] = smtp_server.url
    event_id, (session_id,) = make_event(capacity=3)
    login(client, "employee")
    client.submit(f"/events/sessions/{session_id}/book")
    organiser = app.test_client()
    login(organiser, "projectgroup")
    start = (utcnow() + timedelta(days=10)).strftime("%d.%m.%Y") + " 10:00"
    end = (utcnow() + timedelta(days=10)).strftime("%d.%m.%Y") + " 12:30"
    response = organiser.submit(f"/events/manage/sessions/{session_id}/edit",
                                {"starts_at": start, "ends_at": end, "capacity": "3", "place": "Ratssaal"})
    assert response.status_code == 302, response.text
    (first, update) = _invitations(smtp_server)
    assert first[1] == update[1] and update[2] > first[2] and update[0] == "REQUEST"
    assert str(update[3]["LOCATION"]).startswith("Ratssaal")


def test_project_group_creates_an_event_with_a_session(client, login, people, app):
    login(client, "projectgroup")
    response = client.submit("/events/manage/new", {
        "kind": "workshop", "title": "E-Akte praktisch", "description": "Wir üben **gemeinsam**.",
        "audience": "everyone", "registration": "open", "approval_required": "y", "waiting_list": "automatic",
        "trainer_name": "Frau Extern"})
    assert response.status_code == 302
    with app.app_context():
        event = db.session.scalar(select(Event))
        assert event.approval_required and "<strong>gemeinsam</strong>" in event.description_html
        event_id = event.id
    day = (utcnow() + timedelta(days=20)).strftime("%Y-%m-%d")
    response = client.submit(f"/events/manage/{event_id}/sessions/new", {
        "starts_at": f"{day}T09:00", "ends_at": f"{day}T12:00", "capacity": "12", "place": "Raum 2.01"})
    assert response.status_code == 302, response.text
    with app.app_context():
        session = db.session.scalar(select(EventSession))
        assert session.capacity == 12 and session.ends_at - session.starts_at == timedelta(hours=3)


def test_hostile_session_input_gets_messages_and_changes_nothing(client, login, people, app, make_event):
    event_id, _ = make_event()
    login(client, "projectgroup")
    day = (utcnow() + timedelta(days=20)).strftime("%Y-%m-%d")
    cases = [
        ({"capacity": "0"}, "capacity from 1"),
        ({"capacity": "-4"}, "capacity from 1"),
        ({"ends_at": f"{day}T08:00"}, "end after it starts"),
        ({"starts_at": "31.02.2027 09:00"}, "such as"),
        ({"online_url": "javascript:alert(1)", "place": ""}, "https://"),
    ]
    for change, message in cases:
        data = {"starts_at": f"{day}T09:00", "ends_at": f"{day}T12:00", "capacity": "5", "place": "Raum", **change}
        response = client.submit(f"/events/manage/{event_id}/sessions/new", data)
        assert response.status_code == 200 and message in response.text, change
    with app.app_context():
        assert db.session.scalar(select(EventSession).where(EventSession.place == "Raum")) is None
    assert client.submit("/events/sessions/99999/book").status_code == 404
    assert client.submit("/events/bookings/99999/cancel").status_code == 404
    assert client.get("/events/manage/99999/edit").status_code == 404


def test_capacity_below_seats_taken_is_refused(client, login, people, app, make_event, make_user):
    event_id, (session_id,) = make_event(capacity=2)
    for person in (make_user(), make_user()):
        other = app.test_client()
        login(other, person.username)
        other.submit(f"/events/sessions/{session_id}/book")
    login(client, "projectgroup")
    with app.app_context():
        session = db.session.get(EventSession, session_id)
        start, end = session.starts_at, session.ends_at
    fmt = "%Y-%m-%dT%H:%M"
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(app.config["TIMEZONE"])
    response = client.submit(f"/events/manage/sessions/{session_id}/edit", {
        "starts_at": start.astimezone(zone).strftime(fmt), "ends_at": end.astimezone(zone).strftime(fmt),
        "capacity": "1", "place": "Raum 1.12", "online_url": "https://video.example.org/raum"})
    assert response.status_code == 200 and "already taken" in response.text


def test_manager_approves_only_own_team_and_employee_sees_result(client, login, people, app, make_event,
                                                                  make_user, make_team):
    event_id, (session_id,) = make_event(approval=True)
    employee = app.test_client()
    login(employee, "employee")
    employee.submit(f"/events/sessions/{session_id}/book")
    with app.app_context():
        booking_id = db.session.scalar(select(Booking.id))
    other = make_user("othermanager", roles={Role.MANAGER})
    make_team(managers=[other])
    login(client, "othermanager")
    assert "employee" not in client.get("/events/team").text.lower().split("<main")[-1].split("person")[0]
    assert client.submit(f"/events/bookings/{booking_id}/decide", {"decision": "approve"}).status_code == 404
    manager = app.test_client()
    login(manager, "manager")
    page = manager.get("/events/team")
    assert "Auftakt E-Akte" in page.text
    manager.submit(f"/events/bookings/{booking_id}/decide", {"decision": "approve"})
    with app.app_context():
        assert db.session.get(Booking, booking_id).state == "confirmed"


def test_organiser_takes_attendance_and_it_completes_the_linked_course(client, login, people, app, make_event,
                                                                       make_course):
    course = make_course("blended")
    event_id, (session_id,) = make_event(days=1, course_id=course.id, completes_course=True)
    employee = app.test_client()
    login(employee, "employee")
    employee.submit(f"/events/sessions/{session_id}/book")
    with app.app_context():
        booking_id = db.session.scalar(select(Booking.id))
    with time_machine.travel(utcnow() + timedelta(days=1, hours=1), tick=False):
        login(client, "projectgroup")
        page = client.get(f"/events/sessions/{session_id}/attendance")
        assert page.status_code == 200 and "Test Person" in page.text
        response = client.submit(f"/events/sessions/{session_id}/attendance",
                                 {"attendance": "1", f"booking-{booking_id}": "attended"})
        assert response.status_code == 302
        sheet = client.get(f"/events/sessions/{session_id}/sign-in-sheet")
        assert sheet.status_code == 200 and "print.css" in sheet.text and "Test Person" in sheet.text
    with app.app_context():
        assert db.session.get(Booking, booking_id).state == "attended"
        assert db.session.scalar(select(CourseCompletion.course_id).where(
            CourseCompletion.user_id == people["employee"].id)) == course.id


def test_non_organiser_cannot_open_the_organisers_pages(client, login, people, make_event):
    event_id, (session_id,) = make_event()
    login(client, "employee")
    assert client.get(f"/events/manage/{event_id}").status_code == 404
    assert client.get(f"/events/sessions/{session_id}/attendance").status_code == 404
    assert client.get(f"/events/sessions/{session_id}/sign-in-sheet").status_code == 404


def test_event_outside_the_audience_is_hidden(client, login, people, make_event, make_team):
    event_id, _ = make_event(audience="teams", values=[make_team().id])
    login(client, "employee")
    assert client.get(f"/events/{event_id}").status_code == 404
    assert "Auftakt E-Akte" not in client.get("/events/").text


def test_event_list_runs_a_fixed_number_of_queries(client, login, people, make_event, make_user, app,
                                                   count_queries):
    login(client, "employee")
    make_event("Eins", sessions=2)
    with count_queries() as few:
        assert client.get("/events/").status_code == 200
    for n in range(4):
        _, sessions = make_event(f"Noch eins {n}", sessions=3, capacity=1)
        for session_id in sessions:
            other = app.test_client()
            login(other, make_user().username)
            other.submit(f"/events/sessions/{session_id}/book")
    with count_queries() as many:
        page = client.get("/events/")
    assert page.status_code == 200 and "Noch eins 3" in page.text
    assert len(many) == len(few)


def test_organiser_books_people_into_an_invitation_only_event(client, login, people, app, make_event, make_user):
    event_id, (session_id,) = make_event(registration="invitation", capacity=1)
    first, second = make_user(), make_user()
    login(client, "projectgroup")
    assert client.get(f"/events/manage/sessions/{session_id}/invite").status_code == 200
    response = client.submit(f"/events/manage/sessions/{session_id}/invite", {"people": [first.id, second.id]})
    assert response.status_code == 302
    with app.app_context():
        states = dict(db.session.execute(select(Booking.user_id, Booking.state)).all())
    assert states == {first.id: "confirmed", second.id: "waiting"}
    again = client.submit(f"/events/manage/sessions/{session_id}/invite", {"people": [first.id]})
    assert again.status_code == 200 and "already booked" in again.text
    assert client.submit(f"/events/manage/sessions/{session_id}/invite", {"people": ["x"]}).status_code == 200


def test_a_manager_books_a_team_member_with_the_one_form_of_the_team_page(app, client, login, make_event, make_user,
                                                                            make_team):
    manager = make_user(roles={Role.MANAGER})
    team = make_team(managers=[manager])
    member, stranger = make_user(team=team, first_name="Tara"), make_user(team=make_team())
    _, (first, second) = make_event(sessions=2)
    login(client, manager.username)
    page = client.get("/events/team").text
    assert page.count('action="/events/team/book"') == 1  # one form, however many sessions
    assert f'<option value="{first}">' in page and f'<option value="{second}">' in page and "<optgroup" in page
    assert client.submit("/events/team/book", {"session_id": second, "person_id": member.id}).status_code == 302
    for tampered in ({"session_id": 999999, "person_id": member.id}, {"session_id": second, "person_id": stranger.id},
                     {"session_id": "x", "person_id": member.id}):
        response = client.submit("/events/team/book", tampered)
        assert response.status_code in (302, 404)
    with app.app_context():
        assert db.session.scalars(select(Booking.user_id)).all() == [member.id]  # the tampered ones: nothing
        assert db.session.scalar(select(Booking.session_id)) == second


def test_a_manager_sees_attendance_only_for_mandatory_training_of_the_team_and_only_if_the_setting_allows(
        app, client, login, make_event, make_user, make_team, make_course):
    from learning.audit.models import AuditEntry
    from learning.db import unit_of_work
    from learning.settings.services import save_settings

    manager = make_user(roles={Role.MANAGER})
    team = make_team(managers=[manager])
    member, stranger = make_user(team=team, first_name="Tara"), make_user(team=make_team(), first_name="Ulf")
    mandatory, voluntary = make_course(title="Pflicht", mandatory=True), make_course(title="Kür", mandatory=False)
    _, (duty,) = make_event("Pflichtschulung", course_id=mandatory.id, capacity=5)
    _, (extra,) = make_event("Kürworkshop", course_id=voluntary.id, capacity=5)
    with app.app_context():
        for session_id, person, state in ((duty, member, "attended"), (duty, stranger, "no_show"),
                                          (extra, member, "no_show")):
            db.session.add(Booking(session_id=session_id, user_id=person.id, state=state))
        for session in db.session.scalars(select(EventSession)):  # both sessions are over
            session.starts_at, session.ends_at = utcnow() - timedelta(days=3, hours=2), utcnow() - timedelta(days=3)
        db.session.commit()
    login(client, manager.username)
    page = client.get("/events/team").text
    table = page[page.index('id="attendance"'):page.index('id="book-for"')]
    assert "Pflichtschulung" in table and "Tara" in table  # the team's mandatory training
    assert "Kürworkshop" not in table and "Ulf" not in table  # neither voluntary events nor other teams
    with app.app_context():
        assert db.session.scalar(select(AuditEntry.action).where(AuditEntry.actor_id == manager.id)) == \
            "view.events.team_attendance"
    with app.test_request_context(), unit_of_work():
        save_settings({"managers.training_individuals": False}, None)
    page = client.get("/events/team").text
    table = page[page.index('id="attendance"'):page.index('id="book-for"')]
    assert "Tara" not in table and "only the team's figures" in table
