"""The project group's overview: running journeys (on track, behind) and those done in the last year, by department."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from flask_babel import gettext as _
from sqlalchemy import select

from learning.db import db
from learning.onboarding.access import DONE_WINDOW_DAYS, course_done_at, moment_day
from learning.onboarding.models import Journey, JourneyTask, task_due_on
from learning.org.models import Department, Team, User


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
               JourneyTask.done_at, course_done_at().label("course_done_at"))
        .join(JourneyTask, JourneyTask.journey_id == Journey.id)
        .join(User, Journey.new_hire_id == User.id)
        .outerjoin(Team, User.team_id == Team.id).outerjoin(Department, Team.department_id == Department.id)
        .where(Journey.closed_at.is_(None))
    ).all()
    journeys: dict[int, dict] = {}
    for row in rows:
        entry = journeys.setdefault(row.id, {"start": row.start_date, "department": row.department,
                                             "open": 0, "overdue": 0, "last_done": None})
        done_on = moment_day(row.done_at) or moment_day(row.course_done_at)
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
