"""Applying a checked sync plan: every change flushed, audit entries, and the people announced.

As with the CSV import (``learning.org.importer.apply``) the caller's unit of work commits once or
rolls everything back, and ``people_changed`` is sent inside it: assignment rules, onboarding
journeys and team views react to synced people exactly as to an admin's edit or an import, and
commit with the sync or not at all.
"""

from __future__ import annotations

import logging

from flask import current_app
from sqlalchemy import insert, select
from sqlalchemy.orm import selectinload

from learning.audit.services import record
from learning.db import db
from learning.directory.ldap import DirectoryEntry
from learning.directory.models import LDAP, ExternalIdentity
from learning.directory.services import record_pending_link
from learning.directory.sync_models import DirectorySyncState
from learning.directory.sync_plan import (
    CREATED,
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
from learning.org.importer.apply import create_units
from learning.org.models import Team, User, UserRole, team_manager
from learning.org.signals import people_changed
from learning.roles import Role

logger = logging.getLogger(__name__)

CHUNK = 500  # people per statement (SQLite allows 32,766 parameters)


class SyncFailed(ServiceError):
    """Applying a checked plan failed; the unit of work rolls everything back. The message is the cause."""


def apply_sync(plan: SyncPlan, actor: User | None = None) -> SyncPlan:
    """Write a checked plan (flushed), audit-log it and tell other features which people changed.

    New people are inserted in bulk (a first sync of 50,000 people); everyone else who changes is
    loaded and changed as an ORM object, in chunks.
    """
    if not plan.ok:
        raise ValueError("a plan with problems or a safety stop cannot be applied")
    try:
        teams = create_units(plan)
        team_ids = {key: team.id for key, team in teams.items()}
        changed = _create(plan, team_ids)
        loaded = _load({c.user.id for c in plan.changes if c.user is not None and c.outcome != UNCHANGED})
        for change in plan.changes:
            if change.user is None:
                continue
            if change.outcome == WAITING:
                record_pending_link(loaded[change.user.id], LDAP, DirectoryEntry(
                    dn=change.dn, subject=change.subject, login=change.login, email=change.email,
                    first_name=str(change.values["first_name"]), last_name=str(change.values["last_name"])))
            elif change.outcome in (MISSING, DEACTIVATED):
                _lifecycle(change, loaded[change.user.id], plan, actor)
                if change.outcome == DEACTIVATED:
                    changed.add(change.user.id)
            elif change.outcome != UNCHANGED:
                _apply_person(change, loaded[change.user.id], teams, plan)
                changed.add(change.user.id)
            elif change.state_changes:
                _state(plan, change.user.id).missing_since = None
        db.session.flush()
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


def _load(ids: set[int]) -> dict[int, User]:
    users: dict[int, User] = {}
    ordered = sorted(ids)
    for start in range(0, len(ordered), CHUNK):
        chunk = ordered[start:start + CHUNK]
        users.update((u.id, u) for u in db.session.scalars(
            select(User).options(selectinload(User.managed_teams)).where(User.id.in_(chunk))))
    return users


def _create(plan: SyncPlan, team_ids: dict[TeamKey, int]) -> set[int]:
    """Insert the new people, their roles, teams led and directory identities in bulk, a chunk at a time."""
    created = [c for c in plan.changes if c.outcome == CREATED]
    ids: set[int] = set()
    for start in range(0, len(created), CHUNK):
        chunk = created[start:start + CHUNK]
        rows = [{**change.values, "team_id": team_ids[change.team] if change.set_team and change.team else None,
                 "active": True} for change in chunk]
        new = db.session.scalars(insert(User).returning(User.id, sort_by_parameter_order=True), rows).all()
        pairs = list(zip(new, chunk, strict=True))
        roles = [{"user_id": user_id, "role": role.value}
                 for user_id, change in pairs for role in sorted(change.roles or {Role.EMPLOYEE})]
        led = [{"user_id": user_id, "team_id": team_ids[key]} for user_id, change in pairs
               for key in sorted(change.manages or ())]
        identities = [{"source": LDAP, "subject": change.subject, "user_id": user_id, "created_at": plan.now}
                      for user_id, change in pairs]
        for table, values in ((UserRole, roles), (team_manager, led), (ExternalIdentity, identities)):
            if values:
                db.session.execute(insert(table), values)
        ids.update(new)
    return ids


def _state(plan: SyncPlan, user_id: int) -> DirectorySyncState:
    state = plan.states.get(user_id)
    if state is None:
        state = plan.states[user_id] = DirectorySyncState(user_id=user_id, deactivated_by_sync=False)
        db.session.add(state)
    return state


def _apply_person(change: SyncChange, user: User, teams: dict[TeamKey, Team], plan: SyncPlan) -> User:
    for attribute, value in change.values.items():
        setattr(user, attribute, value)
    if change.set_team:
        user.team_id = teams[change.team].id if change.team else None
    if change.roles is not None:
        user.roles = change.roles
    if change.manages is not None:
        user.managed_teams = [teams[key] for key in sorted(change.manages)]
    if change.outcome == REACTIVATED:
        user.reactivate()
        state = _state(plan, user.id)
        state.missing_since, state.missing_reason, state.deactivated_by_sync = None, "", False
        record(None, "directory.reactivated", user, summary=user.full_name)
    elif change.state_changes:
        _state(plan, user.id).missing_since = None
    return user


def _lifecycle(change: SyncChange, user: User, plan: SyncPlan, actor: User | None) -> None:
    state = _state(plan, user.id)
    state.missing_since, state.missing_reason = change.missing_since, change.missing_reason
    if change.outcome == DEACTIVATED:
        user.deactivate()
        state.deactivated_by_sync = True
        record(actor, "directory.deactivated", user, summary=f"{user.full_name}: {change.missing_reason}",
               reason=change.missing_reason, missing_since=change.missing_since.isoformat())

