"""The preview of a pooled quiz shows what a learner gets: one draw of N of the M questions (the quiz's own draw),
the whole pool on request; never whether an answer is correct, and nothing is written."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from learning.db import db
from learning.roles import Role
from learning.training.authoring.documents import document_of
from learning.training.authoring.models import CourseDraft, CourseEditor
from learning.training.models import QuizAttempt
from learning.training.sync import AnswerSpec, CourseSpec, LessonSpec, QuestionSpec, true_false_answers
from tests.browser import login_as, switch_language

POOL = [f"Poolfrage {n}?" for n in range(1, 6)]
QUESTION = re.compile(r"Poolfrage (\d)\?")
FIELDSET = 'class="kern-fieldset quiz-question"'


def _draft(app, slug="pool", draw=2, editors=()) -> None:
    questions = [QuestionSpec(kind="single", text=text, explanation=f"Erklärung {n}",
                              answers=[AnswerSpec(text=f"Stimmt {n}", correct=True, feedback=f"Genau so {n}"),
                                       AnswerSpec(text=f"Stimmt nicht {n}", correct=False, feedback=f"Leider {n}")])
                 for n, text in enumerate(POOL[:3], 1)]
    questions.append(QuestionSpec(kind="multiple", text=POOL[3], explanation="Erklärung 4",
                                  answers=[AnswerSpec(text="Antrag", correct=True), AnswerSpec(text="Foto",
                                                                                                correct=False)]))
    questions.append(QuestionSpec(kind="truefalse", text=POOL[4], explanation="Erklärung 5",
                                  answers=true_false_answers(True, "Genau so 5", None)))
    lessons = [LessonSpec(slug="eins", position=1, title="Eins", body="## Eins\n\nText.")]
    spec = CourseSpec(slug=slug, title="Poolkurs", summary="Im Browser geschrieben.", minutes=10, pass_mark=50,
                      quiz_draw=draw, lessons=lessons, questions=questions)
    with app.app_context():
        draft = CourseDraft(slug=slug, document=document_of(spec), revisions={})
        draft.editors = [CourseEditor(user_id=person.id) for person in editors]
        db.session.add(draft)
        db.session.commit()


@pytest.fixture
def lena(app, login, make_user):
    make_user("lena", roles={Role.AUTHOR}, first_name="Lena", last_name="Autorin")
    client = app.test_client()
    login(client, "lena")
    return client


def _person(app, username):
    from learning.org.models import User

    with app.app_context():
        person = db.session.scalar(select(User).where(User.username == username))
        db.session.expunge(person)
        return person


@pytest.fixture
def pooled(app, lena):
    _draft(app, editors=[_person(app, "lena")])


def _shown(page: str) -> list[int]:
    return [int(n) for n in QUESTION.findall(page)]


def _no_answer_key(page: str) -> None:
    """Nothing on the page says which answer is right: no feedback, no explanation, nothing ticked."""
    for marker in ("Genau so", "Leider", "Erklärung", "checked", "data-correct", "is-correct"):
        assert marker not in page, marker


def test_the_preview_shows_one_draw_of_n_of_the_m_questions(app, lena, pooled):
    selections = set()
    for _attempt in range(20):
        page = lena.get("/learning/author/pool/preview").get_data(as_text=True)
        shown = _shown(page)
        assert len(shown) == 2 and page.count(FIELDSET) == 2 and shown == sorted(shown)  # in the course's order
        assert set(shown) <= {1, 2, 3, 4, 5}
        selections.add(tuple(shown))
        _no_answer_key(page)
    assert len(selections) > 1  # a random draw each time (ten possible pairs; twenty identical ones: 1 in 10¹⁹)
    assert "Learners get 2 of the 5 questions per attempt; this preview shows a random selection." in page
    assert 'href="/learning/author/pool/preview?questions=all#preview-questions"' in page
    assert 'method="post"' not in page.split("</header>", 1)[-1]
    german = lena.get("/learning/author/pool/preview", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert "Lernende bekommen je Versuch 2 der 5 Fragen; diese Vorschau zeigt eine zufällige Auswahl." in german
    assert "Alle Fragen ansehen" in german
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(QuizAttempt)) == 0  # the preview writes nothing


def test_all_questions_shows_the_whole_pool_without_the_answers(app, lena, pooled):
    page = lena.get("/learning/author/pool/preview?questions=all").get_data(as_text=True)
    assert _shown(page) == [1, 2, 3, 4, 5] and page.count(FIELDSET) == 5
    assert "All 5 questions of the pool. Learners get 2 of them per attempt." in page
    assert 'href="/learning/author/pool/preview#preview-questions"' in page  # back to a random selection
    assert "Choose all answers that apply." in page and "Is this statement true or false?" in page
    assert page.count(" disabled>") == 10  # every answer shown, none can be chosen
    _no_answer_key(page)


def test_without_a_pool_every_question_is_shown_and_no_note(app, lena):
    _draft(app, slug="alle", draw=None, editors=[_person(app, "lena")])
    page = lena.get("/learning/author/alle/preview").get_data(as_text=True)
    assert _shown(page) == [1, 2, 3, 4, 5]
    assert "this preview shows a random selection" not in page and "?questions=all" not in page
    assert _shown(lena.get("/learning/author/alle/preview?questions=all").get_data(as_text=True)) == [1, 2, 3, 4, 5]
    _no_answer_key(page)


def test_the_preview_runs_the_same_statements_with_a_large_pool(app, lena, pooled, count_queries):
    with count_queries() as small:
        assert lena.get("/learning/author/pool/preview").status_code == 200
    with app.app_context():
        draft = db.session.scalar(select(CourseDraft).where(CourseDraft.slug == "pool"))
        document = dict(draft.document)
        document["questions"] = document["questions"] * 20
        draft.document = document
        db.session.commit()
    with count_queries() as large:
        page = lena.get("/learning/author/pool/preview?questions=all").get_data(as_text=True)
    assert page.count(FIELDSET) == 100
    assert len(large) == len(small)


@pytest.mark.browser
@pytest.mark.parametrize("language", ["de", "en"])
def test_the_preview_of_a_pool_and_the_review_page_pass_axe_at_360px(live_server, new_context, language):
    from tests.e2e.test_accessibility import _report, run_axe

    _draft(live_server.app)
    context, _watcher = new_context(bypass_csp=True, viewport={"width": 360, "height": 740})
    page = context.new_page()
    login_as(page, "paul")  # the project group sees every draft
    if language != "de":
        switch_language(page, language)
    problems = []
    for path in ("/learning/author/pool/preview", "/learning/author/pool/preview?questions=all"):
        page.goto(path)
        problems += run_axe(page, language)
        assert page.evaluate("document.documentElement.scrollWidth") <= 360, path
    page.goto("/learning/author/pool/preview")
    page.locator("main a[href*='questions=all']").focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**questions=all**")
    assert page.locator("main fieldset.quiz-question").count() == 5
    # The review page while the draft waits for review: the button that withdraws the request.
    page.goto("/learning/author/pool/review")
    with page.expect_navigation():
        page.locator("main form input[name=action][value=request] ~ button").click()
    assert page.locator("main form input[name=action][value=withdraw]").count() == 1
    problems += run_axe(page, language)
    assert not problems, _report(problems)
