"""Scheduled jobs that features plug in, from their module ``learning/<feature>/jobs.py`` (``learning.plugins``)::

    @scheduled_job("metrics.snapshot", cron="15 2 * * *", misfire_grace_time=3600,
                   title=_l("Compute the dashboard figures"), explain=snapshot_in_words)
    def write_snapshots() -> dict[str, int]:
        ...  # runs in an app context; returns counts for the record of the run

``title`` names the job for admins; ``explain(counts) -> list of phrases`` says what a run did in
words ("128 mögliche Erinnerungen geprüft, 0 geplant"). The counts themselves stay on the admin
page as technical detail.

A job calls the same service as its CLI command; the scheduler records each run (start, end,
result, counts) and runs a job only while it leads.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from flask_babel import gettext as _
from flask_babel import ngettext


@dataclass(frozen=True)
class ScheduledJob:
    id: str
    func: Callable[[], dict | None]
    every: timedelta | Callable[[Any], timedelta] | None
    cron: str | None
    misfire_grace_time: int
    run_at_start: bool
    description: str
    title: object = ""
    explain: Callable[[dict], list[str]] | None = None

    @property
    def name(self) -> str:
        """The job's name for people (its title, else its description, else its id)."""
        return str(self.title or self.description or self.id)

    def in_words(self, counts: dict | None) -> str:
        """What a run did, as one line in the reader's language ("" if the job says nothing about it)."""
        if self.explain is None:
            return ""
        return ", ".join(self.explain(dict(counts or {})))

    def interval(self, config) -> timedelta | None:
        return self.every(config) if callable(self.every) else self.every

    def trigger(self, config, zone: ZoneInfo) -> BaseTrigger:
        if self.cron:
            return CronTrigger.from_crontab(self.cron, timezone=zone)
        return IntervalTrigger(seconds=self.interval(config).total_seconds(), timezone=zone)

    def schedule(self, config) -> str:
        """How often the job runs, in the reader's language (for the admin page and ``--list``)."""
        if self.cron:
            minute, hour, *rest = self.cron.split()
            if minute.isdigit() and hour.isdigit() and rest == ["*", "*", "*"]:
                return _("daily at %(time)s", time=f"{int(hour):02d}:{int(minute):02d}")
            return f"cron {self.cron}"
        seconds = int(self.interval(config).total_seconds())
        if seconds % 60 == 0:
            return ngettext("every minute", "every %(num)d minutes", seconds // 60)
        return ngettext("every second", "every %(num)d seconds", seconds)


_JOBS: dict[str, ScheduledJob] = {}


def scheduled_job(job_id: str, *, every: timedelta | Callable[[Any], timedelta] | None = None,
                  cron: str | None = None, misfire_grace_time: int, run_at_start: bool = False,
                  description: str = "", title: object = "", explain: Callable[[dict], list[str]] | None = None):
    """Register a job (decorator): ``every`` (a timedelta, or a function of the config) or ``cron``."""
    if (every is None) == (cron is None):
        raise ValueError(f"job {job_id}: give either every= or cron=")

    def register(func: Callable[[], dict | None]):
        _JOBS[job_id] = ScheduledJob(job_id, func, every, cron, misfire_grace_time, run_at_start,
                                     description or ((func.__doc__ or "").strip().splitlines() or [""])[0],
                                     title, explain)
        return func

    return register


def job_named(job_id: str) -> ScheduledJob | None:
    from learning.plugins import discover

    discover()
    return _JOBS.get(job_id)


def scheduled_jobs() -> list[ScheduledJob]:
    from learning.plugins import discover

    discover()
    return sorted(_JOBS.values(), key=lambda job: job.id)
