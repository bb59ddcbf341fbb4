"""Journeys follow people's records: started, moved, closed and reopened as people change.

Org's ``people_changed`` signal is sent inside the unit of work that changes the people, so the
journeys change in the same transaction: if syncing fails, the change to the people is rolled back
with it. ``flask onboarding sync`` runs the same sync for everyone.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import or_, select

from learning.db import db, utcnow
from learning.guards import FIRST_DAY, LAST_DAY, day_in_range
from learning.onboarding.models import CLOSED_DEACTIVATED, JOURNEY_WINDOW_DAYS, Journey, JourneyTask, JourneyTemplate
from learning.onboarding.templates import (
    active_templates,
    choose_template,
    current_tasks,
    task_from,
    template_for_department,
)
from learning.org.models import Team, User

logger = logging.getLogger(__name__)


def _new_journey(user_id: int, start: date, template: JourneyTemplate, tasks) -> Journey:
    journey = Journey(new_hire_id=user_id, template_id=template.id, template_version=template.version,
                      start_date=start, it_contact_id=template.it_contact_id)
    journey.tasks = [task_from(task, start) for task in tasks]
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
        templates = active_templates({person.department_id for person in to_start})
        tasks = current_tasks({t.id for t in templates.values()})
        for person in to_start:
            template = choose_template(templates, person.department_id)
            if template is None:
                continue  # no template: nothing to plan
            _new_journey(person.id, person.start_date, template, tasks.get(template.id, []))
            result.started += 1
    db.session.flush()
    return result


def sync_journeys(user_ids: Iterable[int] | None, today: date) -> SyncResult:
    """Bring journeys in line with people's records (everyone's if ``user_ids`` is None); flushes.

    Starts a journey (from the department's template, else the default one) for active people
    whose start date is at most ``JOURNEY_WINDOW_DAYS`` ago and who have none; moves the due dates
    of open tasks when the start date moved (done tasks stay as they are); closes the journey of a
    deactivated person and reopens it when they are reactivated.
    """
    ids = None if user_ids is None else {int(u) for u in user_ids}
    if ids is not None and not ids:
        return SyncResult()
    result = _sync(ids, today)
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
    journey = _new_journey(user.id, user.start_date, template, current_tasks({template.id}).get(template.id, []))
    db.session.flush()
    return journey
