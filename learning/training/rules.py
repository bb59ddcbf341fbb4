"""Assignment rules: who gets which course, mandatory or not, due when; applied idempotently.

``apply_rules`` is the one place that turns rules into assignments. The rule pages, the
``flask courses assign`` command and the ``people_changed`` receiver all call it. It runs a
fixed number of statements whatever the number of people: everything is loaded in bulk,
compared in Python, and written back with one INSERT, one UPDATE, one DELETE and one
marking UPDATE at most. Inserts go through ``INSERT ... ON CONFLICT DO NOTHING`` on the
UNIQUE(user_id, course_id) key, so two runs at the same time can never create a duplicate.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import date

from flask_babel import format_date, get_locale, ngettext
from flask_babel import gettext as _
from sqlalchemy import and_, bindparam, delete, func, select, union, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import joinedload

from learning.audit.services import record
from learning.db import db, utcnow
from learning.i18n import local_today
from learning.org.models import ROLE_LABELS, Department, Role, Team, User, UserRole
from learning.org.signals import people_changed
from learning.phases.models import RolloutPhase, phase_department
from learning.training.due import DueRule
from learning.training.models import (
    Assignment,
    AssignmentRule,
    AudienceKind,
    Course,
    Lesson,
    LessonCompletion,
    QuizAttempt,
)
from learning.training.services import Status, status_of

logger = logging.getLogger(__name__)



@dataclass
class RuleResult:
    """What one application of the rules changed."""

    created: int = 0
    updated: int = 0  # due date, mandatory flag or source rule changed, or matched again
    withdrawn: int = 0  # deleted: no rule matches any more and the person had not started
    kept_unmatched: int = 0  # no rule matches any more, but kept because the person had started

    @property
    def changed(self) -> bool:
        return any(asdict(self).values())

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


# Applying the rules --------------------------------------------------------------------


@dataclass(frozen=True)
class _Rule:
    id: int
    course_id: int
    audience: str
    values: tuple
    mandatory: bool
    due: DueRule | None
    course_phase_id: int | None

    @property
    def phase_id(self) -> int | None:
        """The phase that gives the go-live anchor (and, for a phase audience, the departments)."""
        if self.audience == AudienceKind.PHASE and self.values:
            return _int_or_none(self.values[0])
        return self.course_phase_id


@dataclass(frozen=True)
class _Person:
    id: int
    active: bool
    start_date: date | None
    team_id: int | None
    department_id: int | None


@dataclass
class _Wanted:
    """The strictest combination of every rule that gives one person one course."""

    rules: list[_Rule] = field(default_factory=list)

    def resolve(self, person: _Person, assigned: date,
                go_live: dict[int, date | None]) -> tuple[int, bool, date | None]:
        """(winning rule id, mandatory, due day): mandatory if any rule says so, the earliest due day."""
        options = []
        for rule in self.rules:
            due = None
            if rule.due is not None:
                due = rule.due.due_for(start=person.start_date, go_live=go_live.get(rule.phase_id),
                                      assigned=assigned)
            options.append((not rule.mandatory, due is None, due or date.max, rule.id))
        best = min(options)
        mandatory = any(rule.mandatory for rule in self.rules)
        dues = [option[2] for option in options if not option[1]]
        return best[3], mandatory, min(dues) if dues else None


def _int_or_none(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _parse_due(rule_id: int, text: str | None) -> DueRule | None:
    if not text:
        return None
    try:
        return DueRule.parse(text)
    except ValueError:
        logger.warning("Assignment rule %s has an unreadable due rule %r; no due date", rule_id, text)
        return None


def _load_rules() -> list[_Rule]:
    rows = db.session.execute(
        select(AssignmentRule.id, AssignmentRule.course_id, AssignmentRule.audience, AssignmentRule.audience_values,
               AssignmentRule.mandatory, AssignmentRule.due_rule, Course.phase_id)
        .join(Course, AssignmentRule.course_id == Course.id)
        .where(AssignmentRule.active.is_(True), Course.archived_at.is_(None))
        .order_by(AssignmentRule.id)
    ).all()
    return [
        _Rule(id=r.id, course_id=r.course_id, audience=r.audience, values=tuple(r.audience_values or ()),
              mandatory=r.mandatory, due=_parse_due(r.id, r.due_rule), course_phase_id=r.phase_id)
        for r in rows
    ]


def _load_phases() -> tuple[dict[int, date | None], dict[int, set[int]]]:
    go_live: dict[int, date | None] = {}
    departments: dict[int, set[int]] = defaultdict(set)
    rows = db.session.execute(
        select(RolloutPhase.id, RolloutPhase.go_live, phase_department.c.department_id)
        .outerjoin(phase_department, phase_department.c.phase_id == RolloutPhase.id)
    ).all()
    for phase_id, phase_go_live, department_id in rows:
        go_live[phase_id] = phase_go_live
        if department_id is not None:
            departments[phase_id].add(department_id)
    return go_live, departments


def _load_people(user_ids: set[int] | None) -> dict[int, _Person]:
    query = select(User.id, User.active, User.start_date, User.team_id, Team.department_id).outerjoin(
        Team, User.team_id == Team.id
    )
    if user_ids is not None:
        query = query.where(User.id.in_(user_ids))
    return {
        row.id: _Person(id=row.id, active=row.active, start_date=row.start_date, team_id=row.team_id,
                        department_id=row.department_id)
        for row in db.session.execute(query)
    }


def _load_roles(user_ids: set[int] | None) -> dict[str, set[int]]:
    query = select(UserRole.user_id, UserRole.role)
    if user_ids is not None:
        query = query.where(UserRole.user_id.in_(user_ids))
    by_role: dict[str, set[int]] = defaultdict(set)
    for user_id, role in db.session.execute(query):
        by_role[role].add(user_id)
    return by_role


def _load_assignments(user_ids: set[int] | None) -> list:
    query = select(
        Assignment.id, Assignment.user_id, Assignment.course_id, Assignment.rule_id, Assignment.mandatory,
        Assignment.assigned_on, Assignment.due_on, Assignment.started_at, Assignment.completed_at,
        Assignment.unmatched_since,
    )
    if user_ids is not None:
        query = query.where(Assignment.user_id.in_(user_ids))
    return db.session.execute(query).all()


def _with_progress(pairs: set[tuple[int, int]]) -> set[tuple[int, int]]:
    """The (user, course) pairs among ``pairs`` with a finished lesson or a quiz attempt."""
    if not pairs:
        return set()
    users = {user_id for user_id, _course in pairs}
    courses = {course_id for _user, course_id in pairs}
    lessons = (
        select(LessonCompletion.user_id, Lesson.course_id)
        .join(Lesson, LessonCompletion.lesson_id == Lesson.id)
        .where(LessonCompletion.user_id.in_(users), Lesson.course_id.in_(courses))
    )
    quizzes = select(QuizAttempt.user_id, QuizAttempt.course_id).where(
        QuizAttempt.user_id.in_(users), QuizAttempt.course_id.in_(courses)
    )
    return {(row[0], row[1]) for row in db.session.execute(union(lessons, quizzes))} & pairs


def _audience(rule: _Rule, people: dict[int, _Person], roles: dict[str, set[int]],
              phase_departments: dict[int, set[int]]) -> set[int]:
    """The active people a rule reaches."""
    active = [p for p in people.values() if p.active]
    if rule.audience == AudienceKind.EVERYONE:
        return {p.id for p in active}
    if rule.audience == AudienceKind.DEPARTMENTS:
        wanted = {_int_or_none(v) for v in rule.values}
        return {p.id for p in active if p.department_id is not None and p.department_id in wanted}
    if rule.audience == AudienceKind.TEAMS:
        wanted = {_int_or_none(v) for v in rule.values}
        return {p.id for p in active if p.team_id is not None and p.team_id in wanted}
    if rule.audience == AudienceKind.ROLES:
        reached = set().union(*(roles.get(str(v), set()) for v in rule.values)) if rule.values else set()
        return {p.id for p in active if p.id in reached}
    if rule.audience == AudienceKind.PHASE:
        wanted = phase_departments.get(rule.phase_id, set()) if rule.phase_id is not None else set()
        return {p.id for p in active if p.department_id is not None and p.department_id in wanted}
    logger.warning("Assignment rule %s has an unknown audience %r; it reaches nobody", rule.id, rule.audience)
    return set()


def _insert_statement():
    """INSERT ... ON CONFLICT (user_id, course_id) DO NOTHING in the dialect of the database."""
    if db.engine.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    table = Assignment.__table__
    return (
        insert(table)
        .on_conflict_do_nothing(index_elements=[table.c.user_id, table.c.course_id])
        .returning(table.c.id)
    )


def insert_assignments(rows: list[dict]) -> int:
    """Insert assignments, skipping any (user, course) that exists already; return how many were new.

    Rows carry user_id, course_id, rule_id, mandatory, assigned_on, due_on. Safe against a
    concurrent run: the database, not this process, decides which row wins.
    """
    if not rows:
        return 0
    now = utcnow()
    params = [{"assigned_at": now, "started_at": None, "completed_at": None, "unmatched_since": None, **row}
              for row in rows]
    return len(db.session.execute(_insert_statement(), params).all())


def _apply(today: date, user_ids: set[int] | None = None) -> RuleResult:
    """Bring the assignments in line with the rules, without committing."""
    result = RuleResult()
    if user_ids is not None:
        user_ids = {int(u) for u in user_ids}
        if not user_ids:
            return result
    rules = _load_rules()
    go_live, phase_departments = _load_phases()
    people = _load_people(user_ids)
    roles = _load_roles(user_ids) if any(r.audience == AudienceKind.ROLES for r in rules) else {}
    existing = _load_assignments(user_ids)

    wanted: dict[tuple[int, int], _Wanted] = defaultdict(_Wanted)
    for rule in rules:
        for user_id in _audience(rule, people, roles, phase_departments):
            wanted[(user_id, rule.course_id)].rules.append(rule)

    by_pair = {(a.user_id, a.course_id): a for a in existing}
    inserts, updates = [], []
    for pair, want in wanted.items():
        current = by_pair.get(pair)
        person = people[pair[0]]
        if current is None:
            rule_id, mandatory, due = want.resolve(person, today, go_live)
            inserts.append({"user_id": pair[0], "course_id": pair[1], "rule_id": rule_id, "mandatory": mandatory,
                            "assigned_on": today, "due_on": due})
            continue
        if current.rule_id is None or current.completed_at is not None:
            continue  # self-enrolled or completed: never touched
        rule_id, mandatory, due = want.resolve(person, current.assigned_on, go_live)
        if (rule_id, mandatory, due, None) != (current.rule_id, current.mandatory, current.due_on,
                                               current.unmatched_since):
            updates.append({"b_id": current.id, "b_rule_id": rule_id, "b_mandatory": mandatory, "b_due_on": due})

    # Rule-based, open assignments no rule gives any more (including everything of deactivated people).
    orphans = [a for a in existing
               if a.rule_id is not None and a.completed_at is None and (a.user_id, a.course_id) not in wanted]
    progressed = _with_progress({(a.user_id, a.course_id) for a in orphans if a.started_at is None})
    withdraw = {a.id for a in orphans if a.started_at is None and (a.user_id, a.course_id) not in progressed}
    unmatched = [a.id for a in orphans if a.id not in withdraw and a.unmatched_since is None]

    result.created = insert_assignments(inserts)
    table = Assignment.__table__
    if updates:
        # Guarded by completed_at: a course finished since we looked keeps its row as it is.
        db.session.execute(
            update(table)
            .where(table.c.id == bindparam("b_id"), table.c.completed_at.is_(None))
            .values(rule_id=bindparam("b_rule_id"), mandatory=bindparam("b_mandatory"),
                    due_on=bindparam("b_due_on"), unmatched_since=None),
            updates,
        )
        result.updated = len(updates)
    for ids in _chunks(sorted(withdraw)):
        # Guarded again: a person who started in the meantime keeps the assignment.
        outcome = db.session.execute(
            delete(table).where(table.c.id.in_(ids), table.c.started_at.is_(None), table.c.completed_at.is_(None))
        )
        result.withdrawn += outcome.rowcount
    now = utcnow()
    for ids in _chunks(unmatched):
        db.session.execute(update(table).where(table.c.id.in_(ids)).values(unmatched_since=now))
        result.kept_unmatched += len(ids)
    return result


def _chunks(ids: list[int], size: int = 5000):
    """Split long id lists: SQLite allows at most 32766 bound parameters per statement."""
    for start in range(0, len(ids), size):
        yield ids[start:start + size]


def apply_rules(today: date, user_ids: set[int] | None = None) -> RuleResult:
    """Apply the active rules to everyone (or only to ``user_ids``) and commit once."""
    try:
        result = _apply(today, user_ids)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    if result.changed:
        logger.info("Assignment rules applied%s: %s",
                    "" if user_ids is None else f" to {len(user_ids)} people", result.as_dict())
    return result


def _on_people_changed(sender, user_ids=(), **extra) -> None:
    """Assign (or withdraw) courses as soon as people are created, changed or deactivated."""
    if not user_ids:
        return
    try:
        apply_rules(local_today(), set(user_ids))
    except SQLAlchemyError:
        # The change to the people is committed already; the next run of the rules catches up.
        logger.exception("Applying the assignment rules to people %s failed", sorted(user_ids))


# Connected at import time: the training views import this module, and create_app imports them.
people_changed.connect(_on_people_changed)


# Editing rules -------------------------------------------------------------------------


class RuleError(Exception):
    """A rule was refused; ``field`` names the form field at fault."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


