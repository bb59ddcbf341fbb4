"""The nightly retention run (what ``flask retention run`` does by hand)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from learning.scheduler.registry import scheduled_job


@scheduled_job("retention.apply", cron="40 3 * * *", misfire_grace_time=6 * 3600,
               description=_l("Deletes individual records past the retention periods set by the admins."))
def apply_retention_job() -> dict[str, int]:
    from learning.db import unit_of_work
    from learning.transparency.retention import apply_retention

    with unit_of_work():
        return apply_retention()
