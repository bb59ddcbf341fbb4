"""The quiz editor in a real browser: axe-clean in German and English at phone width, usable without JavaScript."""

from __future__ import annotations

import pytest

from learning.db import db
from learning.training.authoring.documents import document_of
from learning.training.authoring.models import CourseDraft
from learning.training.sync import AnswerSpec, CourseSpec, LessonSpec, QuestionSpec, true_false_answers
from tests.browser import login_as, screenshot, switch_language

pytestmark = pytest.mark.browser


def _draft(app) -> None:
    spec = CourseSpec(
        slug="web-quiz", title="Fristen im Bürgerservice", summary="Im Browser geschrieben.", minutes=10,
        lessons=[LessonSpec(slug="01-fristen", position=1, title="Fristen", body="# Fristen\n\nText.")],
        questions=[
            QuestionSpec(kind="single", text="Wie lange gilt die Frist?", explanation="Laut Satzung.",
                         answers=[AnswerSpec(text="Zwei Wochen", correct=True, feedback="Genau."),
                                  AnswerSpec(text="Ein Jahr", correct=False, feedback="Zu lang.")]),
            QuestionSpec(kind="truefalse", text="Fristen lassen sich verlängern.", explanation="Auf Antrag.",
                         answers=true_false_answers(True, "Richtig, auf Antrag.", None)),
            QuestionSpec(kind="multiple", text="Was gehört in den Vorgang?", explanation="Alles Fachliche.",
                         answers=[AnswerSpec(text="Antrag", correct=True), AnswerSpec(text="Bescheid", correct=True),
                                  AnswerSpec(text="Urlaubsfoto", correct=False)]),
        ])
    with app.app_context():
        db.session.add(CourseDraft(slug="web-quiz", document=document_of(spec), revisions={}))
        db.session.commit()


@pytest.mark.parametrize("language", ["de", "en"])
def test_the_quiz_editor_pages_pass_axe_at_360px(live_server, new_context, language):
    from tests.e2e.test_accessibility import _report, run_axe

    _draft(live_server.app)
    context, watcher = new_context(bypass_csp=True, viewport={"width": 360, "height": 740})
    watcher.expected_failures.add(f"{live_server.url}/learning/author/web-quiz/quiz/1")  # the conflict's 409
    page = context.new_page()
    login_as(page, "paul")  # the project group edits every course
    if language != "de":
        switch_language(page, language)
    problems = []
    for path in ("/learning/author/web-quiz/quiz", "/learning/author/web-quiz/quiz/1",
                 "/learning/author/web-quiz/quiz/2", "/learning/author/web-quiz/quiz/4?kind=truefalse",
                 "/learning/author/web-quiz/quiz/4?kind=multiple"):
        page.goto(path)
        problems += run_axe(page, language)
        assert page.evaluate("document.documentElement.scrollWidth") <= 360, path
    screenshot(page, f"quiz-editor-new-question-{language}")
    # A refused question: the errors on the form are axe-clean too.
    page.goto("/learning/author/web-quiz/quiz/4?kind=single")
    with page.expect_navigation():
        page.locator("main form.quiz-editor__form button[type=submit]").click()
    assert page.locator("main .kern-alert--danger").count() == 1
    problems += run_axe(page, language)
    # The pool refused (80 % pass mark, 2 of 3 questions), then the list with its message.
    page.goto("/learning/author/web-quiz/quiz")
    page.fill("input[name=draw]", "2")
    with page.expect_navigation():
        page.locator("main form[action='/learning/author/web-quiz/quiz'] button[type=submit]").click()
    assert page.locator("main .kern-error").count() >= 1
    problems += run_axe(page, language)
    screenshot(page, f"quiz-editor-{language}")
    # Someone else saves the quiz while this page is open: the conflict page with both versions.
    page.goto("/learning/author/web-quiz/quiz/1")
    _someone_else_saves(live_server.app)
    page.fill("textarea[name=text]", "Meine Fassung?")
    with page.expect_navigation():
        page.locator("main form.quiz-editor__form button[type=submit]").click()
    text = page.locator("main").inner_text()
    assert "Meine Fassung?" in text and "Fassung der Kollegin?" in text
    problems += run_axe(page, language)
    screenshot(page, f"quiz-editor-conflict-{language}")
    assert not problems, _report(problems)


def _someone_else_saves(app) -> None:
    from sqlalchemy import select

    from learning.db import unit_of_work
    from learning.training.authoring.documents import QUIZ, revision, save_part

    def change(spec):
        spec.questions[0].text = "Fassung der Kollegin?"

    with app.app_context(), unit_of_work():
        draft = db.session.scalar(select(CourseDraft).where(CourseDraft.slug == "web-quiz"))
        save_part(draft, QUIZ, revision(draft, QUIZ), change, None)


def test_an_author_writes_a_true_false_statement_by_keyboard_without_javascript(live_server, new_context):
    _draft(live_server.app)
    context, _watcher = new_context(java_script_enabled=False)
    page = context.new_page()
    login_as(page, "paul")
    page.goto("/learning/author/web-quiz/quiz")
    with page.expect_navigation():
        page.locator("main a[href$='quiz/4?kind=truefalse']").click()
    page.fill("textarea[name=text]", "Eine Frist beginnt mit dem Zugang.")
    page.locator("input[name=statement][value=true]").check()
    page.fill("textarea[name=feedback_false]", "Doch: mit dem Zugang.")
    page.locator("main form.quiz-editor__form button[type=submit]").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "Eine Frist beginnt mit dem Zugang." in page.locator("main").inner_text()
    with page.expect_navigation():
        page.locator("main form[action$='/quiz/4/move'] button[type=submit]").click()  # up
    items = page.locator("main .quiz-editor__text").all_inner_texts()
    assert items[2] == "Eine Frist beginnt mit dem Zugang."
