"""The publishing pages in a real browser: axe in German and English, 360 px, and publishing by the form."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from learning.db import db, unit_of_work
from learning.org.models import User
from learning.training.authoring.documents import document_of
from learning.training.authoring.models import CourseDraft, CourseEditor, DraftReview, ReviewKind
from learning.training.authoring.publishing import publish_draft
from learning.training.sync import AnswerSpec, CourseSpec, LessonSpec, QuestionSpec
from tests.browser import login_as, switch_language
from tests.e2e.test_accessibility import _report, run_axe
from tests.e2e.test_journeys import PHONE, _horizontal_overflow

pytestmark = pytest.mark.browser

BODY = """## Worum es geht

Reisekosten beantragen Sie jetzt online im [Formular Reisekosten](https://example.org/reisekosten).

| Frist | Was |
|---|---|
| 6 Monate | Antrag stellen |

!!! tip "Tipp"
    Belege gleich fotografieren.

### Belege

- Fahrkarten
- Hotelrechnung
"""


def _spec(slug: str, title: str, second: str) -> CourseSpec:
    return CourseSpec(
        slug=slug, title=title, summary="Reisekosten online beantragen.", minutes=15,
        lessons=[LessonSpec(slug="antrag", position=1, title="Der Antrag", body=BODY),
                 LessonSpec(slug="belege", position=2, title="Belege", body=second)],
        questions=[QuestionSpec(kind="single", text="Wie lange haben Sie Zeit?", explanation="Sechs Monate.",
                                answers=[AnswerSpec(text="Sechs Monate", correct=True),
                                         AnswerSpec(text="Zwei Wochen", correct=False)])])


def _courses(app) -> None:
    """A published web course with unpublished changes and a comment, and a draft with accessibility errors."""
    with app.app_context():
        paul = db.session.scalar(select(User).where(User.username == "paul"))
        with unit_of_work():
            first = _spec("reisekosten-web", "Reisekosten online", "## Belege\n\nAlt.")
            good = CourseDraft(slug="reisekosten-web", revisions={}, updated_by_id=paul.id, document=document_of(first))
            good.editors = [CourseEditor(user_id=paul.id)]
            bad = CourseDraft(slug="entwurf-barrieren", revisions={}, updated_by_id=paul.id, document=document_of(
                _spec("entwurf-barrieren", "Entwurf mit Barrieren", "## Belege\n\n![](/media/foto.png)\n\n#### Tief")))
            db.session.add_all([good, bad])
            db.session.flush()
            publish_draft(good, paul, "Erste Fassung", False)
        with unit_of_work():
            good.document = document_of(_spec("reisekosten-web", "Reisekosten online", "## Belege\n\nNeu."))
            db.session.add(DraftReview(draft=good, author_id=paul.id, kind=ReviewKind.COMMENT, body="Bitte prüfen."))
        db.session.remove()


PATHS = ["/learning/author/reisekosten-web/preview", "/learning/author/reisekosten-web/preview/antrag",
         "/learning/author/reisekosten-web/check", "/learning/author/reisekosten-web/publish",
         "/learning/author/reisekosten-web/review", "/learning/author/reisekosten-web/versions",
         "/learning/author/reisekosten-web/versions?version=1", "/learning/author/entwurf-barrieren/check",
         "/learning/author/entwurf-barrieren/publish"]


def test_publishing_pages_pass_axe_in_german_and_english(new_context, live_server):
    _courses(live_server.app)
    context, _watcher = new_context(bypass_csp=True)
    page = context.new_page()
    login_as(page, "paul")
    problems = []
    for language in ("de", "en"):
        if language == "en":
            switch_language(page, "en")
        for path in PATHS:
            response = page.goto(path)
            assert response.status == 200, path
            assert page.locator("html").get_attribute("lang") == language
            problems.extend(run_axe(page, language))
    assert not problems, _report(problems)


def test_the_preview_fits_a_phone_and_the_form_publishes(new_context, live_server):
    _courses(live_server.app)
    context, _watcher = new_context(viewport=PHONE)
    page = context.new_page()
    login_as(page, "paul")
    for path in PATHS[:3]:
        page.goto(path)
        width = _horizontal_overflow(page)
        assert width <= PHONE["width"], f"{path} is {width} px wide at 360 px"
    page.goto("/learning/author/reisekosten-web/preview")
    assert page.get_by_text("Vorschau – nicht veröffentlicht").is_visible()
    page.goto("/learning/author/reisekosten-web/publish")
    page.locator("#summary").fill("Lektion Belege ergänzt")
    with page.expect_navigation():
        page.locator("form:has(#summary) button[type=submit]").click()
    assert urlsplit(page.url).path == "/learning/author/reisekosten-web/versions"
    assert page.get_by_text("Lektion Belege ergänzt").is_visible()
    page.goto("/learning/courses/reisekosten-web/lessons/belege")
    assert page.get_by_text("Neu.").is_visible()
