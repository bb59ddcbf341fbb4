"""The issue's journey in a real browser: paul creates a workshop with two sessions and approval, anna
requests a seat, mara approves, paul moves the session (an update with a higher SEQUENCE), a seat frees up
and the first person waiting gets it, and at the session paul takes attendance on a phone; the linked
course is complete."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from learning.db import db, unit_of_work, utcnow
from learning.events import booking as service
from learning.events.models import Booking, Event, EventMail, EventSession
from learning.org.models import Team, User
from learning.training.models import Course, CourseCompletion
from tests.browser import login_as, sign_out

pytestmark = pytest.mark.browser


def _local(app, moment) -> str:
    return moment.astimezone(ZoneInfo(app.config["TIMEZONE"])).strftime("%Y-%m-%dT%H:%M")


def test_workshop_from_planning_to_attendance(live_server, page):
    app = live_server.app
    with app.app_context():
        course_id = db.session.scalar(select(Course.id).order_by(Course.id))
        colleague_id = db.session.scalar(select(User.id).join(Team, Team.id == User.team_id).where(
            Team.name == "Bürgerbüro", User.username.not_in(["anna", "mara"])).order_by(User.id))
        db.session.remove()
    start = (utcnow() + timedelta(days=14)).replace(hour=8, minute=0, second=0, microsecond=0)

    login_as(page, "paul")
    page.goto("/events/manage/new")
    page.check("input[name=kind][value=workshop]")
    page.fill("#title", "E-Akte Praxisworkshop")
    page.fill("#description", "Wir üben **gemeinsam**.")
    page.check("#approval_required")
    page.select_option("#course_id", str(course_id))
    page.check("#completes_course")
    with page.expect_navigation():
        page.locator("main form button.kern-btn--primary").click()
    assert "/sessions/new" in page.url, page.url
    event_id = int(page.url.split("/manage/")[1].split("/")[0])
    for offset in (0, 1):
        if offset:
            page.goto(f"/events/manage/{event_id}/sessions/new")
        page.fill("#starts_at", _local(app, start + timedelta(days=offset)))
        page.fill("#ends_at", _local(app, start + timedelta(days=offset, hours=3)))
        page.fill("#capacity", "1")
        page.fill("#place", "Schulungsraum 0.14")
        with page.expect_navigation():
            page.locator("main form button.kern-btn--primary").click()
        assert page.url.endswith(f"/events/manage/{event_id}"), page.url
    with app.app_context():
        session_id = db.session.scalar(select(EventSession.id).where(EventSession.event_id == event_id)
                                       .order_by(EventSession.starts_at))
        db.session.remove()
    sign_out(page)

    login_as(page, "anna")
    page.goto(f"/events/{event_id}")
    with page.expect_navigation():
        page.locator(f"form[action='/events/sessions/{session_id}/book'] button").click()
    sign_out(page)

    login_as(page, "mara")
    page.goto("/events/team")
    with page.expect_navigation():
        page.locator("main li:has-text('E-Akte Praxisworkshop') form[action*='/decide'] button[type=submit]").click()
    sign_out(page)

    with app.test_request_context(headers={"Accept-Language": "en"}), unit_of_work():  # a colleague waits
        colleague = db.session.get(User, colleague_id)
        waiting = service.book(colleague, session_id)
        mara = db.session.scalar(select(User).where(User.username == "mara"))
        service.decide(mara, waiting.id, True)
        waiting_id = waiting.id
    with app.app_context():
        assert db.session.get(Booking, waiting_id).state == "waiting"
        anna_booking = db.session.scalar(select(Booking).where(Booking.session_id == session_id,
                                                               Booking.id != waiting_id))
        assert anna_booking.state == "confirmed"
        anna_booking_id = anna_booking.id
        db.session.remove()

    login_as(page, "paul")
    page.goto(f"/events/manage/sessions/{session_id}/edit")
    page.fill("#starts_at", _local(app, start + timedelta(hours=1)))
    page.fill("#ends_at", _local(app, start + timedelta(hours=4)))
    with page.expect_navigation():
        page.locator("main form button.kern-btn--primary").click()
    with app.app_context():
        invitations = db.session.execute(select(EventMail.method, EventMail.sequence).where(
            EventMail.booking_id == anna_booking_id, EventMail.method.is_not(None)).order_by(EventMail.id)).all()
        assert invitations == [("REQUEST", 0), ("REQUEST", 1)]
        db.session.remove()

    with app.test_request_context(headers={"Accept-Language": "en"}), unit_of_work():  # anna cannot come
        service.cancel(db.session.scalar(select(User).where(User.username == "anna")), anna_booking_id)
    with app.app_context():
        assert db.session.get(Booking, waiting_id).state == "offered"
        db.session.execute(update(Booking).where(Booking.id == waiting_id).values(state="confirmed"))
        # The day of the session: it has begun.
        db.session.execute(update(EventSession).where(EventSession.id == session_id).values(
            starts_at=utcnow() - timedelta(minutes=5), ends_at=utcnow() + timedelta(hours=2)))
        db.session.commit()
        db.session.remove()

    page.set_viewport_size({"width": 360, "height": 800})
    page.goto(f"/events/sessions/{session_id}/attendance")
    page.check(f"#booking-{waiting_id}-attended")
    with page.expect_navigation():
        page.locator("main form button[name=attendance]").click()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    with app.app_context():
        assert db.session.get(Booking, waiting_id).state == "attended"
        assert db.session.scalar(select(CourseCompletion.id).where(
            CourseCompletion.user_id == colleague_id, CourseCompletion.course_id == course_id)) is not None
        assert db.session.scalar(select(Event.title).where(Event.id == event_id)) == "E-Akte Praxisworkshop"
