"""The nightly retention run (what ``flask retention run`` does by hand)."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from learning.scheduler.registry import scheduled_job


def deleted_in_words(counts: dict) -> list[str]:
    """E.g. "3 Protokolleinträge, 2 aufbewahrte E-Mails gelöscht"; "nichts war abgelaufen"."""
    from learning.audit.words import RETENTION_NAMES

    deleted = [f"{number} {RETENTION_NAMES.get(name, name)}" for name, number in counts.items() if number]
    return [_("deleted: %(what)s", what=", ".join(deleted))] if deleted else [_("nothing had expired")]


@scheduled_job("retention.apply", cron="40 3 * * *", misfire_grace_time=6 * 3600,
               description=_l("Deletes individual records past the retention periods set by the admins."),
               title=_l("Delete after the retention periods"), explain=deleted_in_words)
def apply_retention_job() -> dict[str, int]:
    from learning.db import unit_of_work
    from learning.transparency.retention import apply_retention

    with unit_of_work():
        return apply_retention()
