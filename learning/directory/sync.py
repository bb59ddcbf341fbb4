"""Directory sync: the organisation's directory fills and maintains the platform's people.

``plan_directory_sync`` reads the directory (``sync_read``) and plans (``sync_plan``); nothing is
written. ``run_directory_sync`` plans and, unless it is a dry run, has problems or hits the safety
stop, applies the plan (``sync_apply``); a stopped or refused run is audit-logged too, so the
administrator finds why nothing changed. ``flask directory sync``, the nightly job and the admin
page all call these; the caller's unit of work commits. The mapping, the grace period and the
safety stop are described in the README's *Directory sync* section.
"""

from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l

from learning.audit.services import record
from learning.db import utcnow
from learning.directory.ldap import DirectoryUnreachable
from learning.directory.mapping import Mapping
from learning.directory.services import directory_settings, note_reachable, note_unreachable
from learning.directory.sync_apply import SyncFailed, apply_sync
from learning.directory.sync_plan import SyncPlan, plan_sync
from learning.directory.sync_read import read_directory
from learning.errors import ServiceError
from learning.org.models import User

__all__ = ["SyncFailed", "SyncPlan", "SyncNotPossible", "current_mapping", "plan_directory_sync",
           "run_directory_sync", "sync_configured"]


class SyncNotPossible(ServiceError):
    """No directory is configured, or it cannot be reached: nothing was planned."""


def current_mapping() -> Mapping:
    """The mapping read at start (``learning.directory._read_mapping``)."""
    return current_app.extensions.get("directory_mapping") or Mapping()


def sync_configured() -> bool:
    return directory_settings() is not None


def max_share(mapping: Mapping) -> float:
    """The safety stop's share: the mapping's, else LEARNING_DIRECTORY_MAX_DEACTIVATE_SHARE."""
    if mapping.max_deactivate_share is not None:
        return mapping.max_deactivate_share
    return float(current_app.config.get("DIRECTORY_MAX_DEACTIVATE_SHARE", 0.1))


def plan_directory_sync(actor: User | None = None, note_state: bool = True) -> SyncPlan:
    """Read the directory and work out what a sync changes; writes nothing but the directory's state
    (``note_state``: whether it can be reached; off for the preview, a GET)."""
    settings = directory_settings()
    if settings is None:
        raise SyncNotPossible(_l("No directory is configured (LEARNING_LDAP_URL)."))
    mapping = current_mapping()
    try:
        people = read_directory(settings, mapping)
    except DirectoryUnreachable as error:
        if note_state:
            note_unreachable(str(error))
        raise SyncNotPossible(_l("The directory cannot be reached: %(message)s", message=str(error))) from None
    if note_state:
        note_reachable()
    return plan_sync(people, mapping, source=settings.url, now=utcnow(), actor=actor,
                     grace_days=int(current_app.config.get("DIRECTORY_GRACE_DAYS", 7)), max_share=max_share(mapping))


def run_directory_sync(actor: User | None = None, dry_run: bool = False) -> SyncPlan:
    """Plan a sync and apply it unless ``dry_run``; a refused run (problems, safety stop) is audit-logged."""
    plan = plan_directory_sync(actor)
    if dry_run:
        return plan
    if plan.problems:
        record(actor, "directory.sync_refused", summary=f"{plan.source}: {len(plan.problems)} problems; "
               + "; ".join(p.describe() for p in plan.problems[:5]), problems=len(plan.problems))
    elif plan.stopped is not None:
        record(actor, "directory.sync_stopped", summary=f"{plan.summary()} (safety stop)",
               deactivated=plan.counts["deactivated"], active=plan.active_people, share=plan.max_share)
    else:
        apply_sync(plan, actor)
    return plan
