"""Onboarding journeys: versioned templates of tasks, and one journey per new hire.

A template's tasks are stored per version: editing a template writes a new version and never
touches the tasks of running journeys. Each task keeps a ``key`` across versions, which is how
applying a newer version to a running journey knows which of its tasks to update, add or remove.

A journey copies the tasks of the version it was started from. Due dates are calendar days:
``due_on = start_date + offset_days``, so no time zone or daylight-saving change can move them.
A task linked to a course has one due date with the course: when the new hire's assignment of
that course has a due date, that date is the task's (``task_due_on``), on every page, in the
reminders and the figures; the task's own ``due_on`` is used only without one.
A task is done when someone ticked it (``done_at``) or, for a task linked to a course, when the
new hire has completed that course: that is derived from ``course_completion`` when read, so a
course finished anywhere, at any time, completes the task without any bookkeeping.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, String, Text, UniqueConstraint, and_, func, select
from sqlalchemy.orm import Mapped, foreign, mapped_column, relationship

from learning.content import Profile, Rendering
from learning.db import TimestampMixin, db, utcnow
from learning.org.models import Department, User
from learning.pagecache import Shown
from learning.training.models import Assignment, Course

NAME_MAX = 120
TITLE_MAX = 150
DESCRIPTION_MAX = 5000
SUMMARY_MAX = 500
# Tasks may be planned up to three months before the first day and up to a year after it.
OFFSET_MIN = -90
OFFSET_MAX = 365
# A person whose start date is longer ago than this gets no journey when their record changes:
# importing or editing long-serving staff must not start onboarding for them.
JOURNEY_WINDOW_DAYS = 100


class OwnerRole(enum.StrEnum):
    """Who does a task: the new hire, a manager of their team, their buddy, or IT/administration."""

    NEW_HIRE = "new_hire"
    MANAGER = "manager"
    BUDDY = "buddy"
    IT = "it"

    @property
    def label(self) -> str:
        return str(OWNER_LABELS[self])


OWNER_LABELS = {
    OwnerRole.NEW_HIRE: _l("New hire"),
    OwnerRole.MANAGER: _l("Manager"),
    OwnerRole.BUDDY: _l("Buddy"),
    OwnerRole.IT: _l("IT and administration"),
}


class Stage(enum.StrEnum):
    """The sections of a journey's timeline, by the task's offset from the start date."""

    BEFORE = "before"
    FIRST_DAY = "first_day"
    FIRST_WEEK = "first_week"
    FIRST_MONTH = "first_month"
    FIRST_100_DAYS = "first_100_days"
    LATER = "later"

    @property
    def label(self) -> str:
        return str(STAGE_LABELS[self])

    @classmethod
    def of(cls, offset_days: int) -> Stage:
        if offset_days < 0:
            return cls.BEFORE
        if offset_days == 0:
            return cls.FIRST_DAY
        if offset_days < 7:
            return cls.FIRST_WEEK
        if offset_days < 30:
            return cls.FIRST_MONTH
        if offset_days < 100:
            return cls.FIRST_100_DAYS
        return cls.LATER


STAGE_LABELS = {
    Stage.BEFORE: _l("Before day one"),
    Stage.FIRST_DAY: _l("First day"),
    Stage.FIRST_WEEK: _l("First week"),
    Stage.FIRST_MONTH: _l("First month"),
    Stage.FIRST_100_DAYS: _l("First 100 days"),
    Stage.LATER: _l("Later in the first year"),
}


class JourneyTemplate(TimestampMixin, db.Model):
    """A plan of tasks for new hires: the default one (no department) or one per department."""
    __page_cache__ = Shown.EVERYONE

    __tablename__ = "journey_template"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    description: Mapped[str] = mapped_column(Text, default="")
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"), index=True)  # None: default
    # The person who does the IT/administration tasks; None: every administrator.
    it_contact_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    version: Mapped[int] = mapped_column(default=1)  # the current version
    active: Mapped[bool] = mapped_column(default=True)

    department: Mapped[Department | None] = relationship()
    it_contact: Mapped[User | None] = relationship()
    tasks: Mapped[list[JourneyTemplateTask]] = relationship(
        primaryjoin=lambda: and_(JourneyTemplate.id == foreign(JourneyTemplateTask.template_id),
                                 JourneyTemplate.version == foreign(JourneyTemplateTask.version)),
        order_by=lambda: (JourneyTemplateTask.offset_days, JourneyTemplateTask.position),
        viewonly=True,
    )
    versions: Mapped[list[JourneyTemplateVersion]] = relationship(
        back_populates="template", order_by="JourneyTemplateVersion.version.desc()", cascade="all, delete-orphan",
    )

    def __str__(self) -> str:
        return self.name

    @property
    def is_default(self) -> bool:
        return self.department_id is None


class JourneyTemplateVersion(db.Model):
    """One saved state of a template: who changed what, when."""
    __page_cache__ = Shown.EVERYONE

    __tablename__ = "journey_template_version"
    __table_args__ = (UniqueConstraint("template_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("journey_template.id", ondelete="CASCADE"))
    version: Mapped[int]
    summary: Mapped[str] = mapped_column(String(SUMMARY_MAX), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    template: Mapped[JourneyTemplate] = relationship(back_populates="versions")
    created_by: Mapped[User | None] = relationship()


class TaskContent:
    """What a template task and a journey task have in common."""

    offset_days: int
    owner_role: str

    @property
    def owner_label(self) -> str:
        return str(OWNER_LABELS.get(self.owner_role, self.owner_role))

    @property
    def stage(self) -> Stage:
        return Stage.of(self.offset_days)


class JourneyTemplateTask(TaskContent, db.Model):
    """A task of one version of a template; ``key`` names the same task across versions."""
    __page_cache__ = Shown.EVERYONE

    __tablename__ = "journey_template_task"
    __table_args__ = (UniqueConstraint("template_id", "version", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("journey_template.id", ondelete="CASCADE"), index=True)
    version: Mapped[int]
    key: Mapped[str] = mapped_column(String(32))
    position: Mapped[int] = mapped_column(default=0)
    title: Mapped[str] = mapped_column(String(TITLE_MAX))
    description: Mapped[str] = mapped_column(Text, default="")  # Markdown
    owner_role: Mapped[str] = mapped_column(String(20))
    offset_days: Mapped[int]
    course_id: Mapped[int | None] = mapped_column(ForeignKey("course.id", ondelete="SET NULL"))

    course: Mapped[Course | None] = relationship()


class JourneyStatus(enum.StrEnum):
    ON_TRACK = "on_track"
    BEHIND = "behind"
    DONE = "done"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return str(STATUS_LABELS[self])


STATUS_LABELS = {
    JourneyStatus.ON_TRACK: _l("On track"),
    JourneyStatus.BEHIND: _l("Behind"),
    JourneyStatus.DONE: _l("Done"),
    JourneyStatus.CLOSED: _l("Closed"),
}

CLOSED_DEACTIVATED = "deactivated"


class Journey(TimestampMixin, db.Model):
    """The onboarding of one new hire, planned against ``start_date``."""
    __page_cache__ = Shown.EVERYONE

    __tablename__ = "journey"

    id: Mapped[int] = mapped_column(primary_key=True)
    new_hire_id: Mapped[int] = mapped_column(ForeignKey("user.id"), unique=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("journey_template.id"), index=True)
    template_version: Mapped[int]
    start_date: Mapped[date]  # the start date the due dates are planned against
    buddy_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    it_contact_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)  # None: administrators
    closed_at: Mapped[datetime | None]
    closed_reason: Mapped[str | None] = mapped_column(String(20))

    new_hire: Mapped[User] = relationship(foreign_keys=[new_hire_id])
    buddy: Mapped[User | None] = relationship(foreign_keys=[buddy_id])
    it_contact: Mapped[User | None] = relationship(foreign_keys=[it_contact_id])
    template: Mapped[JourneyTemplate] = relationship()
    tasks: Mapped[list[JourneyTask]] = relationship(
        back_populates="journey", order_by=lambda: (JourneyTask.offset_days, JourneyTask.position, JourneyTask.id),
        cascade="all, delete-orphan", passive_deletes=True,
    )

    @property
    def is_closed(self) -> bool:
        return self.closed_at is not None


class JourneyTask(TaskContent, db.Model):
    """A task of one journey; ``template_key`` ties it to its template task."""
    __page_cache__ = Shown.EVERYONE

    __tablename__ = "journey_task"

    id: Mapped[int] = mapped_column(primary_key=True)
    journey_id: Mapped[int] = mapped_column(ForeignKey("journey.id", ondelete="CASCADE"), index=True)
    template_key: Mapped[str | None] = mapped_column(String(32))
    position: Mapped[int] = mapped_column(default=0)
    title: Mapped[str] = mapped_column(String(TITLE_MAX))
    description: Mapped[str] = mapped_column(Text, default="")  # Markdown
    description_html: Mapped[str] = mapped_column(Text, default="", server_default="")
    html_version: Mapped[int] = mapped_column(default=0, server_default="0")  # see learning.content
    owner_role: Mapped[str] = mapped_column(String(20))
    offset_days: Mapped[int]
    due_on: Mapped[date] = mapped_column(index=True)
    course_id: Mapped[int | None] = mapped_column(ForeignKey("course.id", ondelete="SET NULL"))
    done_at: Mapped[datetime | None]
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    journey: Mapped[Journey] = relationship(back_populates="tasks")
    course: Mapped[Course | None] = relationship()
    done_by: Mapped[User | None] = relationship()

    __rendered__ = {"description": Rendering(Profile.STAFF, top_heading=4)}


def assignment_due_on():
    """SQL: the due date of the new hire's assignment of the task's course (NULL without a course,
    an assignment or a due date); correlated with ``Journey`` and ``JourneyTask``."""
    return (select(Assignment.due_on)
            .where(Assignment.user_id == Journey.new_hire_id, Assignment.course_id == JourneyTask.course_id,
                   Assignment.due_on.is_not(None))
            .correlate(Journey, JourneyTask).limit(1).scalar_subquery())


def task_due_on():
    """SQL: the day a task is due: its course's due date for the new hire if there is one, else its own."""
    return func.coalesce(assignment_due_on(), JourneyTask.due_on)
