"""Use cases of learners: my learning, the catalogue, lessons (quizzes: ``quiz.py``; certificates: ``certificates.py``).

Each service validates, changes and flushes; the caller's unit of work commits. A refusal raises a
``ServiceError`` (``NotFound`` for a course the person may not see) whose message can be shown to
the person. Every read runs a fixed number of queries, whatever the number of courses, lessons or
assignments.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from learning.db import db, utcnow
from learning.errors import NotFound, ServiceError
from learning.i18n import local_today
from learning.org.models import User
from learning.phases.models import RolloutPhase
from learning.training.certificates import complete_if_done
from learning.training.models import (
    Assignment,
    Course,
    CourseCompletion,
    Lesson,
    LessonCompletion,
    Question,
    QuizAttempt,
    ShowAnswers,
)

logger = logging.getLogger(__name__)



class Status(enum.StrEnum):
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    OVERDUE = "overdue"
    DONE = "done"



def status_of(assignment: Assignment | None, completion: CourseCompletion | None, done_lessons: int,
              today: date, started: bool = False) -> Status | None:
    """Where a person stands with a course; None when it is neither assigned nor begun."""
    if completion is not None or (assignment is not None and assignment.completed_at is not None):
        return Status.DONE
    if assignment is None:
        return Status.IN_PROGRESS if done_lessons or started else None
    if assignment.due_on is not None and assignment.due_on < today:
        return Status.OVERDUE
    if assignment.started_at is not None or done_lessons or started:
        return Status.IN_PROGRESS
    return Status.NOT_STARTED


# Visibility -----------------------------------------------------------------------------

def may_see(user: User, course: Course) -> bool:
    """The catalogue is open to every signed-in person; a withdrawn course only to those who had it."""
    if course.archived_at is None:
        return True
    had_it = select(Assignment.id).where(Assignment.user_id == user.id, Assignment.course_id == course.id)
    finished = select(CourseCompletion.id).where(CourseCompletion.user_id == user.id,
                                                 CourseCompletion.course_id == course.id)
    return db.session.scalar(select(had_it.exists() | finished.exists())) or False


def course_for(user: User, slug: str, *, full: bool = True) -> Course:
    """The course with its lessons, if the person may see it; else ``NotFound``. ``full``: also its phase
    and its quiz (questions and answers), which a lesson page does not show. The lessons' Markdown sources
    are not read: pages show the HTML stored at publishing."""
    options = [selectinload(Course.lessons).defer(Lesson.body).defer(Lesson.body_en)]
    if full:
        options += [joinedload(Course.phase), selectinload(Course.questions).selectinload(Question.answers)]
    course = db.session.scalar(select(Course).where(Course.slug == slug).options(*options))
    if course is None or not may_see(user, course):
        raise NotFound(_("This course does not exist."))
    return course


def has_quiz(course: Course) -> bool:
    """Whether the course has a quiz, without loading its questions."""
    return db.session.scalar(select(select(Question.id).where(Question.course_id == course.id).exists())) or False


def ensure_open(course: Course) -> None:
    if course.archived_at is not None:
        raise ServiceError(_("This course has been withdrawn; it can no longer be worked on."))


# My learning and the catalogue ------------------------------------------------------------

@dataclass
class LearningItem:
    """One course on a person's list: assigned, self-enrolled or completed."""

    course: Course
    assignment: Assignment | None
    completion: CourseCompletion | None
    done_lessons: int
    total_lessons: int
    status: Status | None

    @property
    def due_on(self) -> date | None:
        return self.assignment.due_on if self.assignment else None

    @property
    def voluntary(self) -> bool:
        return self.assignment is None or self.assignment.rule_id is None

    @property
    def mandatory(self) -> bool:
        return bool(self.assignment and self.assignment.mandatory)


def _lesson_counts(user: User, course_ids: set[int]) -> tuple[dict[int, int], dict[int, int]]:
    """Active lessons per course and those the person has done, in two grouped queries."""
    totals = dict(db.session.execute(
        select(Lesson.course_id, func.count(Lesson.id))
        .where(Lesson.course_id.in_(course_ids), Lesson.archived_at.is_(None))
        .group_by(Lesson.course_id)
    ).all())
    done = dict(db.session.execute(
        select(Lesson.course_id, func.count(LessonCompletion.id))
        .join(LessonCompletion, LessonCompletion.lesson_id == Lesson.id)
        .where(LessonCompletion.user_id == user.id, Lesson.course_id.in_(course_ids), Lesson.archived_at.is_(None))
        .group_by(Lesson.course_id)
    ).all())
    return totals, done


def _completions(user: User) -> dict[int, CourseCompletion]:
    return {c.course_id: c for c in db.session.scalars(
        select(CourseCompletion).where(CourseCompletion.user_id == user.id)
        .options(joinedload(CourseCompletion.course))
    )}


