"""Reading journeys: one journey as a participant sees it, the new hire's own, a manager's team, a buddy's.

Every read runs a fixed number of queries, whatever the number of journeys, tasks or people.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import aliased, joinedload, selectinload

from learning.db import db
from learning.errors import NotFound
from learning.onboarding.access import Involvement, involvement, managed_teams, moment_day
from learning.onboarding.models import Journey, JourneyStatus, JourneyTask, Stage
from learning.org.models import Team, User, team_manager
from learning.training.models import Assignment, CourseCompletion


@dataclass
class TaskItem:
    """A journey task as one person sees it."""

    task: JourneyTask
    journey: Journey
    done_on: date | None
    by_course: bool
    overdue: bool
    mine: bool
    can_tick: bool
    due_on: date  # the task's due date; for a course task, the new hire's assignment's (see ``task_due_on``)

    @property
    def done(self) -> bool:
        return self.done_on is not None


def task_item(task: JourneyTask, journey: Journey, course_done_at: datetime | None, today: date,
              who: Involvement | None, assignment_due: date | None = None) -> TaskItem:
    """One task as ``who`` sees it (``course_done_at``: when the linked course was completed, if it was)."""
    done_on = moment_day(task.done_at) or moment_day(course_done_at)
    due_on = assignment_due if task.course_id is not None and assignment_due is not None else task.due_on
    return TaskItem(
        task=task, journey=journey, done_on=done_on, by_course=task.done_at is None and course_done_at is not None,
        overdue=done_on is None and due_on < today, mine=bool(who and who.owns(task)),
        can_tick=bool(who and who.can_tick(task)) and not journey.is_closed, due_on=due_on,
    )


def _completions(pairs: set[tuple[int, int]]) -> dict[tuple[int, int], datetime]:
    """When each (person, course) among ``pairs`` was completed (one query, also when there are none)."""
    users = {user_id for user_id, _course in pairs}
    courses = {course_id for _user, course_id in pairs}
    rows = db.session.execute(
        select(CourseCompletion.user_id, CourseCompletion.course_id, CourseCompletion.completed_at)
        .where(CourseCompletion.user_id.in_(users), CourseCompletion.course_id.in_(courses))
    ).all()
    return {(row.user_id, row.course_id): row.completed_at for row in rows}


def _assignment_dues(pairs: set[tuple[int, int]]) -> dict[tuple[int, int], date]:
    """The due date of each (person, course) assignment among ``pairs`` that has one (one query)."""
    users = {user_id for user_id, _course in pairs}
    courses = {course_id for _user, course_id in pairs}
    rows = db.session.execute(
        select(Assignment.user_id, Assignment.course_id, Assignment.due_on)
        .where(Assignment.user_id.in_(users), Assignment.course_id.in_(courses), Assignment.due_on.is_not(None))
    ).all()
    return {(row.user_id, row.course_id): row.due_on for row in rows}


def task_items(journeys: list[Journey], today: date, who_of=None) -> dict[int, list[TaskItem]]:
    """The task items of loaded journeys (tasks loaded), by journey id; one query each for course completions
    and for the due dates of the courses' assignments."""
    pairs = {(j.new_hire_id, t.course_id) for j in journeys for t in j.tasks if t.course_id is not None}
    completed = _completions(pairs)
    dues = _assignment_dues(pairs)
    result = {}
    for journey in journeys:
        who = who_of(journey) if who_of else None
        result[journey.id] = [task_item(task, journey, completed.get((journey.new_hire_id, task.course_id)), today,
                                        who, dues.get((journey.new_hire_id, task.course_id)))
                              for task in journey.tasks]
    return result


def journey_status(journey: Journey, items: list[TaskItem]) -> JourneyStatus:
    if journey.is_closed:
        return JourneyStatus.CLOSED
    if all(item.done for item in items):
        return JourneyStatus.DONE
    if any(item.overdue for item in items):
        return JourneyStatus.BEHIND
    return JourneyStatus.ON_TRACK


def completed_on(items: list[TaskItem]) -> date | None:
    """The day the last task was done, if every task is done."""
    if not items or not all(item.done for item in items):
        return None
    return max(item.done_on for item in items)


@dataclass
class Progress:
    done: int
    total: int

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 100


def _progress(items: list[TaskItem]) -> Progress:
    return Progress(done=sum(1 for i in items if i.done), total=len(items))


