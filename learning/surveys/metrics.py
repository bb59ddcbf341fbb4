"""Survey figures for the snapshots: response rate, ADKAR readiness, acceptance and eNPS.

The figures come from the survey results themselves (``learning.surveys.results``), with each
survey's own thresholds and suppression already applied: a figure the survey's results page
hides is stored without a value, so no dashboard can show more than the survey does. For a day,
every opened survey contributes its latest round that was released by then (closed:
``SurveyWave.released``), never an open one, whose figures would change with every answer; where
several surveys give the same figure for a phase, the most recently opened of those rounds wins.
"""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from learning.db import db
from learning.metrics.models import ALL_PHASES
from learning.metrics.services import Metric, Value, end_of_day, metric_source
from learning.surveys import stats
from learning.surveys.models import Survey
from learning.surveys.results import ALL, survey_results

RESPONSE_RATE = Metric("surveys.response_rate", _l("Survey response rate"), "percent", True,
                       _l("People who answered the latest closed round out of the people it was meant for."),
                       survey_based=True)
READINESS = Metric("surveys.readiness", _l("Readiness index (ADKAR)"), "index", True,
                   _l("(Mean of the five ADKAR element means − 1) / 4 × 100."), survey_based=True, bands=(50, 75),
                   term="readiness")
READY = Metric("surveys.ready", _l("Ready for the change"), "percent", True,
               _l("Share of respondents with all five ADKAR elements at 4 or higher."), survey_based=True)
BARRIER = Metric("surveys.barrier", _l("Barrier point (ADKAR)"), "barrier", True,
                 _l("The first element in the order awareness, desire, knowledge, ability, reinforcement whose "
                    "mean is 3 or lower: where support should start."), survey_based=True, term="barrier-point")
USEFULNESS = Metric("surveys.usefulness", _l("Perceived usefulness"), "score7", True,
                    _l("Mean on 1 to 7 after reverse-keyed items are turned round."), survey_based=True,
                    bands=(4, 5.5))
EASE = Metric("surveys.ease_of_use", _l("Perceived ease of use"), "score7", True,
              _l("Mean on 1 to 7 after reverse-keyed items are turned round."), survey_based=True, bands=(4, 5.5))
ENPS = Metric("surveys.enps", _l("eNPS"), "nps", True,
              _l("Share answering 9 or 10 minus share answering 0 to 6, on 0 to 10."), survey_based=True,
              bands=(-10, 10), term="enps")


def _unit(node: tuple) -> tuple[str, int] | None:
    if node == ALL:
        return ("org", 0)
    if node[0] == "d" and node[1] is not None:
        return ("department", node[1])
    if node[0] == "t" and node[2] is not None:
        return ("team", node[2])
    return None  # answers that could not be placed in a unit: part of the totals only


def _figures(results) -> list[tuple[str, tuple, float | None, int]]:
    """(metric, node, value or None when hidden, n) for every node of the chosen round."""
    wave = results.wave
    columns = {c.key: c for c in results.columns}
    figures = []
    for node, rate in wave.rates.items():
        figures.append((RESPONSE_RATE.key, node, rate.percent, 0 if rate.hidden else rate.eligible))
    for node, group in wave.groups.items():
        sizes = group.sizes()
        for column_key, metric in (("c:usefulness", USEFULNESS), ("c:ease_of_use", EASE), ("adkar", READINESS)):
            if column_key in columns:
                value = wave.value(node, columns[column_key])
                figures.append((metric.key, node, value, sizes.get(column_key, 0) if value is not None else 0))
        enps = next((c for c in results.columns if c.kind == "enps"), None)
        if enps is not None:
            value = wave.value(node, enps)
            figures.append((ENPS.key, node, value, sizes.get(enps.key, 0) if value is not None else 0))
        if group.adkar is not None:
            shown = wave.adkar_shown(node)
            n = group.adkar.n if shown else 0
            ready = group.adkar.ready * 100 if shown and group.adkar.ready is not None else None
            figures.append((READY.key, node, ready, n))
            barrier = None
            if shown:
                barrier = float(stats.ADKAR_ELEMENTS.index(group.adkar.barrier) + 1) if group.adkar.barrier else 0.0
            figures.append((BARRIER.key, node, barrier, n))
    return figures


@metric_source(RESPONSE_RATE, READINESS, READY, BARRIER, USEFULNESS, EASE, ENPS)
def surveys(day: date) -> list[Value]:
    end = end_of_day(day)
    rounds = []
    for survey in db.session.scalars(
        select(Survey).where(Survey.opened_at.is_not(None), Survey.opened_at < end)
        .options(selectinload(Survey.waves))
    ):
        released = [w for w in survey.waves if w.released(day)]
        if released:
            latest = max(released, key=lambda w: (w.opens_on, w.number))
            rounds.append((latest.opens_on, survey.id, survey, latest))
    values: dict[tuple, Value] = {}
    for _, _, survey, wave in sorted(rounds, key=lambda r: (r[0], r[1])):  # later rounds overwrite
        results = survey_results(survey, wave_number=wave.number, today=day)
        if results.wave is None or not results.wave.released:
            continue
        for metric, node, value, n in _figures(results):
            unit = _unit(node)
            if unit is None:
                continue
            for phase_key in {ALL_PHASES, survey.phase_id or ALL_PHASES}:
                values[(metric, phase_key, *unit)] = Value(metric, phase_key, unit[0], unit[1],
                                                           None if value is None else round(value, 2), n)
    return list(values.values())
