"""Use cases of the organisation: people, departments and teams.

Each flushes; the caller's unit of work commits. A refusal is a ``ServiceError`` naming the form
field at fault. A change to people is announced with ``people_changed`` inside the same unit of
work, so what other features do about it (journeys, course assignments) commits with it or not at all.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import date

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select

from learning.audit.services import record
from learning.db import db
from learning.errors import ServiceError
from learning.guards import FIRST_DAY, LAST_DAY, day_in_range
from learning.org.models import Department, Team, User
from learning.org.signals import people_changed
from learning.roles import Role

logger = logging.getLogger(__name__)

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,79}$")


@dataclass
class PersonData:
    """What an admin form or an import row says about a person."""

    email: str
    first_name: str
    last_name: str
    username: str = ""
    employee_number: str | None = None
    start_date: date | None = None
    locale: str | None = None
    team_id: int | None = None
    roles: set[Role] = field(default_factory=lambda: {Role.EMPLOYEE})
    managed_team_ids: set[int] = field(default_factory=set)


def _announce(user_ids: set[int]) -> None:
    """Tell other features which people changed; their listeners work in the same unit of work (flushed first)."""
    db.session.flush()
    people_changed.send(current_app._get_current_object(), user_ids=user_ids)


def suggest_username(email: str) -> str:
    """Derive a free user name from the local part of an email address."""
    base = re.sub(r"[^a-z0-9._-]", "", email.split("@", 1)[0].lower())[:70] or "user"
    if not base[0].isalnum():
        base = "u" + base
    candidate, n = base, 1
    while db.session.scalar(select(User.id).where(User.username == candidate)) is not None:
        n += 1
        candidate = f"{base}{n}"
    return candidate


def _check_unique(user: User | None, data: PersonData) -> None:
    def taken(column, value):
        query = select(User.id).where(column == value)
        if user is not None:
            query = query.where(User.id != user.id)
        return db.session.scalar(query) is not None

    if taken(User.email, data.email):
        raise ServiceError(_("Another person already uses this email address."), "email")
    if taken(func.lower(User.username), data.username.lower()):
        raise ServiceError(_("This user name is already taken."), "username")
    if data.employee_number and taken(User.employee_number, data.employee_number):
        raise ServiceError(_("Another person already has this employee number."), "employee_number")


def _apply(user: User, data: PersonData) -> None:
    user.email = data.email
    user.username = data.username
    user.first_name = data.first_name
    user.last_name = data.last_name
    user.employee_number = data.employee_number or None
    user.start_date = data.start_date
    user.locale = data.locale or None
    user.team_id = data.team_id
    roles = set(data.roles)
    if data.managed_team_ids:
        roles.add(Role.MANAGER)
    user.roles = roles
    user.managed_teams = list(
        db.session.scalars(select(Team).where(Team.id.in_(data.managed_team_ids))) if data.managed_team_ids else []
    )


def _normalise(data: PersonData) -> PersonData:
    data.email = data.email.strip().lower()
    data.first_name = data.first_name.strip()
    data.last_name = data.last_name.strip()
    data.username = (data.username or "").strip().lower()
    if data.employee_number:
        data.employee_number = data.employee_number.strip() or None
    if data.username and not USERNAME_RE.match(data.username):
        raise ServiceError(
            _("A user name has 2 to 80 lower-case letters, digits, dots, hyphens or underscores."), "username"
        )
    if not day_in_range(data.start_date):
        raise ServiceError(_("Enter a date between %(first)s and %(last)s.", first=FIRST_DAY.isoformat(),
                             last=LAST_DAY.isoformat()), "start_date")
    return data


def create_person(data: PersonData, actor: User | None) -> User:
    data = _normalise(data)
    if not data.username:
        data.username = suggest_username(data.email)
    _check_unique(None, data)
    user = User()
    _apply(user, data)
    db.session.add(user)
    db.session.flush()
    record(actor, "user.created", user, summary=f"{user.full_name} <{user.email}>",
           roles_added=sorted(r.value for r in user.roles if r != Role.EMPLOYEE))
    logger.info("User %s created by %s", user.id, getattr(actor, "id", None))
    _announce({user.id})
    return user


def update_person(user: User, data: PersonData, actor: User | None) -> User:
    data = _normalise(data)
    if not data.username:
        data.username = user.username
    _check_unique(user, data)
    if actor is not None and user.id == actor.id and Role.ADMIN not in data.roles:
        raise ServiceError(_("You cannot take the administrator role away from yourself."), "roles")
    before = user.roles
    _apply(user, data)
    record(actor, "user.updated", user, summary=f"{user.full_name} <{user.email}>",
           roles_added=sorted(r.value for r in user.roles - before),
           roles_removed=sorted(r.value for r in before - user.roles))
    _announce({user.id})
    return user


def _last_active_admin(user: User) -> bool:
    from learning.org.models import UserRole

    admins = db.session.scalar(
        select(func.count()).select_from(User).join(UserRole)
        .where(UserRole.role == Role.ADMIN.value, User.active.is_(True))
    )
    return user.has_role(Role.ADMIN) and admins <= 1


def set_person_active(user: User, active: bool, actor: User | None) -> None:
    """Deactivate (keeping every record) or reactivate a person."""
    if not active:
        if actor is not None and user.id == actor.id:
            raise ServiceError(_("You cannot deactivate your own account."))
        if _last_active_admin(user):
            raise ServiceError(_("The last active administrator cannot be deactivated."))
        user.deactivate()
        record(actor, "user.deactivated", user, summary=user.full_name)
    else:
        user.reactivate()
        record(actor, "user.reactivated", user, summary=user.full_name)
    _announce({user.id})


def save_department(department: Department | None, name: str, actor: User | None) -> Department:
    name = " ".join(name.split())
    if not name:
        raise ServiceError(_("Please enter a name."), "name")
    clash = select(Department.id).where(func.lower(Department.name) == name.lower())
    if department is not None:
        clash = clash.where(Department.id != department.id)
    if db.session.scalar(clash) is not None:
        raise ServiceError(_("A department with this name already exists."), "name")
    created = department is None
    department = department or Department()
    department.name = name
    db.session.add(department)
    db.session.flush()
    record(actor, "department.created" if created else "department.updated", department, summary=name)
    db.session.flush()
    return department


def save_team(team: Team | None, name: str, department_id: int, manager_ids: set[int], actor: User | None) -> Team:
    name = " ".join(name.split())
    if not name:
        raise ServiceError(_("Please enter a name."), "name")
    department = db.session.get(Department, department_id)
    if department is None:
        raise ServiceError(_("Please choose a department."), "department_id")
    clash = select(Team.id).where(Team.department_id == department_id, func.lower(Team.name) == name.lower())
    if team is not None:
        clash = clash.where(Team.id != team.id)
    if db.session.scalar(clash) is not None:
        raise ServiceError(_("This department already has a team with this name."), "name")
    created = team is None
    if team is None:
        team = Team()
        db.session.add(team)
    team.name = name
    team.department = department
    managers = list(db.session.scalars(select(User).where(User.id.in_(manager_ids)))) if manager_ids else []
    for manager in managers:
        if not manager.has_role(Role.MANAGER):
            manager.roles = manager.roles | {Role.MANAGER}
    team.managers = managers
    db.session.add(team)
    db.session.flush()
    record(actor, "team.created" if created else "team.updated", team, summary=f"{department.name} / {name}")
    db.session.flush()
    return team


def set_unit_active(unit: Department | Team, active: bool, actor: User | None) -> None:
    """Deactivate or reactivate a department or team; members and history stay."""
    if not active and isinstance(unit, Department) and any(t.active for t in unit.teams):
        raise ServiceError(_("Deactivate the department's teams first."))
    if not active and isinstance(unit, Team):
        members = db.session.scalar(
            select(func.count()).select_from(User).where(User.team_id == unit.id, User.active.is_(True))
        )
        if members:
            raise ServiceError(_("The team still has %(n)d active members. Move them to another team first.",
                                 n=members))
    unit.active = active
    kind = type(unit).__name__.lower()
    record(actor, f"{kind}.{'reactivated' if active else 'deactivated'}", unit, summary=unit.name)
    db.session.flush()