@dataclass
class RuleData:
    """What the rule form says."""

    course_id: int
    audience: str
    audience_values: list = field(default_factory=list)
    mandatory: bool = True
    due_rule: str | None = None


def _normalise(data: RuleData) -> RuleData:
    try:
        audience = AudienceKind(data.audience)
    except ValueError:
        raise RuleError(_("Please choose who gets the course."), "audience") from None
    values = data.audience_values or []
    if audience in (AudienceKind.DEPARTMENTS, AudienceKind.TEAMS):
        values = sorted({int(v) for v in values})
    elif audience == AudienceKind.ROLES:
        values = sorted({Role(v).value for v in values})
    elif audience == AudienceKind.PHASE:
        values = [int(values[0])] if values and values[0] not in (None, "") else []
    else:
        values = []
    due = (data.due_rule or "").strip()
    if due:
        try:
            due = str(DueRule.parse(due))
        except ValueError:
            raise RuleError(due_rule_message(), "due_rule") from None
    return RuleData(course_id=int(data.course_id), audience=audience.value, audience_values=values,
                    mandatory=bool(data.mandatory), due_rule=due or None)


def due_rule_message() -> str:
    return _("Enter a date such as 2026-06-30, or start, golive or assigned followed by + or - and a number "
             "of days, such as start+14 or golive-7.")


