"""What the dashboards show: the latest snapshot per unit, heatmaps and trends, never a small group.

Every figure per unit rests on at least ``MIN_UNIT_SIZE`` people or answers (survey figures on
the survey's own, higher threshold); a hidden cell also hides its next-smallest sibling, so no
value can be derived by subtracting the shown units from their parent. The same cells feed the
page, the chart data and the exports, so no output shows more than the page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import select, tuple_

from learning.db import db
from learning.metrics.models import ALL_PHASES, ORGANISATION, MetricSnapshot
from learning.metrics.services import METRICS, Metric
from learning.org.models import Department, Team
from learning.privacy import MIN_GROUP_SIZE, groups_to_hide

MIN_UNIT_SIZE = MIN_GROUP_SIZE


@dataclass
class Cell:
    value: float | None
    n: int
    hidden: bool = False

    @property
    def shown(self) -> float | None:
        return None if self.hidden else self.value


@dataclass
class Row:
    unit_kind: str
    unit_id: int
    name: str
    cells: dict[str, Cell] = field(default_factory=dict)


def dashboard_metrics(unit_kind: str = "org") -> list[Metric]:
    """The metrics that exist for a kind of unit (organisation-wide ones only for the organisation)."""
    return [m for m in METRICS.values() if unit_kind == "org" or m.per_unit]


def _snapshot_rows(day: date, phase_key: int, units: list[tuple[str, int]]):
    """The day's values of the given units (one query, using the series index)."""
    if not units:
        return []
    return db.session.execute(
        select(MetricSnapshot.metric, MetricSnapshot.unit_kind, MetricSnapshot.unit_id, MetricSnapshot.value,
               MetricSnapshot.n)
        .where(MetricSnapshot.day == day, MetricSnapshot.phase_key == phase_key,
               tuple_(MetricSnapshot.unit_kind, MetricSnapshot.unit_id).in_(units))
    ).all()


def overview(day: date, phase_key: int, unit: tuple[str, int]) -> dict[str, Cell]:
    """One unit's figures (the whole organisation needs no suppression among siblings)."""
    cells = {metric: Cell(value, n) for metric, _kind, _id, value, n in _snapshot_rows(day, phase_key, [unit])}
    if unit[0] != "org":
        for cell in cells.values():
            if cell.n < MIN_UNIT_SIZE:
                cell.hidden = True
    return cells


def heatmap(day: date, phase_key: int = ALL_PHASES, department_id: int | None = None) -> list[Row]:
    """Departments by metrics, or the teams of one department by metrics, suppressed per column.

    The parent's total counts too: what the shown units do not cover (people without a team,
    members of inactive teams) is a hidden sibling of its own, so it cannot be worked out either.
    """
    if department_id is None:
        units = db.session.execute(
            select(Department.id, Department.name).where(Department.active).order_by(Department.name)).all()
        kind, parent = "department", ORGANISATION
    else:
        units = db.session.execute(
            select(Team.id, Team.name).where(Team.department_id == department_id, Team.active)
            .order_by(Team.name)).all()
        kind, parent = "team", ("department", department_id)
    rows = {unit_id: Row(kind, unit_id, name) for unit_id, name in units}
    parent_n: dict[str, int] = {}
    for metric, unit_kind, unit_id, value, n in _snapshot_rows(day, phase_key,
                                                               [parent, *((kind, unit_id) for unit_id in rows)]):
        if (unit_kind, unit_id) == parent:
            parent_n[metric] = n
        elif unit_kind == kind and unit_id in rows:
            rows[unit_id].cells[metric] = Cell(value, n)
    for metric in METRICS:
        cells = [row.cells[metric] for row in rows.values() if metric in row.cells]
        rest = max(0, parent_n.get(metric, 0) - sum(cell.n for cell in cells))
        for index in groups_to_hide([cell.n for cell in cells] + [rest], MIN_UNIT_SIZE):
            if index < len(cells):
                cells[index].hidden = True
    return list(rows.values())


@dataclass
class Series:
    metric: Metric
    points: list[tuple[date, float | None]]


def trends(metrics: list[str], phase_key: int, unit: tuple[str, int], until: date, days: int,
           points: int = 12) -> list[Series]:
    """Up to ``points`` evenly spaced snapshot values per metric over the period (one query)."""
    since = until - timedelta(days=days)
    rows = db.session.execute(
        select(MetricSnapshot.metric, MetricSnapshot.day, MetricSnapshot.value, MetricSnapshot.n)
        .where(MetricSnapshot.metric.in_(metrics), MetricSnapshot.phase_key == phase_key,
               MetricSnapshot.unit_kind == unit[0], MetricSnapshot.unit_id == unit[1],
               MetricSnapshot.day > since, MetricSnapshot.day <= until)
        .order_by(MetricSnapshot.day)
    ).all()
    by_metric: dict[str, list[tuple[date, float | None]]] = {m: [] for m in metrics}
    minimum = MIN_UNIT_SIZE if unit[0] != "org" else 0
    for metric, day, value, n in rows:
        by_metric[metric].append((day, value if n >= minimum else None))
    result = []
    for metric in metrics:
        values = by_metric[metric]
        step = max(1, -(-len(values) // points))
        sampled = values[::-1][::step][::-1]  # always keep the latest day
        result.append(Series(METRICS[metric], sampled))
    return result
