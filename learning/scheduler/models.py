"""The scheduler's lease (who leads) and the record of every job run."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from learning.db import db, utcnow
from learning.pagecache import Shown


class SchedulerLease(db.Model):
    """The leader's lease: on SQLite it is the lock itself; on PostgreSQL (advisory lock) it is informational.

    The leader renews ``expires_at`` well before it passes; a standby takes the lease over once
    it has expired, so a leader that died is replaced within the lease time.
    """

    __page_cache__ = Shown.NOWHERE

    __tablename__ = "scheduler_lease"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder: Mapped[str] = mapped_column(String(120))
    acquired_at: Mapped[datetime] = mapped_column(default=utcnow)
    renewed_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]


class JobRun(db.Model):
    """One run of a scheduled job: when, by which scheduler, with which result and counts."""

    __page_cache__ = Shown.NOWHERE

    __tablename__ = "job_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[str] = mapped_column(String(80), index=True)
    instance: Mapped[str] = mapped_column(String(120))
    started_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    finished_at: Mapped[datetime | None]
    result: Mapped[str] = mapped_column(String(10), default="running")  # running, ok, error
    counts: Mapped[dict] = mapped_column(JSON, default=dict)
    message: Mapped[str] = mapped_column(Text, default="")

    @property
    def seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()
