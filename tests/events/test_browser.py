"""Event pages in a real browser on the demo: axe finds nothing in German and English, also with errors;
the attendance list fits a phone (360 px)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from learning.db import db
from learning.events.models import Event, EventSession
from tests.browser import login_as, switch_language
from tests.e2e.test_accessibility import run_axe

pytestmark = pytest.mark.browser


def _ids(app) -> dict:
    with app.app_context():
        kickoff = db.session.scalar(select(Event).where(Event.kind == "information"))
        session = db.session.scalar(select(EventSession).where(EventSession.event_id == kickoff.id)
                                    .order_by(EventSession.starts_at))
        ids = {"event": kickoff.id, "session": session.id}
        db.session.remove()
        return ids


def _signed_in(new_context, username: str, language: str):
    context, watcher = new_context(bypass_csp=True)
    page = context.new_page()
    login_as(page, username)
    if language != "de":
        switch_language(page, language)
    return page, watcher


def _fits_phone(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= 360


@pytest.mark.parametrize("language", ["de", "en"])
def test_event_pages_pass_axe_for_every_role(live_server, new_context, language):
    ids = _ids(live_server.app)
    problems = []
    page, watcher = _signed_in(new_context, "anna", language)
    for path in ("/events/", "/events/?mine=1", f"/events/{ids['event']}"):
        page.goto(path)
        problems += run_axe(page, language)
    page.set_viewport_size({"width": 360, "height": 800})
    page.goto(f"/events/{ids['event']}")
    assert _fits_phone(page), "the event page scrolls sideways at 360 px"

    page, watcher = _signed_in(new_context, "mara", language)
    page.goto("/events/team")
    assert page.locator("main form[action*='/decide']").count() >= 1  # anna's request waits for mara
    problems += run_axe(page, language)

    page, watcher = _signed_in(new_context, "paul", language)
    for path in ("/events/manage", f"/events/manage/{ids['event']}", f"/events/manage/{ids['event']}/edit",
                 f"/events/manage/sessions/{ids['session']}/edit", f"/events/sessions/{ids['session']}/sign-in-sheet"):
        page.goto(path)
        problems += run_axe(page, language)
    for path in ("/events/manage/new", f"/events/manage/{ids['event']}/sessions/new"):
        page.goto(path)
        problems += run_axe(page, language)
        with page.expect_navigation():  # sent empty: the error summary and the field errors
            page.locator("main form[method=post] button[type=submit]").last.click()
        assert page.locator("main .kern-alert--danger").count() == 1, path
        problems += run_axe(page, language)
    page.set_viewport_size({"width": 360, "height": 800})
    page.goto(f"/events/sessions/{ids['session']}/attendance")
    assert page.locator("main .attendance-row").count() == 8
    problems += run_axe(page, language)
    assert _fits_phone(page), "the attendance list scrolls sideways at 360 px"
    assert not problems, "\n".join(problems)
    assert not watcher.problems, watcher.problems


@pytest.mark.parametrize("language", ["de", "en"])
def test_organising_pages_pass_axe(live_server, new_context, language):
    """Cancelling a whole event, planning consultation slots (with a preview and with errors), an author's desk."""
    from datetime import date, timedelta

    app = live_server.app
    with app.app_context():
        consultation = db.session.scalar(select(Event.id).where(Event.kind == "consultation"))
        db.session.remove()
    ids = _ids(app)
    problems = []
    page, watcher = _signed_in(new_context, "paul", language)
    assert page.goto(f"/events/manage/{ids['event']}/cancel").status == 200
    problems += run_axe(page, language)
    with page.expect_navigation():  # sent without a reason: the error summary, nothing cancelled
        page.locator("main form[method=post] button[type=submit]").first.click()
    assert page.locator("main .kern-alert--danger").count() == 1
    problems += run_axe(page, language)
    page.goto(f"/events/manage/{consultation}/slots")
    problems += run_axe(page, language)
    with page.expect_navigation():  # sent empty: the errors
        page.locator("main button[value=preview]").click()
    assert page.locator("main .kern-alert--danger").count() == 1
    problems += run_axe(page, language)
    day = date.today() + timedelta(days=60)
    page.fill("#first_day", day.isoformat())
    page.fill("#start", "14:00")
    page.fill("#end", "15:00")
    page.fill("#place", "Zimmer 1.04")
    with page.expect_navigation():  # the preview lists the slots, nothing is stored yet
        page.locator("main button[value=preview]").click()
    assert page.locator("main button[value=create]").count() == 1
    problems += run_axe(page, language)
    page.set_viewport_size({"width": 360, "height": 800})
    assert _fits_phone(page), "the slot planner scrolls sideways at 360 px"

    page, watcher = _signed_in(new_context, "lena", language)
    for path in ("/events/manage", "/events/manage/new"):
        assert page.goto(path).status == 200, path  # the author's own desk
        problems += run_axe(page, language)
    assert not problems, "\n".join(problems)
    assert not watcher.problems, watcher.problems


