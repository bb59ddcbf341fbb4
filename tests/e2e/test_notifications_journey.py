"""Reminders in the browser: the bell with its count, the notification centre, the preferences and the
calendar address; the admin's outbox and scheduler pages. Every new page passes axe in German and English.
"""

from __future__ import annotations

import re

import pytest
from icalendar import Calendar
from sqlalchemy import func, select

from learning.db import db
from learning.notifications.models import Notification, NotificationPreference
from learning.org.models import User
from tests.browser import login_as, screenshot, switch_language
from tests.e2e.test_accessibility import run_axe

pytestmark = pytest.mark.browser


def _unread(app, username: str) -> int:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        count = db.session.scalar(select(func.count(Notification.id)).where(
            Notification.user_id == user.id, Notification.read_at.is_(None)))
        db.session.remove()
        return count


def test_anna_reads_her_reminders_sets_her_preferences_and_subscribes_to_her_calendar(live_server, page):
    app = live_server.app
    unread = _unread(app, "anna")
    assert unread >= 2, "the demo gives anna reminders"
    login_as(page, "anna")
    switch_language(page, "en")
    bell = page.get_by_role("link", name=f"Notifications, {unread} unread")
    assert bell.count() == 1
    with page.expect_navigation():
        bell.click()
    assert page.locator("h1").inner_text() == "Notifications"
    items = page.locator(".notification-list__item--unread")
    assert items.count() == unread
    screenshot(page, "notifications-centre")
    first_title = items.first.locator("h2").inner_text()
    with page.expect_navigation():
        items.first.get_by_role("button", name=f"Mark as read: {first_title}").click()
    assert page.locator(".notification-list__item--unread").count() == unread - 1
    assert page.get_by_role("link", name=f"Notifications, {unread - 1} unread").count() == 1
    assert _unread(app, "anna") == unread - 1
    with page.expect_navigation():
        page.get_by_role("button", name="Mark all as read").click()
    assert page.get_by_role("link", name="Notifications", exact=True).count() == 1  # no count any more

    with page.expect_navigation():
        page.get_by_role("link", name="Notification settings").click()
    page.get_by_label(re.compile("^Once a week")).check()
    page.get_by_label("Training due soon").uncheck()
    with page.expect_navigation():
        page.get_by_role("button", name="Save settings").click()
    assert "Your notification settings are saved." in page.locator("main").inner_text()
    with app.app_context():
        anna = db.session.scalar(select(User).where(User.username == "anna"))
        preference = db.session.get(NotificationPreference, anna.id)
        assert preference.digest == "weekly" and "training.due_soon" in preference.muted_kinds
        db.session.remove()

    with page.expect_navigation():
        page.get_by_role("button", name="Create my calendar address").click()
    address = page.locator("#calendar-url").input_value()
    assert re.fullmatch(rf"{re.escape(live_server.url)}/notifications/calendar/[\w-]+\.ics", address)
    feed = page.request.get(address)
    assert feed.status == 200
    calendar = Calendar.from_ical(feed.body())
    summaries = [str(event["SUMMARY"]) for event in calendar.walk("VEVENT")]
    assert any(s.startswith("Due: ") for s in summaries) and any(s.startswith("Go-live: ") for s in summaries)
    screenshot(page, "notification-preferences")
    with page.expect_navigation():
        page.get_by_role("button", name="Create a new address").click()
    assert page.locator("#calendar-url").input_value() != address
    assert page.request.get(address).status == 404  # the old address stops working


def test_the_admin_sees_the_outbox_and_the_scheduler(live_server, page):
    login_as(page, "admin")
    switch_language(page, "en")
    page.goto("/admin/")
    with page.expect_navigation():
        page.get_by_role("link", name="Outbox").click()
    assert page.locator("h1").inner_text() == "Outbox"
    assert page.locator("main table tbody tr").count() > 0
    with page.expect_navigation():
        page.locator("nav.status-tabs").get_by_role("link", name=re.compile("^Sent")).click()
    assert page.locator("nav.status-tabs [aria-current=page]").inner_text().startswith("Sent")
    screenshot(page, "outbox")
    with page.expect_navigation():
        page.get_by_role("link", name="Scheduler and job runs").click()
    assert page.locator("h1").inner_text() == "Scheduler"
    assert "Plan reminders" in page.locator("main").inner_text()  # the job in words; its id is in the details
    screenshot(page, "scheduler")


NEW_PAGES = {
    "anna": ["/notifications/", "/notifications/?show=unread", "/notifications/preferences", "/account"],
    "mara": ["/notifications/"],
    "admin": ["/admin/mail/outbox", "/admin/mail/outbox?status=failed", "/admin/scheduler/",
              "/admin/scheduler/?result=error", "/admin/mail/", "/admin/"],
}


@pytest.mark.parametrize("language", ["de", "en"])
@pytest.mark.parametrize("username", sorted(NEW_PAGES))
def test_the_new_pages_pass_axe(live_server, new_context, username, language):
    context, _watcher = new_context(bypass_csp=True)
    page = context.new_page()
    login_as(page, username)
    if language != "de":
        switch_language(page, language)
    problems = []
    for path in NEW_PAGES[username]:
        response = page.goto(path)
        assert response.status == 200, path
        assert page.locator("html").get_attribute("lang") == language
        problems += run_axe(page, language)
    if username == "anna":  # the form with its errors, too
        page.goto("/notifications/preferences")
        page.evaluate("document.querySelectorAll('input[name=digest]').forEach(i => i.checked = false)")
        with page.expect_navigation():
            page.locator("main form.stack button[type=submit]").click()
        assert page.locator("main .kern-alert--danger").count() == 1
        problems += run_axe(page, language)
    assert not problems, "\n".join(problems)


def test_a_new_assignment_is_announced_at_once(live_server, new_context):
    """A rule gives anna a new course: the bell counts it and the centre names it before any job runs."""
    from datetime import date

    from learning.db import unit_of_work
    from learning.org.audience import AudienceKind
    from learning.training.models import Assignment, AssignmentRule, Course
    from learning.training.rules import assign_by_rules

    app = live_server.app
    before = _unread(app, "anna")
    with app.app_context():
        anna = db.session.scalar(select(User).where(User.username == "anna"))
        assigned = set(db.session.scalars(select(Assignment.course_id).where(Assignment.user_id == anna.id)))
        course = db.session.scalars(select(Course).where(Course.archived_at.is_(None), Course.id.not_in(assigned))
                                    .order_by(Course.id)).first()
        title = course.title
        with unit_of_work():
            db.session.add(AssignmentRule(course_id=course.id, audience=str(AudienceKind.EVERYONE), audience_values=[],
                                          mandatory=True, due_rule="assigned+21", active=True))
            db.session.flush()
            assign_by_rules(date.today())
        db.session.remove()
    assert _unread(app, "anna") == before + 1

    context, _watcher = new_context(viewport={"width": 360, "height": 640}, bypass_csp=True)
    page = context.new_page()
    login_as(page, "anna")
    bell = page.get_by_role("link", name=f"Benachrichtigungen, {before + 1} ungelesen")
    with page.expect_navigation():
        bell.click()
    text = page.locator("main").inner_text()
    assert title in text and "Ihnen wurde ein Kurs zugewiesen. Fällig am" in text and "in 21 Tagen" in text
    screenshot(page, "notifications-new-assignment-phone")
    assert not run_axe(page, "de")
    with page.expect_navigation():
        page.locator("main a", has_text=title).first.click()
    assert "/learning/courses/" in page.url
