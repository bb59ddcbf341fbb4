"""Use cases of onboarding: templates, journeys, tasks, and who takes part in what.

Each service validates, changes and commits once; a refusal raises an ``OnboardingError`` whose
message can be shown to the person. Every read runs a fixed number of queries, whatever the
number of journeys, tasks or people.

Who takes part in a journey: the new hire, every manager of the new hire's team, the buddy, and
IT/administration (the template's named contact, else every administrator). The new hire, their
managers (if the privacy setting allows it) and administrators see the whole journey; the buddy
and a named IT contact see their own tasks. The project group sees figures only.
"""

from __future__ import annotations

import functools
import logging
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app, g, has_request_context
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from sqlalchemy import and_, bindparam, case, exists, false, func, or_, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import aliased, joinedload, selectinload

from learning.audit.services import record
from learning.content import complexity_message, too_complex
from learning.db import db, utcnow
from learning.guards import FIRST_DAY, LAST_DAY, day_in_range
from learning.home.panels import home_panel
from learning.i18n import local_today
from learning.messaging.mail import MailError, absolute_url, send_mail
from learning.onboarding.models import (
    CLOSED_DEACTIVATED,
    DESCRIPTION_MAX,
    JOURNEY_WINDOW_DAYS,
    NAME_MAX,
    OFFSET_MAX,
    OFFSET_MIN,
    TITLE_MAX,
    Journey,
    JourneyStatus,
    JourneyTask,
    JourneyTemplate,
    JourneyTemplateTask,
    JourneyTemplateVersion,
    OwnerRole,
    Stage,
    assignment_due_on,
    task_due_on,
)
from learning.org.models import Department, Role, Team, User, team_manager
from learning.org.signals import people_changed
from learning.pagination import Page, paginate
from learning.training.models import Assignment, Course, CourseCompletion

logger = logging.getLogger(__name__)

TASKS_PER_PAGE = 50
# Completed journeys count towards "done" and the average duration for this many days.
DONE_WINDOW_DAYS = 365
# Someone in their own first 100 days is not suggested as a buddy.
OWN_ONBOARDING_DAYS = 100


class OnboardingError(Exception):
    """An action was refused; the message says why, in the person's language."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class NotFound(OnboardingError):
    """The journey, task or template does not exist or the person may not see it (shown as 404)."""


class NotAllowed(OnboardingError):
    """The person sees the task but may not change it."""


def _moment_day(value: datetime | None) -> date | None:
    """The organisation's calendar day of a stored UTC time."""
    if value is None:
        return None
    return value.astimezone(ZoneInfo(current_app.config["TIMEZONE"])).date()


def is_programme(user) -> bool:
    """The project group and administrators maintain templates and read the overview."""
    return bool(getattr(user, "is_authenticated", False)) and user.has_role(Role.PROJECT_GROUP, Role.ADMIN)


def managers_see_journeys() -> bool:
    """Whether managers see the whole journey of their new hires (a privacy setting), else their own tasks."""
    from learning.settings.services import setting

    try:
        return bool(setting("managers.onboarding_individuals"))
    except KeyError:  # a platform without the setting: the documented default
        return True


# Who takes part -----------------------------------------------------------------------------


def _managed_teams(user_id: int):
    return select(team_manager.c.team_id).where(team_manager.c.user_id == user_id)


def _administrators_do_it():
    """SQL: the journey has no (active) named IT contact, so every administrator does the IT tasks."""
    inactive = select(User.id).where(User.active.is_(False))
    return or_(Journey.it_contact_id.is_(None), Journey.it_contact_id.in_(inactive))


def _taking_part(user_id, new_hire):
    """SQL: the journeys (joined with their new hire as ``new_hire``) that the person takes part in.

    Administrators and the project group take part in every journey; callers handle them first.
    """
    return or_(Journey.new_hire_id == user_id, Journey.buddy_id == user_id, Journey.it_contact_id == user_id,
               new_hire.team_id.in_(_managed_teams(user_id)))


def _owned_by(user: User, new_hire):
    """SQL: the tasks (joined with journey and new hire) whose owner is ``user``."""
    clauses = [
        and_(JourneyTask.owner_role == OwnerRole.NEW_HIRE.value, Journey.new_hire_id == user.id),
        and_(JourneyTask.owner_role == OwnerRole.MANAGER.value, new_hire.team_id.in_(_managed_teams(user.id))),
        and_(JourneyTask.owner_role == OwnerRole.BUDDY.value, Journey.buddy_id == user.id),
        and_(JourneyTask.owner_role == OwnerRole.IT.value, Journey.it_contact_id == user.id),
    ]
    if user.has_role(Role.ADMIN):
        clauses.append(and_(JourneyTask.owner_role == OwnerRole.IT.value, _administrators_do_it()))
    return or_(*clauses)


def _course_done_at():
    """SQL: when the journey's new hire completed the task's course (NULL if not, or no course)."""
    return (
        select(CourseCompletion.completed_at)
        .where(CourseCompletion.user_id == Journey.new_hire_id, CourseCompletion.course_id == JourneyTask.course_id)
        .correlate(Journey, JourneyTask).limit(1).scalar_subquery()
    )


def _task_done():
    """SQL: the task is ticked or its course is completed."""
    completed = exists().where(CourseCompletion.user_id == Journey.new_hire_id,
                               CourseCompletion.course_id == JourneyTask.course_id)
    return or_(JourneyTask.done_at.is_not(None), and_(JourneyTask.course_id.is_not(None), completed))


