"""Rollout phases: the half-year projects of the programme, each the hub of its change."""

from __future__ import annotations

import enum
from datetime import date

from sqlalchemy import Column, ForeignKey, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from learning.db import TimestampMixin, db
from learning.org.models import Department


class PhaseStatus(enum.StrEnum):
    PLANNED = "planned"
    ACTIVE = "active"
    DONE = "done"


phase_department = Table(
    "phase_department",
    db.Model.metadata,
    Column("phase_id", ForeignKey("rollout_phase.id", ondelete="CASCADE"), primary_key=True),
    Column("department_id", ForeignKey("department.id", ondelete="CASCADE"), primary_key=True),
)


class RolloutPhase(TimestampMixin, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str | None] = mapped_column(String(200))
    period: Mapped[str] = mapped_column(String(7))  # half-year, e.g. "2026-H1"
    status: Mapped[str] = mapped_column(String(10), default=PhaseStatus.PLANNED.value)
    go_live: Mapped[date | None]
    goals: Mapped[str] = mapped_column(Text, default="")

    departments: Mapped[list[Department]] = relationship(secondary=phase_department, order_by="Department.name")

    def __str__(self) -> str:
        return self.title
