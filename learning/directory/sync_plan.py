"""Planning a directory sync: the directory's people checked and compared with the platform's; nothing written.

Like the CSV import's plan (``learning.org.importer.plan``): everything is loaded once (a fixed
number of queries for any directory size), every problem of the mapped data is collected and a
plan with problems is not applied at all. Each person gets an outcome with its reasons:

- *created*, *updated*, *unchanged* for people in the directory's scope (matched by the fixed
  identifier, never by e-mail); a new person whose e-mail address belongs to a local account
  *waits* for an administrator to confirm the link (as at sign-in);
- *missing*: disabled in the directory or out of the scope, inside the grace period (the sync
  notes since when); *deactivated* once the grace period is over (never deleted); *reactivated*
  when someone the sync deactivated is back, with all their history.

The **safety stop**: a plan that would deactivate more than the allowed share of active people is
``stopped`` and must not be applied; it says why.

About 500 lines on purpose: checking, placing, roles, managers, the lifecycle and the safety stop
are one pass over the directory and the platform's people, loaded once.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from learning.db import db
from learning.directory.mapping import Mapping, normal_dn
from learning.directory.models import LDAP, ExternalIdentity
from learning.directory.sync_models import DirectorySyncState
from learning.directory.sync_read import DirectoryPerson
from learning.guards import FIRST_DAY, LAST_DAY, has_refused_characters
from learning.org.importer.read import derive_username, valid_email
from learning.org.models import Department, Team, User, UserRole, team_manager
from learning.org.services import USERNAME_RE
from learning.roles import Role

CREATED, UPDATED, UNCHANGED, WAITING = "created", "updated", "unchanged", "waiting"
MISSING, DEACTIVATED, REACTIVATED = "missing", "deactivated", "reactivated"
OUTCOMES = (CREATED, UPDATED, REACTIVATED, DEACTIVATED, MISSING, WAITING, UNCHANGED)
DISABLED, OUT_OF_SCOPE = "disabled", "out_of_scope"

TeamKey = tuple[str, str]  # (department name, team name), both casefolded, as in the CSV import

# Reasons many people share: one lazy string each, not one per person.
NEW = _l("New in the directory.")
BACK = _l("Back in the directory.")
REACTIVATED_REASON = _l("Back in the directory: reactivated with all their records.")
DISABLED_REASON = _l("Disabled in the directory.")
OUT_OF_SCOPE_REASON = _l("No longer in the directory's sync scope.")

GENERALIZED_TIME = re.compile(r"(\d{4})(\d{2})(\d{2})\d{0,6}(?:[.,]\d+)?(?:Z|[+-]\d{4})?")
ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ].*)?")
GERMAN_DATE = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})")


def parse_date(value: str) -> date | None:
    """A start date as YYYY-MM-DD, DD.MM.YYYY or LDAP GeneralizedTime (20250301000000Z); None if it is none."""
    if len(value) == 10 and value[4] == "-":
        try:
            found = date.fromisoformat(value)
        except ValueError:
            return None
        return found if FIRST_DAY <= found <= LAST_DAY else None
    for pattern, order in ((ISO_DATE, (0, 1, 2)), (GERMAN_DATE, (2, 1, 0)), (GENERALIZED_TIME, (0, 1, 2))):
        match = pattern.fullmatch(value)
        if match:
            year, month, day = (int(match.group(i + 1)) for i in order)
            try:
                found = date(year, month, day)
            except ValueError:
                return None
            return found if FIRST_DAY <= found <= LAST_DAY else None
    return None


@dataclass(slots=True, eq=False)
class Known:
    """A person on the platform as the planning needs them: plain values, no ORM object (50,000 stay small)."""

    id: int
    email: str
    username: str
    first_name: str
    last_name: str
    employee_number: str | None
    start_date: date | None
    active: bool
    team_id: int | None
    roles: frozenset[Role] = frozenset()
    managed: frozenset[int] = frozenset()  # team ids

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    def has_role(self, role: Role) -> bool:
        return role in self.roles


def _known_people() -> list[Known]:
    """Everyone on the platform in three queries of plain columns."""
    roles: dict[int, set[Role]] = {}
    for user_id, role in db.session.execute(select(UserRole.user_id, UserRole.role)):
        roles.setdefault(user_id, set()).add(Role(role))
    managed: dict[int, set[int]] = {}
    for user_id, team_id in db.session.execute(select(team_manager.c.user_id, team_manager.c.team_id)):
        managed.setdefault(user_id, set()).add(team_id)
    rows = db.session.execute(select(User.id, User.email, User.username, User.first_name, User.last_name,
                                     User.employee_number, User.start_date, User.active, User.team_id))
    shared: dict[frozenset, frozenset] = {}  # the few distinct sets, once each (50,000 people stay small)
    return [Known(*row, roles=_same(shared, frozenset(roles.get(row[0], ()))),
                  managed=_same(shared, frozenset(managed.get(row[0], ())))) for row in rows]


def _same(shared: dict, value):
    """One object for equal values: ``value`` or the equal one seen before."""
    return shared.setdefault(value, value)


@dataclass(frozen=True)
class SyncProblem:
    """Why the directory's data cannot be synced: the entry's DN and a lazily translated reason."""

    dn: str
    message: object

    def describe(self) -> str:
        return f"{self.dn}: {self.message}"


@dataclass(slots=True)
class SyncChange:
    """What the sync does to one person (in the directory or known from it)."""

    outcome: str
    dn: str
    subject: str
    name: str
    email: str
    user: Known | None = field(default=None, repr=False)
    reasons: list = field(default_factory=list)
    values: dict[str, object] = field(default_factory=dict)
    team: TeamKey | None = None
    set_team: bool = False
    roles: frozenset[Role] | None = None
    manages: frozenset[TeamKey] | None = None
    missing_since: datetime | None = None  # the state to keep (MISSING, DEACTIVATED)
    missing_reason: str = ""
    state_changes: bool = False  # the remembered state changes although the person does not
    login: str = ""


@dataclass
class SyncPlan:
    """The checked directory and what syncing it changes; nothing written yet."""

    source: str
    now: datetime
    grace_days: int
    max_share: float
    problems: list[SyncProblem] = field(default_factory=list)
    changes: list[SyncChange] = field(default_factory=list)
    new_departments: dict[str, str] = field(default_factory=dict)
    new_teams: dict[TeamKey, tuple[str, str]] = field(default_factory=dict)
    departments: dict[str, Department] = field(default_factory=dict, repr=False)
    teams: dict[TeamKey, Team] = field(default_factory=dict, repr=False)
    states: dict[int, DirectorySyncState] = field(default_factory=dict, repr=False)
    active_people: int = 0
    stopped: object = None  # the safety stop's reason
    skipped: int = 0  # disabled entries nobody on the platform has
    unchanged: int = 0  # people with nothing to change, counted but not kept (50,000 stay small)
    applied: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems and self.stopped is None

    def count(self, outcome: str) -> int:
        kept = sum(1 for change in self.changes if change.outcome == outcome)
        return kept + (self.unchanged if outcome == UNCHANGED else 0)

    @property
    def counts(self) -> dict[str, int]:
        return {outcome: self.count(outcome) for outcome in OUTCOMES}

    def listed(self, limit: int) -> list[SyncChange]:
        """The first ``limit`` changes (not the unchanged people), most consequential outcomes first."""
        order = {outcome: n for n, outcome in enumerate(OUTCOMES)}
        shown = [c for c in self.changes if c.outcome != UNCHANGED or c.state_changes]
        return sorted(shown, key=lambda c: (order[c.outcome], c.name.casefold()))[:limit]

    @property
    def has_changes(self) -> bool:
        return bool(self.new_departments or self.new_teams) or any(
            c.outcome != UNCHANGED or c.state_changes for c in self.changes)

    def summary(self) -> str:
        """One English line for the audit log, the server log and the command line."""
        counts = self.counts
        text = ", ".join(f"{counts[outcome]} {outcome}" for outcome in OUTCOMES)
        if self.new_departments or self.new_teams:
            text += f"; {len(self.new_departments)} departments and {len(self.new_teams)} teams created"
        return f"{self.source}: {text}"


class _Planner:
    def __init__(self, plan: SyncPlan, mapping: Mapping, actor: User | None):
        self.plan, self.mapping, self.actor = plan, mapping, actor
        self.users = _known_people()
        self.by_id = {user.id: user for user in self.users}
        self.identities = dict(db.session.execute(select(ExternalIdentity.subject, ExternalIdentity.user_id)
                                                  .where(ExternalIdentity.source == LDAP)).all())
        plan.states = {s.user_id: s for s in db.session.scalars(select(DirectorySyncState))}
        departments = db.session.scalars(select(Department)).all()
        plan.departments = {d.name.casefold(): d for d in departments}
        names = {d.id: d.name.casefold() for d in departments}
        plan.teams = {(names[t.department_id], t.name.casefold()): t for t in db.session.scalars(select(Team))}
        self.team_keys = {t.id: key for key, t in plan.teams.items()}
        self.by_email = {u.email.lower(): u for u in self.users}
        self.by_number = {u.employee_number: u for u in self.users if u.employee_number}
        self.linked = set(self.identities.values())
        self.mapped_roles = mapping.mapped_roles()
        self.owned_roles = set(self.mapped_roles) | ({Role.MANAGER} if self.managers_synced else set())
        self.shared: dict = {}

    @property
    def managers_synced(self) -> bool:
        return bool(self.mapping.manager_attribute or self.mapping.manager_groups)

    def problem(self, person: DirectoryPerson, message) -> None:
        self.plan.problems.append(SyncProblem(person.dn, message))

    # One person's data ------------------------------------------------------------------------
    def from_groups(self, person: DirectoryPerson, groups: dict[str, str], several) -> str:
        """The one name the person's mapped groups give ("" for none); several names are a problem."""
        found = sorted({groups[g] for g in person.groups & groups.keys()})
        if len(found) > 1:
            self.problem(person, several % {"names": ", ".join(found)})
        return found[0] if found else ""

    def place(self, person: DirectoryPerson) -> tuple[str, str]:
        """The person's department and team names (groups, attribute or OU), checked."""
        department, team = person.department, person.team
        if self.mapping.department.source == "groups":
            department = self.from_groups(person, self.mapping.department.groups,
                                          _l("The person is in the groups of several departments: %(names)s."))
        if self.mapping.team.source == "groups":
            team = self.from_groups(person, self.mapping.team.groups,
                                    _l("The person is in the groups of several teams: %(names)s."))
            if "/" in team:
                department, _sep, team = (" ".join(part.split()) for part in team.partition("/"))
        if team and not department:
            self.problem(person, _l("The team “%(team)s” needs a department: the department is empty.", team=team))
        for value in (department, team):
            if len(value) > 120:
                self.problem(person, _l("“%(value)s” is longer than %(n)d characters.", value=value, n=120))
        return department, team

    def check(self, person: DirectoryPerson) -> dict[str, object] | None:
        """The platform's fields from the entry, or None after noting its problems."""
        before = len(self.plan.problems)
        texts = (person.first_name, person.last_name, person.email, person.employee_number, person.start_date,
                 person.department, person.team, person.login)
        if any(has_refused_characters(text) for text in texts):
            self.problem(person, _l("The entry contains characters that cannot be accepted (control characters or "
                                    "text-direction overrides)."))
            return None
        email = valid_email(person.email) if person.email else None
        if not person.email:
            self.problem(person, _l("The email address is missing."))
        elif email is None:
            self.problem(person, _l("“%(value)s” is not a valid email address.", value=person.email))
        if not person.first_name:
            self.problem(person, _l("The first name is missing."))
        if not person.last_name:
            self.problem(person, _l("The last name is missing."))
        for value in (person.first_name, person.last_name):
            if len(value) > 100:
                self.problem(person, _l("“%(value)s” is longer than %(n)d characters.", value=value, n=100))
        values: dict[str, object] = {"email": email, "first_name": person.first_name, "last_name": person.last_name}
        if self.mapping.employee_number:
            values["employee_number"] = person.employee_number or None
            if len(person.employee_number) > 40:
                self.problem(person, _l("The employee number is longer than %(n)d characters.", n=40))
        if self.mapping.start_date:
            values["start_date"] = parse_date(person.start_date) if person.start_date else None
            if person.start_date and values["start_date"] is None:
                self.problem(person, _l("“%(value)s” is not a valid date. Write it as YYYY-MM-DD or DD.MM.YYYY.",
                                        value=person.start_date))
        return values if len(self.plan.problems) == before else None

    def team_key(self, department: str, team: str) -> TeamKey | None:
        plan = self.plan
        if department and department.casefold() not in plan.departments:
            plan.new_departments.setdefault(department.casefold(), department)
        if not (department and team):
            return None
        key = _same(self.shared, (department.casefold(), team.casefold()))
        if key not in plan.teams and key not in plan.new_teams:
            existing = plan.departments.get(key[0])
            plan.new_teams[key] = (existing.name if existing else plan.new_departments[key[0]], team)
        return key

    # The whole directory ------------------------------------------------------------------------
    def run(self, people: Iterable[DirectoryPerson]) -> None:
        plan, mapping = self.plan, self.mapping
        seen: dict[str, DirectoryPerson] = {}
        seen_email: dict[str, str] = {}
        seen_number: dict[str, str] = {}
        present: list[tuple[DirectoryPerson, SyncChange]] = []
        gone: dict[int, str] = {}  # user id -> DISABLED / OUT_OF_SCOPE
        for person in sorted(people, key=lambda p: p.dn.lower()):
            if person.subject in seen:
                self.problem(person, _l("The entry has the same identifier as %(dn)s.", dn=seen[person.subject].dn))
                continue
            seen[person.subject] = person
            user = self.by_id.get(self.identities.get(person.subject))
            if person.disabled:
                if user is None:
                    plan.skipped += 1
                else:
                    gone[user.id] = DISABLED
                continue
            values = self.check(person)
            department, team = self.place(person)
            if values is None:
                continue
            email = values["email"]
            if email in seen_email:
                self.problem(person, _l("The email address %(email)s also belongs to %(dn)s.", email=email,
                                        dn=seen_email[email]))
            seen_email.setdefault(email, person.dn)
            holder = self.by_email.get(email)
            change = SyncChange(outcome=UNCHANGED, dn=person.dn, subject=person.subject, user=user, email=email,
                                name=f"{person.first_name} {person.last_name}", values=values, login=person.login)
            if holder is not None and holder is not user:
                if user is not None or holder.id in self.linked:
                    self.problem(person, _l("The email address %(email)s already belongs to another person (%(name)s).",
                                            email=email, name=holder.full_name))
                else:
                    change.outcome, change.user = WAITING, holder
                    change.reasons.append(_l("A local account has this email address: an administrator must confirm "
                                             "on the people page that both are the same person."))
            number = values.get("employee_number")
            if number:
                if number in seen_number:
                    self.problem(person, _l("The employee number %(value)s also belongs to %(dn)s.", value=number,
                                            dn=seen_number[number]))
                elif self.by_number.get(number) not in (None, user):
                    self.problem(person, _l("The employee number %(value)s already belongs to another person "
                                            "(%(email)s).", value=number, email=self.by_number[number].email))
                seen_number.setdefault(number, person.dn)
            if mapping.department.source:
                change.set_team = True
                change.team = self.team_key(department, team)
            roles = set(user.roles) if user is not None else {Role.EMPLOYEE}
            roles = (roles - self.owned_roles) | {role for role, groups in self.mapped_roles.items()
                                                  if person.groups & groups}
            change.roles = _same(self.shared, frozenset(roles | {Role.EMPLOYEE}))
            present.append((person, change))
        self.managers(present)
        for _person, change in present:
            self.outcome(change)
            if change.outcome == UNCHANGED and not change.state_changes:
                plan.unchanged += 1
            else:
                plan.changes.append(change)
        in_scope = {change.user.id for _person, change in present if change.user is not None}
        in_scope |= {self.identities[subject] for subject in seen if subject in self.identities}
        for user_id in sorted(self.linked - in_scope):
            gone.setdefault(user_id, OUT_OF_SCOPE)
        self.lifecycle(gone)
        self.safety()

    def managers(self, present: list[tuple[DirectoryPerson, SyncChange]]) -> None:
        """Who manages which team: the entry named by each person's manager attribute, and the manager groups."""
        if not self.managers_synced:
            return
        by_dn = {normal_dn(person.dn): change for person, change in present}
        manages: dict[int, set[TeamKey]] = defaultdict(set)

        def team_of(change: SyncChange) -> TeamKey | None:
            if change.set_team:
                return change.team
            user = change.user
            return self.team_keys.get(user.team_id) if user is not None and user.team_id else None

        for person, change in present:
            key = team_of(change)
            if key is None:
                continue
            if person.manager:
                manager = by_dn.get(person.manager)
                if manager is not None and manager is not change:
                    manages[id(manager)].add(key)
            if person.groups & self.mapping.manager_groups:
                manages[id(change)].add(key)
        for _person, change in present:
            change.manages = _same(self.shared, frozenset(manages.get(id(change), ())))
            roles = set(change.roles) - {Role.MANAGER}
            change.roles = _same(self.shared, frozenset(roles | ({Role.MANAGER} if change.manages else set())))

    def outcome(self, change: SyncChange) -> None:
        user = change.user
        if change.outcome == WAITING:
            return
        if user is None:
            change.outcome = CREATED
            change.reasons.append(NEW)
            return
        state = self.plan.states.get(user.id)
        if state is not None and state.missing_since is not None:
            change.state_changes = True
            change.reasons.append(BACK)
        if not user.active and state is not None and state.deactivated_by_sync:
            change.outcome = REACTIVATED
            change.reasons.append(REACTIVATED_REASON)
            return
        differs = [attribute for attribute, value in change.values.items() if getattr(user, attribute) != value]
        if change.set_team and (self.team_keys.get(user.team_id) if user.team_id else None) != change.team:
            differs.append("team")
        if change.roles is not None and change.roles != user.roles:
            differs.append("roles")
        if change.manages is not None and change.manages != {self.team_keys[t] for t in user.managed}:
            differs.append("manages")
        if differs:
            change.outcome = UPDATED
            labels = {"email": _l("email address"), "first_name": _l("first name"), "last_name": _l("last name"),
                      "employee_number": _l("employee number"), "start_date": _l("start date"), "team": _l("team"),
                      "roles": _l("roles"), "manages": _l("teams led")}
            change.reasons.append(_l("Changed: %(fields)s.", fields=", ".join(str(labels[d]) for d in differs)))

    def lifecycle(self, gone: dict[int, str]) -> None:
        """People the directory no longer has active: missing within the grace period, then deactivated."""
        plan = self.plan
        grace = timedelta(days=plan.grace_days)
        for user_id, reason in sorted(gone.items()):
            user = self.by_id[user_id]
            if not user.active:
                continue
            state = plan.states.get(user_id)
            since = state.missing_since if state is not None and state.missing_since is not None else plan.now
            change = SyncChange(outcome=MISSING, dn="", subject="", user=user, name=user.full_name, email=user.email,
                                missing_since=since, missing_reason=reason)
            why = (DISABLED_REASON if reason == DISABLED
                   else OUT_OF_SCOPE_REASON)
            change.reasons.append(why)
            if plan.now - since >= grace:
                if self.actor is not None and user.id == self.actor.id:
                    self.plan.problems.append(SyncProblem(user.email, _l(
                        "You would be deactivated: you are signed in as this person. Sign in as another "
                        "administrator or correct the directory.")))
                change.outcome = DEACTIVATED
            else:
                change.state_changes = state is None or state.missing_since is None or state.missing_reason != reason
                change.reasons.append(_l("Deactivated after the grace period, from %(date)s.",
                                         date=(since + grace).date().isoformat()))
            plan.changes.append(change)
        changes = {c.user.id: c for c in plan.changes if c.user is not None and c.outcome != WAITING}

        def admin_after(user: Known) -> bool:
            change = changes.get(user.id)
            if change is None or change.outcome == MISSING:
                return user.active and user.has_role(Role.ADMIN)
            return change.outcome != DEACTIVATED and (user.active or change.outcome == REACTIVATED) and (
                Role.ADMIN in (change.roles or ()))

        had_admin = any(u.active and u.has_role(Role.ADMIN) for u in self.users)
        if had_admin and not any(admin_after(u) for u in self.users) and not any(
                c.outcome == CREATED and Role.ADMIN in (c.roles or ()) for c in plan.changes):
            plan.problems.append(SyncProblem(plan.source, _l("After this sync no active administrator would remain.")))
        plan.active_people = sum(1 for u in self.users if u.active)

    def safety(self) -> None:
        plan = self.plan
        deactivated = plan.count(DEACTIVATED)
        if deactivated and deactivated > plan.max_share * plan.active_people:
            plan.stopped = _l(
                "Safety stop: this sync would deactivate %(num)d of %(active)d active people, more than the allowed "
                "%(share)s %%. Nothing was changed. Check the directory, the filter and the mapping; if the "
                "deactivations are right, raise the allowed share (LEARNING_DIRECTORY_MAX_DEACTIVATE_SHARE or "
                "max_deactivate_share in the mapping) for one run.", num=deactivated, active=plan.active_people,
                share=f"{plan.max_share * 100:g}")

    def usernames(self) -> None:
        """New people keep their directory login as user name where it is free and valid, else one is derived."""
        taken = {u.username.lower() for u in self.users}
        for change in self.plan.changes:
            if change.outcome != CREATED:
                continue
            login = change.login.lower()
            if login and USERNAME_RE.match(login) and login not in taken:
                taken.add(login)
                change.values["username"] = login
            else:
                change.values["username"] = derive_username(change.email, taken)


def plan_sync(people: Iterable[DirectoryPerson], mapping: Mapping, *, source: str, now: datetime, grace_days: int,
              max_share: float, actor: User | None = None) -> SyncPlan:
    """Check the directory's people and work out what syncing them changes; write nothing."""
    plan = SyncPlan(source=source, now=now, grace_days=grace_days, max_share=max_share)
    planner = _Planner(plan, mapping, actor)
    planner.run(people)
    planner.usernames()
    return plan
