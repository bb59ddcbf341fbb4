"""Taking a quiz with a question pool, true/false statements and feedback per answer."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from learning.db import db, unit_of_work
from learning.errors import ServiceError
from learning.org.models import User
from learning.training.models import Answer, Course, Question, QuizAttempt
from learning.training.quiz import UnansweredQuestions, attempt_questions, start_quiz, submit_quiz

HIDDEN_ATTEMPT = re.compile(r'name="attempt_id" value="(\d+)"')


@pytest.fixture
def pool_course(app):
    """Six questions, drawn three per attempt, pass mark 60: four single choice, a true/false, a multiple.

    Every answer has feedback; the true/false statement is false ("Falsch" is right).
    """

    def factory(slug: str = "pool", draw: int | None = 3, show_answers: str = "after_passing") -> int:
        with app.app_context():
            course = Course(slug=slug, title="Pool", summary="S.", minutes=10, pass_mark=60, quiz_draw=draw,
                            content_hash="x", show_answers=show_answers)
            questions = []
            for n in range(1, 5):
                question = Question(position=n, kind="single", text=f"Frage {n}?", explanation=f"Erklärung {n}.")
                question.answers = [Answer(position=1, text=f"Ja {n}", correct=True, feedback=f"Gut {n}."),
                                    Answer(position=2, text=f"Nein {n}", feedback=f"Leider nein {n}.",
                                           feedback_en=f"Sorry, no {n}.")]
                questions.append(question)
            statement = Question(position=5, kind="truefalse", text="Die Erde ist eine Scheibe.", explanation="Rund.")
            statement.answers = [Answer(position=1, text="Richtig", text_en="True", feedback="Nein, sie ist rund."),
                                 Answer(position=2, text="Falsch", text_en="False", correct=True,
                                        feedback="Stimmt, sie ist rund.")]
            multiple = Question(position=6, kind="multiple", text="Welche?", explanation="Darum.")
            multiple.answers = [Answer(position=1, text="A", correct=True), Answer(position=2, text="B"),
                                Answer(position=3, text="C", correct=True)]
            course.questions = [*questions, statement, multiple]
            db.session.add(course)
            db.session.commit()
            return course.id

    return factory


@pytest.fixture
def learner(ctx, people):
    return db.session.get(User, people["employee"].id)


@pytest.fixture
def pool(ctx, pool_course):
    """The pool course in the test's session."""
    return lambda **kwargs: db.session.get(Course, pool_course(**kwargs))


def right_answers(questions) -> dict[int, list[int]]:
    return {q.id: [a.id for a in q.answers if a.correct] for q in questions}


def wrong_answers(questions) -> dict[int, list[int]]:
    return {q.id: [next(a.id for a in q.answers if not a.correct)] for q in questions}


def test_each_attempt_draws_n_distinct_questions_of_the_pool(learner, pool):
    course = pool()
    seen = set()
    for _ in range(12):
        attempt = start_quiz(learner, course)
        ids = [item["question_id"] for item in attempt.details]
        assert len(ids) == 3 == len(set(ids)) and set(ids) <= {q.id for q in course.questions}
        assert ids == sorted(ids, key=[q.id for q in course.questions].index)  # in the course's order
        seen.update(ids)
        db.session.delete(attempt)
        db.session.flush()
    assert len(seen) > 3  # twelve draws of 3 from 6 do not all hit the same three (chance 1 : 20^11)


def test_the_open_attempt_keeps_its_draw(learner, pool):
    course = pool()
    first = start_quiz(learner, course)
    assert start_quiz(learner, course).details == first.details
    assert [q.id for q in attempt_questions(first, course)] == [d["question_id"] for d in first.details]


def test_without_a_pool_every_question_is_asked(learner, pool):
    course = pool(draw=None)
    assert len(start_quiz(learner, course).details) == 6


def test_grading_is_over_the_drawn_questions_only(learner, pool):
    course = pool()
    attempt = start_quiz(learner, course)
    drawn = attempt_questions(attempt, course)
    answers = right_answers(drawn[:2]) | wrong_answers(drawn[2:])
    submitted = submit_quiz(learner, attempt.id, answers)
    assert submitted.score == 66 and submitted.passed  # 2 of 3, not 2 of 6
    assert [item["question_id"] for item in submitted.details] == [q.id for q in drawn]


def test_unanswered_means_unanswered_drawn_questions(learner, pool):
    course = pool()
    attempt = start_quiz(learner, course)
    drawn = attempt_questions(attempt, course)
    with pytest.raises(UnansweredQuestions) as refused:
        submit_quiz(learner, attempt.id, right_answers(drawn[:2]))
    assert refused.value.question_ids == [drawn[2].id]


def test_an_answer_to_a_question_not_drawn_is_refused(learner, pool):
    course = pool()
    attempt = start_quiz(learner, course)
    drawn = attempt_questions(attempt, course)
    other = next(q for q in course.questions if q not in drawn)
    with pytest.raises(ServiceError, match="do not belong to this quiz"):
        submit_quiz(learner, attempt.id, right_answers([*drawn, other]))
    assert db.session.get(QuizAttempt, attempt.id).submitted_at is None


