"""The nightly directory sync (what ``flask directory sync`` does by hand)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from learning.scheduler.registry import scheduled_job


def _in_words(counts: dict) -> list[str]:
    if counts.get("not_configured"):
        return [str(_l("no directory is configured"))]
    if counts.get("problems"):
        return [ngettext("%(num)d problem in the directory, nothing changed",
                         "%(num)d problems in the directory, nothing changed", counts["problems"])]
    if counts.get("stopped"):
        return [str(_l("safety stop, nothing changed"))]
    return [ngettext("%(num)d person created", "%(num)d people created", counts.get("created", 0)),
            ngettext("%(num)d updated", "%(num)d updated", counts.get("updated", 0)),
            ngettext("%(num)d deactivated", "%(num)d deactivated", counts.get("deactivated", 0)),
            ngettext("%(num)d reactivated", "%(num)d reactivated", counts.get("reactivated", 0))]


@scheduled_job("directory.sync", cron="40 2 * * *", misfire_grace_time=6 * 3600,
               description=_l("Creates, updates, deactivates and reactivates people from the organisation's "
                              "directory, with a grace period and a safety stop."),
               title=_l("Sync people with the directory"), explain=_in_words)
def sync_job() -> dict[str, int]:
    from learning.directory.sync import run_directory_sync, sync_configured

    if not sync_configured():
        return {"not_configured": 1}
    plan = run_directory_sync()  # raises when the directory cannot be reached: the run is recorded as failed
    return {**plan.counts, "problems": len(plan.problems), "stopped": int(plan.stopped is not None)}
