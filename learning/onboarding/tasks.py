"""Tasks and buddies: the tasks a person owns in other people's journeys, ticking them, choosing the buddy.

Services flush; the caller's unit of work commits. The new buddy's mail goes out after the commit.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, timedelta

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, or_, select
from sqlalchemy.orm import aliased, joinedload

from learning.audit.services import record
from learning.db import after_commit, db, unit_of_work, utcnow
from learning.errors import NotAllowed, NotFound, ServiceError
from learning.i18n import local_today
from learning.mail import MailError, absolute_url, send_mail
from learning.onboarding.access import (
    Involvement,
    course_done_at,
    managed_teams,
    managers_see_journeys,
    owned_by,
    task_done,
)
from learning.onboarding.journeys import JourneyPage, TaskItem, journey_page, task_item
from learning.onboarding.models import Journey, JourneyTask, OwnerRole, assignment_due_on, task_due_on
from learning.org.models import Team, User
from learning.pagination import Page, paginate
from learning.roles import Role

logger = logging.getLogger(__name__)

TASKS_PER_PAGE = 50
# Someone in their own first 100 days is not suggested as a buddy.
OWN_ONBOARDING_DAYS = 100


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
    done_at_of_course = course_done_at().label("course_done_at")
    done = task_done()
    conditions = [Journey.closed_at.is_(None), Journey.new_hire_id != user.id, owned_by(user, new_hire)]
    if show == "open":
        conditions.append(~done)
    elif show == "done":
        conditions.append(done)
    assignment_due = assignment_due_on().label("assignment_due")
    base = (select(JourneyTask, Journey, done_at_of_course, assignment_due)
            .join(Journey, JourneyTask.journey_id == Journey.id)
            .join(new_hire, Journey.new_hire_id == new_hire.id).where(*conditions))
    if show == "done":
        order = (func.coalesce(JourneyTask.done_at, done_at_of_course).desc(), JourneyTask.id.desc())
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
        items.append(task_item(task, journey, done_at, today, who, due))
    needs_buddy = []
    if user.has_role(Role.MANAGER):
        inactive = select(User.id).where(User.active.is_(False))
        needs_buddy = list(db.session.scalars(
            select(Journey).join(new_hire, Journey.new_hire_id == new_hire.id)
            .where(Journey.closed_at.is_(None), Journey.new_hire_id != user.id, new_hire.active,
                   or_(Journey.buddy_id.is_(None), Journey.buddy_id.in_(inactive)),
                   new_hire.team_id.in_(managed_teams(user.id)))
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
    db.session.flush()
    logger.info("Onboarding task %s %s by %s", task.id, "done" if done else "reopened", user.id)
    return task


def overdue_count(user: User, today: date) -> int:
    """How many of the tasks the person owns in other people's journeys are overdue (one query)."""
    new_hire = aliased(User)
    return db.session.scalar(
        select(func.count(JourneyTask.id)).join(Journey, JourneyTask.journey_id == Journey.id)
        .join(new_hire, Journey.new_hire_id == new_hire.id)
        .where(Journey.closed_at.is_(None), Journey.new_hire_id != user.id, owned_by(user, new_hire),
               ~task_done(), task_due_on() < today)) or 0


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
        raise ServiceError(_("Please choose an active colleague from the new hire's department who is not in "
                             "their own onboarding."), "buddy_id")
    if buddy_id == journey.buddy_id:
        return journey
    old = journey.buddy
    new = db.session.get(User, buddy_id) if buddy_id is not None else None
    journey.buddy = new
    record(actor, "onboarding.buddy_changed", journey,
           summary=f"{journey.new_hire.full_name}: {old.full_name if old else '–'} → {new.full_name if new else '–'}",
           new_hire_id=journey.new_hire_id, old_buddy_id=getattr(old, "id", None), buddy_id=buddy_id)
    db.session.flush()
    logger.info("Buddy of journey %s set to %s by %s", journey.id, buddy_id, actor.id)
    if new is not None:
        _tell_buddy(journey, new)
    return journey


def _tell_buddy(journey: Journey, buddy: User) -> None:
    """Mail the new buddy once the choice is committed; a failed mail loses nothing (the tasks are on their list)."""
    with force_locale(buddy.locale or current_app.config["DEFAULT_LOCALE"]):
        subject = _("You are the buddy of %(name)s", name=journey.new_hire.full_name)
        start = journey.start_date.strftime("%d.%m.%Y")
        body = "\n\n".join([
            _("Hello %(name)s,", name=buddy.first_name),
            _("you have been chosen as the buddy of %(new_hire)s, who starts on %(date)s. Thank you for helping a "
              "new colleague find their way.", new_hire=journey.new_hire.full_name, date=start),
            _("Your tasks for the first weeks: %(url)s", url=absolute_url("onboarding.my_tasks")),
        ])
    recipient, name, buddy_id, journey_id = buddy.email, buddy.full_name, buddy.id, journey.id

    def send() -> None:
        try:
            with unit_of_work():  # without an SMTP server the mail is captured: a row of its own
                send_mail(recipient, subject, body, name=name)
        except MailError:
            logger.warning("Buddy %s of journey %s chosen; the mail could not be sent", buddy_id, journey_id)

    after_commit(send)
