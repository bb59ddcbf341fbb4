"""Housekeeping of the scheduler itself: old records of job runs."""

from __future__ import annotations

from datetime import timedelta

from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from learning.db import utcnow
from learning.scheduler.registry import scheduled_job
from learning.scheduler.services import prune_runs

RUNS_KEPT_DAYS = 90


@scheduled_job("scheduler.prune_runs", cron="50 3 * * *", misfire_grace_time=6 * 3600,
               description=_l("Deletes records of job runs older than 90 days."),
               title=_l("Tidy up the list of runs"),
               explain=lambda counts: [ngettext("%(num)d old run record deleted", "%(num)d old run records deleted",
                                                counts.get("deleted", 0))])
def prune_old_runs() -> dict[str, int]:
    return {"deleted": prune_runs(utcnow() - timedelta(days=RUNS_KEPT_DAYS))}
