"""Metric sources of training: mandatory courses completed, overdue, and the time to competence."""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, func, select

from learning.db import db
from learning.metrics.services import Metric, Tally, Units, Value, end_of_day, local_day, metric_source
from learning.org.models import User
from learning.training.models import Assignment, Course

COMPLETION = Metric("training.completion", _l("Mandatory training completed"), "percent", True,
                    _l("Completed mandatory assignments out of all mandatory assignments."))
OVERDUE = Metric("training.overdue", _l("Overdue mandatory training"), "count", False,
                 _l("Mandatory assignments past their due date and not completed."))
COMPETENCE = Metric("training.time_to_competence", _l("Time to competence"), "days", False,
                    _l("Median days from assignment to completion of mandatory courses."))


@metric_source(COMPLETION, OVERDUE, COMPETENCE, order=10)
def training(day: date) -> list[Value]:
    """Two queries: counts per team and phase, then the completed assignments for the median."""
    end = end_of_day(day)
    units = Units.load()
    done = and_(Assignment.completed_at.is_not(None), Assignment.completed_at < end)
    mandatory = [Assignment.mandatory, Assignment.assigned_on <= day, User.active]
    tally = Tally()
    rows = db.session.execute(
        select(User.team_id, Course.phase_id, func.count(),
               func.sum(case((done, 1), else_=0)),
               func.sum(case((and_(~done, Assignment.due_on < day), 1), else_=0)))
        .join(User, User.id == Assignment.user_id).join(Course, Course.id == Assignment.course_id)
        .where(*mandatory).group_by(User.team_id, Course.phase_id)
    )
    for team_id, phase_id, total, completed, overdue in rows:
        tally.count(phase_id, units.of_team(team_id), total=total, done=completed or 0, overdue=overdue or 0)
    durations = Tally()
    for team_id, phase_id, assigned_on, completed_at in db.session.execute(
        select(User.team_id, Course.phase_id, Assignment.assigned_on, Assignment.completed_at)
        .join(User, User.id == Assignment.user_id).join(Course, Course.id == Assignment.course_id)
        .where(*mandatory, done)
    ):
        durations.sample(phase_id, units.of_team(team_id), max(0, (local_day(completed_at) - assigned_on).days))
    return (tally.rates(COMPLETION.key, "done", "total") + tally.totals(OVERDUE.key, "overdue", "total")
            + durations.medians(COMPETENCE.key))