def my_learning(user: User, today: date) -> list[LearningItem]:
    """The person's courses: open ones by due date (none last), then completed ones, newest first."""
    assignments = db.session.scalars(
        select(Assignment).where(Assignment.user_id == user.id)
        .options(joinedload(Assignment.course).joinedload(Course.phase))
    ).all()
    completions = _completions(user)
    course_ids = {a.course_id for a in assignments} | set(completions)
    totals, done = _lesson_counts(user, course_ids)
    items = []
    for assignment in assignments:
        completion = completions.pop(assignment.course_id, None)
        items.append(LearningItem(
            course=assignment.course, assignment=assignment, completion=completion,
            done_lessons=done.get(assignment.course_id, 0), total_lessons=totals.get(assignment.course_id, 0),
            status=status_of(assignment, completion, done.get(assignment.course_id, 0), today),
        ))
    for course_id, completion in completions.items():  # completed, but no longer assigned
        items.append(LearningItem(
            course=completion.course, assignment=None, completion=completion, done_lessons=done.get(course_id, 0),
            total_lessons=totals.get(course_id, 0), status=Status.DONE,
        ))
    open_items = sorted(
        (i for i in items if i.status != Status.DONE),
        key=lambda i: (i.due_on is None, i.due_on or date.max, not i.mandatory, i.course.title.casefold()),
    )
    finished = sorted((i for i in items if i.status == Status.DONE), key=_finished_on, reverse=True)
    return open_items + finished


def _finished_on(item: LearningItem) -> datetime:
    if item.completion is not None:
        return item.completion.completed_at
    return item.assignment.completed_at


@dataclass
class CatalogueEntry:
    course: Course
    tags: list[str]
    status: Status | None
    assignment: Assignment | None


@dataclass
class Catalogue:
    entries: list[CatalogueEntry]
    phases: list[RolloutPhase]
    tags: list[str]
    total: int


def localized_tags(course: Course, locale: str) -> list[str]:
    return list(course.tags_en or course.tags or []) if locale == "en" else list(course.tags or [])


def catalogue(user: User, today: date, *, locale: str, q: str = "", phase: str = "", tag: str = "",
              mandatory: bool | None = None) -> Catalogue:
    """Every course that is not withdrawn, filtered, with the person's status for each.

    Search and tag filters run in Python over the (small) catalogue: tags are a JSON list, and
    case-insensitive matching of umlauts then behaves the same on SQLite and PostgreSQL.
    """
    courses = db.session.scalars(
        select(Course).where(Course.archived_at.is_(None)).options(joinedload(Course.phase))
    ).all()
    assignments = {a.course_id: a for a in db.session.scalars(
        select(Assignment).where(Assignment.user_id == user.id))}
    completions = _completions(user)
    _totals, done = _lesson_counts(user, {c.id for c in courses})

    phases = sorted({c.phase.id: c.phase for c in courses if c.phase}.values(), key=lambda p: (p.period, p.title))
    all_tags = sorted({t for c in courses for t in localized_tags(c, locale)}, key=str.casefold)
    needle = q.strip().casefold()
    entries = []
    for course in sorted(courses, key=lambda c: c.localized("title", locale).casefold()):
        if phase and (course.phase is None or course.phase.slug != phase):
            continue
        if mandatory is not None and course.mandatory != mandatory:
            continue
        if tag and tag not in (course.tags or []) and tag not in (course.tags_en or []):
            continue
        if needle and not any(needle in (text or "").casefold() for text in (
                course.title, course.title_en, course.summary, course.summary_en)):
            continue
        assignment = assignments.get(course.id)
        entries.append(CatalogueEntry(
            course=course, tags=localized_tags(course, locale), assignment=assignment,
            status=status_of(assignment, completions.get(course.id), done.get(course.id, 0), today),
        ))
    return Catalogue(entries=entries, phases=phases, tags=all_tags, total=len(courses))


# One course -------------------------------------------------------------------------------