@pytest.mark.parametrize("language", ["de", "en"])
def test_team_page_with_deputies_passes_axe_for_manager_and_deputy(live_server, new_context, language):
    """Mara named Lena as deputy: her team page lists Lena (also at 360 px and with an error); Lena sees the
    requests only."""
    from learning.events.models import ApprovalDeputy
    from learning.org.models import User

    with live_server.app.app_context():
        mara, lena = (db.session.scalar(select(User.id).where(User.username == name)) for name in ("mara", "lena"))
        db.session.add(ApprovalDeputy(manager_id=mara, deputy_id=lena))
        db.session.commit()
        db.session.remove()
    problems = []
    page, watcher = _signed_in(new_context, "mara", language)
    page.goto("/events/team")
    deputies = page.locator("main section:has(#deputies)")
    assert "Lena Vogt" in deputies.inner_text()
    problems += run_axe(page, language)
    with page.expect_navigation():  # sent without a choice: the error summary and the field error
        deputies.locator("form[action*='/team/deputies'] button[type=submit]").last.click()
    assert page.locator("main .kern-alert--danger").count() == 1
    problems += run_axe(page, language)
    page.set_viewport_size({"width": 360, "height": 800})
    page.goto("/events/team")
    assert _fits_phone(page), "the team page scrolls sideways at 360 px"

    page, deputy_watcher = _signed_in(new_context, "lena", language)
    page.goto("/events/team")
    assert page.locator("main form[action*='/decide']").count() >= 1  # anna's request, as mara's deputy
    assert page.locator("main #deputies, main #bookings, main #book-for").count() == 0
    problems += run_axe(page, language)
    assert not problems, "\n".join(problems)
    assert not watcher.problems, watcher.problems
    assert not deputy_watcher.problems, deputy_watcher.problems


def _attendance_results(app) -> dict:
    """anna attended the kick-off, which issues certificates; the workshop completes a course: the pages' ids."""
    from learning.events.certificates import sync_certificates
    from learning.events.models import AttendanceCertificate, Booking
    from learning.org.models import User
    from learning.phases.models import RolloutPhase
    from learning.training.models import Course

    with app.test_request_context():
        anna = db.session.scalar(select(User).where(User.username == "anna"))
        kickoff = db.session.scalar(select(Event).where(Event.kind == "information"))
        workshop = db.session.scalar(select(Event).where(Event.kind == "workshop"))
        course = db.session.scalar(select(Course).where(Course.archived_at.is_(None)).order_by(Course.slug))
        booking = db.session.scalar(select(Booking).join(EventSession, EventSession.id == Booking.session_id)
                                    .where(EventSession.event_id == kickoff.id, Booking.user_id == anna.id))
        booking.state = "attended"
        kickoff.issues_certificate = True
        workshop.course_id, workshop.completes_course = course.id, True
        sync_certificates(kickoff, {anna.id})
        db.session.commit()
        ids = {"code": db.session.scalar(select(AttendanceCertificate.verification_code)),
               "phase": db.session.scalar(select(RolloutPhase.slug).where(RolloutPhase.id == kickoff.phase_id)),
               "course": course.slug}
        db.session.remove()
        return ids


@pytest.mark.parametrize("language", ["de", "en"])
def test_certificate_of_attendance_phase_and_course_pages_pass_axe(live_server, new_context, language):
    ids = _attendance_results(live_server.app)
    problems = []
    page, watcher = _signed_in(new_context, "anna", language)
    page.goto(f"/phases/{ids['phase']}")
    assert page.locator("main section[aria-labelledby='events-phase-heading'] a[href^='/events/']").count() >= 2
    problems += run_axe(page, language)
    page.goto(f"/learning/courses/{ids['course']}")
    assert page.locator("main #course-events-heading").count() == 1  # to complete: attend the workshop
    problems += run_axe(page, language)
    page.goto("/learning/")
    assert page.locator(f"main a[href='/events/certificates/{ids['code']}']").count() == 1
    page.set_viewport_size({"width": 360, "height": 800})
    for path in (f"/events/certificates/{ids['code']}", f"/phases/{ids['phase']}"):
        page.goto(path)
        problems += run_axe(page, language)
        assert _fits_phone(page), f"{path} scrolls sideways at 360 px"
    page.goto(f"/events/certificates/{ids['code']}")
    assert page.locator("main button[data-print]").is_visible()  # print.js shows the button
    page.emulate_media(media="print")  # on paper: the certificate alone, on one A4 page (as the course's)
    page.set_viewport_size({"width": round((210 - 2 * 12) * 96 / 25.4), "height": 1000})  # A4 less margins
    printed = page.evaluate("""() => ({nav: getComputedStyle(document.querySelector('.site-header')).display,
        bottom: document.querySelector('.certificate').getBoundingClientRect().bottom,
        scrollWidth: document.documentElement.scrollWidth})""")
    a4_height = round((297 - 2 * 12) * 96 / 25.4)
    assert printed["nav"] == "none" and printed["bottom"] < a4_height and printed["scrollWidth"] <= 703

    context, watcher = new_context(bypass_csp=True, locale="de-DE" if language == "de" else "en-GB")
    public = context.new_page()
    public.goto(f"/events/verify/{ids['code']}")
    assert "Anna" in public.locator("main").inner_text()
    problems += run_axe(public, language)
    watcher.expected_failures.add(f"{live_server.url}/events/verify/FALSCH2345")  # a wrong code: 404
    public.goto("/events/verify/FALSCH2345")
    assert "Anna" not in public.locator("main").inner_text()
    problems += run_axe(public, language)
    assert not problems, "\n".join(problems)
