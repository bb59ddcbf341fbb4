"""Acceptance metrics: definitions, the registry that computes them, and daily snapshots.

Each metric source is a function ``(day) -> iterable of Value`` registered with
``@metric_source(..., order=...)`` for the metrics it produces, in its feature's module
``learning/<feature>/metrics.py`` (see ``learning.plugins``); the dashboards list the metrics in
the order of their sources. A source computes the figures *as of the end
of that day* in a fixed number of set-based queries, for every phase (and all phases) and every
unit (organisation, department, team). ``snapshot(day)`` stores them idempotently: running it
twice for a day replaces the day's rows. Units follow people's current team.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import delete, insert, select

from learning.db import db, utcnow
from learning.metrics.models import ALL_PHASES, ORGANISATION, MetricSnapshot
from learning.org.models import Team, User
from learning.plugins import discover


@dataclass(frozen=True)
class Metric:
    key: str
    label: object
    unit: str  # percent, count, days, hours, index, score, nps
    higher_is_better: bool
    description: object
    # Survey-based figures obey the survey thresholds; others are counts of records, not opinions.
    survey_based: bool = False
    # False for organisation-wide figures (e.g. feedback, which may be anonymous): no unit breakdown.
    per_unit: bool = True
    # (act below, good from) for the heatmap's colours where the unit has no obvious scale
    bands: tuple[float, float] | None = None
    # The anchor of its explanation on the glossary page (home.glossary), for jargon such as the eNPS.
    term: str | None = None


@dataclass(frozen=True)
class Value:
    metric: str
    phase_key: int
    unit_kind: str
    unit_id: int
    value: float | None
    n: int


Source = Callable[[date], Iterable[Value]]


@dataclass(frozen=True)
class RegisteredSource:
    compute: Source
    metrics: tuple[Metric, ...]
    order: int


_REGISTERED: list[RegisteredSource] = []
# Both follow the sources' order (then registration): read them after ``discover()``.
METRICS: dict[str, Metric] = {}
SOURCES: list[Source] = []


def metric_source(*metrics: Metric, order: int = 50):
    """Register a function computing the given metrics for a day; ``order`` places them on the dashboards."""

    def register(source: Source) -> Source:
        _REGISTERED.append(RegisteredSource(source, metrics, order))
        _REGISTERED.sort(key=lambda registered: registered.order)  # stable: equal orders keep registration
        METRICS.clear()
        METRICS.update((metric.key, metric) for registered in _REGISTERED for metric in registered.metrics)
        SOURCES[:] = [registered.compute for registered in _REGISTERED]
        return source

    return register


# Helpers for sources ---------------------------------------------------------------------

def end_of_day(day: date) -> datetime:
    """The first instant after ``day`` in the configured time zone (figures are as of then)."""
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    return datetime.combine(day + timedelta(days=1), time(), zone)


def local_day(instant: datetime) -> date:
    return instant.astimezone(ZoneInfo(current_app.config["TIMEZONE"])).date()


@dataclass
class Units:
    """Where each active person belongs: their team and its department (two small queries)."""

    team_of: dict[int, int | None]
    department_of_team: dict[int, int]

    @classmethod
    def load(cls) -> Units:
        return cls(
            team_of=dict(db.session.execute(select(User.id, User.team_id).where(User.active)).all()),
            department_of_team=dict(db.session.execute(select(Team.id, Team.department_id)).all()),
        )

    def of_team(self, team_id: int | None) -> list[tuple[str, int]]:
        """The units a member of ``team_id`` counts in: always the organisation."""
        units = [ORGANISATION]
        if team_id is not None:
            units += [("department", self.department_of_team[team_id]), ("team", team_id)]
        return units

    def of_person(self, user_id: int) -> list[tuple[str, int]] | None:
        """None for people who are not active (they count nowhere)."""
        if user_id not in self.team_of:
            return None
        return self.of_team(self.team_of[user_id])


@dataclass
class Tally:
    """Counts or samples per (phase, unit), filled row by row, turned into values at the end."""

    counts: dict = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))
    samples: dict = field(default_factory=lambda: defaultdict(list))

    def count(self, phase_id: int | None, units, **amounts: int) -> None:
        for phase_key in {ALL_PHASES, phase_id or ALL_PHASES}:
            for unit in units:
                bucket = self.counts[(phase_key, *unit)]
                for name, amount in amounts.items():
                    bucket[name] += amount

    def sample(self, phase_id: int | None, units, value: float) -> None:
        for phase_key in {ALL_PHASES, phase_id or ALL_PHASES}:
            for unit in units:
                self.samples[(phase_key, *unit)].append(value)

    def rates(self, metric: str, part: str, whole: str) -> list[Value]:
        return [Value(metric, key[0], key[1], key[2],
                      round(100 * c[part] / c[whole], 1) if c[whole] else None, c[whole])
                for key, c in self.counts.items()]

    def totals(self, metric: str, part: str, whole: str) -> list[Value]:
        return [Value(metric, key[0], key[1], key[2], float(c[part]), c[whole]) for key, c in self.counts.items()]

    def medians(self, metric: str) -> list[Value]:
        return [Value(metric, key[0], key[1], key[2], round(statistics.median(values), 1), len(values))
                for key, values in self.samples.items() if values]


# Computing and storing -------------------------------------------------------------------

def compute(day: date) -> list[Value]:
    """Every metric as of ``day``; each has at least its organisation-wide value (None when empty)."""
    discover()
    values: list[Value] = []
    for source in SOURCES:
        values.extend(source(day))
    present = {v.metric for v in values if (v.phase_key, v.unit_kind, v.unit_id) == (ALL_PHASES, *ORGANISATION)}
    values.extend(Value(key, ALL_PHASES, *ORGANISATION, None, 0) for key in METRICS if key not in present)
    return values


def snapshot(day: date) -> int:
    """Compute every metric as of ``day`` and store them, replacing that day's rows (flushed); return the count."""
    values = compute(day)
    now = utcnow()
    db.session.execute(delete(MetricSnapshot).where(MetricSnapshot.day == day))
    if values:
        db.session.execute(insert(MetricSnapshot), [
            {"day": day, "metric": v.metric, "phase_key": v.phase_key, "unit_kind": v.unit_kind,
             "unit_id": v.unit_id, "value": v.value, "n": v.n, "computed_at": now}
            for v in values
        ])
    db.session.flush()
    return len(values)


def latest_day() -> date | None:
    return db.session.scalar(select(db.func.max(MetricSnapshot.day)))