@dataclass
class CourseProgress:
    """Where a person stands in one course: lessons done, quiz attempts, completion."""

    course: Course
    assignment: Assignment | None
    completion: CourseCompletion | None
    done_lesson_ids: set[int]
    attempts: list[QuizAttempt] = field(default_factory=list)  # newest first
    status: Status | None = None

    @property
    def lessons(self) -> list[Lesson]:
        return self.course.active_lessons

    @property
    def done(self) -> int:
        return sum(1 for lesson in self.lessons if lesson.id in self.done_lesson_ids)

    @property
    def total(self) -> int:
        return len(self.lessons)

    @property
    def lessons_done(self) -> bool:
        return self.done == self.total

    @property
    def next_lesson(self) -> Lesson | None:
        return next((lesson for lesson in self.lessons if lesson.id not in self.done_lesson_ids), None)

    @property
    def open_attempt(self) -> QuizAttempt | None:
        return next((a for a in self.attempts if a.submitted_at is None), None)

    @property
    def last_result(self) -> QuizAttempt | None:
        return next((a for a in self.attempts if a.submitted_at is not None), None)

    @property
    def passed(self) -> bool:
        return any(a.passed for a in self.attempts)

    # Quiz attempt rules of the course: how many, the pause after a failed one, when answers show.

    @property
    def attempts_allowed(self) -> int | None:
        """Attempts the person may start in all (None: unlimited), with any granted extra ones."""
        if not self.course.max_attempts:  # 0: unlimited
            return None
        return self.course.max_attempts + (self.assignment.extra_attempts if self.assignment else 0)

    @property
    def attempts_used(self) -> int:
        return len(self.attempts)

    @property
    def attempts_left(self) -> int | None:
        allowed = self.attempts_allowed
        return None if allowed is None else max(allowed - self.attempts_used, 0)

    def next_attempt_at(self, now: datetime | None = None) -> datetime | None:
        """When the pause after the last failed attempt ends, if it has not ended yet."""
        last = self.last_result
        if last is None or last.passed or not self.course.attempt_pause_minutes:
            return None
        ends = last.submitted_at + timedelta(minutes=self.course.attempt_pause_minutes)
        return ends if ends > (now or utcnow()) else None

    def may_start_attempt(self, now: datetime | None = None) -> bool:
        return (self.open_attempt is None and not self.passed and self.attempts_left != 0
                and self.next_attempt_at(now) is None and self.course.archived_at is None)

    @property
    def answers_revealed(self) -> bool:
        """Whether result pages show the right answers and the explanations of wrongly answered questions."""
        mode = self.course.show_answers
        if mode == ShowAnswers.AFTER_PASSING:
            return self.passed
        if mode == ShowAnswers.AFTER_LAST_ATTEMPT:
            return self.passed or (self.attempts_left == 0 and self.open_attempt is None)
        return False


def done_lesson_ids(user: User, course: Course) -> set[int]:
    """The lessons of the course the person has marked as done (one query)."""
    return set(db.session.scalars(
        select(LessonCompletion.lesson_id).join(Lesson, Lesson.id == LessonCompletion.lesson_id)
        .where(LessonCompletion.user_id == user.id, Lesson.course_id == course.id)))


def course_progress(user: User, course: Course, today: date | None = None) -> CourseProgress:
    """The person's progress in a course (lessons of the course must be loaded or loadable)."""
    assignment = db.session.scalar(
        select(Assignment).where(Assignment.user_id == user.id, Assignment.course_id == course.id))
    completion = db.session.scalar(
        select(CourseCompletion).where(CourseCompletion.user_id == user.id, CourseCompletion.course_id == course.id))
    done_ids = done_lesson_ids(user, course)
    attempts = list(db.session.scalars(
        select(QuizAttempt).where(QuizAttempt.user_id == user.id, QuizAttempt.course_id == course.id)
        .order_by(QuizAttempt.started_at.desc(), QuizAttempt.id.desc())))
    progress = CourseProgress(course=course, assignment=assignment, completion=completion,
                              done_lesson_ids=done_ids, attempts=attempts)
    progress.status = status_of(assignment, completion, progress.done, today or local_today(), started=bool(attempts))
    return progress


def assignment_for(user: User, course: Course, today: date | None = None) -> Assignment:
    """The person's assignment for the course; working on a course not assigned enrols them."""
    assignment = db.session.scalar(
        select(Assignment).where(Assignment.user_id == user.id, Assignment.course_id == course.id))
    if assignment is None:
        assignment = Assignment(user_id=user.id, course_id=course.id, rule_id=None, mandatory=False,
                                assigned_on=today or local_today(), due_on=None)
        db.session.add(assignment)
    return assignment


def enroll(user: User, course: Course, today: date | None = None) -> Assignment:
    """Enrol voluntarily (no rule, not mandatory, no due date); an existing assignment is kept as it is.

    Enrolled at the same moment in another tab, the unit of work fails with an ``IntegrityError`` at
    its flush: the other enrolment counts.
    """
    ensure_open(course)
    if not may_see(user, course):
        raise NotFound(_("This course does not exist."))
    assignment = assignment_for(user, course, today)
    if assignment.id is None:
        db.session.flush()
        logger.info("%s enrolled in %s", user.username, course.slug)
    return assignment


def complete_lesson(user: User, lesson: Lesson) -> CourseCompletion | None:
    """Mark a lesson done (again: no change); return the certificate if this finished the course.

    The same button pressed twice at once fails the second unit of work with an ``IntegrityError``:
    the first press counted.
    """
    course = lesson.course
    ensure_open(course)
    if lesson.archived_at is not None:
        raise ServiceError(_("This lesson has been withdrawn."))
    if not may_see(user, course):
        raise NotFound(_("This course does not exist."))
    assignment = assignment_for(user, course)
    if assignment.started_at is None:
        assignment.started_at = utcnow()
    exists = db.session.scalar(
        select(LessonCompletion.id).where(LessonCompletion.user_id == user.id, LessonCompletion.lesson_id == lesson.id))
    if exists is None:
        db.session.add(LessonCompletion(user_id=user.id, lesson_id=lesson.id))
    db.session.flush()
    completion, created = complete_if_done(user, course, assignment)
    db.session.flush()
    return completion if created else None