def shows_in_navigation(user) -> bool:
    """Whether the onboarding item belongs in the user's navigation (one query at most per request)."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.has_role(Role.PROJECT_GROUP, Role.ADMIN):
        return True
    cache = g.setdefault("onboarding_navigation", {}) if has_request_context() else {}
    if user.id not in cache:
        recent = local_today() - timedelta(days=DONE_WINDOW_DAYS)
        cache[user.id] = bool(db.session.scalar(_navigation_statement(), {"user_id": user.id, "recent": recent}))
    return cache[user.id]


@functools.cache
def _navigation_statement():
    """Built once: it runs on every page, and building it cost more than running it (measured 1.7 ms)."""
    new_hire = aliased(User)
    has_open_task = exists().where(JourneyTask.journey_id == Journey.id, JourneyTask.done_at.is_(None),
                                   JourneyTask.course_id.is_(None))
    return select(exists().where(Journey.new_hire_id == new_hire.id, Journey.closed_at.is_(None),
                                 or_(Journey.start_date >= bindparam("recent"), has_open_task),
                                 _taking_part(bindparam("user_id"), new_hire)))


@dataclass
class Involvement:
    """How one person takes part in one journey."""

    user_id: int
    new_hire: bool = False
    manager: bool = False
    buddy: bool = False
    it: bool = False
    admin: bool = False
    managers_see_all: bool = True

    @property
    def takes_part(self) -> bool:
        return self.new_hire or self.manager or self.buddy or self.it or self.admin

    @property
    def sees_all(self) -> bool:
        return self.new_hire or self.admin or (self.manager and self.managers_see_all)

    @property
    def manages(self) -> bool:
        """May choose the buddy (managers of the team; administrators when a team has none)."""
        return self.manager or self.admin

    def owns(self, task: JourneyTask) -> bool:
        return {
            OwnerRole.NEW_HIRE.value: self.new_hire,
            OwnerRole.MANAGER.value: self.manager,
            OwnerRole.BUDDY.value: self.buddy,
            OwnerRole.IT.value: self.it,
        }.get(task.owner_role, False)

    def sees(self, task: JourneyTask) -> bool:
        return self.sees_all or self.owns(task)

    def can_tick(self, task: JourneyTask) -> bool:
        """The owner or a manager ticks a task; a task linked to a course is ticked by completing the course."""
        if task.course_id is not None:
            return False
        return self.owns(task) or (self.manager and self.managers_see_all)


def involvement(user: User, journey: Journey, manager_ids: Iterable[int]) -> Involvement:
    """How ``user`` takes part in ``journey``; ``manager_ids`` are the managers of the new hire's team."""
    admin = user.has_role(Role.ADMIN)
    return Involvement(
        user_id=user.id,
        new_hire=journey.new_hire_id == user.id,
        manager=user.id in set(manager_ids) and journey.new_hire_id != user.id,
        buddy=journey.buddy_id == user.id,
        it=journey.it_contact_id == user.id or (admin and not (journey.it_contact and journey.it_contact.active)),
        admin=admin,
        managers_see_all=managers_see_journeys(),
    )


# Reading journeys ---------------------------------------------------------------------------


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


def _item(task: JourneyTask, journey: Journey, course_done_at: datetime | None, today: date,
          who: Involvement | None, assignment_due: date | None = None) -> TaskItem:
    done_on = _moment_day(task.done_at) or _moment_day(course_done_at)
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


