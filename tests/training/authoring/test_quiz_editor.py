"""The quiz editor: questions of every kind, answers and feedback, order, pool, validation, the lock, rights."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from learning.db import db
from learning.roles import Role
from learning.training.authoring.documents import draft_spec
from learning.training.authoring.models import CourseDraft

URL = "/learning/author/{slug}/quiz"


@pytest.fixture
def author(make_user):
    return make_user("autorin", roles={Role.AUTHOR})


@pytest.fixture
def editing(client, login, author, make_draft):
    """An author signed in on a draft naming her (slug "quiz-kurs", one single-choice question)."""
    make_draft("quiz-kurs", editors=[author])
    login(client, "autorin")
    return client


def spec_of(app, slug: str = "quiz-kurs"):
    with app.app_context():
        return draft_spec(db.session.scalar(select(CourseDraft).where(CourseDraft.slug == slug)))


def revision_of(page: str) -> str:
    return re.search(r'name="base_revision"[^>]*value="(\d+)"|value="(\d+)"[^>]*name="base_revision"', page).group(
        1) or "0"


def choice_data(revision="0", text="Was gilt?", answers=(("Eins", True, "Gut."), ("Zwei", False, "")), **extra):
    data = {"base_revision": revision, "text": text, "explanation": "Weil es so ist.", **extra}
    for n, (answer, correct, feedback) in enumerate(answers):
        data[f"answers-{n}-text"] = answer
        data[f"answers-{n}-feedback"] = feedback
        if correct:
            data[f"answers-{n}-correct"] = "y"
    return data


def test_the_quiz_page_lists_the_questions_and_offers_every_kind(editing, app):
    page = editing.get(URL.format(slug="quiz-kurs"))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Welche Antwort stimmt?" in html
    for kind in ("single", "multiple", "truefalse"):
        assert f"/learning/author/quiz-kurs/quiz/2?kind={kind}" in html


def test_add_a_true_false_statement_with_feedback(editing, app):
    url = URL.format(slug="quiz-kurs") + "/2?kind=truefalse"
    form = editing.get(url)
    assert form.status_code == 200 and 'type="radio"' in form.get_data(as_text=True)
    response = editing.submit(url, {"base_revision": "0", "text": "Die E-Akte ersetzt Papier.", "statement": "false",
                                    "feedback_true": "Leider nicht.", "feedback_false": "Genau.",
                                    "feedback_false_en": "Exactly.", "text_en": "The e-file replaces paper."})
    assert response.status_code == 302, response.get_data(as_text=True)
    question = spec_of(app).questions[1]
    assert question.kind == "truefalse" and question.text_en == "The e-file replaces paper."
    assert [(a.text, a.correct, a.feedback, a.feedback_en) for a in question.answers] == [
        ("Richtig", False, "Leider nicht.", None), ("Falsch", True, "Genau.", "Exactly.")]


def test_edit_a_question_with_answers_feedback_and_english(editing, app):
    url = URL.format(slug="quiz-kurs") + "/1"
    page = editing.get(url).get_data(as_text=True)
    assert "Welche Antwort stimmt?" in page
    data = choice_data(revision_of(page), answers=(("Eins", False, ""), ("Zwei", True, "Richtig so."),
                                                   ("Drei", False, "Nein.")))
    data["answers-1-text_en"] = "Two"
    data["answers-1-feedback_en"] = "Right."
    data["text_en"] = "What holds?"
    assert editing.submit(url, data).status_code == 302
    (question,) = spec_of(app).questions
    assert question.text == "Was gilt?" and question.text_en == "What holds?"
    assert [(a.text, a.correct, a.feedback, a.text_en, a.feedback_en) for a in question.answers] == [
        ("Eins", False, None, None, None), ("Zwei", True, "Richtig so.", "Two", "Right."),
        ("Drei", False, "Nein.", None, None)]


@pytest.mark.parametrize("kind, data, message", [
    ("single", choice_data(answers=(("Eins", True, ""), ("Zwei", True, ""))), "exactly one correct answer"),
    ("single", choice_data(answers=(("Eins", False, ""), ("Zwei", False, ""))), "exactly one correct answer"),
    ("multiple", choice_data(answers=(("Eins", False, ""), ("Zwei", False, ""))), "at least one correct answer"),
    ("single", choice_data(answers=(("Eins", True, ""),)), "at least two answers"),
    ("single", choice_data(text="  "), "Please enter the question."),
    ("single", choice_data(text="x" * 1001), "At most 1000 characters"),
    ("single", choice_data(answers=(("Eins", True, ""), ("", False, "Feedback ohne Antwort"), ("Drei", False, ""))),
     "enter the answer&#39;s text"),
    ("truefalse", {"base_revision": "0", "text": "Eine Aussage."}, "whether the statement is true or false"),
])
def test_a_bad_question_is_refused_on_the_form_and_nothing_is_saved(editing, app, kind, data, message):
    before = spec_of(app)
    response = editing.submit(URL.format(slug="quiz-kurs") + f"/2?kind={kind}", data)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert message in html and "Nothing has been saved." in html
    assert spec_of(app) == before


def test_move_and_remove(editing, app):
    url = URL.format(slug="quiz-kurs")
    editing.submit(url + "/2?kind=single", choice_data(text="Zweite?"))
    assert [q.text for q in spec_of(app).questions] == ["Welche Antwort stimmt?", "Zweite?"]
    response = editing.submit(url + "/2/move", {"base_revision": "1", "direction": "up"})
    assert response.status_code == 302
    assert [q.text for q in spec_of(app).questions] == ["Zweite?", "Welche Antwort stimmt?"]
    assert editing.submit(url + "/2/remove", {"base_revision": "2"}).status_code == 302
    assert [q.text for q in spec_of(app).questions] == ["Zweite?"]


def test_pool_setting_is_validated(editing, app):
    url = URL.format(slug="quiz-kurs")
    for n in range(2, 6):
        editing.submit(url + f"/{n}?kind=single", choice_data(revision=str(n - 2), text=f"Frage {n}?"))
    assert len(spec_of(app).questions) == 5
    refused = editing.submit(url, {"base_revision": "4", "draw": "6"})
    assert refused.status_code == 200 and "The quiz has only 5 questions." in refused.get_data(as_text=True)
    refused = editing.submit(url, {"base_revision": "4", "draw": "3"})  # pass mark 80: 3 of 3 needed
    assert refused.status_code == 200 and "Draw at least 5 questions" in refused.get_data(as_text=True)
    assert spec_of(app).quiz_draw is None
    assert editing.submit(url, {"base_revision": "4", "draw": "5"}).status_code == 302
    assert spec_of(app).quiz_draw == 5
    page = editing.get(url).get_data(as_text=True)
    assert 'value="5"' in page
    assert editing.submit(url, {"base_revision": "5", "draw": ""}).status_code == 302
    assert spec_of(app).quiz_draw is None


def test_a_removal_below_the_draw_is_refused(editing, app):
    url = URL.format(slug="quiz-kurs")
    for n in range(2, 6):
        editing.submit(url + f"/{n}?kind=single", choice_data(revision=str(n - 2), text=f"Frage {n}?"))
    editing.submit(url, {"base_revision": "4", "draw": "5"})
    response = editing.submit(url + "/1/remove", {"base_revision": "5"}, follow_redirects=True)
    assert "lower that number" in response.get_data(as_text=True)
    assert len(spec_of(app).questions) == 5


def test_a_second_save_of_the_quiz_is_refused_with_both_versions(editing, app):
    url = URL.format(slug="quiz-kurs") + "/1"
    assert editing.submit(url, choice_data(text="Erste Fassung?")).status_code == 302
    late = editing.submit(url, choice_data(text="Zweite Fassung?"))  # started from revision 0 as well
    assert late.status_code == 409
    html = late.get_data(as_text=True)
    assert "Erste Fassung?" in html and "Zweite Fassung?" in html and "Someone else saved" in html
    assert spec_of(app).questions[0].text == "Erste Fassung?"
    moved = editing.submit(URL.format(slug="quiz-kurs") + "/1/remove", {"base_revision": "0"})
    assert moved.status_code == 409 and len(spec_of(app).questions) == 1


def test_an_author_not_named_gets_403_and_the_project_group_may_edit(client, login, make_user, make_draft, people):
    make_draft("fremd", editors=[])
    make_user("anderer", roles={Role.AUTHOR})
    login(client, "anderer")
    assert client.get(URL.format(slug="fremd")).status_code == 403
    assert client.get(URL.format(slug="fremd") + "/1").status_code == 403
    assert client.submit(URL.format(slug="fremd") + "/1", choice_data()).status_code == 403
    assert client.submit(URL.format(slug="fremd") + "/1/remove", {"base_revision": "0"}).status_code == 403
    employee = client.application.test_client()
    login(employee, people["employee"].username)
    assert employee.get(URL.format(slug="fremd")).status_code == 403
    group = client.application.test_client()
    login(group, people["project_group"].username)
    assert group.get(URL.format(slug="fremd")).status_code == 200


def test_a_course_managed_as_files_is_read_only(client, login, app, people, make_course):
    from learning.training.authoring.models import CourseDraft as Draft

    course = make_course("dateikurs")
    with app.app_context():
        db.session.add(Draft(slug="dateikurs", course_id=course.id, revisions={}))
        db.session.commit()
    login(client, people["project_group"].username)
    page = client.get(URL.format(slug="dateikurs")).get_data(as_text=True)
    assert "managed as files" in page and "/remove" not in page and "?kind=" not in page
    question = client.get(URL.format(slug="dateikurs") + "/1").get_data(as_text=True)
    assert "disabled" in question and "Save question" not in question
    refused = client.submit(URL.format(slug="dateikurs") + "/1", choice_data(), follow_redirects=False)
    assert refused.status_code == 200 and "managed as files" in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(Draft).where(Draft.slug == "dateikurs")).document is None


def test_the_editor_pages_run_a_fixed_number_of_queries(editing, app, count_queries):
    url = URL.format(slug="quiz-kurs")
    with count_queries() as small:
        editing.get(url)
    with count_queries() as one:
        editing.get(url + "/1")
    for n in range(2, 22):
        editing.submit(url + f"/{n}?kind=truefalse", {"base_revision": str(n - 2), "text": f"Aussage {n}.",
                                                      "statement": "true"})
    assert len(spec_of(app).questions) == 21
    with count_queries() as big:
        editing.get(url)
    with count_queries() as other:
        editing.get(url + "/21")
    assert len(big) == len(small) and len(other) == len(one)


def test_the_panel_shows_the_quiz_and_links_the_editor(app, make_draft):
    from flask import render_template

    draft = make_draft("panel-kurs")
    with app.test_request_context(headers={"Accept-Language": "en"}):
        spec = draft_spec(draft)
        spec.quiz_draw = 1
        html = render_template("training/quiz_editor/_panel.html", draft=draft, spec=spec, course=None, may_edit=True)
    assert "1 question." in html and "/learning/author/panel-kurs/quiz" in html and "Edit the quiz" in html


def test_a_form_without_its_revision_saves_nothing(editing, app):
    before = spec_of(app)
    data = choice_data()
    del data["base_revision"]
    page = editing.submit(URL.format(slug="quiz-kurs") + "/1", data)
    assert page.status_code == 200 and "The form has expired" in page.get_data(as_text=True)
    response = editing.submit(URL.format(slug="quiz-kurs") + "/1/remove", {}, follow_redirects=True)
    assert "The form has expired" in response.get_data(as_text=True)
    assert spec_of(app) == before


def test_quiz_problems_for_publishing_name_the_question_and_the_pool(app):
    from learning.training.authoring.quiz_editor import quiz_problems
    from learning.training.sync import AnswerSpec, CourseSpec, QuestionSpec

    good = QuestionSpec(kind="single", text="Gut?", explanation="",
                        answers=[AnswerSpec(text="Ja", correct=True), AnswerSpec(text="Nein", correct=False)])
    bad = QuestionSpec(kind="multiple", text="Schlecht?", explanation="",
                       answers=[AnswerSpec(text="Ja", correct=False), AnswerSpec(text="Nein", correct=False)])
    spec = CourseSpec(slug="s", title="T", summary="", minutes=5, pass_mark=80, quiz_draw=2, questions=[good, bad])
    with app.test_request_context(headers={"Accept-Language": "en"}):
        problems = quiz_problems(spec)
    assert [number for number, _message in problems] == [2, None]
    assert "at least one correct answer" in problems[0][1] and "Draw at least 5 questions" in problems[1][1]
