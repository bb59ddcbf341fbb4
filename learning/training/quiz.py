"""Quizzes: starting and continuing an attempt, the attempt rules of a course, marking, the result.

Each service validates, changes and flushes; the caller's unit of work commits. The correct answers
never leave the server before an attempt is submitted.

A course with a question pool (``Course.quiz_draw``) asks each attempt a random draw of that many
questions: the draw is kept in the attempt's ``details`` (``[{"question_id": …}, …]`` while it is open,
the answered snapshot once submitted), so the quiz page, the marking and the result use exactly it.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Iterable
from datetime import datetime

from flask_babel import format_datetime
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from learning.audit.services import record
from learning.db import db, utcnow
from learning.errors import NotFound, ServiceError
from learning.org.models import User
from learning.training.certificates import complete_if_done
from learning.training.models import (
    Assignment,
    Course,
    Question,
    QuestionKind,
    QuizAttempt,
)
from learning.training.services import assignment_for, course_progress, ensure_open, may_see

logger = logging.getLogger(__name__)


class UnansweredQuestions(ServiceError):
    """Some questions have no answer; ``question_ids`` names them so the form can mark them.

    A subclass of its own because it carries data: the ids of the unanswered questions.
    """

    def __init__(self, question_ids: Iterable[int]):
        super().__init__(_("Please answer every question."))
        self.question_ids = sorted(question_ids)


def start_quiz(user: User, course: Course, now: datetime | None = None) -> QuizAttempt:
    """Begin an attempt, or continue the open one: a person has at most one open attempt per course.

    A new attempt obeys the course's rules: not after passing, not beyond ``max_attempts`` (plus
    any granted extra attempts), not before the pause after a failed attempt has ended.
    """
    ensure_open(course)
    if not course.has_quiz:
        raise ServiceError(_("This course has no quiz."))
    if not may_see(user, course):
        raise NotFound(_("This course does not exist."))
    progress = course_progress(user, course)
    if progress.open_attempt is not None:
        if attempt_questions(progress.open_attempt, course) is None:  # the quiz changed since: draw again
            progress.open_attempt.details = draw(course)
            db.session.flush()
        return progress.open_attempt
    if progress.passed:
        raise ServiceError(_("You have already passed this quiz."))
    if progress.attempts_left == 0:
        raise ServiceError(no_attempts_left_message())
    next_at = progress.next_attempt_at(now)
    if next_at is not None:
        raise ServiceError(_("You can start the next attempt from %(time)s.", time=format_datetime(next_at, "short")))
    assignment = progress.assignment or assignment_for(user, course)
    if assignment.started_at is None:
        assignment.started_at = utcnow()
    attempt = QuizAttempt(user_id=user.id, course_id=course.id, details=draw(course))
    db.session.add(attempt)
    db.session.flush()
    return attempt


def draw(course: Course) -> list[dict]:
    """The questions of a new attempt: ``quiz_draw`` of them at random (in the course's order), else all."""
    questions = list(course.questions)
    if course.quiz_draw and course.quiz_draw < len(questions):
        chosen = set(random.SystemRandom().sample(range(len(questions)), course.quiz_draw))
        questions = [q for n, q in enumerate(questions) if n in chosen]
    return [{"question_id": q.id} for q in questions]


def attempt_questions(attempt: QuizAttempt, course: Course) -> list[Question] | None:
    """The questions drawn for an open attempt, or None when the quiz was changed since the draw.

    An attempt started before draws were kept (no ids) asks every question of a course without a pool.
    """
    ids = [item["question_id"] for item in attempt.details or [] if isinstance(item, dict) and "question_id" in item]
    by_id = {q.id: q for q in course.questions}
    if not ids:
        return None if course.quiz_draw and course.quiz_draw < len(by_id) else list(course.questions)
    if any(i not in by_id for i in ids):
        return None
    return [by_id[i] for i in ids]


def no_attempts_left_message() -> str:
    return _("You have used all your attempts at this quiz. If you need another one, please contact the "
             "project group: an administrator can allow you a further attempt.")


def grant_attempts(user: User, course: Course, count: int = 1) -> Assignment:
    """Allow a person ``count`` more quiz attempts than the course's limit (enrolling them if needed)."""
    if not 1 <= count <= 100:
        raise ServiceError(_("Allow from 1 to 100 further attempts."))
    assignment = assignment_for(user, course)
    assignment.extra_attempts = (assignment.extra_attempts or 0) + count
    record(None, "quiz.attempts_allowed", course, summary=f"{user.full_name}: +{count}", user_id=user.id)
    db.session.flush()
    logger.info("%d further quiz attempt(s) of %s allowed to %s", count, course.slug, user.username)
    return assignment


def submit_quiz(user: User, attempt_id: int, answers: dict[int, list[int]]) -> QuizAttempt:
    """Score an open attempt, keep a snapshot of questions and answers, and complete the course if passed.

    ``answers`` maps question ids to the chosen answer ids. A question counts as right only when
    exactly the set of correct answers was chosen. Nothing is stored when the submission is refused.
    """
    attempt = db.session.get(QuizAttempt, attempt_id) if isinstance(attempt_id, int) else None
    if attempt is None or attempt.user_id != user.id:
        raise ServiceError(_("This quiz attempt does not exist."))
    if attempt.submitted_at is not None:
        raise ServiceError(_("This attempt has already been submitted. Start a new attempt to try again."))
    course = db.session.scalar(
        select(Course).where(Course.id == attempt.course_id)
        .options(selectinload(Course.questions).selectinload(Question.answers), selectinload(Course.lessons)))
    ensure_open(course)
    if not course.questions:
        raise ServiceError(_("This course has no quiz."))
    asked = attempt_questions(attempt, course)
    if asked is None:
        raise ServiceError(_("The quiz was changed after you started this attempt. Please open the quiz again: "
                             "your attempt continues with the current questions."))
    questions = {q.id: q for q in asked}
    chosen: dict[int, set[int]] = {}
    for question_id, answer_ids in answers.items():
        question = questions.get(question_id)
        if question is None:
            raise ServiceError(_("The answers do not belong to this quiz."))
        ids = set(answer_ids or ())
        if not ids <= {a.id for a in question.answers}:
            raise ServiceError(_("The answers do not belong to this quiz."))
        if question.kind != QuestionKind.MULTIPLE and len(ids) > 1:
            raise ServiceError(_("Please choose only one answer where one is asked for."))
        if ids:
            chosen[question_id] = ids
    missing = set(questions) - set(chosen)
    if missing:
        raise UnansweredQuestions(missing)

    details, right = [], 0
    for question in asked:
        right += chosen[question.id] == {a.id for a in question.answers if a.correct}
        details.append(answer_record(question, chosen[question.id]))
    # Whole percent, rounded down: then "score >= pass mark" and "right/total >= pass mark" agree.
    attempt.score = right * 100 // len(questions)
    attempt.passed = attempt.score >= course.pass_mark
    attempt.details = details
    attempt.submitted_at = utcnow()
    db.session.flush()
    if attempt.passed:
        assignment = db.session.scalar(
            select(Assignment).where(Assignment.user_id == user.id, Assignment.course_id == course.id))
        complete_if_done(user, course, assignment)
    db.session.flush()
    logger.info("%s submitted quiz of %s: %s%% (%s)", user.username, course.slug, attempt.score,
                "passed" if attempt.passed else "not passed")
    return attempt


def answer_record(question: Question, chosen: set[int]) -> dict:
    """What an attempt keeps of one question: its text, answers, the chosen and the correct ones (the result page)."""
    correct = {a.id for a in question.answers if a.correct}
    return {
        "question_id": question.id, "kind": question.kind, "text": question.text, "text_en": question.text_en,
        "explanation": question.explanation, "explanation_en": question.explanation_en,
        "answers": [{"id": a.id, "text": a.text, "text_en": a.text_en, "correct": a.correct, "feedback": a.feedback,
                     "feedback_en": a.feedback_en} for a in question.answers],
        "chosen": sorted(chosen), "correct": sorted(correct), "right": chosen == correct,
    }


def passed_record(questions: Iterable[Question]) -> list[dict]:
    """The details of an attempt that answered every question right (demo data, imports)."""
    return [answer_record(q, {a.id for a in q.answers if a.correct}) for q in questions]


def quiz_result(user: User, course: Course, attempt_id: int) -> QuizAttempt | None:
    """A submitted attempt of the person for this course, or None."""
    attempt = db.session.get(QuizAttempt, attempt_id)
    if attempt is None or attempt.user_id != user.id or attempt.course_id != course.id or not attempt.submitted_at:
        return None
    return attempt
