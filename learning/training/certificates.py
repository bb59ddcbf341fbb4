"""Completing a course and its certificate: the verification code, who may open it, the audit of a view."""

from __future__ import annotations

import logging
import secrets

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from learning.audit.services import record
from learning.db import db, utcnow
from learning.org.models import User
from learning.roles import Role
from learning.training.models import (
    Assignment,
    Course,
    CourseCompletion,
    EarlierCompletion,
    LessonCompletion,
    QuizAttempt,
)

logger = logging.getLogger(__name__)

# No 0/O, 1/I/L: a code read aloud on the phone or typed from paper is not misread.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 10


def new_verification_code() -> str:
    """A certificate's verification code that no completion has yet (the demo data uses it too)."""
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if db.session.scalar(select(CourseCompletion.id).where(CourseCompletion.verification_code == code)) is None \
                and db.session.scalar(select(EarlierCompletion.id)
                                      .where(EarlierCompletion.verification_code == code)) is None:
            return code


def complete_if_done(user: User, course: Course,
                      assignment: Assignment | None) -> tuple[CourseCompletion | None, bool]:
    """Add the completion when all active lessons are done and the quiz (if any) is passed; no flush."""
    completion = db.session.scalar(
        select(CourseCompletion).where(CourseCompletion.user_id == user.id, CourseCompletion.course_id == course.id))
    if completion is not None:
        return completion, False  # completed stays completed, whatever changed in the course since
    active = [lesson.id for lesson in course.active_lessons]
    done = db.session.scalar(
        select(func.count(LessonCompletion.id))
        .where(LessonCompletion.user_id == user.id, LessonCompletion.lesson_id.in_(active)))
    if done < len(active):
        return None, False
    if course.has_quiz and db.session.scalar(
        select(QuizAttempt.id).where(QuizAttempt.user_id == user.id, QuizAttempt.course_id == course.id,
                                     QuizAttempt.passed.is_(True)).limit(1)
    ) is None:
        return None, False
    now = utcnow()
    completion = CourseCompletion(user_id=user.id, course_id=course.id, completed_at=now,
                                  verification_code=new_verification_code())
    db.session.add(completion)
    if assignment is not None and assignment.completed_at is None:
        assignment.completed_at = now
    logger.info("%s completed %s", user.username, course.slug)
    return completion, True


def complete_course_if_done(user: User, course: Course) -> CourseCompletion | None:
    """Complete the course for the person if everything is done; return the completion, if any."""
    assignment = db.session.scalar(
        select(Assignment).where(Assignment.user_id == user.id, Assignment.course_id == course.id))
    completion, created = complete_if_done(user, course, assignment)
    if created:
        db.session.flush()
    return completion


def normalise_code(code: str) -> str:
    return "".join(code.split()).replace("-", "").upper()


def certificate_for(code: str) -> CourseCompletion | EarlierCompletion | None:
    """The completion with this verification code, with person and course loaded.

    A certificate from before a substantive change of its course (``EarlierCompletion``) stays genuine.
    """
    code = normalise_code(code or "")
    if not code or len(code) > 20:
        return None
    return db.session.scalar(
        select(CourseCompletion).where(CourseCompletion.verification_code == code)
        .options(joinedload(CourseCompletion.user), joinedload(CourseCompletion.course))) or db.session.scalar(
        select(EarlierCompletion).where(EarlierCompletion.verification_code == code)
        .options(joinedload(EarlierCompletion.user), joinedload(EarlierCompletion.course)))


def may_view_certificate(user: User, certificate) -> bool:
    """The person themself; administrators too (each such view is audited). Any certificate row with ``user_id``:
    of a course, an earlier version of one, or of attendance at an event."""
    return certificate.user_id == user.id or user.has_role(Role.ADMIN)


def record_certificate_view(viewer: User, certificate, what: str) -> None:
    """Audit an administrator opening someone else's certificate (``what``: the course or event): individual-level
    data."""
    if viewer.id == certificate.user_id:
        return
    record(viewer, "certificate.viewed", certificate, summary=f"{certificate.user.full_name}: {what}")
    db.session.flush()
