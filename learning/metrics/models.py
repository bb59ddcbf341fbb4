"""Daily snapshots of the acceptance metrics, per phase and unit, with the n behind each value."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from learning.db import db, utcnow
from learning.pagecache import Shown

ALL_PHASES = 0  # phase_key of figures over the whole programme
ORGANISATION = ("org", 0)  # unit_kind, unit_id of the whole organisation


class MetricSnapshot(db.Model):
    """One value of one metric on one day for one phase (or all) and one unit.

    ``phase_key`` and ``unit_id`` use 0 instead of NULL so that the UNIQUE key makes a day's
    snapshot idempotent on SQLite and PostgreSQL alike (NULLs never collide in a UNIQUE key).
    """

    __page_cache__ = Shown.EVERYONE

    __table_args__ = (
        UniqueConstraint("day", "metric", "phase_key", "unit_kind", "unit_id"),
        Index("ix_metric_snapshot_series", "metric", "phase_key", "unit_kind", "unit_id", "day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(index=True)
    metric: Mapped[str] = mapped_column(String(60))
    phase_key: Mapped[int] = mapped_column(default=ALL_PHASES)
    unit_kind: Mapped[str] = mapped_column(String(10))  # org, department, team
    unit_id: Mapped[int] = mapped_column(default=0)
    value: Mapped[float | None]  # None: not computable (e.g. nothing to count)
    n: Mapped[int] = mapped_column(default=0)  # how many people, items or answers the value rests on
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)
