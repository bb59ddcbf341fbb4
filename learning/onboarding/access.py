"""Who takes part in a journey, and what each of them sees and may do.

Who takes part: the new hire, every manager of the new hire's team, the buddy, and IT/administration
(the template's named contact, else every administrator). The new hire, their managers (if the
privacy setting allows it) and administrators see the whole journey; the buddy and a named IT
contact see their own tasks. The project group and administrators maintain templates and read the
overview (figures only).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app, g, has_request_context
from sqlalchemy import and_, bindparam, exists, or_, select
from sqlalchemy.orm import aliased

from learning.db import db
from learning.i18n import local_today
from learning.onboarding.models import Journey, JourneyTask, OwnerRole
from learning.org.models import User, team_manager
from learning.roles import Role
from learning.training.models import CourseCompletion

# Completed journeys count towards "done" (navigation, overview) for this many days.
DONE_WINDOW_DAYS = 365


def moment_day(value: datetime | None) -> date | None:
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


# SQL building blocks ------------------------------------------------------------------------


def managed_teams(user_id):
    """SQL: the ids of the teams the person leads."""
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
               new_hire.team_id.in_(managed_teams(user_id)))


def owned_by(user: User, new_hire):
    """SQL: the tasks (joined with journey and new hire) whose owner is ``user``."""
    clauses = [
        and_(JourneyTask.owner_role == OwnerRole.NEW_HIRE.value, Journey.new_hire_id == user.id),
        and_(JourneyTask.owner_role == OwnerRole.MANAGER.value, new_hire.team_id.in_(managed_teams(user.id))),
        and_(JourneyTask.owner_role == OwnerRole.BUDDY.value, Journey.buddy_id == user.id),
        and_(JourneyTask.owner_role == OwnerRole.IT.value, Journey.it_contact_id == user.id),
    ]
    if user.has_role(Role.ADMIN):
        clauses.append(and_(JourneyTask.owner_role == OwnerRole.IT.value, _administrators_do_it()))
    return or_(*clauses)


def course_done_at():
    """SQL: when the journey's new hire completed the task's course (NULL if not, or no course)."""
    return (
        select(CourseCompletion.completed_at)
        .where(CourseCompletion.user_id == Journey.new_hire_id, CourseCompletion.course_id == JourneyTask.course_id)
        .correlate(Journey, JourneyTask).limit(1).scalar_subquery()
    )


def task_done():
    """SQL: the task is ticked or its course is completed."""
    completed = exists().where(CourseCompletion.user_id == Journey.new_hire_id,
                               CourseCompletion.course_id == JourneyTask.course_id)
    return or_(JourneyTask.done_at.is_not(None), and_(JourneyTask.course_id.is_not(None), completed))


# The navigation -----------------------------------------------------------------------------


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
    """Built once: it runs on every page, and building it cost more than running it (measured 1.7 ms).

    One EXISTS per way of taking part, each found through an index (the new hire's, the buddy's, the IT
    contact's column; the team's new hires through the user table's team index): a single EXISTS with the
    four ways ORed together scanned every open journey on every page, 0.6 ms at 5,000 people.
    """
    user_id = bindparam("user_id")
    has_open_task = exists().where(JourneyTask.journey_id == Journey.id, JourneyTask.done_at.is_(None),
                                   JourneyTask.course_id.is_(None))
    current = and_(Journey.closed_at.is_(None), or_(Journey.start_date >= bindparam("recent"), has_open_task))
    new_hire = aliased(User)
    return select(or_(
        exists().where(Journey.new_hire_id == user_id, current),
        exists().where(Journey.buddy_id == user_id, current),
        exists().where(Journey.it_contact_id == user_id, current),
        exists().where(Journey.new_hire_id == new_hire.id, new_hire.team_id.in_(managed_teams(user_id)), current),
    ))


# One person in one journey ------------------------------------------------------------------


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
