"""Planning an import: the lines checked against each other and the platform's people; nothing written.

What importing a file would change (created, updated, unchanged, deactivated; new departments and
teams) is worked out from everything loaded once, so planning 1,000 lines costs a fixed number of
queries.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import BinaryIO

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from learning.db import db
from learning.org.importer.read import CheckedRow, ImportProblem, clean_name, derive_username, read_file
from learning.org.models import Department, Team, User
from learning.roles import Role

CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"

TeamKey = tuple[str, str]  # (department name, team name), both casefolded


@dataclass
class PlannedRow:
    """What one line of the file does to one person."""

    line: int
    email: str
    name: str
    outcome: str = UNCHANGED
    user: User | None = None
    values: dict[str, object] = field(default_factory=dict)  # column attributes to set
    team: TeamKey | None = None
    set_team: bool = False
    roles: frozenset[Role] | None = None  # None: keep the person's roles
    manages: frozenset[TeamKey] | None = None  # None: keep the teams the person leads
    active: bool | None = None  # None: keep


@dataclass(frozen=True)
class PersonRef:
    """Who a report line is about, copied before the commit expires the loaded people."""

    email: str
    first_name: str
    last_name: str

    @classmethod
    def of(cls, user: User) -> PersonRef:
        return cls(user.email, user.first_name, user.last_name)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


@dataclass
class KeptActive:
    person: PersonRef
    reason: object


@dataclass
class ImportPlan:
    """The checked content of a file and what importing it changes; nothing written yet."""

    filename: str
    deactivate_missing: bool = False
    encoding: str = "UTF-8"
    delimiter: str = ","
    problems: list[ImportProblem] = field(default_factory=list)
    rows: list[PlannedRow] = field(default_factory=list)
    deactivate: list[User] = field(default_factory=list, repr=False)
    deactivated: list[PersonRef] = field(default_factory=list)  # the same people, for reports
    kept_active: list[KeptActive] = field(default_factory=list)
    new_departments: dict[str, str] = field(default_factory=dict)  # key -> name
    new_teams: dict[TeamKey, tuple[str, str]] = field(default_factory=dict)  # key -> (department, team)
    applied: bool = False
    over_limit: bool = False  # refused unread: larger than the limits of one file
    departments: dict[str, Department] = field(default_factory=dict, repr=False)
    teams: dict[TeamKey, Team] = field(default_factory=dict, repr=False)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def problem_line_count(self) -> int:
        """How many lines of the file have at least one problem."""
        return len({problem.line for problem in self.problems})

    def problem_lines(self) -> list[str]:
        """Every problem as ``FILE:LINE: reason``, in line order."""
        return [p.describe(self.filename) for p in self.problems]

    def count(self, outcome: str) -> int:
        return sum(1 for row in self.rows if row.outcome == outcome)

    @property
    def counts(self) -> dict[str, int]:
        return {
            CREATED: self.count(CREATED), UPDATED: self.count(UPDATED), UNCHANGED: self.count(UNCHANGED),
            "deactivated": len(self.deactivate),
        }

    def changes(self, limit: int) -> list[PlannedRow]:
        """The first ``limit`` lines that create or update a person, in line order."""
        changes: list[PlannedRow] = []
        for row in self.rows:
            if len(changes) == limit:
                break
            if row.outcome != UNCHANGED:
                changes.append(row)
        return changes

    @property
    def steps(self) -> int:
        """How many steps :func:`apply_import` reports to its progress callback."""
        return len(self.rows) + len(self.deactivate)

    def summary(self) -> str:
        """One English line for the audit log and the server log."""
        counts = self.counts
        text = (f"{self.filename} ({self.encoding}): {counts[CREATED]} created, {counts[UPDATED]} updated, "
                f"{counts[UNCHANGED]} unchanged, {counts['deactivated']} deactivated")
        if self.new_departments or self.new_teams:
            text += f"; {len(self.new_departments)} departments and {len(self.new_teams)} teams created"
        return text



def plan_import(data: bytes | BinaryIO, filename: str, actor: User | None = None,
                deactivate_missing: bool = False) -> ImportPlan:
    """Read and check a whole CSV file and work out what importing it would change; write nothing.

    ``data`` is the file's content or an open binary file, of which no more than the size limit
    (LEARNING_IMPORT_MAX_MB) is read. Every problem is collected (``plan.problems``); a plan with
    problems must not be applied. A file over a limit is refused without checking its lines.
    """
    plan = ImportPlan(filename=filename, deactivate_missing=deactivate_missing)
    read = read_file(data, plan)
    if read is None:
        return plan
    header_line, columns, rows = read
    _plan_rows(plan, rows, columns, actor, header_line)
    plan.problems.sort(key=lambda p: p.line)
    return plan


def _plan_rows(plan: ImportPlan, rows: list[CheckedRow], columns: dict[str, int], actor: User | None,
               header_line: int) -> None:
    """Check the lines against each other and the database (loaded once) and plan each change."""
    users = db.session.scalars(select(User).options(selectinload(User.managed_teams))).all()
    departments = db.session.scalars(select(Department)).all()
    teams = db.session.scalars(select(Team)).all()
    plan.departments = {d.name.casefold(): d for d in departments}
    department_names = {d.id: d.name.casefold() for d in departments}
    plan.teams = {(department_names[t.department_id], t.name.casefold()): t for t in teams}
    team_keys = {t.id: key for key, t in plan.teams.items()}
    by_email = {u.email.lower(): u for u in users}
    by_username = {u.username.lower(): u for u in users}
    by_number = {u.employee_number: u for u in users if u.employee_number}

    def problem(row: CheckedRow, message) -> None:
        plan.problems.append(ImportProblem(row.line, message))

    # Departments and teams the file creates, so that "manages" may name them.
    for row in rows:
        if row.department and row.department.casefold() not in plan.departments:
            plan.new_departments.setdefault(row.department.casefold(), row.department)
        if row.department and row.team:
            key = (row.department.casefold(), row.team.casefold())
            if key not in plan.teams:
                existing = plan.departments.get(key[0])
                department = existing.name if existing else plan.new_departments[key[0]]
                plan.new_teams.setdefault(key, (department, row.team))

    def known_team(key: TeamKey) -> bool:
        return key in plan.teams or key in plan.new_teams

    seen_email: dict[str, int] = {}
    seen_username: dict[str, int] = {}
    seen_number: dict[str, int] = {}
    planned: list[tuple[CheckedRow, PlannedRow]] = []
    for row in rows:
        person = by_email.get(row.email) if row.email else None
        if row.email:
            if row.email in seen_email:
                problem(row, _l("The email address %(email)s already appears on line %(line)d.",
                                email=row.email, line=seen_email[row.email]))
            seen_email.setdefault(row.email, row.line)
        if row.username:
            holder = by_username.get(row.username)
            if row.username in seen_username:
                problem(row, _l("The user name “%(value)s” already appears on line %(line)d.",
                                value=row.username, line=seen_username[row.username]))
            elif holder is not None and holder is not person:
                problem(row, _l("The user name “%(value)s” already belongs to another person (%(email)s).",
                                value=row.username, email=holder.email))
            seen_username.setdefault(row.username, row.line)
        if row.employee_number:
            holder = by_number.get(row.employee_number)
            if row.employee_number in seen_number:
                problem(row, _l("The employee number %(value)s already appears on line %(line)d.",
                                value=row.employee_number, line=seen_number[row.employee_number]))
            elif holder is not None and holder is not person:
                problem(row, _l("The employee number %(value)s already belongs to another person (%(email)s).",
                                value=row.employee_number, email=holder.email))
            seen_number.setdefault(row.employee_number, row.line)

        # The department where "manages" looks for teams named without their department.
        if "department" in columns:
            home = row.department.casefold() or None
        else:
            home = team_keys[person.team_id][0] if person is not None and person.team_id else None
        manages: set[TeamKey] = set()
        for entry in row.manages:
            key = _resolve_team(entry, home, known_team)
            if key is None and home is None and "/" not in entry:
                problem(row, _l("Write the team “%(team)s” as Department/Team: this person has no department.",
                                team=entry))
            elif key is None:
                problem(row, _l("The team “%(team)s” does not exist and is not created by this file.", team=entry))
            else:
                manages.add(key)

        target = PlannedRow(line=row.line, email=row.email, name=f"{row.first_name} {row.last_name}".strip(),
                            user=person)
        values = {"email": row.email, "first_name": row.first_name, "last_name": row.last_name}
        if row.username:
            values["username"] = row.username
        for column, attribute, value in (("employee_number", "employee_number", row.employee_number),
                                         ("start_date", "start_date", row.start_date),
                                         ("language", "locale", row.locale)):
            if column in columns:
                values[attribute] = value
        target.values = values
        if "team" in columns:
            target.set_team = True
            target.team = (row.department.casefold(), row.team.casefold()) if row.team else None
        if "manages" in columns:
            target.manages = frozenset(manages)
        current_roles = person.roles if person is not None else frozenset({Role.EMPLOYEE})
        roles = set(row.roles) if "roles" in columns else set(current_roles)
        if target.manages:
            roles.add(Role.MANAGER)
        target.roles = frozenset(roles | {Role.EMPLOYEE})
        target.active = row.active if person is not None else (row.active is not False)

        if actor is not None and person is not None and person.id == actor.id:
            if Role.ADMIN not in target.roles:
                problem(row, _l("You cannot take the administrator role away from yourself."))
            if target.active is False:
                problem(row, _l("You cannot deactivate your own account."))
        planned.append((row, target))

    # New people get a user name derived from their email address, avoiding every name in use.
    taken = set(by_username) | set(seen_username)
    for row, target in planned:
        if target.user is None and not row.username and row.email:
            target.values["username"] = derive_username(row.email, taken)

    for _row, target in planned:
        target.outcome = _outcome(target, team_keys)
        plan.rows.append(target)

    _plan_deactivations(plan, users, actor, header_line)


def _resolve_team(entry: str, home: str | None, known_team: Callable[[TeamKey], bool]) -> TeamKey | None:
    """Find "Team" in the person's department, or "Department/Team" (names may contain "/" too)."""
    folded = entry.casefold()
    if home is not None and known_team((home, folded)):
        return home, folded
    for match in re.finditer("/", folded):
        key = (clean_name(folded[:match.start()]), clean_name(folded[match.end():]))
        if known_team(key):
            return key
    return None


