"""Applying a checked import plan: every change flushed, one audit entry, and the people announced.

The caller's unit of work commits once or rolls everything back; ``people_changed`` is sent inside
it, so what other features do for the changed people (journeys, course assignments) commits with
the import or not at all.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import current_app

from learning.audit.services import record
from learning.db import db
from learning.errors import ServiceError
from learning.org.importer.plan import UNCHANGED, ImportPlan, PlannedRow, TeamKey
from learning.org.models import Department, Team, User
from learning.org.signals import people_changed

logger = logging.getLogger(__name__)


class ImportFailed(ServiceError):
    """Applying a checked plan failed (e.g. someone changed the same people meanwhile); the unit of work
    rolls everything back. The message is the technical cause, for the log and the command line."""


def create_units(plan) -> dict[TeamKey, Team]:
    """Add a plan's new departments and teams (flushed); every team of the plan by its key.

    ``plan`` has ``departments``/``teams`` (existing, by key) and ``new_departments``/``new_teams`` (names
    by key): the CSV import's plan and the directory sync's plan alike.
    """
    departments = dict(plan.departments)
    for key, name in plan.new_departments.items():
        departments[key] = Department(name=name)
        db.session.add(departments[key])
    teams = dict(plan.teams)
    for key, (_department, name) in plan.new_teams.items():
        teams[key] = Team(name=name, department=departments[key[0]])
        db.session.add(teams[key])
    db.session.flush()
    return teams


def apply_import(plan: ImportPlan, actor: User | None = None,
                 on_step: Callable[[int], None] | None = None) -> ImportPlan:
    """Write a checked plan (flushed) with one audit entry, and tell other features which people changed.

    Any failure, also of what listeners to ``people_changed`` do, raises ``ImportFailed``; the
    caller's unit of work then rolls the whole import back.
    """
    if plan.problems:
        raise ValueError("a plan with problems cannot be applied")
    step = on_step or (lambda n: None)
    try:
        teams = create_units(plan)
        changed = []
        for row in plan.rows:
            if row.outcome != UNCHANGED:
                changed.append(_apply_row(row, teams))
            step(1)
        for user in plan.deactivate:
            user.deactivate()
            step(1)
        db.session.flush()
        changed_ids = {user.id for user in changed} | {user.id for user in plan.deactivate}
        record(actor, "user.import", summary=plan.summary(), filename=plan.filename, encoding=plan.encoding,
               departments_created=sorted(plan.new_departments.values()),
               teams_created=sorted(f"{d} / {t}" for d, t in plan.new_teams.values()), **plan.counts)
        db.session.flush()
        people_changed.send(current_app._get_current_object(), user_ids=changed_ids)
    except Exception as exc:
        logger.exception("Import of %s failed; nothing is written", plan.filename)
        raise ImportFailed(str(exc)) from exc
    plan.applied = True
    logger.info("Import by %s: %s", getattr(actor, "id", None), plan.summary())
    return plan


def _apply_row(row: PlannedRow, teams: dict[TeamKey, Team]) -> User:
    user = row.user or User()
    for attribute, value in row.values.items():
        setattr(user, attribute, value)
    if row.set_team:
        user.team_id = teams[row.team].id if row.team else None
    if row.roles is not None:
        user.roles = row.roles
    if row.manages is not None:
        user.managed_teams = [teams[key] for key in sorted(row.manages)]
    if row.user is None:
        user.active = row.active is not False
        if not user.active:
            user.deactivate()
        db.session.add(user)
    elif row.active is True and not user.active:
        user.reactivate()
    elif row.active is False and user.active:
        user.deactivate()
    return user