def _check(data: RuleData) -> Course:
    course = db.session.get(Course, data.course_id)
    if course is None:
        raise RuleError(_("Please choose a course."), "course_id")
    required = {
        AudienceKind.DEPARTMENTS: (_("Please choose at least one department."), "department_ids"),
        AudienceKind.TEAMS: (_("Please choose at least one team."), "team_ids"),
        AudienceKind.ROLES: (_("Please choose at least one role."), "roles"),
    }
    if data.audience in required and not data.audience_values:
        raise RuleError(*required[AudienceKind(data.audience)])
    phase_id = data.audience_values[0] if data.audience == AudienceKind.PHASE and data.audience_values else None
    if phase_id is not None and db.session.get(RolloutPhase, phase_id) is None:
        raise RuleError(_("Please choose a rollout phase."), "phase_id")
    phase_id = phase_id or course.phase_id
    if data.audience == AudienceKind.PHASE and phase_id is None:
        raise RuleError(_("This course belongs to no rollout phase. Please choose one."), "phase_id")
    if data.due_rule and DueRule.parse(data.due_rule).anchor == "golive" and phase_id is None:
        raise RuleError(_("This course belongs to no rollout phase, so there is no go-live date to count from."),
                        "due_rule")
    return course


def _details(rule: AssignmentRule, result: RuleResult) -> dict:
    return {"course_id": rule.course_id, "audience": rule.audience, "audience_values": rule.audience_values,
            "mandatory": rule.mandatory, "due_rule": rule.due_rule, "active": rule.active, **result.as_dict()}