def _items(journeys: list[Journey], today: date, who_of=None) -> dict[int, list[TaskItem]]:
    """The task items of loaded journeys (tasks loaded), by journey id; one query each for course completions
    and for the due dates of the courses' assignments."""
    pairs = {(j.new_hire_id, t.course_id) for j in journeys for t in j.tasks if t.course_id is not None}
    completed = _completions(pairs)
    dues = _assignment_dues(pairs)
    result = {}
    for journey in journeys:
        who = who_of(journey) if who_of else None
        result[journey.id] = [_item(task, journey, completed.get((journey.new_hire_id, task.course_id)), today, who,
                                    dues.get((journey.new_hire_id, task.course_id)))
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


def _journey_query():
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
    all_items = _items([journey], today, lambda j: who)[journey.id]
    page = JourneyPage(journey=journey, who=who, items=[i for i in all_items if who.sees(i.task)],
                       all_items=all_items, managers=managers, today=today)
    page.status = journey_status(journey, all_items)
    return page


def journey_page(viewer: User, journey_id: int, today: date) -> JourneyPage:
    """A journey the viewer takes part in; ``NotFound`` for anyone else."""
    journey = db.session.scalar(_journey_query().where(Journey.id == journey_id))
    if journey is None:
        raise NotFound(_("This onboarding journey does not exist."))
    return _page(viewer, journey, today)


def my_journey(user: User, today: date) -> JourneyPage | None:
    """The person's own journey, if they have one that is not closed."""
    journey = db.session.scalar(_journey_query().where(Journey.new_hire_id == user.id, Journey.closed_at.is_(None)))
    return _page(user, journey, today) if journey is not None else None


@dataclass
class JourneySummary:
    journey: Journey
    progress: Progress
    status: JourneyStatus
    overdue: int
    next_due: date | None


def _summaries(journeys: list[Journey], today: date) -> list[JourneySummary]:
    items = _items(journeys, today)
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
        _journey_query().join(new_hire, Journey.new_hire_id == new_hire.id)
        .where(Journey.closed_at.is_(None), new_hire.team_id.in_(_managed_teams(manager.id)),
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


# My onboarding tasks ------------------------------------------------------------------------


@dataclass
class TaskPage(Page):
    """A page of the tasks a person owns across new hires (a :class:`learning.pagination.Page`)."""

    show: str = "open"
    needs_buddy: list[Journey] = field(default_factory=list)
    today: date = date.min

    def bucket(self, name: str) -> list[TaskItem]:
        today = self.today
        if name == "overdue":
            return [i for i in self.items if i.overdue]
        if name == "soon":
            return [i for i in self.items if not i.done and today <= i.due_on <= today + timedelta(days=7)]
        if name == "later":
            return [i for i in self.items if not i.done and i.due_on > today + timedelta(days=7)]
        return [i for i in self.items if i.done]


SHOW_CHOICES = ("open", "done", "all")


def my_tasks(user: User, today: date, *, show: str = "open", page: int = 1,
             per_page: int = TASKS_PER_PAGE) -> TaskPage:
    """The tasks the person owns in other people's journeys: open ones by due date, done ones newest first.

    Four queries whatever the number of journeys: the count, the page, and the journeys that
    still need a buddy (for managers), plus the privacy setting.
    """
    show = show if show in SHOW_CHOICES else "open"
    new_hire = aliased(User)
    course_done_at = _course_done_at().label("course_done_at")
    done = _task_done()
    conditions = [Journey.closed_at.is_(None), Journey.new_hire_id != user.id, _owned_by(user, new_hire)]
    if show == "open":
        conditions.append(~done)
    elif show == "done":
        conditions.append(done)
    assignment_due = assignment_due_on().label("assignment_due")
    base = (select(JourneyTask, Journey, course_done_at, assignment_due)
            .join(Journey, JourneyTask.journey_id == Journey.id)
            .join(new_hire, Journey.new_hire_id == new_hire.id).where(*conditions))
    if show == "done":
        order = (func.coalesce(JourneyTask.done_at, course_done_at).desc(), JourneyTask.id.desc())
    else:
        order = (done, task_due_on(), new_hire.last_name, JourneyTask.position, JourneyTask.id)
    found = paginate(base.options(joinedload(Journey.new_hire).joinedload(User.team), joinedload(JourneyTask.course))
                     .order_by(*order), page=page, per_page=per_page, rows=True,
                     counted=base.with_only_columns(JourneyTask.id))
    see_all = managers_see_journeys()
    items = []
    for task, journey, done_at, due in found.items:
        who = Involvement(user_id=user.id, new_hire=False, manager=task.owner_role == OwnerRole.MANAGER,
                          buddy=task.owner_role == OwnerRole.BUDDY, it=task.owner_role == OwnerRole.IT,
                          admin=user.has_role(Role.ADMIN), managers_see_all=see_all)
        items.append(_item(task, journey, done_at, today, who, due))
    needs_buddy = []
    if user.has_role(Role.MANAGER):
        inactive = select(User.id).where(User.active.is_(False))
        needs_buddy = list(db.session.scalars(
            select(Journey).join(new_hire, Journey.new_hire_id == new_hire.id)
            .where(Journey.closed_at.is_(None), Journey.new_hire_id != user.id, new_hire.active,
                   or_(Journey.buddy_id.is_(None), Journey.buddy_id.in_(inactive)),
                   new_hire.team_id.in_(_managed_teams(user.id)))
            .options(joinedload(Journey.new_hire)).order_by(Journey.start_date)
        ))
    return TaskPage(items=items, page=found.page, per_page=per_page, total=found.total, show=show,
                    needs_buddy=needs_buddy, today=today)


# Ticking tasks ------------------------------------------------------------------------------


def _task_for(user: User, task_id: int, today: date) -> tuple[JourneyTask, JourneyPage]:
    task = db.session.get(JourneyTask, task_id)
    if task is None:
        raise NotFound(_("This task does not exist."))
    page = journey_page(user, task.journey_id, today)
    if not page.who.sees(task):
        raise NotFound(_("This task does not exist."))
    return task, page


def set_task_done(user: User, task_id: int, done: bool, today: date | None = None) -> JourneyTask:
    """Tick a task off (or open it again): only its owner or a manager of the new hire may."""
    today = today or local_today()
    task, page = _task_for(user, task_id, today)
    if page.journey.is_closed:
        raise NotAllowed(_("This onboarding journey is closed; its tasks can no longer be changed."))
    if task.course_id is not None:
        raise NotAllowed(_("This task is done as soon as the linked course is completed."))
    if not page.who.can_tick(task):
        raise NotAllowed(_("Only the person responsible for this task or a manager of the new hire can tick it."))
    if done and task.done_at is None:
        task.done_at = utcnow()
        task.done_by_id = user.id
    elif not done and task.done_at is not None:
        task.done_at = None
        task.done_by_id = None
    else:
        return task
    db.session.commit()
    logger.info("Onboarding task %s %s by %s", task.id, "done" if done else "reopened", user.id)
    return task


# Buddies ------------------------------------------------------------------------------------


def _on_own_onboarding(today: date):
    """SQL: people in their own first 100 days with a journey that is not closed."""
    return select(Journey.new_hire_id).where(
        Journey.closed_at.is_(None), Journey.start_date > today - timedelta(days=OWN_ONBOARDING_DAYS))


@dataclass
class BuddyChoices:
    suggested: list[User]  # same team
    others: list[User]  # same department, other teams

    @property
    def ids(self) -> set[int]:
        return {u.id for u in self.suggested + self.others}


def buddy_candidates(journey: Journey, today: date) -> BuddyChoices:
    """Active colleagues of the new hire: their own team first, then the rest of the department (one query)."""
    team = journey.new_hire.team
    if team is None:
        return BuddyChoices([], [])
    people = db.session.scalars(
        select(User).join(Team, User.team_id == Team.id)
        .where(Team.department_id == team.department_id, User.active.is_(True), User.id != journey.new_hire_id,
               User.id.not_in(_on_own_onboarding(today)))
        .options(joinedload(User.team)).order_by(User.last_name, User.first_name, User.id)
    ).all()
    return BuddyChoices(suggested=[p for p in people if p.team_id == team.id],
                        others=[p for p in people if p.team_id != team.id])


def set_buddy(actor: User, journey_id: int, buddy_id: int | None, today: date | None = None) -> Journey:
    """A manager of the new hire (or an administrator) chooses, changes or removes the buddy."""
    today = today or local_today()
    page = journey_page(actor, journey_id, today)
    journey = page.journey
    if not page.who.manages:
        raise NotAllowed(_("Only a manager of the new hire can choose the buddy."))
    if journey.is_closed:
        raise NotAllowed(_("This onboarding journey is closed; its tasks can no longer be changed."))
    if buddy_id is not None and buddy_id not in buddy_candidates(journey, today).ids:
        raise OnboardingError(_("Please choose an active colleague from the new hire's department who is not in "
                                "their own onboarding."), "buddy_id")
    if buddy_id == journey.buddy_id:
        return journey
    old = journey.buddy
    new = db.session.get(User, buddy_id) if buddy_id is not None else None
    journey.buddy = new
    record(actor, "onboarding.buddy_changed", journey,
           summary=f"{journey.new_hire.full_name}: {old.full_name if old else '–'} → {new.full_name if new else '–'}",
           new_hire_id=journey.new_hire_id, old_buddy_id=getattr(old, "id", None), buddy_id=buddy_id)
    db.session.commit()
    logger.info("Buddy of journey %s set to %s by %s", journey.id, buddy_id, actor.id)
    if new is not None:
        _tell_buddy(journey, new)
    return journey


def _tell_buddy(journey: Journey, buddy: User) -> None:
    """Mail the new buddy; a failed mail loses nothing (the tasks are on their list anyway)."""
    with force_locale(buddy.locale or current_app.config["DEFAULT_LOCALE"]):
        subject = _("You are the buddy of %(name)s", name=journey.new_hire.full_name)
        start = journey.start_date.strftime("%d.%m.%Y")
        body = "\n\n".join([
            _("Hello %(name)s,", name=buddy.first_name),
            _("you have been chosen as the buddy of %(new_hire)s, who starts on %(date)s. Thank you for helping a "
              "new colleague find their way.", new_hire=journey.new_hire.full_name, date=start),
            _("Your tasks for the first weeks: %(url)s", url=absolute_url("onboarding.my_tasks")),
        ])
    try:
        send_mail(buddy.email, subject, body, name=buddy.full_name)
        db.session.commit()  # a captured mail
    except MailError:
        db.session.rollback()
        logger.warning("Buddy %s of journey %s chosen; the mail could not be sent", buddy.id, journey.id)


# Starting, moving and closing journeys ------------------------------------------------------


def template_for_department(department_id: int | None) -> JourneyTemplate | None:
    """The department's active template, else the active default template."""
    templates = db.session.scalars(
        select(JourneyTemplate).where(
            JourneyTemplate.active.is_(True),
            or_(JourneyTemplate.department_id.is_(None),
                JourneyTemplate.department_id == department_id if department_id is not None else false()))
    ).all()
    by_department = {t.department_id: t for t in templates}
    return by_department.get(department_id) or by_department.get(None)


def _template_tasks(template_ids: set[int]) -> dict[int, list[JourneyTemplateTask]]:
    """The current version's tasks of each template (one query)."""
    if not template_ids:
        return {}
    rows = db.session.scalars(
        select(JourneyTemplateTask).join(JourneyTemplate, and_(
            JourneyTemplate.id == JourneyTemplateTask.template_id,
            JourneyTemplate.version == JourneyTemplateTask.version))
        .where(JourneyTemplate.id.in_(template_ids))
        .order_by(JourneyTemplateTask.offset_days, JourneyTemplateTask.position, JourneyTemplateTask.id)
    ).all()
    result: dict[int, list[JourneyTemplateTask]] = defaultdict(list)
    for task in rows:
        result[task.template_id].append(task)
    return result


def _task_from(template_task: JourneyTemplateTask, start: date) -> JourneyTask:
    return JourneyTask(
        template_key=template_task.key, position=template_task.position, title=template_task.title,
        description=template_task.description, owner_role=template_task.owner_role,
        offset_days=template_task.offset_days, due_on=start + timedelta(days=template_task.offset_days),
        course_id=template_task.course_id,
    )


def _new_journey(user_id: int, start: date, template: JourneyTemplate,
                 tasks: list[JourneyTemplateTask]) -> Journey:
    journey = Journey(new_hire_id=user_id, template_id=template.id, template_version=template.version,
                      start_date=start, it_contact_id=template.it_contact_id)
    journey.tasks = [_task_from(task, start) for task in tasks]
    db.session.add(journey)
    return journey


@dataclass
class SyncResult:
    started: int = 0
    moved: int = 0
    closed: int = 0
    reopened: int = 0
    skipped: list[int] = field(default_factory=list)  # people whose start date is outside the platform's range

    @property
    def changed(self) -> bool:
        return bool(self.started or self.moved or self.closed or self.reopened)


def _sync(user_ids: set[int] | None, today: date) -> SyncResult:
    """Start, move, close or reopen the journeys of these people (everyone if None), without committing."""
    result = SyncResult()
    people_query = select(User.id, User.active, User.start_date, Team.department_id).outerjoin(
        Team, User.team_id == Team.id)
    journey_query = select(Journey)
    if user_ids is not None:
        people_query = people_query.where(User.id.in_(user_ids))
        journey_query = journey_query.where(Journey.new_hire_id.in_(user_ids))
    else:
        people_query = people_query.where(or_(
            User.start_date >= today - timedelta(days=JOURNEY_WINDOW_DAYS),
            User.id.in_(select(Journey.new_hire_id))))
    people = db.session.execute(people_query).all()
    journeys = {j.new_hire_id: j for j in db.session.scalars(journey_query)}

    to_start, to_move = [], []
    now = utcnow()
    for person in people:
        if not day_in_range(person.start_date):  # written around the forms and the import: report it, go on
            logger.warning("Onboarding sync skips person %s: start date %s is outside %s … %s", person.id,
                           person.start_date, FIRST_DAY, LAST_DAY)
            result.skipped.append(person.id)
            continue
        journey = journeys.get(person.id)
        if journey is None:
            if (person.active and person.start_date is not None
                    and person.start_date >= today - timedelta(days=JOURNEY_WINDOW_DAYS)):
                to_start.append(person)
            continue
        if not person.active and journey.closed_at is None:
            journey.closed_at = now
            journey.closed_reason = CLOSED_DEACTIVATED
            result.closed += 1
        elif person.active and journey.closed_reason == CLOSED_DEACTIVATED:
            journey.closed_at = None
            journey.closed_reason = None
            result.reopened += 1
        if person.start_date is not None and person.start_date != journey.start_date and journey.closed_at is None:
            to_move.append((journey, person.start_date))

    if to_move:
        ids = [journey.id for journey, _start in to_move]
        open_tasks: dict[int, list[JourneyTask]] = defaultdict(list)
        for task in db.session.scalars(select(JourneyTask).where(JourneyTask.journey_id.in_(ids),
                                                                 JourneyTask.done_at.is_(None))):
            open_tasks[task.journey_id].append(task)
        for journey, start in to_move:
            for task in open_tasks[journey.id]:  # done tasks keep the day they were due
                task.due_on = start + timedelta(days=task.offset_days)
            logger.info("Journey %s moved from %s to %s", journey.id, journey.start_date, start)
            journey.start_date = start
            result.moved += 1

    if to_start:
        departments = {person.department_id for person in to_start}
        templates = db.session.scalars(select(JourneyTemplate).where(
            JourneyTemplate.active.is_(True),
            or_(JourneyTemplate.department_id.is_(None),
                JourneyTemplate.department_id.in_({d for d in departments if d is not None})))).all()
        by_department = {t.department_id: t for t in templates}
        tasks = _template_tasks({t.id for t in templates})
        for person in to_start:
            template = by_department.get(person.department_id) or by_department.get(None)
            if template is None:
                continue  # no template: nothing to plan
            _new_journey(person.id, person.start_date, template, tasks.get(template.id, []))
            result.started += 1
    db.session.flush()
    return result


def sync_journeys(user_ids: Iterable[int] | None, today: date) -> SyncResult:
    """Bring journeys in line with people's records and commit once.

    Starts a journey (from the department's template, else the default one) for active people
    whose start date is at most ``JOURNEY_WINDOW_DAYS`` ago and who have none; moves the due dates
    of open tasks when the start date moved (done tasks stay as they are); closes the journey of a
    deactivated person and reopens it when they are reactivated.
    """
    ids = None if user_ids is None else {int(u) for u in user_ids}
    if ids is not None and not ids:
        return SyncResult()
    try:
        result = _sync(ids, today)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    if result.changed:
        logger.info("Onboarding journeys synced: %s", result)
    return result


def start_journey(user: User) -> Journey | None:
    """Start a journey for a person with a start date, however long ago, from their department's template.

    For people whose start date lies outside ``JOURNEY_WINDOW_DAYS`` (e.g. a journey started by
    hand, or demo data); returns the existing journey if there is one, None without a template.
    """
    existing = db.session.scalar(select(Journey).where(Journey.new_hire_id == user.id))
    if existing is not None or user.start_date is None:
        return existing
    template = template_for_department(user.team.department_id if user.team else None)
    if template is None:
        return None
    journey = _new_journey(user.id, user.start_date, template, _template_tasks({template.id}).get(template.id, []))
    db.session.commit()
    return journey


def _on_people_changed(sender, user_ids=(), **extra) -> None:
    """Start, move or close journeys as soon as people are created, changed, imported or deactivated."""
    if not user_ids:
        return
    try:
        sync_journeys(set(user_ids), local_today())
    except SQLAlchemyError:
        # The change to the people is committed already; `flask onboarding sync` catches up.
        logger.exception("Syncing the onboarding journeys of people %s failed", sorted(user_ids))


# Connected at import time: the onboarding views import this module, and create_app imports them.
people_changed.connect(_on_people_changed)


def journey_of(user_id: int) -> Journey | None:
    """The person's journey (for the person's admin page), with its template."""
    return db.session.scalar(select(Journey).where(Journey.new_hire_id == user_id)
                             .options(joinedload(Journey.template)))


# Templates ----------------------------------------------------------------------------------


@dataclass
class TemplateRow:
    template: JourneyTemplate
    tasks: int
    running: int
    outdated: int  # running journeys on an older version


def list_templates() -> list[TemplateRow]:
    """Every template with its task count and running journeys (three queries)."""
    templates = db.session.scalars(
        select(JourneyTemplate).outerjoin(Department, JourneyTemplate.department_id == Department.id)
        .options(joinedload(JourneyTemplate.department))
        .order_by(JourneyTemplate.active.desc(), JourneyTemplate.department_id.is_not(None), Department.name,
                  JourneyTemplate.name)
    ).all()
    tasks = dict(db.session.execute(
        select(JourneyTemplateTask.template_id, func.count())
        .join(JourneyTemplate, and_(JourneyTemplate.id == JourneyTemplateTask.template_id,
                                    JourneyTemplate.version == JourneyTemplateTask.version))
        .group_by(JourneyTemplateTask.template_id)).all())
    running: dict[int, tuple[int, int]] = {}
    for template_id, total, outdated in db.session.execute(
        select(Journey.template_id, func.count(),
               func.sum(case((Journey.template_version < JourneyTemplate.version, 1), else_=0)))
        .join(JourneyTemplate, JourneyTemplate.id == Journey.template_id)
        .where(Journey.closed_at.is_(None)).group_by(Journey.template_id)
    ):
        running[template_id] = (total, int(outdated or 0))
    return [TemplateRow(t, tasks.get(t.id, 0), *running.get(t.id, (0, 0))) for t in templates]


def template_for(template_id: int) -> JourneyTemplate:
    template = db.session.scalar(
        select(JourneyTemplate).where(JourneyTemplate.id == template_id).options(
            joinedload(JourneyTemplate.department), joinedload(JourneyTemplate.it_contact),
            selectinload(JourneyTemplate.tasks).joinedload(JourneyTemplateTask.course),
            selectinload(JourneyTemplate.versions).joinedload(JourneyTemplateVersion.created_by)))
    if template is None:
        raise NotFound(_("This template does not exist."))
    return template


def template_task(template: JourneyTemplate, key: str) -> JourneyTemplateTask:
    task = next((t for t in template.tasks if t.key == key), None)
    if task is None:
        raise NotFound(_("This task does not exist."))
    return task


@dataclass
class TemplateData:
    name: str
    department_id: int | None = None
    description: str = ""
    it_contact_id: int | None = None


@dataclass
class TaskData:
    title: str
    owner_role: str
    offset_days: int
    description: str = ""
    course_id: int | None = None


def _clean_template(data: TemplateData, template: JourneyTemplate | None) -> TemplateData:
    data.name = " ".join((data.name or "").split())
    data.description = (data.description or "").strip()
    if not data.name:
        raise OnboardingError(_("Please enter a name."), "name")
    if len(data.name) > NAME_MAX:
        raise OnboardingError(_("The name may be at most %(max)d characters long.", max=NAME_MAX), "name")
    if len(data.description) > DESCRIPTION_MAX:
        raise OnboardingError(_("The description may be at most %(max)d characters long.", max=DESCRIPTION_MAX),
                              "description")
    if too_complex(data.description):
        raise OnboardingError(complexity_message(), "description")
    if data.department_id is not None and db.session.get(Department, data.department_id) is None:
        raise OnboardingError(_("Please choose a department."), "department_id")
    if template is None or template.active:
        _check_free(data.department_id, template)
    if data.it_contact_id is not None:
        contact = db.session.get(User, data.it_contact_id)
        if contact is None or not contact.active:
            raise OnboardingError(_("Please choose an active person."), "it_contact_id")
    return data


def _check_free(department_id: int | None, template: JourneyTemplate | None) -> None:
    """One active template per department, and one active default template."""
    clash = select(JourneyTemplate.id).where(
        JourneyTemplate.active.is_(True),
        JourneyTemplate.department_id == department_id if department_id is not None
        else JourneyTemplate.department_id.is_(None))
    if template is not None:
        clash = clash.where(JourneyTemplate.id != template.id)
    if db.session.scalar(clash) is not None:
        if department_id is None:
            raise OnboardingError(_("There is already a default template. Edit it, or choose a department for "
                                    "this one."), "department_id")
        raise OnboardingError(_("This department already has a template. Edit that one instead."), "department_id")


def _clean_task(data: TaskData) -> TaskData:
    data.title = " ".join((data.title or "").split())
    data.description = (data.description or "").strip()
    if not data.title:
        raise OnboardingError(_("Please enter a title."), "title")
    if len(data.title) > TITLE_MAX:
        raise OnboardingError(_("The title may be at most %(max)d characters long.", max=TITLE_MAX), "title")
    if len(data.description) > DESCRIPTION_MAX:
        raise OnboardingError(_("The description may be at most %(max)d characters long.", max=DESCRIPTION_MAX),
                              "description")
    if too_complex(data.description):
        raise OnboardingError(complexity_message(), "description")
    if data.owner_role not in {r.value for r in OwnerRole}:
        raise OnboardingError(_("Please choose who does this task."), "owner_role")
    if data.offset_days is None or not OFFSET_MIN <= data.offset_days <= OFFSET_MAX:
        raise OnboardingError(_("Please enter a number of days from %(min)d to %(max)d.", min=OFFSET_MIN,
                                max=OFFSET_MAX), "offset_days")
    if data.course_id is not None:
        course = db.session.get(Course, data.course_id)
        if course is None or course.archived_at is not None:
            raise OnboardingError(_("Please choose a course that is not withdrawn."), "course_id")
        if data.owner_role != OwnerRole.NEW_HIRE:
            raise OnboardingError(_("Only a task of the new hire can be linked to a course: it is done when the "
                                    "new hire completes the course."), "course_id")
    return data


def _new_version(actor: User, template: JourneyTemplate, summary: str,
                 change=None) -> JourneyTemplateVersion:
    """Copy the current tasks into version + 1, let ``change`` edit the copies, and make it current."""
    current = db.session.scalars(select(JourneyTemplateTask).where(
        JourneyTemplateTask.template_id == template.id, JourneyTemplateTask.version == template.version)
        .order_by(JourneyTemplateTask.offset_days, JourneyTemplateTask.position, JourneyTemplateTask.id)).all()
    number = template.version + 1
    copies = [JourneyTemplateTask(template_id=template.id, version=number, key=t.key, position=t.position,
                                  title=t.title, description=t.description, owner_role=t.owner_role,
                                  offset_days=t.offset_days, course_id=t.course_id) for t in current]
    if change is not None:
        copies = change(copies, number)
    for position, task in enumerate(sorted(copies, key=lambda t: (t.offset_days, t.position)), start=1):
        task.position = position
    db.session.add_all(copies)
    template.version = number
    version = JourneyTemplateVersion(template_id=template.id, version=number, summary=summary[:500],
                                     created_by_id=getattr(actor, "id", None))
    db.session.add(version)
    return version


def create_template(actor: User, data: TemplateData, copy_from: int | None = None) -> JourneyTemplate:
    """A new template (version 1), empty or with the current tasks of another template."""
    data = _clean_template(data, None)
    template = JourneyTemplate(name=data.name, description=data.description, department_id=data.department_id,
                               it_contact_id=data.it_contact_id, version=1)
    db.session.add(template)
    db.session.flush()
    source = db.session.get(JourneyTemplate, copy_from) if copy_from else None
    tasks = _template_tasks({source.id}).get(source.id, []) if source else []
    for task in tasks:
        db.session.add(JourneyTemplateTask(
            template_id=template.id, version=1, key=task.key, position=task.position, title=task.title,
            description=task.description, owner_role=task.owner_role, offset_days=task.offset_days,
            course_id=task.course_id))
    summary = (_("Created as a copy of “%(name)s”", name=source.name) if source else _("Created"))
    db.session.add(JourneyTemplateVersion(template_id=template.id, version=1, summary=summary,
                                          created_by_id=getattr(actor, "id", None)))
    record(actor, "onboarding.template_created", template, summary=f"{template.name}: {summary}",
           department_id=template.department_id, copied_from=getattr(source, "id", None), tasks=len(tasks))
    db.session.commit()
    logger.info("Journey template %s created by %s", template.id, getattr(actor, "id", None))
    return template


def update_template(actor: User, template: JourneyTemplate, data: TemplateData) -> JourneyTemplate:
    """Change name, department, description or IT contact; a new IT contact makes a new version."""
    data = _clean_template(data, template)
    changes = []
    if data.name != template.name:
        changes.append("name")
    if data.department_id != template.department_id:
        changes.append("department")
    if data.description != template.description:
        changes.append("description")
    contact_changed = data.it_contact_id != template.it_contact_id
    if not changes and not contact_changed:
        return template
    template.name = data.name
    template.department_id = data.department_id
    template.description = data.description
    if contact_changed:
        template.it_contact_id = data.it_contact_id
        contact = db.session.get(User, data.it_contact_id) if data.it_contact_id else None
        _new_version(actor, template, _("IT and administration tasks now go to %(who)s",
                                        who=contact.full_name if contact else _("every administrator")))
        changes.append("it_contact")
    record(actor, "onboarding.template_updated", template, summary=f"{template.name}: {', '.join(changes)}",
           changes=changes, version=template.version)
    db.session.commit()
    return template


def save_template_task(actor: User, template: JourneyTemplate, key: str | None, data: TaskData) -> str:
    """Add a task or change one; either makes a new version of the template. Returns the task's key."""
    data = _clean_task(data)
    if key is not None:
        template_task(template, key)  # NotFound for a task not in the current version
    key = key or uuid.uuid4().hex
    added = not any(t.key == key for t in template.tasks)

    def change(copies, number):
        task = next((t for t in copies if t.key == key), None)
        if task is None:
            task = JourneyTemplateTask(template_id=template.id, version=number, key=key, position=10_000)
            copies.append(task)
        task.title, task.description, task.owner_role = data.title, data.description, data.owner_role
        if task.offset_days != data.offset_days:
            task.position = 10_000  # at the end of its new day
        task.offset_days, task.course_id = data.offset_days, data.course_id
        return copies

    summary = (_("Task added: %(title)s", title=data.title) if added
               else _("Task changed: %(title)s", title=data.title))
    _new_version(actor, template, summary, change)
    record(actor, "onboarding.template_task_added" if added else "onboarding.template_task_changed", template,
           summary=f"{template.name} v{template.version}: {data.title}", key=key, version=template.version,
           owner_role=data.owner_role, offset_days=data.offset_days, course_id=data.course_id)
    db.session.commit()
    return key


def remove_template_task(actor: User, template: JourneyTemplate, key: str) -> None:
    """Remove a task from the template (a new version); running journeys keep it until the version is applied."""
    task = template_task(template, key)
    title = task.title
    _new_version(actor, template, _("Task removed: %(title)s", title=title),
                 lambda copies, number: [t for t in copies if t.key != key])
    record(actor, "onboarding.template_task_removed", template, summary=f"{template.name} v{template.version}: "
           f"{title}", key=key, version=template.version)
    db.session.commit()


def set_template_active(actor: User, template: JourneyTemplate, active: bool) -> None:
    """Switch a template off (new journeys use the default instead) or on again."""
    if active == template.active:
        return
    if active:
        _check_free(template.department_id, template)
    template.active = active
    record(actor, "onboarding.template_reactivated" if active else "onboarding.template_deactivated", template,
           summary=template.name)
    db.session.commit()


# Applying a new version to running journeys ---------------------------------------------------


@dataclass
class ApplyPlan:
    """What applying the current version would change in running journeys."""

    journeys: int = 0
    added: int = 0
    changed: int = 0
    removed: int = 0
    kept_done: int = 0  # tasks removed from the template but kept because they are done
    contact_changed: int = 0

    @property
    def anything(self) -> bool:
        return bool(self.journeys)


_COPIED = ("title", "description", "owner_role", "offset_days", "course_id", "position")


def _plan(template: JourneyTemplate, today: date, write: bool) -> ApplyPlan:
    plan = ApplyPlan()
    journeys = db.session.scalars(
        select(Journey).where(Journey.template_id == template.id, Journey.closed_at.is_(None),
                              Journey.template_version < template.version)
        .options(selectinload(Journey.tasks))
    ).all()
    if not journeys:
        return plan
    current = {t.key: t for t in _template_tasks({template.id}).get(template.id, [])}
    done = {item.task.id for items in _items(list(journeys), today).values() for item in items if item.done}
    for journey in journeys:
        plan.journeys += 1
        by_key = {t.template_key: t for t in journey.tasks if t.template_key}
        for key, source in current.items():
            task = by_key.get(key)
            if task is None:
                plan.added += 1
                if write:
                    journey.tasks.append(_task_from(source, journey.start_date))
            elif task.id not in done and any(getattr(task, f) != getattr(source, f) for f in _COPIED):
                plan.changed += 1
                if write:
                    for name in _COPIED:
                        setattr(task, name, getattr(source, name))
                    task.due_on = journey.start_date + timedelta(days=source.offset_days)
        for key, task in by_key.items():
            if key in current:
                continue
            if task.id in done:
                plan.kept_done += 1
            else:
                plan.removed += 1
                if write:
                    journey.tasks.remove(task)
        if journey.it_contact_id != template.it_contact_id:
            plan.contact_changed += 1
        if write:
            journey.it_contact_id = template.it_contact_id
            journey.template_version = template.version
    return plan


def apply_plan(template: JourneyTemplate, today: date) -> ApplyPlan:
    """What applying the current version would change, without changing anything."""
    return _plan(template, today, write=False)


def apply_current_version(actor: User, template: JourneyTemplate, today: date | None = None) -> ApplyPlan:
    """Bring running journeys of older versions to the current one: open tasks are updated, added or removed;
    done tasks stay as they are."""
    today = today or local_today()
    try:
        plan = _plan(template, today, write=True)
        if plan.anything:
            record(actor, "onboarding.template_applied", template,
                   summary=f"{template.name} v{template.version} → {plan.journeys} journeys",
                   version=template.version, journeys=plan.journeys, added=plan.added, changed=plan.changed,
                   removed=plan.removed, kept_done=plan.kept_done)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    logger.info("Template %s v%s applied by %s: %s", template.id, template.version, actor.id, plan)
    return plan


# The project group's overview ---------------------------------------------------------------


@dataclass
class DepartmentFigures:
    name: str
    on_track: int = 0
    behind: int = 0
    done: int = 0
    durations: list[int] = field(default_factory=list)

    @property
    def running(self) -> int:
        return self.on_track + self.behind

    @property
    def average_days(self) -> float | None:
        return sum(self.durations) / len(self.durations) if self.durations else None


@dataclass
class Overview:
    departments: list[DepartmentFigures]
    total: DepartmentFigures


def overview(today: date) -> Overview:
    """Running journeys (on track, behind) and journeys done in the last year, by department, with the
    average number of days from the start date to the last task done (two queries)."""
    rows = db.session.execute(
        select(Journey.id, Journey.start_date, Department.name.label("department"), task_due_on().label("due_on"),
               JourneyTask.done_at, _course_done_at().label("course_done_at"))
        .join(JourneyTask, JourneyTask.journey_id == Journey.id)
        .join(User, Journey.new_hire_id == User.id)
        .outerjoin(Team, User.team_id == Team.id).outerjoin(Department, Team.department_id == Department.id)
        .where(Journey.closed_at.is_(None))
    ).all()
    journeys: dict[int, dict] = {}
    for row in rows:
        entry = journeys.setdefault(row.id, {"start": row.start_date, "department": row.department,
                                             "open": 0, "overdue": 0, "last_done": None})
        done_on = _moment_day(row.done_at) or _moment_day(row.course_done_at)
        if done_on is None:
            entry["open"] += 1
            entry["overdue"] += row.due_on < today
        elif entry["last_done"] is None or done_on > entry["last_done"]:
            entry["last_done"] = done_on
    no_team = _("Without a team")
    names = list(db.session.scalars(select(Department.name).where(Department.active.is_(True))))
    figures = {name: DepartmentFigures(name) for name in names}
    total = DepartmentFigures(_("All departments"))
    for entry in journeys.values():
        name = entry["department"] or no_team
        bucket = figures.setdefault(name, DepartmentFigures(name))
        if entry["open"]:
            status = "behind" if entry["overdue"] else "on_track"
        elif entry["last_done"] >= today - timedelta(days=DONE_WINDOW_DAYS):
            status = "done"
            days = (entry["last_done"] - entry["start"]).days
            bucket.durations.append(days)
            total.durations.append(days)
        else:
            continue
        for target in (bucket, total):
            setattr(target, status, getattr(target, status) + 1)
    ordered = sorted(figures.values(), key=lambda f: (f.name == no_team, f.name.casefold()))
    return Overview(departments=ordered, total=total)


# Describing offsets -------------------------------------------------------------------------


def describe_offset(days: int) -> str:
    """An offset from the start date in words, e.g. "5 days before the start date"."""
    if days == 0:
        return _("On the start date")
    if days > 0:
        return ngettext("%(num)d day after the start date", "%(num)d days after the start date", days)
    return ngettext("%(num)d day before the start date", "%(num)d days before the start date", -days)


# The home page card -------------------------------------------------------------------------


@home_panel("onboarding/_home.html", order=20)
def home_card(user: User, today: date) -> dict | None:
    """The new hire's first weeks, and the open tasks of those who help them (nothing for anyone else)."""
    if not shows_in_navigation(user):
        return None
    journey = my_journey(user, today)
    tasks = my_tasks(user, today, show="open", per_page=3)
    if journey is None and not tasks.total and not tasks.needs_buddy:
        return None
    overdue = 0
    if tasks.total:
        new_hire = aliased(User)
        overdue = db.session.scalar(
            select(func.count(JourneyTask.id)).join(Journey, JourneyTask.journey_id == Journey.id)
            .join(new_hire, Journey.new_hire_id == new_hire.id)
            .where(Journey.closed_at.is_(None), Journey.new_hire_id != user.id, _owned_by(user, new_hire),
                   ~_task_done(), task_due_on() < today)) or 0
    return {"journey": journey, "tasks": tasks, "overdue": overdue}
