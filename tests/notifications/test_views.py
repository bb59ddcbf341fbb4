"""The notification centre, the unread count in the header and the reminder preferences."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from learning.db import db, utcnow
from learning.notifications.models import Notification, NotificationPreference


@pytest.fixture
def notify(app, people, make_course, make_assignment):
    """``notify(user, n, read=False)``: n training notifications for the user, newest last.

    They are about an open assignment of the user's (the centre lists only reminders of open work).
    """
    course = make_course("datenschutz", title="Datenschutz kompakt")
    assignments = {}

    def add(user, count: int = 1, read: bool = False):
        if user.id not in assignments:
            assignments[user.id] = make_assignment(user, course, due_on=date(2026, 3, 2)).id
        with app.app_context():
            for n in range(count):
                db.session.add(Notification(
                    user_id=user.id, kind="training.due_today", subject_key=f"assignment:{n}",
                    created_at=utcnow() - timedelta(minutes=count - n), read_at=utcnow() if read else None,
                    details={"assignment_id": assignments[user.id], "course_slug": course.slug,
                             "course_title": f"{course.title} {n}", "course_title_en": None, "due_on": "2026-03-02",
                             "mandatory": True}))
            db.session.commit()

    return add


def _ids(app, user, unread=None) -> list[int]:
    with app.app_context():
        query = select(Notification.id).where(Notification.user_id == user.id)
        if unread is not None:
            query = query.where(Notification.read_at.is_(None) if unread else Notification.read_at.is_not(None))
        return list(db.session.scalars(query.order_by(Notification.id)))


# The header ------------------------------------------------------------------------------------------------------

def test_the_header_shows_the_unread_count_with_an_accessible_name(client, login, people, notify):
    notify(people["employee"], 3)
    notify(people["employee"], 2, read=True)
    login(client, "employee")
    page = client.get("/").get_data(as_text=True)
    bell = re.search(r'<a class="[^"]*notification-bell".*?</a>', page, re.S).group(0)
    assert 'aria-label="Notifications, 3 unread"' in bell  # the link's name, starting with its visible text
    assert 'aria-hidden="true">3</span>' in bell  # the visible number is not read twice
    german = client.get("/", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert 'href="/notifications/"' in german


def test_the_header_count_costs_one_query_and_none_for_anonymous_pages(client, login, people, notify, count_queries):
    notify(people["employee"], 2)
    with count_queries() as anonymous:
        client.get("/login")
    assert not [s for s in anonymous if "notification" in s]
    login(client, "employee")
    with count_queries() as statements:
        client.get("/learning/")
    assert len([s for s in statements if "FROM notification" in s]) == 1


def test_a_lost_connection_during_the_count_leaves_the_rest_of_the_page_working(client, login, people, notify,
                                                                               monkeypatch):
    from sqlalchemy.exc import OperationalError

    from learning.db import db
    from learning.notifications import views

    def connection_lost(_user):
        db.session.connection().invalidate()  # as psycopg does when the server goes away mid-transaction
        raise OperationalError("SELECT count(*)", {}, Exception("server closed the connection unexpectedly"))

    notify(people["employee"], 2)
    login(client, "employee")
    monkeypatch.setattr(views, "unread_count", connection_lost)
    response = client.get("/learning/")
    assert response.status_code == 200  # the navigation's own queries ran on a new connection
    assert 'href="/notifications/"' in response.get_data(as_text=True)


def test_no_count_when_everything_is_read(client, login, people, notify):
    notify(people["employee"], 1, read=True)
    login(client, "employee")
    assert "unread" not in client.get("/").get_data(as_text=True).split("</header>")[0]


# The centre ------------------------------------------------------------------------------------------------------

def test_the_centre_lists_notifications_newest_first_and_filters_unread(client, login, people, notify):
    notify(people["employee"], 2, read=True)
    notify(people["manager"], 1)
    login(client, "employee")
    notify(people["employee"], 1)
    page = client.get("/notifications/").get_data(as_text=True)
    titles = re.findall(r'id="notification-\d+">\s*<a [^>]*>(Datenschutz kompakt \d)', page)
    assert titles == ["Datenschutz kompakt 0", "Datenschutz kompakt 1", "Datenschutz kompakt 0"]
    assert 'href="/learning/courses/datenschutz"' in page and "Training due today" in page
    unread = client.get("/notifications/?show=unread").get_data(as_text=True)
    assert len(re.findall(r'class="notification-list__item', unread)) == 1


def test_marking_one_and_all_as_read(app, client, login, people, notify):
    notify(people["employee"], 3)
    notify(people["manager"], 1)
    login(client, "employee")
    first = _ids(app, people["employee"])[0]
    response = client.submit(f"/notifications/{first}/read", {"show": "unread"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/notifications/?show=unread")
    assert _ids(app, people["employee"], unread=False) == [first]
    others = _ids(app, people["manager"])[0]
    assert client.submit(f"/notifications/{others}/read").status_code == 404  # not hers: nothing revealed
    assert _ids(app, people["manager"], unread=True) == [others]
    client.submit("/notifications/read-all")
    assert _ids(app, people["employee"], unread=True) == []
    assert _ids(app, people["manager"], unread=True) == [others]


def test_an_empty_centre_says_so(client, login, people):
    login(client, "employee")
    assert "No notifications yet." in client.get("/notifications/").get_data(as_text=True)


def test_the_centre_runs_a_fixed_number_of_queries(client, login, people, notify, count_queries):
    login(client, "employee")
    notify(people["employee"], 2)
    with count_queries() as few:
        assert client.get("/notifications/").status_code == 200
    notify(people["employee"], 30)
    with count_queries() as many:
        assert client.get("/notifications/").status_code == 200
    assert len(few) == len(many)


def test_a_notification_of_a_kind_no_longer_known_is_still_listed(app, client, login, people):
    with app.app_context():
        gone = Notification(user_id=people["employee"].id, kind="gone.kind", subject_key="x", details={})
        db.session.add(gone)
        db.session.commit()
        gone_id = gone.id
    login(client, "employee")
    response = client.get("/notifications/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    entry = re.search(r'<li class="notification-list__item[^"]*">(.*?)</li>\s*(?:</ul>|<li)', page, re.S)
    assert entry is not None and f'id="notification-{gone_id}"' in entry.group(1)
    assert "gone.kind ·" in entry.group(1)  # the kind's stored name stands in for its label
    assert re.search(r'id="notification-\d+">\s*Reminder\s*</h2>', entry.group(1))
    assert f'/notifications/{gone_id}/read' in entry.group(1)  # and it can still be marked as read


# Preferences -----------------------------------------------------------------------------------------------------

def _preference(app, user) -> NotificationPreference | None:
    with app.app_context():
        row = db.session.get(NotificationPreference, user.id)
        if row is not None:
            db.session.expunge(row)
        return row


def test_preferences_show_the_defaults_and_the_rules_for_everyone(app, client, login, people):
    app.config.update(REMINDER_DIGEST="daily", MAIL_HOURS=(7, 18), MAIL_WEEKENDS=False, MAIL_DAILY_CAP=3)
    login(client, "employee")
    page = client.get("/notifications/preferences").get_data(as_text=True)
    assert re.search(r'value="daily"[^>]*checked|checked[^>]*value="daily"', page)
    mine = ["training.due_soon", "training.due_today", "training.overdue", "announcements.unacknowledged",
            "feedback.status_changed"]
    assert all(f'value="{kind}"' in page for kind in mine) and "training.escalation" not in page
    assert "between 7:00 and 18:00" in page and "No mail is sent at weekends." in page
    assert "at most 3 mails a day" in page


def test_saving_preferences(app, client, login, people):
    login(client, "employee")
    response = client.submit("/notifications/preferences", {
        "digest": "weekly", "kinds": ["training.overdue", "announcements.unacknowledged"]})
    assert response.status_code == 302
    row = _preference(app, people["employee"])
    assert row.digest == "weekly"
    assert {"feedback.status_changed", "training.due_soon", "training.due_today"} <= set(row.muted_kinds)
    assert not {"training.overdue", "announcements.unacknowledged"} & set(row.muted_kinds)
    page = client.get("/notifications/preferences").get_data(as_text=True)
    assert "Your notification settings are saved." in page
    assert not re.search(r'value="training.due_soon"[^>]*checked', page)


@pytest.mark.parametrize("data", [
    {"digest": "hourly", "kinds": ["training.overdue"]},
    {"digest": "daily", "kinds": ["training.escalation"]},  # not optional: cannot be chosen (or switched off)
    {"kinds": ["training.overdue"]},
])
def test_wrong_preferences_are_refused_with_a_message(app, client, login, people, data):
    login(client, "employee")
    response = client.submit("/notifications/preferences", data)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Please check your entries" in page
    assert _preference(app, people["employee"]) is None


def test_the_account_page_links_preferences_and_calendar(client, login, people):
    login(client, "employee")
    page = client.get("/account").get_data(as_text=True)
    assert 'href="/notifications/preferences"' in page and 'href="/notifications/preferences#calendar"' in page


def test_preferences_list_only_the_reminders_that_can_concern_the_person(app, client, login, people):
    login(client, "employee")  # no onboarding role, no team to lead
    page = client.get("/notifications/preferences").get_data(as_text=True)
    assert 'value="onboarding.task_due"' not in page and 'value="onboarding.buddy_missing"' not in page
    assert 'value="training.assigned"' in page and 'value="surveys.not_answered"' in page
    manager = client.application.test_client()
    login(manager, "manager")
    page = manager.get("/notifications/preferences").get_data(as_text=True)
    assert 'value="onboarding.buddy_missing"' in page


def test_saving_keeps_the_choice_for_reminders_not_listed(app, client, login, people):
    with app.app_context():
        db.session.add(NotificationPreference(user_id=people["employee"].id,
                                              muted_kinds=["onboarding.task_due", "training.due_soon"]))
        db.session.commit()
    login(client, "employee")
    response = client.submit("/notifications/preferences", {"digest": "daily", "kinds": ["training.due_soon"]})
    assert response.status_code == 302
    muted = set(_preference(app, people["employee"]).muted_kinds)
    assert "onboarding.task_due" in muted and "training.due_soon" not in muted
    assert "onboarding.buddy_missing" not in muted  # never listed, never switched off
