"""Onboarding reminders (found by ``learning.messaging.reminders.discover``).

- ``onboarding.task_due``: a few days before a task is due, and on the day, to whoever does it.
- ``onboarding.task_overdue``: when a task is past its due date, repeated a few times.
- ``onboarding.buddy_missing``: once a week, to the managers of a new hire who starts soon (or has
  started) without a buddy.

Every planner and checker is one query. Who does a task is worked out in SQL the same way the pages
do it: the new hire, every active manager of their team, the buddy, and the named IT contact or,
without one, every active administrator. Done tasks, tasks whose course is completed, closed
journeys and deactivated people get no reminder. A course task is due when the new hire's
assignment of the course is (``task_due_on``); when that assignment has a due date, the training
reminders remind of it, so the task gets none of its own (one course, one date, one reminder).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import String, and_, cast, exists, or_, select, union_all
from sqlalchemy.orm import aliased

from learning.db import db
from learning.i18n import due_in_words
from learning.messaging.reminders import Entry, Pending, PlanContext, Planned, reminder_kind, week_key
from learning.onboarding.access import shows_in_navigation
from learning.onboarding.models import Journey, JourneyTask, OwnerRole, assignment_due_on
from learning.org.models import User, UserRole, team_manager
from learning.roles import Role
from learning.training.models import CourseCompletion

BUDDY_NOTICE_DAYS = 14  # managers hear about a missing buddy from two weeks before the start date

task_due = reminder_kind(
    "onboarding.task_due", label=_l("Onboarding task due"), order=20, applies_to=shows_in_navigation,
    description=_l("A few days before and on the day a task of yours for a new colleague (or for your own start) "
                   "is due."))
task_overdue = reminder_kind(
    "onboarding.task_overdue", label=_l("Onboarding task overdue"), order=21, applies_to=shows_in_navigation,
    lookback_days=lambda config: config["REMINDER_OVERDUE_EVERY_DAYS"] * config["REMINDER_OVERDUE_TIMES"] + 1,
    description=_l("When an onboarding task of yours is past its due date, repeated a few times."))
buddy_missing = reminder_kind(
    "onboarding.buddy_missing", label=_l("New colleague without a buddy"), order=22, lookback_days=8,
    applies_to=lambda user: user.has_role(Role.MANAGER),
    description=_l("For managers: once a week while a new colleague in one of their teams who starts soon has no "
                   "buddy."))


def _open_task_owners(*conditions):
    """(user_id, task id, due_on, title, owner_role, new hire's name) of every open task for each person doing it."""
    new_hire = aliased(User)
    owner = aliased(User)
    # Course tasks whose assignment has a due date are left out below, so the task's own date is the one.
    columns = (JourneyTask.id.label("task_id"), JourneyTask.due_on, JourneyTask.title, JourneyTask.owner_role,
               new_hire.first_name, new_hire.last_name)
    completed = exists().where(CourseCompletion.user_id == Journey.new_hire_id,
                               CourseCompletion.course_id == JourneyTask.course_id)

    def base(owner_id):
        return (select(owner_id.label("user_id"), *columns)
                .join(Journey, Journey.id == JourneyTask.journey_id)
                .join(new_hire, new_hire.id == Journey.new_hire_id)
                .where(Journey.closed_at.is_(None), new_hire.active, JourneyTask.done_at.is_(None),
                       or_(JourneyTask.course_id.is_(None), and_(~completed, assignment_due_on().is_(None))),
                       *conditions))

    role = JourneyTask.owner_role
    admins = select(UserRole.user_id).where(UserRole.role == Role.ADMIN.value)
    selects = [
        base(Journey.new_hire_id).where(role == OwnerRole.NEW_HIRE.value),
        base(Journey.buddy_id).where(role == OwnerRole.BUDDY.value, Journey.buddy_id.is_not(None)),
        base(Journey.it_contact_id).where(role == OwnerRole.IT.value, Journey.it_contact_id.is_not(None)),
        base(owner.id).join(owner, owner.id.in_(admins))
        .where(role == OwnerRole.IT.value, or_(Journey.it_contact_id.is_(None),
                                               Journey.it_contact_id.in_(select(User.id).where(~User.active)))),
        base(team_manager.c.user_id).join(team_manager, team_manager.c.team_id == new_hire.team_id)
        .where(role == OwnerRole.MANAGER.value, team_manager.c.user_id != Journey.new_hire_id),
    ]
    everyone = union_all(*selects).subquery()
    active = select(User.id).where(User.active)
    return select(everyone).where(everyone.c.user_id.in_(active))


def _payload(row) -> dict:
    return {"task_id": row.task_id, "due_on": row.due_on.isoformat()}


@task_due.planner
def plan_task_due(ctx: PlanContext) -> list[Planned]:
    days = ctx.config["REMINDER_DUE_SOON_DAYS"]
    rows = db.session.execute(_open_task_owners(
        JourneyTask.due_on >= ctx.today, JourneyTask.due_on <= ctx.today + timedelta(days=min(days, 3)))).all()
    planned = []
    for row in rows:
        when = "today" if row.due_on == ctx.today else "soon"
        planned.append(Planned(row.user_id, f"journey_task:{row.task_id}", f"{when}:{row.due_on.isoformat()}",
                               _payload(row)))
    return planned


def overdue_round(due_on: date, today: date, every: int) -> int:
    return ((today - due_on).days - 1) // every + 1


@task_overdue.planner
def plan_task_overdue(ctx: PlanContext) -> list[Planned]:
    every, times = ctx.config["REMINDER_OVERDUE_EVERY_DAYS"], ctx.config["REMINDER_OVERDUE_TIMES"]
    if not times:
        return []
    oldest = ctx.today - timedelta(days=every * times)
    rows = db.session.execute(_open_task_owners(JourneyTask.due_on < ctx.today, JourneyTask.due_on >= oldest)).all()
    planned = []
    for row in rows:
        round_ = overdue_round(row.due_on, ctx.today, every)
        if round_ <= times:
            planned.append(Planned(row.user_id, f"journey_task:{row.task_id}",
                                   f"overdue:{row.due_on.isoformat()}:{round_}", _payload(row)))
    return planned


def _task_id(item: Pending) -> int | None:
    prefix, _sep, value = item.subject_key.partition(":")
    return int(value) if prefix == "journey_task" and value.isdigit() else None


def _still_open(items: Sequence[Pending], ctx: PlanContext) -> dict[int, dict]:
    """Rows whose task is still open, still theirs and still due on the same day (one query)."""
    ids = {i for i in map(_task_id, items) if i is not None}
    if not ids:
        return {}
    current = {(r.user_id, r.task_id): r for r in db.session.execute(
        _open_task_owners(JourneyTask.id.in_(ids))).all()}
    result = {}
    for item in items:
        row = current.get((item.user_id, _task_id(item)))
        if row is None or row.due_on.isoformat() != item.payload.get("due_on"):
            continue
        result[item.id] = {"task_id": row.task_id, "title": row.title, "due_on": row.due_on.isoformat(),
                           "own": row.owner_role == OwnerRole.NEW_HIRE.value,
                           "new_hire": f"{row.first_name} {row.last_name}"}
    return result


task_due.checker(_still_open)
task_overdue.checker(_still_open)


def task_still_open(notification, today: date):
    """SQL: the notification's task is still open, in a journey that is not closed, due on the same day.

    Whose task it is is not re-checked here (the sender's checker does that before any mail).
    """
    details = notification.details
    completed = exists().where(CourseCompletion.user_id == Journey.new_hire_id,
                               CourseCompletion.course_id == JourneyTask.course_id)
    return (
        select(JourneyTask.id).join(Journey, Journey.id == JourneyTask.journey_id)
        .join(User, User.id == Journey.new_hire_id)
        .where(JourneyTask.id == details["task_id"].as_integer(), Journey.closed_at.is_(None), User.active,
               JourneyTask.done_at.is_(None),
               or_(JourneyTask.course_id.is_(None), and_(~completed, assignment_due_on().is_(None))),
               cast(JourneyTask.due_on, String) == details["due_on"].as_string())
        .exists())


task_due.shown_while(task_still_open)
task_overdue.shown_while(task_still_open)


def _describe(details: dict, today: date) -> Entry:
    due_on = date.fromisoformat(details["due_on"])
    when = _("Due on %(date)s (%(when)s).", date=format_date(due_on, "long"), when=due_in_words(due_on, today))
    if details.get("own"):
        return Entry(title=details["title"], detail=when, endpoint="onboarding.my_journey")
    return Entry(title=details["title"], detail=_("For %(name)s.", name=details["new_hire"]) + " " + when,
                 endpoint="onboarding.my_tasks")


task_due.describer(_describe)
task_overdue.describer(_describe)


# A missing buddy ------------------------------------------------------------------------------------


def _journeys_without_buddy(ctx: PlanContext, *conditions):
    new_hire = aliased(User)
    buddy = aliased(User)
    manager = aliased(User)
    return db.session.execute(
        select(team_manager.c.user_id.label("manager_id"), Journey.id, Journey.start_date, new_hire.first_name,
               new_hire.last_name)
        .join(new_hire, new_hire.id == Journey.new_hire_id)
        .join(team_manager, team_manager.c.team_id == new_hire.team_id)
        .join(manager, and_(manager.id == team_manager.c.user_id, manager.active))
        .outerjoin(buddy, buddy.id == Journey.buddy_id)
        .where(Journey.closed_at.is_(None), new_hire.active, or_(buddy.id.is_(None), buddy.active.is_(False)),
               Journey.start_date <= ctx.today + timedelta(days=BUDDY_NOTICE_DAYS),
               Journey.start_date >= ctx.today - timedelta(days=30), manager.id != new_hire.id, *conditions)
    ).all()


@buddy_missing.planner
def plan_buddy_missing(ctx: PlanContext) -> list[Planned]:
    period = week_key(ctx.today)
    return [Planned(row.manager_id, f"journey:{row.id}:buddy", period, {"journey_id": row.id})
            for row in _journeys_without_buddy(ctx)]


@buddy_missing.checker
def buddy_still_missing(items: Sequence[Pending], ctx: PlanContext) -> dict[int, dict]:
    ids = {item.payload.get("journey_id") for item in items}
    rows = {(r.manager_id, r.id): r for r in _journeys_without_buddy(ctx, Journey.id.in_(ids))}
    result = {}
    for item in items:
        row = rows.get((item.user_id, item.payload.get("journey_id")))
        if row is not None:
            result[item.id] = {"journey_id": row.id, "new_hire": f"{row.first_name} {row.last_name}",
                               "start_date": row.start_date.isoformat()}
    return result


@buddy_missing.shown_while
def buddy_still_missing_sql(notification, today: date):
    """SQL: the journey is still running and still has no (active) buddy."""
    buddy = aliased(User)
    return (
        select(Journey.id).outerjoin(buddy, buddy.id == Journey.buddy_id)
        .where(Journey.id == notification.details["journey_id"].as_integer(), Journey.closed_at.is_(None),
               or_(buddy.id.is_(None), buddy.active.is_(False)))
        .exists())


@buddy_missing.describer
def describe_buddy_missing(details: dict, today: date) -> Entry:
    start = date.fromisoformat(details["start_date"])
    return Entry(title=_("%(name)s has no buddy yet", name=details["new_hire"]),
                 detail=_("Start date: %(date)s. Please choose a colleague who helps in the first weeks.",
                          date=format_date(start, "long")),
                 endpoint="onboarding.journey", values={"journey_id": details["journey_id"]})
