"""Dashboards: team readiness for managers, the programme dashboard for the project group."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import format_decimal, get_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from learning.audit.services import record, record_view
from learning.charts import day_chart
from learning.db import db, unit_of_work
from learning.exports import Column, Export, export_response
from learning.forms import ActionForm
from learning.guards import int_arg
from learning.i18n import local_today
from learning.metrics import bp
from learning.metrics.dashboards import dashboard_metrics, heatmap, overview, trends
from learning.metrics.models import ALL_PHASES, ORGANISATION
from learning.metrics.services import Metric, latest_day, snapshot
from learning.metrics.team import member_training, open_feedback
from learning.onboarding.access import managers_see_journeys
from learning.onboarding.journeys import team_journeys
from learning.org.models import Department, Team, User
from learning.phases.models import RolloutPhase
from learning.roles import Role
from learning.security import allow
from learning.settings.services import organisation_name, setting
from learning.surveys.instruments import construct_label
from learning.surveys.stats import ADKAR_ELEMENTS

PERIODS = {"30": 30, "90": 90, "180": 180, "365": 365}
TREND_METRICS = ("training.completion", "announcements.acknowledged", "surveys.readiness", "feedback.closure")


@bp.app_template_global()
def format_metric(metric: Metric, value: float | None) -> str:
    if value is None:
        return "–"
    if metric.unit == "percent":
        return f"{format_decimal(value, format='#,##0.#')} %"
    if metric.unit == "days":
        days = format_decimal(value, format="#,##0.#")
        return ngettext("%(value)s day", "%(value)s days", int(round(value)), value=days)
    if metric.unit == "hours":
        return f"{format_decimal(value, format='#,##0.#')} h"
    if metric.unit == "barrier":
        return construct_label(ADKAR_ELEMENTS[int(value) - 1]) if value else _("none found")
    if metric.unit == "score7":
        return _("%(value)s of 7", value=format_decimal(value, format="0.0"))
    if metric.unit == "nps":
        return format_decimal(value, format="+#,##0;-#,##0")
    return format_decimal(value, format="#,##0.#")


@bp.app_template_global()
def metric_band(metric: Metric, value: float | None) -> str:
    """A colour band for heatmap cells; the value itself is always printed as text."""
    if value is None:
        return "none"
    if metric.unit == "barrier":
        return "good" if value == 0 else "bad"
    if metric.bands:
        act, good = metric.bands
        return "good" if value >= good else "bad" if value < act else "medium"
    if metric.unit == "percent":
        good = value >= 80 if metric.higher_is_better else value <= 20
        bad = value < 50 if metric.higher_is_better else value > 50
        return "good" if good else "bad" if bad else "medium"
    if metric.unit == "count":
        return "good" if value == 0 else "bad"
    return "neutral"


def _charts(series_list):
    return [(series, day_chart(series.points, maximum=100 if series.metric.unit in ("percent", "index") else None,
                               date_label=lambda d: d.strftime("%d.%m.")))
            for series in series_list]


# Team readiness ------------------------------------------------------------------------------

@bp.route("/readiness")
@allow(Role.MANAGER)
def team():
    teams = db.session.scalars(
        select(Team).join(Team.managers).where(User.id == current_user.id, Team.active).order_by(Team.name)
    ).all()
    problem = None
    chosen = teams[0] if teams else None
    if "team" in request.args:
        wanted = int_arg("team")
        chosen = next((t for t in teams if t.id == wanted), None)
        if chosen is None:
            problem = _("This team is not one you lead. Choose one of your teams.")
    day = latest_day()
    context = {"teams": teams, "team": chosen, "problem": problem, "day": day, "metrics": dashboard_metrics("team")}
    if chosen is not None:
        unit = ("team", chosen.id)
        context["cells"] = overview(day, ALL_PHASES, unit) if day else {}
        context["charts"] = _charts(trends(list(TREND_METRICS[:3]), ALL_PHASES, unit, day, 180)) if day else []
        if setting("managers.training_individuals"):
            # Recorded first: the commit expires loaded rows, which the page would then reload one by one.
            record_view(current_user, "metrics.team_training", chosen, chosen.name)
            context["members"] = member_training(chosen, local_today())
        if managers_see_journeys():
            context["journeys"] = [j for j in team_journeys(current_user, local_today())
                                   if j.journey.new_hire.team_id == chosen.id]
    return render_template("metrics/team.html", **context)


# Programme dashboard ------------------------------------------------------------------------

def _filters() -> tuple[dict, list[str]]:
    """The dashboard's filters from the query string; unknown values are reported, not guessed."""
    problems = []
    phases = db.session.scalars(select(RolloutPhase).order_by(RolloutPhase.period, RolloutPhase.title)).all()
    departments = db.session.scalars(select(Department).where(Department.active).order_by(Department.name)).all()
    phase = department = None
    slug = request.args.get("phase", "")
    if slug:
        phase = next((p for p in phases if p.slug == slug), None)
        if phase is None:
            problems.append(_("There is no rollout phase “%(value)s”.", value=slug[:80]))
    department_arg = request.args.get("department", "")
    if department_arg:
        department = next((d for d in departments if str(d.id) == department_arg), None)
        if department is None:
            problems.append(_("There is no department “%(value)s”.", value=department_arg[:80]))
    period = request.args.get("period", "180")
    if period not in PERIODS:
        problems.append(_("Choose a period of 30, 90, 180 or 365 days."))
        period = "180"
    return {"phases": phases, "departments": departments, "phase": phase, "department": department,
            "period": period}, problems


