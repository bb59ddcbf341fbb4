"""The personal calendar feed: a secret, renewable address; an ICS document read back with ``icalendar``."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import select

from learning.db import db, utcnow
from learning.i18n import local_today
from learning.notifications.calendar import CalendarEvent, calendar_source
from learning.notifications.models import NotificationPreference
from learning.org.models import User
from learning.training.models import Assignment


@pytest.fixture
def today(app):
    with app.app_context():
        return local_today()


@pytest.fixture
def dated(app, people, today, make_course, make_assignment, make_phase):
    """The employee (reading English) with open and done assignments; a go-live of their department and another."""
    employee = people["employee"]
    with app.app_context():
        db.session.get(User, employee.id).locale = "en"
        db.session.commit()
    make_assignment(employee, make_course("offen", title="Datenschutz", title_en="Data protection"),
                    due_on=today + timedelta(days=10))
    done = make_assignment(employee, make_course("erledigt", title="Erledigt"), due_on=today + timedelta(days=5))
    make_assignment(employee, make_course("ohne-datum", title="Ohne Datum"), due_on=None)
    make_assignment(people["manager"], make_course("fremd", title="Fremder Kurs"), due_on=today + timedelta(days=3))
    with app.app_context():
        db.session.get(Assignment, done.id).completed_at = utcnow()
        db.session.commit()
    from learning.org.models import Department

    with app.app_context():
        department = db.session.get(Department, people["team"].department_id)
        db.session.expunge(department)
    make_phase("e-akte", title="E-Akte", title_en="Electronic files", go_live=today + timedelta(days=30),
               departments=[department])
    make_phase("portal", title="Portal", go_live=today + timedelta(days=60))
    make_phase("ohne", title="Ohne Termin", go_live=None)
    return employee


def _calendar_address(client) -> str:
    page = client.get("/notifications/preferences").get_data(as_text=True)
    match = re.search(r'id="calendar-url" type="text" value="http://localhost(/notifications/calendar/[^"]+\.ics)"',
                      page)
    return match.group(1) if match else ""


def _events(client, url) -> dict[str, object]:
    response = client.get(url)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    calendar = Calendar.from_ical(response.data)
    return {str(event["SUMMARY"]): event for event in calendar.walk("VEVENT")}


def test_the_feed_has_open_due_dates_and_go_lives(app, client, login, dated, today):
    login(client, "employee")
    assert _calendar_address(client) == ""
    client.submit("/notifications/calendar/renew")
    url = _calendar_address(client)
    assert url
    client.post("/logout", data={"csrf_token": client.csrf_token()})
    events = _events(client, url)  # read by a calendar program: no session
    assert set(events) == {"Due: Data protection", "Go-live: Electronic files", "Go-live: Portal"}
    due = events["Due: Data protection"]
    assert due.decoded("DTSTART") == today + timedelta(days=10)  # an all-day event (VALUE=DATE)
    assert due.decoded("DTEND") == today + timedelta(days=11)
    assert str(due["URL"]) == "http://localhost/learning/courses/offen"
    assert "Mandatory training." in str(due["DESCRIPTION"])
    assert str(due["UID"]).startswith("assignment-") and str(due["UID"]).endswith("@localhost")
    assert "affects your department" in str(events["Go-live: Electronic files"]["DESCRIPTION"])
    assert "affects your department" not in str(events["Go-live: Portal"]["DESCRIPTION"])


def test_the_feed_speaks_the_persons_language(app, client, login, dated):
    login(client, "employee")
    client.submit("/notifications/calendar/renew")
    english = _events(client, _calendar_address(client))
    assert {"Due: Data protection", "Go-live: Electronic files"} <= set(english)
    with app.app_context():
        db.session.get(User, dated.id).locale = "de"
        db.session.commit()
    german = _events(client, _calendar_address(client))
    assert any(title.endswith(": Datenschutz") for title in german)  # the course's German title
    assert any(title.endswith(": E-Akte") for title in german)
    assert not any("Data protection" in title for title in german)


def test_renewing_the_address_ends_the_old_one(app, client, login, dated):
    login(client, "employee")
    client.submit("/notifications/calendar/renew")
    old = _calendar_address(client)
    first_uids = {str(e["UID"]) for e in _events(client, old).values()}
    response = client.submit("/notifications/calendar/renew", follow_redirects=True)
    assert "The old address no longer works" in response.get_data(as_text=True)
    new = _calendar_address(client)
    assert new != old
    assert client.get(old).status_code == 404
    assert {str(e["UID"]) for e in _events(client, new).values()} == first_uids  # events keep their identity


@pytest.mark.parametrize("token", ["unbekannt", "x" * 65])
def test_unknown_addresses_reveal_nothing(client, token):
    assert client.get(f"/notifications/calendar/{token}.ics").status_code == 404


def test_a_deactivated_persons_feed_stops(app, client, people):
    with app.app_context():
        db.session.add(NotificationPreference(user_id=people["employee"].id, muted_kinds=[], calendar_token="geheim"))
        db.session.get(User, people["employee"].id).deactivate()
        db.session.commit()
    assert client.get("/notifications/calendar/geheim.ics").status_code == 404


def test_a_feature_adds_its_dates_through_calendar_source(app, client, people, monkeypatch):
    from learning.notifications import calendar

    monkeypatch.setattr(calendar, "_SOURCES", dict(calendar._SOURCES))

    @calendar_source("test.tasks", order=20)
    def tasks(user, today):
        return [CalendarEvent(uid=f"task-{user.id}", start=date(2026, 3, 2), summary="Laptop abholen",
                              endpoint="home.index")]

    with app.app_context():
        db.session.add(NotificationPreference(user_id=people["employee"].id, muted_kinds=[], calendar_token="tok"))
        db.session.commit()
    events = _events(client, "/notifications/calendar/tok.ics")
    assert events["Laptop abholen"].decoded("DTSTART") == date(2026, 3, 2)
    with app.app_context():
        assert db.session.scalar(select(NotificationPreference.calendar_token)) == "tok"
