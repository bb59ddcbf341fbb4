"""The nightly metric snapshot (what ``flask metrics snapshot`` does by hand)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from learning.scheduler.registry import scheduled_job


@scheduled_job("metrics.snapshot", cron="20 3 * * *", misfire_grace_time=6 * 3600, run_at_start=True,
               description=_l("Computes the acceptance metrics of the day for the dashboards and their trends."),
               title=_l("Compute the dashboard figures"),
               explain=lambda counts: [ngettext("%(num)d figure computed", "%(num)d figures computed",
                                                counts.get("figures", 0))])
def snapshot_job() -> dict[str, int]:
    from learning.i18n import local_today
    from learning.metrics.services import snapshot

    return {"figures": snapshot(local_today())}
