"""The rule engine: turns the active assignment rules into assignments, idempotently.

``assign_by_rules`` is the one place that turns rules into assignments (it flushes; the caller's
unit of work commits); ``apply_rules`` runs it in a unit of work of its own for the
``flask courses assign`` command, the demo and the ``people_changed`` receiver (``receivers.py``). The rule pages
(``learning.training.rule_admin``) call it after changing a rule. It runs a fixed number of
statements whatever the number of people: everything is loaded in bulk, matched in Python
against the population (``learning.org.audience``), and written back with one INSERT, one
UPDATE, one DELETE and one marking UPDATE at most. Inserts go through ``INSERT ... ON CONFLICT
DO NOTHING`` on the UNIQUE(user_id, course_id) key, so two runs at the same time can never
create a duplicate.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import date

from sqlalchemy import bindparam, delete, select, union, update

from learning.db import db, unit_of_work, utcnow
from learning.messaging.reminders import Planned, announce_now
from learning.org.audience import AudienceKind, kind_of, matcher, population
from learning.org.models import User
from learning.phases.models import RolloutPhase, phase_department
from learning.training.due import DueRule
from learning.training.models import Assignment, AssignmentRule, Course, Lesson, LessonCompletion, QuizAttempt

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

    @property
    def audience_values(self) -> list:
        """The values as the audience module reads them: for a phase audience, the one phase meant."""
        if self.audience == AudienceKind.PHASE:
            return [self.phase_id] if self.phase_id is not None else []
        return list(self.values)


@dataclass
class _Wanted:
    """The strictest combination of every rule that gives one person one course."""

    rules: list[_Rule] = field(default_factory=list)

    def resolve(self, start_date: date | None, assigned: date,
                go_live: dict[int, date | None]) -> tuple[int, bool, date | None]:
        """(winning rule id, mandatory, due day): mandatory if any rule says so, the earliest due day."""
        options = []
        for rule in self.rules:
            due = None
            if rule.due is not None:
                due = rule.due.due_for(start=start_date, go_live=go_live.get(rule.phase_id),
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


def _load_start_dates(user_ids: set[int] | None) -> dict[int, date]:
    """The start dates of the active people (among ``user_ids``) that have one: the "start" anchor."""
    query = select(User.id, User.start_date).where(User.active.is_(True), User.start_date.is_not(None))
    if user_ids is not None:
        query = query.where(User.id.in_(user_ids))
    return dict(db.session.execute(query).all())


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


def _audience(rule: _Rule, people: list, departments_of_phase: dict[int, set[int]]) -> list[int]:
    """The ids of the active people a rule reaches."""
    if kind_of(rule.audience) is None:
        logger.warning("Assignment rule %s has an unknown audience %r; it reaches nobody", rule.id, rule.audience)
        return []
    reaches = matcher(rule.audience, rule.audience_values, departments_of_phase)
    return [person.user_id for person in people if reaches(person)]


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
        .returning(table.c.id, table.c.user_id, table.c.course_id, table.c.due_on)
    )


def insert_assignments(rows: list[dict]) -> int:
    """Insert assignments, skipping any (user, course) that exists already; return how many were new.

    Rows carry user_id, course_id, rule_id, mandatory, assigned_on, due_on. Safe against a
    concurrent run: the database, not this process, decides which row wins. Each new assignment
    is announced to its person at once (``announce_assignments``).
    """
    if not rows:
        return 0
    now = utcnow()
    params = [{"assigned_at": now, "started_at": None, "completed_at": None, "unmatched_since": None, **row}
              for row in rows]
    new = db.session.execute(_insert_statement(), params).all()
    announce_assignments(new)
    return len(new)


ASSIGNED_KIND = "training.assigned"  # the reminder kind (learning/training/reminders.py)


def assigned_reminder(assignment_id: int, user_id: int, course_id: int, due_on: date | None) -> Planned:
    """The reminder that announces one new assignment (at most once per assignment)."""
    return Planned(user_id, f"assignment:{assignment_id}", "assigned",
                   {"assignment_id": assignment_id, "course_id": course_id,
                    "due_on": due_on.isoformat() if due_on else None})


def announce_assignments(new) -> int:
    """Tell people about their new assignments (rows of id, user_id, course_id, due_on): in the
    notification centre at once, by mail with their next digest; in the caller's unit of work."""
    return announce_now(ASSIGNED_KIND, [assigned_reminder(r.id, r.user_id, r.course_id, r.due_on) for r in new],
                        utcnow())


def assign_by_rules(today: date, user_ids: set[int] | None = None) -> RuleResult:
    """Bring the assignments of everyone (or of ``user_ids``) in line with the active rules; flushes only."""
    result = RuleResult()
    if user_ids is not None:
        user_ids = {int(u) for u in user_ids}
        if not user_ids:
            return result
    rules = _load_rules()
    go_live, departments_of_phase = _load_phases()
    people = population(user_ids)
    start_dates = _load_start_dates(user_ids)
    existing = _load_assignments(user_ids)

    wanted: dict[tuple[int, int], _Wanted] = defaultdict(_Wanted)
    for rule in rules:
        for user_id in _audience(rule, people, departments_of_phase):
            wanted[(user_id, rule.course_id)].rules.append(rule)

    by_pair = {(a.user_id, a.course_id): a for a in existing}
    inserts, updates = [], []
    for pair, want in wanted.items():
        current = by_pair.get(pair)
        start_date = start_dates.get(pair[0])
        if current is None:
            rule_id, mandatory, due = want.resolve(start_date, today, go_live)
            inserts.append({"user_id": pair[0], "course_id": pair[1], "rule_id": rule_id, "mandatory": mandatory,
                            "assigned_on": today, "due_on": due})
            continue
        if current.rule_id is None or current.completed_at is not None:
            continue  # self-enrolled or completed: never touched
        rule_id, mandatory, due = want.resolve(start_date, current.assigned_on, go_live)
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
    """Apply the active rules to everyone (or only to ``user_ids``) in a unit of work (joining an open one)."""
    with unit_of_work():
        result = assign_by_rules(today, user_ids)
    if result.changed:
        logger.info("Assignment rules applied%s: %s",
                    "" if user_ids is None else f" to {len(user_ids)} people", result.as_dict())
    return result