def _programme_data(filters: dict) -> dict:
    day = latest_day()
    phase_key = filters["phase"].id if filters["phase"] else ALL_PHASES
    department = filters["department"]
    unit = ("department", department.id) if department else ORGANISATION
    if day is None:
        return {"day": None}
    return {
        "day": day,
        "cells": overview(day, phase_key, unit),
        "rows": heatmap(day, phase_key, department.id if department else None),
        "charts": _charts(trends([m.key for m in dashboard_metrics(unit[0]) if m.key in TREND_METRICS], phase_key,
                                 unit, day, PERIODS[filters["period"]])),
    }


@bp.route("/programme")
@allow(Role.PROJECT_GROUP, Role.ADMIN)
def programme():
    filters, problems = _filters()
    data = {} if problems else _programme_data(filters)
    return render_template("metrics/programme.html", filters=filters, problems=problems,
                           metrics=dashboard_metrics("department" if filters["department"] else "org"),
                           unit_metrics=dashboard_metrics("department"), feedback=open_feedback(filters["phase"]),
                           form=ActionForm(), **data)


UNIT_SUFFIX = {"percent": "%", "days": _l("days"), "hours": _l("hours"), "count": _l("number"),
               "index": "0–100", "score7": "1–7", "nps": "−100 … +100"}


def _export_column(metric: Metric) -> Column:
    """The metric's column: its name with the unit in brackets; the barrier point as the element's name."""
    if metric.unit == "barrier":
        return Column(str(metric.label), "text", width=18)
    unit = UNIT_SUFFIX.get(metric.unit)
    label = f"{metric.label} ({unit})" if unit else str(metric.label)
    kind = "percent" if metric.unit == "percent" else "int" if metric.unit == "count" else "decimal"
    return Column(label, kind, 1)


def _export_value(metric: Metric, cell) -> object:
    if cell is None or cell.hidden or cell.value is None:
        return None
    if metric.unit == "barrier":
        return format_metric(metric, cell.value)  # "Fähigkeit", not 4.0
    return cell.value


def programme_export(filters: dict, data: dict) -> Export:
    """The dashboard as a table: one row per unit (the scope first), one column per figure, then the counts."""
    scope = filters["department"].name if filters["department"] else _("Whole organisation")
    metrics = dashboard_metrics()
    columns = [Column(_("Unit"), width=32)] + [_export_column(m) for m in metrics] + [
        Column(_("%(figure)s: based on (people)", figure=m.label), "int") for m in metrics]
    units = [(scope, data["cells"])] + [(row.name, row.cells) for row in data["rows"]]
    rows = []
    for name, cells in units:
        values = [_export_value(m, cells.get(m.key)) for m in metrics]
        counts = [None if cells.get(m.key) is None or cells[m.key].hidden else cells[m.key].n for m in metrics]
        rows.append([name, *values, *counts])
    phase = filters["phase"]
    return Export(
        title=_("Programme dashboard"), name=_("programme-dashboard"), columns=columns, rows=rows,
        organisation=organisation_name(), as_of=data["day"],
        filters=[(_("Rollout phase"), (phase.title_en if get_locale().language == "en" and phase.title_en
                                       else phase.title) if phase else _("All phases")),
                 (_("Department"), scope)],
        notes=[_("Groups of fewer than five people are never shown, nor any figure from which they could be "
                 "worked out: such cells are empty.")])


@bp.route("/programme/export.<any(csv, xlsx):fmt>")
@allow(Role.PROJECT_GROUP, Role.ADMIN)
def export(fmt: str):
    filters, problems = _filters()
    if problems:
        for problem in problems:
            flash(problem, "danger")
        return redirect(url_for("metrics.programme"))
    data = _programme_data(filters)
    if data["day"] is None:
        flash(_("There are no figures yet to export."), "warning")
        return redirect(url_for("metrics.programme"))
    table = programme_export(filters, data)
    name = f"programme-{data['day'].isoformat()}"
    with unit_of_work():
        record(current_user, "metrics.exported", None, f"{fmt} {name}", phase=filters["phase"].slug
               if filters["phase"] else None, department=filters["department"].id if filters["department"] else None)
    return export_response(table, fmt)


@bp.route("/programme/snapshot", methods=["POST"])
@allow(Role.PROJECT_GROUP, Role.ADMIN)
def compute_now():
    if ActionForm().validate_on_submit():
        with unit_of_work():
            count = snapshot(local_today())
        flash(ngettext("%(num)d figure computed.", "%(num)d figures computed.", count), "success")
    return redirect(url_for("metrics.programme", **request.args))
