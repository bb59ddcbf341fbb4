"""Rollout phases: the half-year projects of the programme, each the hub of its change."""

from __future__ import annotations

import enum
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import Column, ForeignKey, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from learning.content import Profile, Rendering
from learning.db import TimestampMixin, db
from learning.org.models import Department, User
from learning.pagecache import Shown


class PhaseStatus(enum.StrEnum):
    PLANNED = "planned"
    ACTIVE = "active"
    DONE = "done"

    @property
    def label(self) -> str:
        return str(STATUS_LABELS[self])

    @property
    def badge(self) -> str:
        """The KERN badge kind that shows the status."""
        return {PhaseStatus.PLANNED: "info", PhaseStatus.ACTIVE: "warning", PhaseStatus.DONE: "success"}[self]


STATUS_LABELS = {
    PhaseStatus.PLANNED: _l("Planned"),
    PhaseStatus.ACTIVE: _l("In progress"),
    PhaseStatus.DONE: _l("Completed"),
}


phase_department = Table(
    "phase_department",
    db.Model.metadata,
    Column("phase_id", ForeignKey("rollout_phase.id", ondelete="CASCADE"), primary_key=True),
    Column("department_id", ForeignKey("department.id", ondelete="CASCADE"), primary_key=True),
    info={"page_cache": Shown.EVERYONE},
)

# The people to ask about a phase (named with email on the phase page).
phase_contact = Table(
    "phase_contact",
    db.Model.metadata,
    Column("phase_id", ForeignKey("rollout_phase.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
    info={"page_cache": Shown.EVERYONE},
)


class RolloutPhase(TimestampMixin, db.Model):
    __page_cache__ = Shown.EVERYONE

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str | None] = mapped_column(String(200))
    period: Mapped[str] = mapped_column(String(7))  # half-year, e.g. "2026-H1"
    status: Mapped[str] = mapped_column(String(10), default=PhaseStatus.PLANNED.value)
    go_live: Mapped[date | None]
    goals: Mapped[str] = mapped_column(Text, default="")
    # Markdown: what changes for whom (per department, role or task).
    changes: Mapped[str] = mapped_column(Text, default="", server_default="")
    goals_html: Mapped[str] = mapped_column(Text, default="", server_default="")
    changes_html: Mapped[str] = mapped_column(Text, default="", server_default="")
    html_version: Mapped[int] = mapped_column(default=0, server_default="0")  # see learning.content

    departments: Mapped[list[Department]] = relationship(secondary=phase_department, order_by="Department.name")
    contacts: Mapped[list[User]] = relationship(
        secondary=phase_contact, order_by=lambda: [User.last_name, User.first_name]
    )
    faq: Mapped[list[PhaseFaq]] = relationship(
        back_populates="phase", order_by=lambda: [PhaseFaq.position, PhaseFaq.id], cascade="all, delete-orphan"
    )

    __rendered__ = {"goals": Rendering(Profile.EDITORIAL, top_heading=3),
                    "changes": Rendering(Profile.EDITORIAL, top_heading=3)}

    def __str__(self) -> str:
        return self.title

    def localized_title(self, locale: str) -> str:
        """The English title where there is one and the reader wants English, else the German one."""
        return self.title_en if locale == "en" and self.title_en else self.title

    @property
    def status_enum(self) -> PhaseStatus:
        return PhaseStatus(self.status)

    def affects(self, department_id: int | None) -> bool:
        return department_id is not None and any(d.id == department_id for d in self.departments)


class PhaseFaq(TimestampMixin, db.Model):
    """One question and its answer (Markdown) in a phase's FAQ, shown in ``position`` order."""

    __page_cache__ = Shown.EVERYONE

    id: Mapped[int] = mapped_column(primary_key=True)
    phase_id: Mapped[int] = mapped_column(ForeignKey("rollout_phase.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    question: Mapped[str] = mapped_column(String(300))
    answer: Mapped[str] = mapped_column(Text, default="")
    answer_html: Mapped[str] = mapped_column(Text, default="", server_default="")
    html_version: Mapped[int] = mapped_column(default=0, server_default="0")  # see learning.content

    phase: Mapped[RolloutPhase] = relationship(back_populates="faq")

    __rendered__ = {"answer": Rendering(Profile.EDITORIAL, top_heading=3)}