def test_answer_ids_of_another_question_or_attempt_are_refused(learner, people, pool):
    course = pool()
    other_person = db.session.get(User, people["manager"].id)
    theirs = start_quiz(other_person, course)
    attempt = start_quiz(learner, course)
    drawn = attempt_questions(attempt, course)
    foreign = next(q for q in course.questions if q not in drawn)
    answers = right_answers(drawn)
    answers[drawn[0].id] = [foreign.answers[0].id]
    with pytest.raises(ServiceError, match="do not belong to this quiz"):
        submit_quiz(learner, attempt.id, answers)
    with pytest.raises(ServiceError, match="does not exist"):
        submit_quiz(learner, theirs.id, right_answers(attempt_questions(theirs, course)))
    assert db.session.get(QuizAttempt, theirs.id).submitted_at is None


@pytest.mark.parametrize("chosen, right", [(1, True), (0, False)])
def test_true_false_is_marked_by_the_chosen_side(learner, pool, chosen, right):
    course = pool(draw=None)
    attempt = start_quiz(learner, course)
    statement = course.questions[4]
    answers = right_answers(course.questions)
    answers[statement.id] = [statement.answers[chosen].id]
    submitted = submit_quiz(learner, attempt.id, answers)
    assert submitted.details[4]["right"] is right
    with pytest.raises(ServiceError):  # both sides at once is no answer to a statement
        submit_quiz(learner, start_quiz(learner, course).id if not right else attempt.id,
                    {**answers, statement.id: [a.id for a in statement.answers]})


def test_a_changed_quiz_asks_for_a_new_draw_and_start_draws_again(learner, pool):
    course = pool()
    attempt = start_quiz(learner, course)
    attempt.details = [{"question_id": 999999}]
    db.session.flush()
    assert attempt_questions(attempt, course) is None
    with pytest.raises(ServiceError, match="changed after you started"):
        submit_quiz(learner, attempt.id, {})
    again = start_quiz(learner, course)
    assert again.id == attempt.id and attempt_questions(again, course) is not None


# The pages --------------------------------------------------------------------------------------------

def _start(client, slug: str = "pool") -> tuple[int, str]:
    url = f"/learning/courses/{slug}/quiz"
    assert client.submit(f"{url}/start").status_code == 302
    page = client.get(url).get_data(as_text=True)
    return int(HIDDEN_ATTEMPT.search(page).group(1)), page


def _drawn(app, attempt_id: int) -> list[Question]:
    with app.app_context():
        attempt = db.session.get(QuizAttempt, attempt_id)
        course = db.session.get(Course, attempt.course_id)
        questions = attempt_questions(attempt, course)
        for question in questions:
            _ = list(question.answers)
        db.session.expunge_all()
        return questions


def test_the_page_shows_only_the_drawn_questions_and_no_correct_flags(app, client, people, login, pool_course):
    pool_course(draw=None)
    login(client, "employee")
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "de"
    attempt_id, page = _start(client)
    drawn = _drawn(app, attempt_id)
    assert page.count('class="kern-fieldset quiz-question') == 6
    assert "correct" not in page.replace("csrf", "").lower().split("<main", 1)[1]
    # The statement: a fieldset with its legend and the two radio buttons "Richtig" and "Falsch".
    statement = drawn[4]
    fieldset = page[page.index(f'id="q{statement.id}"'):]
    fieldset = fieldset[:fieldset.index("</fieldset>")]
    assert "<legend" in fieldset and "Die Erde ist eine Scheibe." in fieldset
    assert fieldset.count('type="radio"') == 2
    assert re.search(r">\s*Richtig\s*</label>", fieldset) and re.search(r">\s*Falsch\s*</label>", fieldset)
    assert "Gut 1." not in page and "Leider" not in page  # no feedback before submission


def test_a_pool_page_asks_n_questions(app, client, people, login, pool_course):
    pool_course()
    login(client, "employee")
    start = client.get("/learning/courses/pool/quiz").get_data(as_text=True)
    assert "3 questions." in start and "Each attempt asks 3 questions drawn at random from 6." in start
    attempt_id, page = _start(client)
    assert page.count('class="kern-fieldset quiz-question') == 3
    drawn_ids = {q.id for q in _drawn(app, attempt_id)}
    assert set(map(int, re.findall(r'id="q(\d+)"', page))) == drawn_ids


def test_posting_a_question_not_drawn_does_not_count(app, client, people, login, pool_course):
    pool_course()
    login(client, "employee")
    attempt_id, _page = _start(client)
    drawn = _drawn(app, attempt_id)
    with app.app_context():
        course = db.session.scalar(select(Course).where(Course.slug == "pool"))
        other = next(q for q in course.questions if q.id not in {d.id for d in drawn})
        other_right = [str(a.id) for a in other.answers if a.correct]
    data = {"attempt_id": str(attempt_id), **{f"q{q.id}": [str(a.id) for a in q.answers if not a.correct][:1]
                                              for q in drawn}}
    data[f"q{other.id}"] = other_right
    response = client.submit("/learning/courses/pool/quiz", data)
    assert response.status_code == 302
    with app.app_context():
        attempt = db.session.get(QuizAttempt, attempt_id)
        assert attempt.score == 0 and [d["question_id"] for d in attempt.details] == [q.id for q in drawn]


