"""Survey results pages (project group, managers), their charts and the exports of aggregates.

Figures and what may be shown: ``learning.surveys.results``; the charts are drawn by ``learning.charts``.
"""

from __future__ import annotations

from flask import abort, render_template
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from learning.charts import Series, bar_chart, line_chart
from learning.db import db, unit_of_work
from learning.exports import export_response
from learning.guards import int_arg
from learning.i18n import local_today
from learning.org.models import Team
from learning.roles import Role
from learning.security import allow
from learning.settings.services import organisation_name
from learning.surveys import bp, stats
from learning.surveys.export import results_export
from learning.surveys.instruments import construct_label
from learning.surveys.managing import named_answers, record_export
from learning.surveys.models import Survey
from learning.surveys.results import ALL, managed_team_ids, survey_results, team_node
from learning.surveys.taking import load_survey

PROJECT = (Role.PROJECT_GROUP,)


# How figures read ----------------------------------------------------------------------------------------

def _fmt(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "–"
    return format_decimal(round(value, digits), format="#,##0." + "0" * digits) if digits else format_decimal(
        round(value), format="#,##0")


def _percent(value: float | None) -> str:
    return "–" if value is None else format_decimal(round(100 * value), format="#,##0") + " %"


def _band(value: float | None, column) -> str:
    if value is None:
        return "heat--hidden"
    share = (value - column.low) / (column.high - column.low) if column.high != column.low else 0.5
    return f"heat--{min(4, max(0, int(share * 5))) + 1}"


def _charts(results) -> dict:
    """The ADKAR bars of the group looked at and one trend chart per kind of scale."""
    charts = {}
    wave = results.wave
    if wave is not None and results.measures.adkar and wave.adkar_shown(results.group):
        group = wave.stats(results.group)
        bars = [(construct_label(e), group.adkar.means[e]) for e in stats.ADKAR_ELEMENTS]
        charts["adkar"] = bar_chart(
            "adkar-chart", _("ADKAR element means"),
            _("Mean of each element from 1 to 5; the dashed line marks 3, at or below which an element is a barrier."),
            bars, 1, 5, stats.BARRIER_AT_OR_BELOW, _("Barrier at 3"), number=lambda v: _fmt(v, 1))
    categories = [_("Round %(num)d", num=w.wave.number) for w in results.released_waves]
    trend = results.trend()
    families: dict[tuple, list] = {}
    for column in results.columns:
        families.setdefault((column.kind if column.kind in ("readiness", "enps") else "scale", column.low,
                             column.high), []).append(column)
    titles = {"scale": _("Scores per round"), "readiness": _("Readiness index per round"),
              "enps": _("eNPS per round")}
    charts["trend"] = []
    for (kind, low, high), columns in families.items():
        series = [Series(c.label, [values[c.key] for _wave, values in trend]) for c in columns]
        if kind == "enps":
            ticks = [-100, -50, 0, 50, 100]
        elif kind == "readiness":
            ticks = [0, 25, 50, 75, 100]
        else:
            ticks = list(range(int(low), int(high) + 1))
        chart_id = f"trend-{kind}-{int(high)}"
        charts["trend"].append({
            "id": chart_id, "title": titles[kind], "columns": columns,
            "svg": line_chart(chart_id, titles[kind], _("One line per figure across the rounds of the survey; the "
                                                       "table below gives the same values."),
                              categories, series, low, high, ticks)})
    return charts


def _wave_name(wave) -> str:
    return _("Round %(num)d", num=wave.number) + (f" ({wave.label})" if wave.label else "")


def _archive_labels(results) -> dict[str, str]:
    """Readable names of the main figures of a round whose answers were deleted (the rest: in the export)."""
    labels = {"responses": _("Answers"), "response rate": _("Response rate"),
              "adkar: share ready": _("Ready (all elements 4 or more)"), "adkar: barrier point": _("Barrier")}
    labels.update({c.figure: c.label for c in results.columns})
    return labels


def _results_context(survey: Survey, results) -> dict:
    return {"survey": survey, "results": results, "fmt": _fmt, "percent": _percent, "band": _band,
            "wave_name": _wave_name, "charts": _charts(results), "archive_labels": _archive_labels}


# Pages -------------------------------------------------------------------------------------------------

@bp.route("/<int:survey_id>/results", endpoint="results")
@allow(*PROJECT)
def results(survey_id: int):
    survey = load_survey(survey_id)
    data = survey_results(survey, int_arg("wave"), int_arg("department"),
                          today=local_today())
    departments = [(d, data.units.departments[d]) for d in data.units.department_order()]
    return render_template("surveys/results.html", departments=departments, **_results_context(survey, data))


def _export(survey_id: int, kind: str):
    survey = load_survey(survey_id)
    data = survey_results(survey, today=local_today())
    with unit_of_work():
        record_export(current_user, survey, kind)
    return export_response(results_export(data, organisation_name()), kind)


@bp.route("/<int:survey_id>/results.csv", endpoint="export_csv")
@allow(*PROJECT)
def export_csv_view(survey_id: int):
    return _export(survey_id, "csv")


@bp.route("/<int:survey_id>/results.xlsx", endpoint="export_xlsx")
@allow(*PROJECT)
def export_xlsx_view(survey_id: int):
    return _export(survey_id, "xlsx")


@bp.route("/<int:survey_id>/named", endpoint="named")
@allow(*PROJECT)
def named(survey_id: int):
    survey = load_survey(survey_id)
    wave = survey.wave(int_arg("wave")) or survey.current_wave(local_today())
    with unit_of_work():  # every look at the names is recorded
        rows = named_answers(current_user, survey, wave) if wave else []
    return render_template("surveys/named.html", survey=survey, wave=wave, rows=rows, wave_name=_wave_name,
                           questions=[q for s in survey.sections for q in s.questions])


@bp.route("/<int:survey_id>/my-teams", endpoint="team_results")
@allow(Role.MANAGER)
def team_results(survey_id: int):
    survey = load_survey(survey_id)
    if not survey.locked:
        abort(404)
    data = survey_results(survey, int_arg("wave"), today=local_today())
    mine = managed_team_ids(current_user)
    rows = [row for row in data.rows() if row.node[0] == "t" and row.node[2] in mine]
    # Teams without a row of their own: too small to be recorded (known only once the round is released).
    missing = sorted(mine - {row.node[2] for row in rows}) if data.wave and data.wave.released else []
    team_names = dict(db.session.execute(select(Team.id, Team.name).where(Team.id.in_(missing))).all())
    return render_template("surveys/team_results.html", team_rows=rows, ALL=ALL, team_node=team_node,
                           small_teams=[team_names[t] for t in missing if t in team_names],
                           **_results_context(survey, data))