def save_rule(rule: AssignmentRule | None, data: RuleData, actor: User | None,
              today: date) -> tuple[AssignmentRule, RuleResult]:
    """Create or change a rule and apply the rules at once; one commit for both."""
    data = _normalise(data)
    course = _check(data)
    created = rule is None
    if rule is None:
        rule = AssignmentRule(created_by_id=getattr(actor, "id", None), active=True)
        db.session.add(rule)
    rule.course_id = course.id
    rule.audience = data.audience
    rule.audience_values = data.audience_values
    rule.mandatory = data.mandatory
    rule.due_rule = data.due_rule
    try:
        db.session.flush()
        result = _apply(today)
        record(actor, "training.rule_created" if created else "training.rule_updated", rule,
               summary=f"{course.slug}: {data.audience}", **_details(rule, result))
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    logger.info("Assignment rule %s %s by %s: %s", rule.id, "created" if created else "updated",
                getattr(actor, "id", None), result.as_dict())
    return rule, result


def set_rule_active(rule: AssignmentRule, active: bool, actor: User | None, today: date) -> RuleResult:
    """Switch a rule off (withdrawing what no other rule gives) or on again; one commit."""
    rule.active = active
    try:
        db.session.flush()
        result = _apply(today)
        record(actor, "training.rule_reactivated" if active else "training.rule_deactivated", rule,
               summary=f"{rule.course.slug}: {rule.audience}", **_details(rule, result))
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    logger.info("Assignment rule %s %s by %s: %s", rule.id, "reactivated" if active else "deactivated",
                getattr(actor, "id", None), result.as_dict())
    return result


