"""Training: courses synced from files or uploaded as a zip, lessons, quizzes, assignment rules and progress."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from learning.content import Profile, Rendering
from learning.db import TimestampMixin, db, utcnow
from learning.org.models import User
from learning.pagecache import Shown
from learning.phases.models import RolloutPhase
from learning.training.lesson_html import english_lesson_html, german_lesson_html


class Localized:
    """Authored text in German with an optional English ``<field>_en`` beside it."""

    def localized(self, field: str, locale: str):
        """The English text where there is one and the reader wants English, else German."""
        if locale == "en":
            value = getattr(self, f"{field}_en", None)
            if value:
                return value
        return getattr(self, field)


class ShowAnswers(enum.StrEnum):
    """When the result page of a quiz shows the right answers (and their explanations)."""

    NEVER = "never"
    AFTER_PASSING = "after_passing"
    AFTER_LAST_ATTEMPT = "after_last_attempt"  # once no further attempt is possible: passed or none left


DEFAULT_MAX_ATTEMPTS = 3


class CourseSource(enum.StrEnum):
    """Where a course is maintained: its folder in ``courses/`` (``flask courses sync``) or a zip uploaded online.

    A sync never touches an uploaded course, and an upload never overwrites a course managed as files.
    """

    FILES = "files"
    UPLOAD = "upload"
    WEB = "web"  # written in the browser's course editor (learning/training/authoring)


class Course(Localized, TimestampMixin, db.Model):
    __page_cache__ = Shown.EVERYONE

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str | None] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text)
    summary_en: Mapped[str | None] = mapped_column(Text)
    phase_id: Mapped[int | None] = mapped_column(ForeignKey("rollout_phase.id"), index=True)
    tags: Mapped[list] = mapped_column(JSON, default=list)
    tags_en: Mapped[list] = mapped_column(JSON, default=list)
    minutes: Mapped[int]
    mandatory: Mapped[bool] = mapped_column(default=False)
    default_due: Mapped[str | None] = mapped_column(String(40))
    pass_mark: Mapped[int] = mapped_column(default=80)
    # Quiz attempts a person may start; 0: unlimited. Pause after a failed attempt, in minutes.
    max_attempts: Mapped[int] = mapped_column(default=DEFAULT_MAX_ATTEMPTS, server_default="3")
    attempt_pause_minutes: Mapped[int] = mapped_column(default=0, server_default="0")
    show_answers: Mapped[str] = mapped_column(String(20), default=ShowAnswers.AFTER_PASSING,
                                              server_default="after_passing")
    language: Mapped[str] = mapped_column(String(5), default="de")
    content_hash: Mapped[str] = mapped_column(String(64))
    archived_at: Mapped[datetime | None]
    source: Mapped[str] = mapped_column(String(10), default=CourseSource.FILES, server_default="files")
    # Questions drawn at random for each quiz attempt from the pool of all questions; None: all of them.
    quiz_draw: Mapped[int | None]

    phase: Mapped[RolloutPhase | None] = relationship()
    lessons: Mapped[list[Lesson]] = relationship(
        back_populates="course", order_by="Lesson.position", cascade="all, delete-orphan"
    )
    questions: Mapped[list[Question]] = relationship(
        back_populates="course", order_by="Question.position", cascade="all, delete-orphan"
    )
    files: Mapped[list[CourseFile]] = relationship(
        back_populates="course", order_by="CourseFile.path", cascade="all, delete-orphan"
    )

    def __str__(self) -> str:
        return self.title

    @property
    def active_lessons(self) -> list[Lesson]:
        return [lesson for lesson in self.lessons if lesson.archived_at is None]

    @property
    def has_quiz(self) -> bool:
        return bool(self.questions)

    @property
    def managed_as_files(self) -> bool:
        return self.source == CourseSource.FILES


class CourseFile(db.Model):
    """A media file of an uploaded course: its path in the course folder, its content in the media store by hash."""

    __page_cache__ = Shown.EVERYONE
    __table_args__ = (UniqueConstraint("course_id", "path"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"), index=True)
    path: Mapped[str] = mapped_column(String(300))  # as in the zip, below the course folder: "images/plan.png"
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int]

    course: Mapped[Course] = relationship(back_populates="files")


class Lesson(Localized, TimestampMixin, db.Model):
    __page_cache__ = Shown.EVERYONE

    __table_args__ = (UniqueConstraint("course_id", "slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"), index=True)
    slug: Mapped[str] = mapped_column(String(120))  # the file name without extension: stable identity
    position: Mapped[int]
    title: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str | None] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    body_en: Mapped[str | None] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text, default="", server_default="")
    body_en_html: Mapped[str] = mapped_column(Text, default="", server_default="")
    html_version: Mapped[int] = mapped_column(default=0, server_default="0")  # see learning.content
    content_hash: Mapped[str] = mapped_column(String(64))
    archived_at: Mapped[datetime | None]

    course: Mapped[Course] = relationship(back_populates="lessons")

    __rendered__ = {"body": Rendering(Profile.COURSE, custom=german_lesson_html),
                    "body_en": Rendering(Profile.COURSE, custom=english_lesson_html)}


class QuestionKind(enum.StrEnum):
    SINGLE = "single"
    MULTIPLE = "multiple"
    TRUE_FALSE = "truefalse"  # a statement; its two answers are "true" and "false"


class Question(Localized, db.Model):
    __page_cache__ = Shown.EVERYONE

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    kind: Mapped[str] = mapped_column(String(10))
    text: Mapped[str] = mapped_column(Text)
    text_en: Mapped[str | None] = mapped_column(Text)
    explanation: Mapped[str] = mapped_column(Text, default="")
    explanation_en: Mapped[str | None] = mapped_column(Text)

    course: Mapped[Course] = relationship(back_populates="questions")
    answers: Mapped[list[Answer]] = relationship(
        back_populates="question", order_by="Answer.position", cascade="all, delete-orphan"
    )


class Answer(Localized, db.Model):
    __page_cache__ = Shown.EVERYONE

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("question.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    text: Mapped[str] = mapped_column(Text)
    text_en: Mapped[str | None] = mapped_column(Text)
    correct: Mapped[bool] = mapped_column(default=False)
    # Shown with the result when this answer was chosen (and answers are shown at all).
    feedback: Mapped[str | None] = mapped_column(Text)
    feedback_en: Mapped[str | None] = mapped_column(Text)

    question: Mapped[Question] = relationship(back_populates="answers")


class AssignmentRule(TimestampMixin, db.Model):
    __page_cache__ = Shown.EVERYONE

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id"), index=True)
    audience: Mapped[str] = mapped_column(String(20))  # a learning.org.audience.AudienceKind
    # ids of departments / teams, role names, or a phase id (none: the course's phase), depending on ``audience``
    audience_values: Mapped[list] = mapped_column(JSON, default=list)
    mandatory: Mapped[bool] = mapped_column(default=True)
    due_rule: Mapped[str | None] = mapped_column(String(40))
    active: Mapped[bool] = mapped_column(default=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    course: Mapped[Course] = relationship()


class Assignment(db.Model):
    """One course for one person; at most one per person and course (the UNIQUE key)."""

    __page_cache__ = Shown.PERSON

    __table_args__ = (
        UniqueConstraint("user_id", "course_id"),
        Index("ix_assignment_course_due", "course_id", "due_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id"))
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("assignment_rule.id"), index=True)  # None: self-enrolled
    mandatory: Mapped[bool] = mapped_column(default=False)
    assigned_at: Mapped[datetime] = mapped_column(default=utcnow)
    assigned_on: Mapped[date]  # the local calendar day of assignment: the "assigned" anchor
    due_on: Mapped[date | None]
    started_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    # Set when no rule matches the person any more but they had started: kept, not withdrawn.
    unmatched_since: Mapped[datetime | None]
    # Quiz attempts allowed beyond the course's ``max_attempts`` (granted by an administrator).
    extra_attempts: Mapped[int] = mapped_column(default=0, server_default="0")

    user: Mapped[User] = relationship()
    course: Mapped[Course] = relationship()
    rule: Mapped[AssignmentRule | None] = relationship()


class LessonCompletion(db.Model):
    __page_cache__ = Shown.PERSON

    __table_args__ = (UniqueConstraint("user_id", "lesson_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lesson.id", ondelete="CASCADE"), index=True)
    completed_at: Mapped[datetime] = mapped_column(default=utcnow)


class QuizAttempt(db.Model):
    """A quiz attempt; the questions and answers given are kept as a snapshot in ``details``."""

    __page_cache__ = Shown.PERSON

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id"), index=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    submitted_at: Mapped[datetime | None]
    score: Mapped[int | None]  # percent
    passed: Mapped[bool | None]
    details: Mapped[list] = mapped_column(JSON, default=list)


class CourseCompletion(db.Model):
    """A completed course: the certificate, verifiable by its code."""

    __page_cache__ = Shown.PERSON

    __table_args__ = (UniqueConstraint("user_id", "course_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id"), index=True)
    completed_at: Mapped[datetime] = mapped_column(default=utcnow)
    verification_code: Mapped[str] = mapped_column(String(20), unique=True)

    user: Mapped[User] = relationship()
    course: Mapped[Course] = relationship()


class EarlierCompletion(db.Model):
    """A completion from before a substantive change of its course (the person had to take it again).

    Moved here from ``CourseCompletion`` (one per person and course) when a new version required the
    course again: the certificate stays verifiable by its code, ``record`` keeps the lessons done and
    the quiz attempts of that time, and the person can earn a new certificate.
    """

    __page_cache__ = Shown.PERSON

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id"), index=True)
    completed_at: Mapped[datetime]
    verification_code: Mapped[str] = mapped_column(String(20), unique=True)
    superseded_at: Mapped[datetime] = mapped_column(default=utcnow)
    superseded_by_version: Mapped[int | None]  # the course version that required it again
    record: Mapped[dict] = mapped_column(JSON, default=dict)

    user: Mapped[User] = relationship()
    course: Mapped[Course] = relationship()
