"""anna works through a course in the browser: lessons, quiz, certificate, public verification."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from learning.db import db
from learning.training.models import Course, Question
from tests.e2e.conftest import login_as, screenshot

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

    page.goto(f"/learning/courses/{COURSE}/quiz")
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

    page.goto("/learning/")
    certificate = page.locator("main a[href^='/learning/certificates/']").first
    with page.expect_navigation():
        certificate.click()
    screenshot(page, "training-certificate")
    text = page.locator("main").inner_text()
    assert "Anna Schmidt" in text
    verify_link = re.search(r"/learning/verify/[A-Z0-9-]+", page.content()).group(0)

    anonymous, _watcher = new_context()
    public = anonymous.new_page()
    public.goto(verify_link)
    public_text = public.locator("main").inner_text()
    assert "Anna Schmidt" in public_text and "@" not in public_text
    screenshot(public, "training-verify")