# Reading rules -------------------------------------------------------------------------


@dataclass(frozen=True)
class RuleCounts:
    assigned: int = 0
    completed: int = 0

    @property
    def percent(self) -> int | None:
        return round(100 * self.completed / self.assigned) if self.assigned else None


def rule_summary() -> dict[int, RuleCounts]:
    """Per rule id: people assigned through it and how many of them completed (one GROUP BY)."""
    rows = db.session.execute(
        select(Assignment.rule_id, func.count(Assignment.id), func.count(Assignment.completed_at))
        # Only the rule's current course: after a rule moved to another course, kept rows of the old one
        # still name the rule but are not its assignments any more.
        .join(AssignmentRule, and_(AssignmentRule.id == Assignment.rule_id,
                                   AssignmentRule.course_id == Assignment.course_id))
        .group_by(Assignment.rule_id)
    ).all()
    return {rule_id: RuleCounts(assigned=assigned, completed=completed) for rule_id, assigned, completed in rows}


def list_rules() -> list[AssignmentRule]:
    """Every rule with its course, active ones first."""
    return list(db.session.scalars(
        select(AssignmentRule).join(AssignmentRule.course).options(joinedload(AssignmentRule.course))
        .order_by(AssignmentRule.active.desc(), Course.title, AssignmentRule.id)
    ))


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

    def describe(self, rule: AssignmentRule) -> str:
        """The audience of a rule in words, e.g. "Teams: Bürgerdienste / Bürgerbüro"."""
        values = rule.audience_values or []
        unknown = _("(deleted)")
        if rule.audience == AudienceKind.EVERYONE:
            return _("Everyone")
        if rule.audience == AudienceKind.DEPARTMENTS:
            names = sorted(self.departments.get(_int_or_none(v), unknown) for v in values)
            return _("Departments: %(names)s", names=", ".join(names))
        if rule.audience == AudienceKind.TEAMS:
            names = sorted(self.teams.get(_int_or_none(v), unknown) for v in values)
            return _("Teams: %(names)s", names=", ".join(names))
        if rule.audience == AudienceKind.ROLES:
            labels = [str(ROLE_LABELS[Role(v)]) if v in {r.value for r in Role} else str(v) for v in values]
            return _("Roles: %(names)s", names=", ".join(sorted(labels)))
        if rule.audience == AudienceKind.PHASE:
            phase_id = _int_or_none(values[0]) if values else rule.course.phase_id
            if phase_id is None:
                return _("Departments affected by the course's rollout phase (the course has none)")
            return _("Departments affected by the rollout phase %(phase)s",
                     phase=self.phases.get(phase_id, unknown))
        return str(rule.audience)