@dataclass
class JourneyPage:
    """One journey as the viewer sees it: its tasks by stage, progress, contacts."""

    journey: Journey
    who: Involvement
    items: list[TaskItem]  # the tasks the viewer sees
    all_items: list[TaskItem]
    managers: list[User]
    today: date
    status: JourneyStatus = JourneyStatus.ON_TRACK

    @property
    def stages(self) -> list[tuple[Stage, list[TaskItem]]]:
        grouped: dict[Stage, list[TaskItem]] = defaultdict(list)
        for item in self.items:
            grouped[item.task.stage].append(item)
        return [(stage, grouped[stage]) for stage in Stage if grouped[stage]]

    @property
    def progress(self) -> Progress:
        return _progress(self.all_items)

    @property
    def own_progress(self) -> Progress:
        return _progress([i for i in self.items if i.mine])

    @property
    def next_items(self) -> list[TaskItem]:
        return [i for i in self.items if i.mine and not i.done][:3]

    @property
    def day(self) -> int:
        """Which working day it is: 1 on the start date; 0 or less before it."""
        return (self.today - self.journey.start_date).days + 1

    @property
    def needs_buddy(self) -> bool:
        buddy = self.journey.buddy
        return (buddy is None or not buddy.active) and not self.journey.is_closed


def journey_query():
    return select(Journey).options(
        joinedload(Journey.new_hire).joinedload(User.team).joinedload(Team.department),
        joinedload(Journey.buddy), joinedload(Journey.it_contact), joinedload(Journey.template),
        selectinload(Journey.tasks).joinedload(JourneyTask.course),
    )


def _managers_of(team_id: int | None) -> list[User]:
    if team_id is None:
        return []
    return list(db.session.scalars(
        select(User).join(team_manager, team_manager.c.user_id == User.id)
        .where(team_manager.c.team_id == team_id, User.active.is_(True)).order_by(User.last_name, User.first_name)
    ))


def _page(viewer: User, journey: Journey, today: date) -> JourneyPage:
    managers = _managers_of(journey.new_hire.team_id)
    who = involvement(viewer, journey, [m.id for m in managers])
    if not who.takes_part:
        raise NotFound(_("This onboarding journey does not exist."))
    all_items = task_items([journey], today, lambda j: who)[journey.id]
    page = JourneyPage(journey=journey, who=who, items=[i for i in all_items if who.sees(i.task)],
                       all_items=all_items, managers=managers, today=today)
    page.status = journey_status(journey, all_items)
    return page


def journey_page(viewer: User, journey_id: int, today: date) -> JourneyPage:
    """A journey the viewer takes part in; ``NotFound`` for anyone else."""
    journey = db.session.scalar(journey_query().where(Journey.id == journey_id))
    if journey is None:
        raise NotFound(_("This onboarding journey does not exist."))
    return _page(viewer, journey, today)


def my_journey(user: User, today: date) -> JourneyPage | None:
    """The person's own journey, if they have one that is not closed."""
    journey = db.session.scalar(journey_query().where(Journey.new_hire_id == user.id, Journey.closed_at.is_(None)))
    return _page(user, journey, today) if journey is not None else None


@dataclass
class JourneySummary:
    journey: Journey
    progress: Progress
    status: JourneyStatus
    overdue: int
    next_due: date | None


def _summaries(journeys: list[Journey], today: date) -> list[JourneySummary]:
    items = task_items(journeys, today)
    summaries = []
    for journey in journeys:
        own = items[journey.id]
        open_items = [i for i in own if not i.done]
        summaries.append(JourneySummary(
            journey=journey, progress=_progress(own), status=journey_status(journey, own),
            overdue=sum(1 for i in open_items if i.overdue),
            next_due=min((i.due_on for i in open_items), default=None),
        ))
    return summaries


def team_journeys(manager: User, today: date) -> list[JourneySummary]:
    """The journeys of new hires in the teams the person leads (three queries)."""
    new_hire = aliased(User)
    journeys = db.session.scalars(
        journey_query().join(new_hire, Journey.new_hire_id == new_hire.id)
        .where(Journey.closed_at.is_(None), new_hire.team_id.in_(managed_teams(manager.id)),
               Journey.new_hire_id != manager.id)
        .order_by(Journey.start_date.desc(), Journey.id)
    ).unique().all()
    return _summaries(list(journeys), today)


def buddy_journeys(buddy: User, today: date) -> list[Journey]:
    """Journeys in which the person is the buddy."""
    return list(db.session.scalars(
        select(Journey).where(Journey.buddy_id == buddy.id, Journey.closed_at.is_(None))
        .options(joinedload(Journey.new_hire)).order_by(Journey.start_date.desc())
    ))



def journey_of(user_id: int) -> Journey | None:
    """The person's journey (for the person's admin page), with its template."""
    return db.session.scalar(select(Journey).where(Journey.new_hire_id == user_id)
                             .options(joinedload(Journey.template)))
