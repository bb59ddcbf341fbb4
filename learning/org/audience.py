"""Who something is for: the audience kinds, the people, matching (in Python and in SQL) and words.

Training rules, announcements and surveys each store an audience as two columns: ``audience``
(an ``AudienceKind`` value) and ``audience_values`` (department or team ids, role names, or for
``PHASE`` a rollout phase id). This module is the one place that knows what they mean:

- ``population()`` lists the active people with team, department and roles; ``person_for()``
  gives one person. Everybody is an employee: ``Role.EMPLOYEE`` is added here and nowhere else.
- ``matches()`` / ``matcher()`` decide in Python whether a person belongs to an audience (for
  pages and reports that walk the population once); ``audience_filter()`` / ``audience_select()``
  say the same in SQL (for set-based work such as reminder lists). For ``PHASE`` the values are
  phase ids; the feature decides which phase (a rule's chosen phase or its course's, a survey's
  phase) and passes it in.
- ``normalise()`` and ``check()`` turn what a form says into stored values or a ``ServiceError``
  on the form field at fault; ``AudienceNames.describe()`` puts an audience into words. The form
  widget that asks for an audience is ``AudienceFields`` in ``learning/org/forms.py``.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass

from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Select, false, select, true

from learning.db import db
from learning.errors import ServiceError
from learning.org.models import Department, Team, User, UserRole
from learning.phases.models import RolloutPhase, phase_department
from learning.roles import ROLE_LABELS, Role


class AudienceKind(enum.StrEnum):
    """How an audience is chosen; the values are what the ``audience`` columns hold."""

    EVERYONE = "everyone"
    DEPARTMENTS = "departments"
    TEAMS = "teams"
    ROLES = "roles"
    PHASE = "phase"  # the departments affected by a rollout phase


KIND_LABELS = {
    AudienceKind.EVERYONE: _l("Everyone"),
    AudienceKind.DEPARTMENTS: _l("Selected departments"),
    AudienceKind.TEAMS: _l("Selected teams"),
    AudienceKind.ROLES: _l("People with selected roles"),
    AudienceKind.PHASE: _l("The departments affected by a rollout phase"),
}

# The form field that holds the values of each kind, and the message when none is chosen.
VALUE_FIELDS = {
    AudienceKind.DEPARTMENTS: "department_ids",
    AudienceKind.TEAMS: "team_ids",
    AudienceKind.ROLES: "roles",
    AudienceKind.PHASE: "phase_id",
}
REQUIRED_MESSAGES = {
    AudienceKind.DEPARTMENTS: _l("Please choose at least one department."),
    AudienceKind.TEAMS: _l("Please choose at least one team."),
    AudienceKind.ROLES: _l("Please choose at least one role."),
}

EVERYBODY_ROLE = Role.EMPLOYEE.value  # everybody is an employee, whatever their role rows say


def kind_of(value: str | None) -> AudienceKind | None:
    """The kind a stored ``audience`` value names, or None for an unknown one."""
    try:
        return AudienceKind(value)
    except ValueError:
        return None


def ints(values: Iterable | None) -> list[int]:
    """The values that read as integers (ids), skipping the rest."""
    result = []
    for value in values or ():
        try:
            result.append(int(value))
        except (TypeError, ValueError):
            continue
    return result


# People -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Person:
    """What audience matching needs to know about someone; the unit names are for reports."""

    user_id: int
    team_id: int | None
    department_id: int | None
    roles: frozenset[str]
    team_name: str | None = None
    department_name: str | None = None


def person_for(user: User) -> Person:
    """Team, department and roles of one person (one query for the department, none without a team)."""
    department_id = None
    if user.team_id is not None:
        department_id = db.session.scalar(select(Team.department_id).where(Team.id == user.team_id))
    return Person(user.id, user.team_id, department_id, frozenset(r.value for r in user.roles) | {EVERYBODY_ROLE})


def population(user_ids: Collection[int] | None = None) -> list[Person]:
    """Every active person (or the active ones among ``user_ids``) with team, department and roles (two queries)."""
    roles: dict[int, set[str]] = defaultdict(set)
    role_query = select(UserRole.user_id, UserRole.role)
    people = (
        select(User.id, User.team_id, Team.department_id, Team.name, Department.name)
        .outerjoin(Team, User.team_id == Team.id).outerjoin(Department, Team.department_id == Department.id)
        .where(User.active.is_(True))
    )
    if user_ids is not None:
        role_query = role_query.where(UserRole.user_id.in_(user_ids))
        people = people.where(User.id.in_(user_ids))
    for user_id, role in db.session.execute(role_query):
        roles[user_id].add(role)
    return [
        Person(user_id, team_id, department_id, frozenset(roles.get(user_id, ())) | {EVERYBODY_ROLE},
               team_name, department_name)
        for user_id, team_id, department_id, team_name, department_name in db.session.execute(people)
    ]


def phase_departments(phase_ids: Iterable[int | None]) -> dict[int, set[int]]:
    """The departments each of these rollout phases affects (one query; none for no phases)."""
    wanted = {p for p in phase_ids if p is not None}
    result: dict[int, set[int]] = defaultdict(set)
    if wanted:
        for phase_id, department_id in db.session.execute(
            select(phase_department.c.phase_id, phase_department.c.department_id)
            .where(phase_department.c.phase_id.in_(wanted))
        ):
            result[phase_id].add(department_id)
    return result


# Matching -----------------------------------------------------------------------------------

def matcher(kind: str, values: Iterable | None,
            departments_of_phase: Mapping[int, Collection[int]] | None = None) -> Callable[[Person], bool]:
    """A test of whether a person belongs to the audience; build it once, call it per person.

    For ``PHASE`` the values are phase ids and ``departments_of_phase`` says which departments each
    affects (see ``phase_departments``); without it, it is loaded here (one query).
    """
    kind = kind_of(kind)
    values = list(values or ())
    if kind == AudienceKind.EVERYONE:
        return lambda person: True
    if kind == AudienceKind.DEPARTMENTS:
        departments = set(ints(values))
        return lambda person: person.department_id is not None and person.department_id in departments
    if kind == AudienceKind.TEAMS:
        teams = set(ints(values))
        return lambda person: person.team_id is not None and person.team_id in teams
    if kind == AudienceKind.ROLES:
        roles = {str(v) for v in values}
        return lambda person: bool(person.roles & roles)
    if kind == AudienceKind.PHASE:
        phases = ints(values)
        if departments_of_phase is None:
            departments_of_phase = phase_departments(phases)
        departments = set().union(*(departments_of_phase.get(p, ()) for p in phases))
        return lambda person: person.department_id is not None and person.department_id in departments
    return lambda person: False  # an unknown kind reaches nobody


def matches(kind: str, values: Iterable | None, person: Person,
            departments_of_phase: Mapping[int, Collection[int]] | None = None) -> bool:
    """Whether the person belongs to the audience (the Python twin of ``audience_filter``)."""
    return matcher(kind, values, departments_of_phase)(person)


def audience_filter(kind: str, values: Iterable | None) -> ColumnElement[bool]:
    """A WHERE clause on ``User`` for the audience (activity aside): for set-based work in SQL."""
    kind = kind_of(kind)
    values = list(values or ())
    if kind == AudienceKind.EVERYONE:
        return true()
    if kind == AudienceKind.DEPARTMENTS:
        return User.team_id.in_(select(Team.id).where(Team.department_id.in_(ints(values))))
    if kind == AudienceKind.TEAMS:
        return User.team_id.in_(ints(values))
    if kind == AudienceKind.ROLES:
        roles = {str(v) for v in values}
        if EVERYBODY_ROLE in roles:
            return true()
        return User.id.in_(select(UserRole.user_id).where(UserRole.role.in_(roles)))
    if kind == AudienceKind.PHASE:
        departments = select(phase_department.c.department_id).where(phase_department.c.phase_id.in_(ints(values)))
        return User.team_id.in_(select(Team.id).where(Team.department_id.in_(departments)))
    return false()


def audience_select(kind: str, values: Iterable | None) -> Select:
    """SELECT the ids of the active people in the audience."""
    return select(User.id).where(User.active.is_(True), audience_filter(kind, values))


# Forms --------------------------------------------------------------------------------------

def normalise(kind: str, values: Iterable | None, *, kinds: Collection[AudienceKind] = tuple(AudienceKind),
              message: str | None = None) -> tuple[AudienceKind, list]:
    """The kind and its values as stored: sorted ids, known role names, at most one phase id.

    Values of other kinds are dropped. An unknown kind, one not among ``kinds`` or unreadable values
    raise ``ServiceError(message, "audience")``.
    """
    refusal = ServiceError(message or _("Please choose who this is for."), "audience")
    chosen = kind_of(kind)
    if chosen is None or chosen not in kinds:
        raise refusal
    values = [v for v in (values or ()) if v not in (None, "")]
    try:
        if chosen in (AudienceKind.DEPARTMENTS, AudienceKind.TEAMS):
            return chosen, sorted({int(v) for v in values})
        if chosen == AudienceKind.ROLES:
            return chosen, sorted({Role(v).value for v in values})
        if chosen == AudienceKind.PHASE:
            return chosen, [int(values[0])] if values else []
    except (TypeError, ValueError):
        raise refusal from None
    return chosen, []


def check(kind: str, values: list) -> None:
    """Refuse an audience without values where it needs some, or naming departments, teams or a phase
    that do not exist (at most one query); the error names the form field at fault."""
    chosen = kind_of(kind)
    if chosen in REQUIRED_MESSAGES and not values:
        raise ServiceError(str(REQUIRED_MESSAGES[chosen]), VALUE_FIELDS[chosen])
    model = {AudienceKind.DEPARTMENTS: Department, AudienceKind.TEAMS: Team,
             AudienceKind.PHASE: RolloutPhase}.get(chosen)
    if model is not None and values:
        found = db.session.scalars(select(model.id).where(model.id.in_(values))).all()
        if len(set(found)) != len(set(values)):
            message = REQUIRED_MESSAGES.get(chosen) or _l("Please choose a rollout phase.")
            raise ServiceError(str(message), VALUE_FIELDS[chosen])


# Words --------------------------------------------------------------------------------------

@dataclass
class AudienceNames:
    """Names of departments, teams and phases, to describe audiences in words (three queries)."""

    departments: dict[int, str]
    teams: dict[int, str]
    phases: dict[int, str]

    @classmethod
    def load(cls) -> AudienceNames:
        english = str(get_locale() or "") == "en"
        departments = dict(db.session.execute(select(Department.id, Department.name)).all())
        teams = {
            team_id: f"{department} / {team}"
            for team_id, team, department in db.session.execute(
                select(Team.id, Team.name, Department.name).join(Department, Team.department_id == Department.id)
            )
        }
        phases = {
            phase_id: (title_en if english and title_en else title)
            for phase_id, title, title_en in db.session.execute(
                select(RolloutPhase.id, RolloutPhase.title, RolloutPhase.title_en)
            )
        }
        return cls(departments=departments, teams=teams, phases=phases)

    def describe(self, kind: str, values: Iterable | None) -> str:
        """The audience in words, e.g. "Teams: Bürgerdienste / Bürgerbüro"; for ``PHASE`` the values are phase ids."""
        values = list(values or ())
        unknown = _("(deleted)")
        chosen = kind_of(kind)
        if chosen == AudienceKind.EVERYONE:
            return _("Everyone")
        if chosen == AudienceKind.DEPARTMENTS:
            names = sorted(self.departments.get(v, unknown) for v in ints(values))
            return _("Departments: %(names)s", names=", ".join(names))
        if chosen == AudienceKind.TEAMS:
            names = sorted(self.teams.get(v, unknown) for v in ints(values))
            return _("Teams: %(names)s", names=", ".join(names))
        if chosen == AudienceKind.ROLES:
            known = {r.value for r in Role}
            labels = [str(ROLE_LABELS[Role(v)]) if v in known else str(v) for v in values]
            return _("Roles: %(names)s", names=", ".join(sorted(labels)))
        if chosen == AudienceKind.PHASE:
            phases = ints(values)
            if not phases:
                return _("The departments affected by the rollout phase")
            return _("Departments affected by the rollout phase %(phase)s",
                     phase=", ".join(self.phases.get(p, unknown) for p in phases))
        return str(kind)


def describe(kind: str, values: Iterable | None) -> str:
    """One audience in words (loads the names: for a page with many audiences, use ``AudienceNames``)."""
    return AudienceNames.load().describe(kind, values)
