"""anna works through a course in the browser: lessons, quiz, certificate, public verification."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from learning.db import db
from learning.training.models import Course, Question
from tests.browser import login_as, screenshot, switch_language

COURSE = "e-akte-grundlagen"


def _correct_answers(app) -> dict[int, set[int]]:
    with app.app_context():
        course = db.session.scalar(select(Course).where(Course.slug == COURSE).options(
            selectinload(Course.questions).selectinload(Question.answers)))
        return {q.id: {a.id for a in q.answers if a.correct} for q in course.questions}


@pytest.mark.browser
def test_anna_completes_a_course_and_gets_a_certificate(live_server, page, new_context):
    login_as(page, "anna")
    page.goto("/learning/")
    screenshot(page, "training-my-learning-anna")
    assert page.locator(f"a[href='/learning/courses/{COURSE}']").count() >= 1

    page.goto(f"/learning/courses/{COURSE}")
    first_lesson = page.locator(f"main a[href^='/learning/courses/{COURSE}/lessons/']").first
    with page.expect_navigation():
        first_lesson.click()
    screenshot(page, "training-lesson")
    # Mark every lesson done; the button moves on to the next lesson, the last one back to the course.
    for _ in range(20):
        button = page.locator("main form[action$='/done'] button[type=submit]")
        if button.count() == 0:
            break
        with page.expect_navigation():
            button.click()
        if "/lessons/" not in page.url:
            break
    assert page.url.endswith(f"/learning/courses/{COURSE}"), page.url
    # After the last lesson the message says what is still missing, not "done".
    flash = page.locator(".flash-messages").inner_text()
    assert "Noch offen" in flash and "Es fehlt noch das Quiz" in flash

    page.goto(f"/learning/courses/{COURSE}/quiz")
    # Opening the quiz shows its rules and a start button; starting is a deliberate POST.
    assert "Versuch 1 von 3 starten" in page.locator("main").inner_text()
    screenshot(page, "training-quiz-start")
    with page.expect_navigation():
        page.locator(f"main form[action='/learning/courses/{COURSE}/quiz/start'] button[type=submit]").click()
    form_html = page.locator("main form.quiz").inner_html()
    # Nothing in the markup tells the right answers before submitting.
    assert not re.search(r"<[^>]*(correct|right|richtig)[^>]*>", form_html, re.IGNORECASE)
    for question_id, answer_ids in _correct_answers(live_server.app).items():
        for answer_id in answer_ids:
            page.locator(f"input[name='q{question_id}'][value='{answer_id}']").check()
    screenshot(page, "training-quiz")
    with page.expect_navigation():
        page.locator("main form.quiz button[type=submit]").click()
    screenshot(page, "training-quiz-result")
    assert "100" in page.locator("main").inner_text()

    # The result page of a pass leads straight to the certificate.
    certificate = page.locator("main a[href^='/learning/certificates/']", has_text="Mein Zertifikat anzeigen")
    with page.expect_navigation():
        certificate.click()
    screenshot(page, "training-certificate")
    text = page.locator("main").inner_text()
    assert "Anna Schmidt" in text and "Gemeinde Musterhausen" in text
    assert page.locator("main button[data-print]").is_visible()  # print.js shows the button
    verify_link = re.search(r"/learning/verify/[A-Z0-9-]+", page.content()).group(0)

    anonymous, _watcher = new_context()
    public = anonymous.new_page()
    public.goto(verify_link)
    public_text = public.locator("main").inner_text()
    assert "Anna Schmidt" in public_text and "@" not in public_text
    screenshot(public, "training-verify")


def _untried_course(app, username: str) -> str:
    """A course with a quiz the person has not attempted in the demo data."""
    from learning.org.models import User
    from learning.training.models import QuizAttempt

    with app.app_context():
        user_id = db.session.scalar(select(User.id).where(User.username == username))
        tried = select(QuizAttempt.course_id).where(QuizAttempt.user_id == user_id)
        return db.session.scalars(
            select(Course.slug).where(Course.questions.any(), Course.id.not_in(tried)).order_by(Course.slug)).first()


@pytest.mark.browser
@pytest.mark.parametrize("language", ["de", "en"])
def test_quiz_start_questions_and_result_pass_axe_at_360px(live_server, new_context, language):
    """The quiz's start page, its questions and a result that hides the right answers: axe-clean, no sideways scroll."""
    from tests.e2e.test_accessibility import _report, run_axe

    context, _watcher = new_context(bypass_csp=True, viewport={"width": 360, "height": 740})
    page = context.new_page()
    login_as(page, "paul")
    if language != "de":
        switch_language(page, language)
    problems = []
    url = f"/learning/courses/{_untried_course(live_server.app, 'paul')}/quiz"
    page.goto(url)
    start = page.locator(f"main form[action='{url}/start'] button[type=submit]")
    assert start.count() == 1, page.locator("main").inner_text()
    problems += run_axe(page, language)
    with page.expect_navigation():
        start.click()
    problems += run_axe(page, language)
    # The first answer of every question: not all of them are right, so the quiz is not passed.
    for fieldset in page.locator("main form.quiz fieldset").all():
        fieldset.locator("input").first.check()
    with page.expect_navigation():
        page.locator("main form.quiz button[type=submit]").click()
    screenshot(page, f"training-quiz-result-failed-{language}")
    text = page.locator("main").inner_text()
    assert ("Noch nicht bestanden" in text) if language == "de" else ("Not passed yet" in text)
    problems += run_axe(page, language)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert not problems, _report(problems)


@pytest.mark.browser
@pytest.mark.parametrize("language", ["de", "en"])
def test_the_certificate_fits_a_phone_and_passes_axe(live_server, new_context, language):
    from tests.e2e.test_accessibility import run_axe

    context, _watcher = new_context(viewport={"width": 360, "height": 640}, bypass_csp=True)
    page = context.new_page()
    login_as(page, "admin")  # the demo has completed courses; the admin may open every certificate
    if language != "de":
        switch_language(page, language)
    with live_server.app.app_context():
        from learning.training.models import CourseCompletion

        code = db.session.scalar(select(CourseCompletion.verification_code).limit(1))
        db.session.remove()
    page.goto(f"/learning/certificates/{code}")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert page.locator("main button[data-print]").is_visible()
    screenshot(page, f"training-certificate-phone-{language}")
    assert not run_axe(page, language)
