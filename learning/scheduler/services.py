"""Recording job runs, and what the admin page shows: the leader, the jobs and their runs."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import delete, func, select

from learning.db import db, unit_of_work, utcnow
from learning.pagination import paginate
from learning.scheduler.models import JobRun, SchedulerLease
from learning.scheduler.registry import ScheduledJob, scheduled_jobs

logger = logging.getLogger(__name__)

PER_PAGE = 25
MESSAGE_MAX = 2000


def run_recorded(job_id: str, func: Callable[[], dict | None], instance: str) -> JobRun:
    """Run ``func`` in a unit of work and record the run; an exception is recorded (and logged), never raised.

    Three units of work: the start of the run is committed first (the admin page shows it running),
    the job's changes commit together or roll back, and the outcome is committed in any case.
    """
    with unit_of_work():
        run = JobRun(job_id=job_id, instance=instance[:120], started_at=utcnow(), result="running", counts={})
        db.session.add(run)
        db.session.flush()
        run_id = run.id
    try:
        with unit_of_work():
            counts = func() or {}
        result, message = "ok", ""
    except Exception as exc:
        logger.exception("Job %s failed", job_id)
        counts, result, message = {}, "error", f"{type(exc).__name__}: {exc}"[:MESSAGE_MAX]
    with unit_of_work():
        run = db.session.get(JobRun, run_id)
        run.finished_at, run.result, run.counts, run.message = utcnow(), result, _plain(counts), message
    logger.info("Job %s: %s %s", job_id, result, run.counts)
    return run


def _plain(counts: dict) -> dict:
    return {str(k): (int(v) if isinstance(v, bool | int) else str(v)) for k, v in counts.items()}


@dataclass
class JobOverview:
    job: ScheduledJob
    schedule: str
    last: JobRun | None


@dataclass
class Leader:
    holder: str
    acquired_at: datetime
    renewed_at: datetime
    expires_at: datetime

    @property
    def active(self) -> bool:
        return self.expires_at > utcnow()


def current_leader() -> Leader | None:
    lease = db.session.get(SchedulerLease, "scheduler")
    if lease is None:
        return None
    return Leader(lease.holder, lease.acquired_at, lease.renewed_at, lease.expires_at)


def job_overview() -> list[JobOverview]:
    """Every registered job with its schedule and its last run (two queries)."""
    latest = select(JobRun.job_id, func.max(JobRun.id).label("id")).group_by(JobRun.job_id).subquery()
    last_runs = {run.job_id: run for run in db.session.scalars(
        select(JobRun).join(latest, latest.c.id == JobRun.id))}
    config = current_app.config
    return [JobOverview(job, job.schedule(config), last_runs.get(job.id)) for job in scheduled_jobs()]


def runs_page(*, job_id: str = "", result: str = "", page: int = 1):
    query = select(JobRun)
    if job_id:
        query = query.where(JobRun.job_id == job_id)
    if result:
        query = query.where(JobRun.result == result)
    return paginate(query.order_by(JobRun.started_at.desc(), JobRun.id.desc()), page=page, per_page=PER_PAGE)


def prune_runs(before: datetime) -> int:
    return db.session.execute(delete(JobRun).where(JobRun.started_at < before)).rowcount
