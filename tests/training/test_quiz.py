"""Quizzes, course completion, certificates and their public verification."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from learning.audit.models import AuditEntry
from learning.db import db, utcnow
from learning.errors import ServiceError
from learning.org.models import User
from learning.training.certificates import CODE_ALPHABET, complete_course_if_done
from learning.training.models import Assignment, Course, CourseCompletion, Lesson, LessonCompletion, QuizAttempt
from learning.training.quiz import UnansweredQuestions, start_quiz, submit_quiz
from learning.training.services import course_progress

HIDDEN_ATTEMPT = re.compile(r'name="attempt_id" value="(\d+)"')


def _answers(course, single: int = 0, multiple: tuple[int, ...] = (0, 2)) -> dict[int, list[int]]:
    """Answers by position: the defaults are the correct ones (see make_course)."""
    q1, q2 = course.questions
    return {q1.id: [q1.answers[single].id], q2.id: [q2.answers[i].id for i in multiple]}


def _start(client, course) -> int:
    """Start an attempt with the POST button and return its id from the questions page."""
    url = f"/learning/courses/{course.slug}/quiz"
    response = client.submit(f"{url}/start")
    assert response.status_code == 302 and response.headers["Location"].endswith(url)
    return int(HIDDEN_ATTEMPT.search(client.get(url).get_data(as_text=True)).group(1))


def _form_data(course, answers: dict[int, list[int]], attempt_id: int) -> dict:
    data = {"attempt_id": str(attempt_id)}
    for question_id, ids in answers.items():
        data[f"q{question_id}"] = [str(i) for i in ids]
    return data


@pytest.fixture
def learner(ctx, people):
    return db.session.get(User, people["employee"].id)


def _course(course):
    return db.session.get(Course, course.id)


# Starting and scoring -------------------------------------------------------------------

def test_one_open_attempt_at_a_time(learner, make_course):
    course = make_course()
    first = start_quiz(learner, _course(course))
    assert start_quiz(learner, _course(course)).id == first.id
    submit_quiz(learner, first.id, _answers(course, single=1))
    second = start_quiz(learner, _course(course))
    assert second.id != first.id
    assert db.session.scalar(select(func.count(QuizAttempt.id)).where(QuizAttempt.submitted_at.is_(None))) == 1


@pytest.mark.parametrize(("single", "multiple", "score", "passed"), [
    (0, (0, 2), 100, True),
    (1, (0, 2), 50, False),      # single choice wrong
    (0, (0,), 50, False),        # multiple choice: only part of the correct set
    (0, (0, 1, 2), 50, False),   # multiple choice: the correct set plus a wrong one
    (1, (1,), 0, False),
])
def test_score_counts_questions_answered_exactly_right(learner, make_course, single, multiple, score, passed):
    course = make_course()
    attempt = submit_quiz(learner, start_quiz(learner, _course(course)).id, _answers(course, single, multiple))
    assert (attempt.score, attempt.passed) == (score, passed)
    assert attempt.submitted_at is not None


def test_pass_mark_decides(learner, make_course):
    course = make_course(pass_mark=50)
    attempt = submit_quiz(learner, start_quiz(learner, _course(course)).id, _answers(course, single=1))
    assert (attempt.score, attempt.passed) == (50, True)


def test_submission_keeps_a_snapshot(learner, make_course):
    course = make_course()
    attempt = submit_quiz(learner, start_quiz(learner, _course(course)).id, _answers(course, multiple=(0,)))
    first, second = attempt.details
    assert first["text"] == "Welche Antwort stimmt?" and first["right"] is True and first["explanation"] == "Weil."
    q2 = course.questions[1]
    assert second["chosen"] == [q2.answers[0].id]
    assert second["correct"] == [q2.answers[0].id, q2.answers[2].id] and second["right"] is False
    assert [a["text"] for a in second["answers"]] == ["Eins", "Zwei", "Drei"]


def test_second_submission_is_refused(learner, make_course):
    course = make_course()
    attempt_id = start_quiz(learner, _course(course)).id
    submit_quiz(learner, attempt_id, _answers(course, single=1))
    with pytest.raises(ServiceError):
        submit_quiz(learner, attempt_id, _answers(course))
    assert db.session.get(QuizAttempt, attempt_id).score == 50


def test_answers_of_another_question_are_refused(learner, make_course):
    course = make_course()
    q1, q2 = course.questions
    attempt_id = start_quiz(learner, _course(course)).id
    with pytest.raises(ServiceError):
        submit_quiz(learner, attempt_id, {q1.id: [q2.answers[0].id], q2.id: [q2.answers[0].id]})
    with pytest.raises(ServiceError):
        submit_quiz(learner, attempt_id, {q1.id: [q1.answers[0].id, q1.answers[1].id], q2.id: [q2.answers[0].id]})
    assert db.session.get(QuizAttempt, attempt_id).submitted_at is None


def test_questions_of_another_course_are_refused(learner, make_course):
    course, other = make_course(), make_course()
    attempt_id = start_quiz(learner, _course(course)).id
    with pytest.raises(ServiceError):
        submit_quiz(learner, attempt_id, {**_answers(course), **_answers(other)})
    assert db.session.get(QuizAttempt, attempt_id).submitted_at is None


def test_unanswered_questions_are_named(learner, make_course):
    course = make_course()
    q1, q2 = course.questions
    attempt_id = start_quiz(learner, _course(course)).id
    with pytest.raises(UnansweredQuestions) as refused:
        submit_quiz(learner, attempt_id, {q1.id: [q1.answers[0].id], q2.id: []})
    assert refused.value.question_ids == [q2.id]
    assert db.session.get(QuizAttempt, attempt_id).submitted_at is None


def test_attempt_of_another_person_is_refused(learner, people, make_course):
    course = make_course()
    manager = db.session.get(User, people["manager"].id)
    attempt_id = start_quiz(manager, _course(course)).id
    with pytest.raises(ServiceError):
        submit_quiz(learner, attempt_id, _answers(course))
    with pytest.raises(ServiceError):
        submit_quiz(learner, 999_999, _answers(course))
    assert db.session.get(QuizAttempt, attempt_id).submitted_at is None


def test_quiz_of_a_withdrawn_course_is_refused(learner, make_course):
    course = make_course()
    attempt_id = start_quiz(learner, _course(course)).id
    _course(course).archived_at = utcnow()
    db.session.commit()
    with pytest.raises(ServiceError):
        start_quiz(learner, _course(course))
    with pytest.raises(ServiceError):
        submit_quiz(learner, attempt_id, _answers(course))


# Attempt rules: how many, the pause, when the right answers are shown ------------------

def _fail(learner, course):
    return submit_quiz(learner, start_quiz(learner, _course(course)).id, _answers(course, single=1))


def test_attempts_are_limited_per_course(learner, make_course):
    course = make_course(max_attempts=2)
    _fail(learner, course)
    _fail(learner, course)
    with pytest.raises(ServiceError) as refused:
        start_quiz(learner, _course(course))
    assert "contact the project group" in str(refused.value)
    assert db.session.scalar(select(func.count(QuizAttempt.id))) == 2


def test_default_is_three_attempts(learner, make_course):
    course = make_course()
    for _ in range(3):
        _fail(learner, course)
    with pytest.raises(ServiceError):
        start_quiz(learner, _course(course))


def test_unlimited_attempts(learner, make_course):
    course = make_course(max_attempts=0)
    for _ in range(5):
        _fail(learner, course)
    assert start_quiz(learner, _course(course)).submitted_at is None


def test_no_new_attempt_after_passing(learner, make_course):
    course = make_course()
    submit_quiz(learner, start_quiz(learner, _course(course)).id, _answers(course))
    with pytest.raises(ServiceError):
        start_quiz(learner, _course(course))


def test_pause_after_a_failed_attempt(learner, make_course):
    course = make_course(attempt_pause_minutes=60)
    with time_machine.travel(datetime(2026, 12, 7, 9, 0, tzinfo=UTC), tick=False) as clock:
        _fail(learner, course)
        clock.shift(timedelta(minutes=59))
        with pytest.raises(ServiceError) as refused:
            start_quiz(learner, _course(course))
        assert "next attempt from" in str(refused.value)
        assert db.session.scalar(select(func.count(QuizAttempt.id))) == 1
        clock.shift(timedelta(minutes=1))
        assert start_quiz(learner, _course(course)).submitted_at is None


def test_allowed_further_attempts(app, runner, learner, people, make_course):
    course = make_course(max_attempts=1)
    _fail(learner, course)
    with pytest.raises(ServiceError):
        start_quiz(learner, _course(course))
    result = runner.invoke(args=["courses", "allow-attempts", learner.username, course.slug])
    assert result.exit_code == 0 and "may now make 2 attempt(s)" in result.output
    db.session.expire_all()
    assert start_quiz(learner, _course(course)).submitted_at is None
    assert db.session.scalar(select(AuditEntry.action).where(AuditEntry.action == "quiz.attempts_allowed"))


@pytest.mark.parametrize(("mode", "attempts", "passes", "revealed"), [
    ("after_passing", 3, False, False),
    ("after_passing", 1, False, False),       # no attempt left, but not passed: still hidden
    ("after_passing", 3, True, True),
    ("after_last_attempt", 3, False, False),
    ("after_last_attempt", 1, False, True),   # the last attempt is used
    ("after_last_attempt", 3, True, True),
    ("never", 1, False, False),
    ("never", 3, True, False),
])
def test_when_right_answers_are_revealed(learner, make_course, mode, attempts, passes, revealed):
    course = make_course(max_attempts=attempts, show_answers=mode)
    submit_quiz(learner, start_quiz(learner, _course(course)).id, _answers(course, single=0 if passes else 1))
    assert course_progress(learner, _course(course)).answers_revealed is revealed


@pytest.mark.parametrize(("mode", "attempts", "passes", "shown"), [
    ("after_passing", 3, False, False),
    ("after_passing", 3, True, True),
    ("after_last_attempt", 1, False, True),
    ("never", 3, True, False),
])
def test_result_page_shows_right_answers_by_the_course_setting(client, people, login, make_course, mode, attempts,
                                                               passes, shown):
    course = make_course(max_attempts=attempts, show_answers=mode, pass_mark=50 if passes else 80)
    login(client, "employee")
    url = f"/learning/courses/{course.slug}/quiz"
    # Half right: passed with a pass mark of 50, not passed with 80.
    answers = _answers(course, multiple=(0,)) if passes else _answers(course, single=1)
    response = client.submit(url, _form_data(course, answers, _start(client, course)))
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    # One question is always answered wrongly: its right answer and explanation depend on the setting.
    wrong_explanation = "Darum." if passes else "Weil."
    assert ("Correct answer" in page or "Correct answers" in page) is shown
    assert (wrong_explanation in page) is shown
    assert "Not correct" in page


def test_quiz_pages_say_when_no_attempt_is_left(client, people, login, make_course):
    course = make_course(max_attempts=1)
    login(client, "employee")
    url = f"/learning/courses/{course.slug}/quiz"
    client.submit(url, _form_data(course, _answers(course, single=1), _start(client, course)))
    for page_url in (url, f"/learning/courses/{course.slug}"):
        page = client.get(page_url).get_data(as_text=True)
        assert "No attempts left" in page and "contact the project group" in page
        assert f'action="{url}/start"' not in page
    response = client.submit(f"{url}/start", follow_redirects=True)
    assert "You have used all your attempts" in response.get_data(as_text=True)


def test_rules_are_shown_before_starting(client, people, login, make_course):
    course = make_course(max_attempts=3, attempt_pause_minutes=60)
    login(client, "employee")
    for page_url in (f"/learning/courses/{course.slug}/quiz", f"/learning/courses/{course.slug}"):
        page = client.get(page_url).get_data(as_text=True)
        assert "You have 3 attempts." in page
        assert "you can try again after 1 hour" in page
        assert "the correct answers are shown once you have passed" in page


def test_pause_is_shown_with_the_time_of_the_next_attempt(client, people, login, make_course):
    course = make_course(attempt_pause_minutes=120)
    url = f"/learning/courses/{course.slug}/quiz"
    with time_machine.travel(datetime(2026, 12, 7, 9, 0, tzinfo=UTC), tick=False):
        login(client, "employee")  # signed in at the travelled time: a sign-in "from the future" is not valid
        response = client.submit(url, _form_data(course, _answers(course, single=1), _start(client, course)))
        page = client.get(response.headers["Location"]).get_data(as_text=True)
        assert "Pause before the next attempt" in page and "12:00" in page  # 11:00 UTC in Berlin
        assert "Try again" not in page
        assert "next attempt from" in client.submit(f"{url}/start", follow_redirects=True).get_data(as_text=True)


# Course completion ----------------------------------------------------------------------

def _do_lessons(learner, course):
    for lesson in course.lessons:
        db.session.add(LessonCompletion(user_id=learner.id, lesson_id=lesson.id))
    db.session.commit()


def test_lessons_and_passed_quiz_complete_the_course(learner, make_course, make_assignment, people):
    course = make_course()
    make_assignment(people["employee"], course)
    _do_lessons(learner, course)
    assert complete_course_if_done(learner, _course(course)) is None  # the quiz is still missing
    submit_quiz(learner, start_quiz(learner, _course(course)).id, _answers(course, single=1))
    assert db.session.scalar(select(func.count(CourseCompletion.id))) == 0  # failed attempt
    submit_quiz(learner, start_quiz(learner, _course(course)).id, _answers(course))
    completion = db.session.scalar(select(CourseCompletion))
    assert completion is not None and len(completion.verification_code) == 10
    assert set(completion.verification_code) <= set(CODE_ALPHABET)
    assert db.session.scalar(select(Assignment.completed_at)) is not None
    assert complete_course_if_done(learner, _course(course)).id == completion.id


def test_passed_quiz_alone_does_not_complete(learner, make_course):
    course = make_course()
    submit_quiz(learner, start_quiz(learner, _course(course)).id, _answers(course))
    assert db.session.scalar(select(func.count(CourseCompletion.id))) == 0


def test_completed_course_stays_completed_when_lessons_change(learner, make_course):
    course = make_course(quiz=False)
    _do_lessons(learner, course)
    completion = complete_course_if_done(learner, _course(course))
    db.session.add(Lesson(course_id=course.id, slug="09-neu", position=9, title="Neu", body="# Neu",
                          content_hash="x"))
    db.session.commit()
    assert complete_course_if_done(learner, _course(course)).id == completion.id


def test_last_lesson_after_passed_quiz_completes_through_the_view(app, client, people, login, make_course):
    course = make_course(lessons=1)
    login(client, "employee")
    attempt_id = _start(client, course)
    response = client.submit(f"/learning/courses/{course.slug}/quiz", _form_data(course, _answers(course), attempt_id))
    assert response.status_code == 302
    response = client.submit(f"/learning/courses/{course.slug}/lessons/{course.lessons[0].slug}/done",
                             follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "Congratulations" in page and "Show my certificate" in page
    with app.app_context():
        code = db.session.scalar(select(CourseCompletion.verification_code))
    assert f"/learning/certificates/{code}" in page


# Quiz pages -----------------------------------------------------------------------------

def _option_markup(page: str, question_id: int) -> list[str]:
    fieldset = page.split(f'id="q{question_id}"')[1].split("</fieldset>")[0]
    return re.findall(r'<div class="kern-form-check">.*?</div>', fieldset, flags=re.S)


def test_quiz_page_does_not_reveal_correct_answers(app, client, people, login, make_course):
    course = make_course()
    login(client, "employee")
    _start(client, course)
    page = client.get(f"/learning/courses/{course.slug}/quiz").get_data(as_text=True)
    form = page.split('<form method="post" action="/learning/courses/')[1].split("</form>")[0]
    assert "correct" not in form.lower() and "richtig ✓" not in form.lower() and "✓" not in form
    assert "Weil." not in page and "Darum." not in page  # explanations only after submission
    q1, q2 = course.questions
    assert 'type="radio"' in page and 'type="checkbox"' in page and "<legend" in page
    for question in (q1, q2):
        options = _option_markup(page, question.id)
        assert len(options) == len(question.answers)
        normalised = set()
        for option, answer in zip(options, question.answers, strict=True):
            option = option.replace(answer.text, "TEXT")
            normalised.add(re.sub(r'(id|for|value)="[^"]*"', r'\1=""', option))
        assert len(normalised) == 1, normalised  # right and wrong options differ only in ids, values, texts


def _rows(app) -> tuple[int, int]:
    with app.app_context():
        return (db.session.scalar(select(func.count(Assignment.id))),
                db.session.scalar(select(func.count(QuizAttempt.id))))


def test_quiz_page_get_writes_nothing(app, client, people, login, make_course):
    """Opening the quiz (or an image or link pointing at it) neither enrols nor starts an attempt."""
    course = make_course()
    login(client, "employee")
    url = f"/learning/courses/{course.slug}/quiz"
    for _ in range(2):
        response = client.get(url)
        assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Start attempt 1 of 3" in page and 'name="attempt_id"' not in page
    assert f'action="{url}/start"' in page and 'name="csrf_token"' in page
    assert _rows(app) == (0, 0)
    assert client.get(f"/learning/courses/{course.slug}").status_code == 200
    assert _rows(app) == (0, 0)


def test_starting_needs_a_post_with_csrf(app, client, people, login, make_course):
    course = make_course()
    login(client, "employee")
    url = f"/learning/courses/{course.slug}/quiz/start"
    assert client.get(url).status_code == 405
    assert client.post(url, data={}).status_code in (302, 400)
    assert _rows(app) == (0, 0)


def test_start_enrols_and_the_page_continues_the_open_attempt(app, client, people, login, make_course):
    course = make_course()
    login(client, "employee")
    first = _start(client, course)
    second = _start(client, course)
    assert first == second
    page = client.get(f"/learning/courses/{course.slug}/quiz").get_data(as_text=True)
    assert "This is attempt 1 of 3." in page
    assert _rows(app) == (1, 1)
    with app.app_context():
        assert db.session.scalar(select(Assignment.started_at)) is not None


def test_failed_quiz_shows_which_questions_were_wrong_but_not_the_right_answers(app, client, people, login,
                                                                              make_course):
    course = make_course()
    login(client, "employee")
    url = f"/learning/courses/{course.slug}/quiz"
    attempt_id = _start(client, course)
    response = client.submit(url, _form_data(course, _answers(course, single=1), attempt_id))
    assert response.status_code == 302 and f"attempt={attempt_id}" in response.headers["Location"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "50%" in page and "Not passed yet" in page and "Try again" in page
    assert "Not correct" in page and "Falsch" in page  # the wrong question and the answer given
    assert "Darum." in page  # the explanation of the question answered correctly
    assert "Weil." not in page and "Correct answer" not in page and "Richtig" not in page
    assert "shown once you have passed" in page


def test_passed_quiz_shows_result_without_try_again(app, client, people, login, make_course):
    course = make_course()
    login(client, "employee")
    url = f"/learning/courses/{course.slug}/quiz"
    attempt_id = _start(client, course)
    page = client.submit(url, _form_data(course, _answers(course), attempt_id), follow_redirects=True)
    text = page.get_data(as_text=True)
    assert "100%" in text and "passed the quiz" in text and "Try again" not in text
    course_page = client.get(f"/learning/courses/{course.slug}").get_data(as_text=True)
    assert "Passed" in course_page and "Show my last result" in course_page


def test_unanswered_question_keeps_input_and_stores_nothing(app, client, people, login, make_course):
    course = make_course()
    q1, q2 = course.questions
    login(client, "employee")
    url = f"/learning/courses/{course.slug}/quiz"
    attempt_id = _start(client, course)
    response = client.submit(url, {"attempt_id": attempt_id, f"q{q1.id}": str(q1.answers[1].id)})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Please check your entries" in page and "Please choose an answer." in page
    assert f'href="#q{q2.id}"' in page and 'aria-invalid' not in page.split(f'id="q{q1.id}"')[1].split("</fieldset>")[0]
    chosen = re.search(rf'<input[^>]*value="{q1.answers[1].id}"[^>]*>', page).group(0)
    assert "checked" in chosen
    assert HIDDEN_ATTEMPT.search(page).group(1) == str(attempt_id)
    with app.app_context():
        assert db.session.get(QuizAttempt, attempt_id).submitted_at is None


def test_answer_of_another_question_is_a_form_error_not_a_500(app, client, people, login, make_course):
    course = make_course()
    q1, q2 = course.questions
    login(client, "employee")
    url = f"/learning/courses/{course.slug}/quiz"
    attempt_id = _start(client, course)
    data = _form_data(course, {q1.id: [q2.answers[0].id], q2.id: [q1.answers[0].id]}, attempt_id)
    for payload in (data, {**data, f"q{q1.id}": "not-a-number"}):
        response = client.submit(url, payload)
        assert response.status_code == 200 and "Please check your entries" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(QuizAttempt, attempt_id).submitted_at is None


def test_second_submission_through_the_form_is_refused(app, client, people, login, make_course):
    course = make_course()
    login(client, "employee")
    url = f"/learning/courses/{course.slug}/quiz"
    attempt_id = _start(client, course)
    client.submit(url, _form_data(course, _answers(course, single=1), attempt_id))
    response = client.submit(url, _form_data(course, _answers(course), attempt_id), follow_redirects=True)
    assert "already been submitted" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(QuizAttempt, attempt_id).score == 50


def test_attempt_of_another_person_is_refused_in_the_view(app, client, people, login, make_course):
    course = make_course()
    other = app.test_client()
    login(other, "manager")
    url = f"/learning/courses/{course.slug}/quiz"
    attempt_id = _start(other, course)
    login(client, "employee")
    response = client.submit(url, _form_data(course, _answers(course), attempt_id), follow_redirects=True)
    assert response.status_code == 200 and "does not exist" in response.get_data(as_text=True)
    assert client.get(f"{url}?attempt={attempt_id}").status_code == 404
    with app.app_context():
        assert db.session.get(QuizAttempt, attempt_id).submitted_at is None


def test_post_without_attempt_starts_over(client, people, login, make_course):
    course = make_course()
    login(client, "employee")
    response = client.submit(f"/learning/courses/{course.slug}/quiz")
    assert response.status_code == 302 and response.headers["Location"].endswith("/quiz")


def test_course_without_quiz_has_no_quiz_page(client, people, login, make_course):
    course = make_course(quiz=False)
    login(client, "employee")
    assert client.get(f"/learning/courses/{course.slug}/quiz").status_code == 404


# Certificates -----------------------------------------------------------------------------

@pytest.fixture
def certificate(app, people, make_course):
    course = make_course(title="E-Akte: die Grundlagen", title_en="Electronic files: the basics")
    with app.app_context():
        completion = CourseCompletion(user_id=people["employee"].id, course_id=course.id,
                                      verification_code="K7M2QX9PRT")
        db.session.add(completion)
        db.session.commit()
    return "K7M2QX9PRT"


def test_owner_sees_a_printable_certificate(client, people, login, certificate):
    login(client, "employee")
    page = client.get(f"/learning/certificates/{certificate}").get_data(as_text=True)
    assert people["employee"].full_name in page and "Electronic files: the basics" in page
    assert certificate in page and f"http://localhost/learning/verify/{certificate}" in page


def test_admin_sees_any_certificate_and_it_is_audited(app, client, people, login, certificate):
    login(client, "admin")
    assert client.get(f"/learning/certificates/{certificate}").status_code == 200
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "certificate.viewed"))
        assert entry is not None and entry.actor_id == people["admin"].id


@pytest.mark.parametrize("username", ["manager", "projectgroup"])
def test_others_may_not_see_a_certificate(client, people, login, certificate, username):
    login(client, username)
    assert client.get(f"/learning/certificates/{certificate}").status_code == 403


def test_unknown_certificate_is_404(client, people, login):
    login(client, "employee")
    assert client.get("/learning/certificates/NOPE").status_code == 404


def test_public_verification_shows_only_name_course_and_date(client, people, certificate):
    response = client.get(f"/learning/verify/{certificate.lower()}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "This certificate is genuine." in page
    assert people["employee"].full_name in page and "Electronic files: the basics" in page
    assert people["employee"].email not in page and people["employee"].username not in page.split("<main")[1]
    assert "Bürgerbüro" not in page


def test_public_verification_of_an_unknown_code(client):
    response = client.get("/learning/verify/<script>x")
    page = response.get_data(as_text=True)
    assert response.status_code == 404 and "Certificate not found" in page and "<script>x" not in page


# After the last lesson and after passing: what comes next ------------------------------------

def test_result_page_of_a_passed_quiz_links_to_the_certificate(app, client, people, login, make_course):
    course = make_course(lessons=1)
    login(client, "employee")
    client.submit(f"/learning/courses/{course.slug}/lessons/{course.lessons[0].slug}/done")
    response = client.submit(f"/learning/courses/{course.slug}/quiz",
                             _form_data(course, _answers(course), _start(client, course)))
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    with app.app_context():
        code = db.session.scalar(select(CourseCompletion.verification_code))
    assert "Show my certificate" in page and f'href="/learning/certificates/{code}"' in page


def test_result_page_of_a_pass_without_the_lessons_says_what_is_missing(client, people, login, make_course):
    course = make_course(lessons=2)
    login(client, "employee")
    response = client.submit(f"/learning/courses/{course.slug}/quiz",
                             _form_data(course, _answers(course), _start(client, course)))
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Show my certificate" not in page and "Still missing for your certificate: 2 lessons." in page


def test_the_last_lesson_says_that_the_quiz_is_still_missing(client, people, login, make_course):
    course = make_course(lessons=2)
    login(client, "employee")
    first, last = course.lessons
    page = client.submit(f"/learning/courses/{course.slug}/lessons/{first.slug}/done",
                         follow_redirects=True).get_data(as_text=True)
    assert "is marked as done." in page and "All done" in page
    page = client.submit(f"/learning/courses/{course.slug}/lessons/{last.slug}/done",
                         follow_redirects=True).get_data(as_text=True)
    assert "Still missing: the quiz." in page and "Still to do" in page and "is marked as done" not in page


def test_the_certificate_names_the_organisation_and_offers_printing(app, client, people, login, make_course):
    from learning.settings.models import PlatformSetting

    with app.app_context():
        db.session.add(PlatformSetting(key="organisation.name", value="Gemeinde Musterhausen"))
        db.session.commit()
    course = make_course(lessons=1)
    login(client, "employee")
    client.submit(f"/learning/courses/{course.slug}/quiz", _form_data(course, _answers(course), _start(client, course)))
    page = client.submit(f"/learning/courses/{course.slug}/lessons/{course.lessons[0].slug}/done",
                         follow_redirects=True).get_data(as_text=True)
    link = re.search(r'href="(/learning/certificates/[^"]+)"', page).group(1)
    certificate = client.get(link).get_data(as_text=True)
    assert "Gemeinde Musterhausen" in certificate
    assert "data-print hidden" in certificate and "js/print.js" in certificate
    assert "use the print function of your browser" in certificate  # without JavaScript
