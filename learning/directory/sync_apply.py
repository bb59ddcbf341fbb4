"""Applying a checked sync plan: every change flushed, audit entries, and the people announced.

As with the CSV import (``learning.org.importer.apply``) the caller's unit of work commits once or
rolls everything back, and ``people_changed`` is sent inside it: assignment rules, onboarding
journeys and team views react to synced people exactly as to an admin's edit or an import, and
commit with the sync or not at all.
"""

from __future__ import annotations

import logging

from flask import current_app

from learning.audit.services import record
from learning.db import db
from learning.directory.ldap import DirectoryEntry
from learning.directory.models import LDAP, ExternalIdentity
from learning.directory.services import record_pending_link
from learning.directory.sync_models import DirectorySyncState
from learning.directory.sync_plan import (
    DEACTIVATED,
    MISSING,
    REACTIVATED,
    UNCHANGED,
    WAITING,
    SyncChange,
    SyncPlan,
    TeamKey,
)
from learning.errors import ServiceError
from learning.org.models import Department, Team, User
from learning.org.signals import people_changed

logger = logging.getLogger(__name__)


class SyncFailed(ServiceError):
    """Applying a checked plan failed; the unit of work rolls everything back. The message is the cause."""


def apply_sync(plan: SyncPlan, actor: User | None = None) -> SyncPlan:
    """Write a checked plan (flushed), audit-log it and tell other features which people changed."""
    if not plan.ok:
        raise ValueError("a plan with problems or a safety stop cannot be applied")
    try:
        departments = dict(plan.departments)
        for key, name in plan.new_departments.items():
            departments[key] = Department(name=name)
            db.session.add(departments[key])
        teams = dict(plan.teams)
        for key, (_department, name) in plan.new_teams.items():
            teams[key] = Team(name=name, department=departments[key[0]])
            db.session.add(teams[key])
        db.session.flush()
        changed: set[int] = set()
        created: list[tuple[SyncChange, User]] = []
        for change in plan.changes:
            if change.outcome == WAITING:
                record_pending_link(change.user, LDAP, DirectoryEntry(
                    dn=change.dn, subject=change.subject, login=change.login, email=change.email,
                    first_name=str(change.values["first_name"]), last_name=str(change.values["last_name"])))
            elif change.outcome in (MISSING, DEACTIVATED):
                _lifecycle(change, plan, actor)
                if change.outcome == DEACTIVATED:
                    changed.add(change.user.id)
            elif change.outcome != UNCHANGED:
                user = _apply_person(change, teams, plan)
                if change.user is None:
                    created.append((change, user))
                else:
                    changed.add(user.id)
            elif change.state_changes:
                _state(plan, change.user.id).missing_since = None
        db.session.flush()
        for change, user in created:
            db.session.add(ExternalIdentity(source=LDAP, subject=change.subject, user_id=user.id))
            changed.add(user.id)
        record(actor, "directory.sync", summary=plan.summary(), source=plan.source,
               departments_created=sorted(plan.new_departments.values()),
               teams_created=sorted(f"{d} / {t}" for d, t in plan.new_teams.values()), **plan.counts)
        db.session.flush()
        people_changed.send(current_app._get_current_object(), user_ids=changed)
    except Exception as exc:
        logger.exception("Directory sync of %s failed; nothing is written", plan.source)
        raise SyncFailed(str(exc)) from exc
    plan.applied = True
    logger.info("Directory sync by %s: %s", getattr(actor, "id", None), plan.summary())
    return plan


def _state(plan: SyncPlan, user_id: int) -> DirectorySyncState:
    state = plan.states.get(user_id)
    if state is None:
        state = plan.states[user_id] = DirectorySyncState(user_id=user_id, deactivated_by_sync=False)
        db.session.add(state)
    return state


def _apply_person(change: SyncChange, teams: dict[TeamKey, Team], plan: SyncPlan) -> User:
    user = change.user or User()
    for attribute, value in change.values.items():
        setattr(user, attribute, value)
    if change.set_team:
        user.team_id = teams[change.team].id if change.team else None
    if change.roles is not None:
        user.roles = change.roles
    if change.manages is not None:
        user.managed_teams = [teams[key] for key in sorted(change.manages)]
    if change.user is None:
        db.session.add(user)
    elif change.outcome == REACTIVATED:
        user.reactivate()
        state = _state(plan, user.id)
        state.missing_since, state.missing_reason, state.deactivated_by_sync = None, "", False
        record(None, "directory.reactivated", user, summary=user.full_name)
    elif change.state_changes:
        _state(plan, user.id).missing_since = None
    return user


def _lifecycle(change: SyncChange, plan: SyncPlan, actor: User | None) -> None:
    state = _state(plan, change.user.id)
    state.missing_since, state.missing_reason = change.missing_since, change.missing_reason
    if change.outcome == DEACTIVATED:
        change.user.deactivate()
        state.deactivated_by_sync = True
        record(actor, "directory.deactivated", change.user, summary=f"{change.user.full_name}: {change.missing_reason}",
               reason=change.missing_reason, missing_since=change.missing_since.isoformat())