def _outcome(target: PlannedRow, team_keys: dict[int, TeamKey]) -> str:
    user = target.user
    if user is None:
        return CREATED
    changed = any(getattr(user, attribute) != value for attribute, value in target.values.items())
    changed |= target.set_team and (team_keys.get(user.team_id) if user.team_id else None) != target.team
    changed |= target.roles is not None and target.roles != user.roles
    changed |= target.manages is not None and target.manages != {team_keys[t.id] for t in user.managed_teams}
    changed |= target.active is not None and target.active != user.active
    return UPDATED if changed else UNCHANGED


def _plan_deactivations(plan: ImportPlan, users: list[User], actor: User | None, header_line: int) -> None:
    """Who --deactivate-missing deactivates; the acting admin and the last active admin are kept."""
    in_file = {row.email for row in plan.rows}
    planned = {row.user.id: row for row in plan.rows if row.user is not None}

    def stays_admin(user: User) -> bool:
        row = planned.get(user.id)
        if row is None:
            return user.active and user.has_role(Role.ADMIN)
        return bool(row.active if row.active is not None else user.active) and Role.ADMIN in row.roles

    admins_before = sum(1 for u in users if u.active and u.has_role(Role.ADMIN))
    admins_after = sum(1 for u in users if stays_admin(u)) + sum(
        1 for row in plan.rows if row.user is None and row.active and Role.ADMIN in row.roles)
    if admins_before and not admins_after:
        plan.problems.append(ImportProblem(header_line, _l(
            "After this import no active administrator would remain.")))
    if not plan.deactivate_missing:
        return
    for user in sorted(users, key=lambda u: u.id):
        if not user.active or user.email.lower() in in_file:
            continue
        if actor is not None and user.id == actor.id:
            plan.kept_active.append(KeptActive(PersonRef.of(user), _l("You are signed in as this person.")))
        elif user.has_role(Role.ADMIN) and admins_after <= 1:
            plan.kept_active.append(KeptActive(PersonRef.of(user), _l("The last active administrator is kept.")))
        else:
            if user.has_role(Role.ADMIN):
                admins_after -= 1
            plan.deactivate.append(user)
            plan.deactivated.append(PersonRef.of(user))
