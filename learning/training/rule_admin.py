"""The admin side of assignment rules: creating, changing and switching rules, and what the rule pages show.

Every change is checked here, then handed to the rule engine (``learning.training.rules``) at
once, so that the assignments follow in the same unit of work: the views wrap each change in
``unit_of_work()`` and put a refusal (``ServiceError``) on the form field it names.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date

from flask_babel import format_date, ngettext
from flask_babel import gettext as _
from sqlalchemy import and_, func, select
from sqlalchemy.orm import joinedload

from learning.audit.services import record
from learning.db import db
from learning.errors import ServiceError
from learning.org import audience
from learning.org.audience import AudienceKind, AudienceNames
from learning.org.models import Team, User
from learning.training.due import DueRule
from learning.training.models import Assignment, AssignmentRule, Course, Lesson, LessonCompletion
from learning.training.rules import RuleResult, assign_by_rules
from learning.training.services import Status, status_of

logger = logging.getLogger(__name__)


# Editing rules -------------------------------------------------------------------------


@dataclass
class RuleData:
    """What the rule form says."""

    course_id: int
    audience: str
    audience_values: list = field(default_factory=list)
    mandatory: bool = True
    due_rule: str | None = None


def _normalise(data: RuleData) -> RuleData:
    kind, values = audience.normalise(data.audience, data.audience_values,
                                      message=_("Please choose who gets the course."))
    due = (data.due_rule or "").strip()
    if due:
        try:
            due = str(DueRule.parse(due))
        except ValueError:
            raise ServiceError(due_rule_message(), "due_rule") from None
    return RuleData(course_id=int(data.course_id), audience=kind.value, audience_values=values,
                    mandatory=bool(data.mandatory), due_rule=due or None)


def due_rule_message() -> str:
    return _("Enter a date such as 2026-06-30, or start, golive or assigned followed by + or - and a number "
             "of days, such as start+14 or golive-7.")


def _check(data: RuleData) -> Course:
    course = db.session.get(Course, data.course_id)
    if course is None:
        raise ServiceError(_("Please choose a course."), "course_id")
    audience.check(data.audience, data.audience_values)
    phase_id = data.audience_values[0] if data.audience == AudienceKind.PHASE and data.audience_values else None
    phase_id = phase_id or course.phase_id
    if data.audience == AudienceKind.PHASE and phase_id is None:
        raise ServiceError(_("This course belongs to no rollout phase. Please choose one."), "phase_id")
    if data.due_rule and DueRule.parse(data.due_rule).anchor == "golive" and phase_id is None:
        raise ServiceError(_("This course belongs to no rollout phase, so there is no go-live date to count from."),
                           "due_rule")
    return course


def _details(rule: AssignmentRule, result: RuleResult) -> dict:
    return {"course_id": rule.course_id, "audience": rule.audience, "audience_values": rule.audience_values,
            "mandatory": rule.mandatory, "due_rule": rule.due_rule, "active": rule.active, **result.as_dict()}


def save_rule(rule: AssignmentRule | None, data: RuleData, actor: User | None,
              today: date) -> tuple[AssignmentRule, RuleResult]:
    """Create or change a rule and apply the rules at once (flushes; the caller's unit of work commits)."""
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
    db.session.flush()
    result = assign_by_rules(today)
    record(actor, "training.rule_created" if created else "training.rule_updated", rule,
           summary=f"{course.slug}: {data.audience}", **_details(rule, result))
    db.session.flush()
    logger.info("Assignment rule %s %s by %s: %s", rule.id, "created" if created else "updated",
                getattr(actor, "id", None), result.as_dict())
    return rule, result


def set_rule_active(rule: AssignmentRule, active: bool, actor: User | None, today: date) -> RuleResult:
    """Switch a rule off (withdrawing what no other rule gives) or on again (flushes)."""
    rule.active = active
    db.session.flush()
    result = assign_by_rules(today)
    record(actor, "training.rule_reactivated" if active else "training.rule_deactivated", rule,
           summary=f"{rule.course.slug}: {rule.audience}", **_details(rule, result))
    db.session.flush()
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


def describe_audience(rule: AssignmentRule, names: AudienceNames) -> str:
    """The audience of a rule in words, e.g. "Teams: Bürgerdienste / Bürgerbüro"; a phase audience without
    a phase of its own names the course's phase."""
    if rule.audience != AudienceKind.PHASE:
        return names.describe(rule.audience, rule.audience_values)
    values = audience.ints(rule.audience_values)
    phase_id = values[0] if values else rule.course.phase_id
    if phase_id is None:
        return _("Departments affected by the course's rollout phase (the course has none)")
    return names.describe(AudienceKind.PHASE, [phase_id])


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


def record_people_viewed(rule: AssignmentRule, viewer: User) -> None:
    """Audit a look at who a rule assigns (individual-level data); flushes."""
    record(viewer, "training.rule_people_viewed", rule,
           summary=f"{rule.course.slug}: people assigned by rule {rule.id}")
    db.session.flush()


def rule_people(rule: AssignmentRule, today: date) -> list[PersonRow]:
    """Who is assigned through a rule and how far they are (two queries); audit the look first."""
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