def _submit(client, app, attempt_id: int, right: bool) -> str:
    drawn = _drawn(app, attempt_id)
    data = {"attempt_id": str(attempt_id)}
    for q in drawn:
        data[f"q{q.id}"] = [str(a.id) for a in q.answers if a.correct is right][:1 if right is False else None]
    response = client.submit("/learning/courses/pool/quiz", data)
    assert response.status_code == 302, response.get_data(as_text=True)
    return client.get(response.headers["Location"]).get_data(as_text=True)


@pytest.mark.parametrize("locale", ["de", "en"])
def test_feedback_of_chosen_answers_is_shown_once_answers_are_shown(app, client, people, login, pool_course, locale):
    pool_course(draw=None)
    login(client, "employee")
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = locale
    attempt_id, _page = _start(client)
    failed = _submit(client, app, attempt_id, right=False)
    # after_passing: a failed attempt reveals nothing, so neither the feedback of the wrong answers.
    assert "Leider nein 1." not in failed and "Sorry, no 1." not in failed and "Nein, sie ist rund." not in failed
    with app.app_context():
        db.session.execute(QuizAttempt.__table__.delete())
        db.session.commit()
    attempt_id, _page = _start(client)
    passed = _submit(client, app, attempt_id, right=True)
    assert "Gut 1." in passed and "Stimmt, sie ist rund." in passed
    assert ("Über Ihre Antwort „Falsch“" if locale == "de" else "About your answer “False”") in passed
    assert "Leider nein 1." not in passed and "Sorry, no 1." not in passed  # only of the chosen answers


def test_feedback_of_wrong_answers_is_shown_when_answers_are_revealed(app, client, people, login, pool_course):
    pool_course(draw=None, show_answers="after_last_attempt")
    with app.app_context():
        course = db.session.scalar(select(Course).where(Course.slug == "pool"))
        course.max_attempts = 1
        db.session.commit()
    login(client, "employee")
    attempt_id, _page = _start(client)
    page = _submit(client, app, attempt_id, right=False)
    assert "Sorry, no 1." in page and "Nein, sie ist rund." in page and "Gut 1." not in page


def test_never_shows_no_feedback_of_wrong_answers(app, client, people, login, pool_course):
    pool_course(draw=None, show_answers="never")
    login(client, "employee")
    attempt_id, _page = _start(client)
    page = _submit(client, app, attempt_id, right=False)
    assert "Sorry, no" not in page and "Nein, sie ist rund." not in page
    assert "Your answers" in page


def test_the_quiz_pages_run_a_fixed_number_of_queries(app, client, people, login, pool_course, count_queries):
    pool_course()
    login(client, "employee")
    attempt_id, _page = _start(client)
    with count_queries() as small:
        assert client.get("/learning/courses/pool/quiz").status_code == 200
    with app.app_context(), unit_of_work():
        course = db.session.scalar(select(Course).where(Course.slug == "pool"))
        for n in range(7, 27):
            question = Question(position=n, kind="truefalse", text=f"Aussage {n}.", explanation="")
            question.answers = [Answer(position=1, text="Richtig", correct=True), Answer(position=2, text="Falsch")]
            course.questions.append(question)
        course.quiz_draw = 20
    with app.app_context():  # a new draw over the bigger pool
        db.session.execute(QuizAttempt.__table__.delete())
        db.session.commit()
    attempt_id, _page = _start(client)
    with count_queries() as big:
        page = client.get("/learning/courses/pool/quiz")
    assert page.get_data(as_text=True).count('class="kern-fieldset quiz-question') == 20
    assert len(big) == len(small)
    _submit(client, app, attempt_id, right=True)
    with count_queries() as result:
        assert client.get(f"/learning/courses/pool/quiz?attempt={attempt_id}").status_code == 200
    assert len(result) <= len(small) + 2


def test_a_changed_quiz_offers_to_continue_with_a_new_draw(app, client, people, login, pool_course):
    pool_course()
    login(client, "employee")
    attempt_id, _page = _start(client)
    with app.app_context():
        attempt = db.session.get(QuizAttempt, attempt_id)
        attempt.details = [{"question_id": 999999}]  # as if the quiz had been rebuilt since the draw
        db.session.commit()
    page = client.get("/learning/courses/pool/quiz").get_data(as_text=True)
    assert "The quiz was changed after you started your attempt." in page
    assert 'action="/learning/courses/pool/quiz/start"' in page
    refused = client.submit("/learning/courses/pool/quiz", {"attempt_id": str(attempt_id)})
    assert refused.status_code == 302
    again_id, again = _start(client)
    assert again_id == attempt_id and again.count('class="kern-fieldset quiz-question') == 3