def describe_due(text: str | None) -> str:
    """A due rule in words, e.g. "14 days after the start date"."""
    if not text:
        return _("No due date")
    try:
        due = DueRule.parse(text)
    except ValueError:
        return text
    if due.fixed is not None:
        return _("By %(date)s", date=format_date(due.fixed, "medium"))
    days = abs(due.days)
    if due.anchor == "start":
        if due.days == 0:
            return _("On the start date")
        if due.days > 0:
            return ngettext("%(num)d day after the start date", "%(num)d days after the start date", days)
        return ngettext("%(num)d day before the start date", "%(num)d days before the start date", days)
    if due.anchor == "golive":
        if due.days == 0:
            return _("On the go-live date")
        if due.days > 0:
            return ngettext("%(num)d day after go-live", "%(num)d days after go-live", days)
        return ngettext("%(num)d day before go-live", "%(num)d days before go-live", days)
    if due.days == 0:
        return _("On the day of assignment")
    if due.days > 0:
        return ngettext("%(num)d day after assignment", "%(num)d days after assignment", days)
    return ngettext("%(num)d day before assignment", "%(num)d days before assignment", days)


@dataclass(frozen=True)
class PersonRow:
    user: User
    assignment: Assignment
    status: str


def rule_people(rule: AssignmentRule, viewer: User, today: date) -> list[PersonRow]:
    """Who is assigned through a rule and how far they are; the view is individual-level data, so audited."""
    # Audited first: committing later would expire the rows loaded for the page.
    record(viewer, "training.rule_people_viewed", rule,
           summary=f"{rule.course.slug}: people assigned by rule {rule.id}")
    db.session.commit()
    assignments = db.session.scalars(
        select(Assignment).join(Assignment.user)
        .where(Assignment.rule_id == rule.id, Assignment.course_id == rule.course_id)
        .options(joinedload(Assignment.user).joinedload(User.team).joinedload(Team.department))
        .order_by(User.last_name, User.first_name, User.id)
    ).all()
    progressed = set(db.session.scalars(
        select(LessonCompletion.user_id).distinct().join(Lesson, LessonCompletion.lesson_id == Lesson.id)
        .where(Lesson.course_id == rule.course_id,
               LessonCompletion.user_id.in_(select(Assignment.user_id).where(Assignment.rule_id == rule.id)))
    ))
    rows = []
    for assignment in assignments:
        status = status_of(assignment, None, done_lessons=0, today=today,
                           started=assignment.user_id in progressed)
        rows.append(PersonRow(user=assignment.user, assignment=assignment, status=status))
    return rows


def status_counts(rows: list[PersonRow]) -> dict[str, int]:
    counts = dict.fromkeys(Status, 0)
    for row in rows:
        counts[row.status] += 1
    return counts

