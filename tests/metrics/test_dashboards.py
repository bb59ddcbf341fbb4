"""Suppression in the heatmap, checked on stored snapshots: no small group, no way to subtract one."""

from __future__ import annotations

from datetime import date

from learning.db import db
from learning.metrics.dashboards import heatmap
from learning.metrics.models import MetricSnapshot

DAY = date(2026, 11, 2)


def _store(rows):
    for kind, unit_id, value, n in rows:
        db.session.add(MetricSnapshot(day=DAY, metric="training.completion", phase_key=0, unit_kind=kind,
                                      unit_id=unit_id, value=value, n=n))
    db.session.commit()


def _shown(rows) -> dict[str, float | None]:
    return {row.name: row.cells["training.completion"].shown for row in rows if "training.completion" in row.cells}


def test_people_outside_every_unit_count_as_a_hidden_sibling(ctx, make_department):
    """Organisation 20 = Finanzen 9 + Ordnung 8 + 3 without a team: Ordnung goes, or 3 would show."""
    a, b = make_department("Finanzen"), make_department("Ordnung")
    _store([("org", 0, 50.0, 20), ("department", a.id, 40.0, 9), ("department", b.id, 60.0, 8)])
    assert _shown(heatmap(DAY)) == {"Finanzen": 40.0, "Ordnung": None}


def test_a_small_team_hides_its_smallest_sibling(ctx, make_department, make_team):
    department = make_department("Bürgerservice")
    teams = [make_team(name, department) for name in ("Bürgerbüro", "Soziales", "Standesamt")]
    _store([("department", department.id, 70.0, 20), ("team", teams[0].id, 80.0, 10),
            ("team", teams[1].id, 60.0, 7), ("team", teams[2].id, 50.0, 3)])
    assert _shown(heatmap(DAY, department_id=department.id)) == {"Bürgerbüro": 80.0, "Soziales": None,
                                                                  "Standesamt": None}


def test_large_units_are_all_shown(ctx, make_department):
    a, b = make_department("Finanzen"), make_department("Ordnung")
    _store([("org", 0, 50.0, 20), ("department", a.id, 40.0, 10), ("department", b.id, 60.0, 10)])
    assert _shown(heatmap(DAY)) == {"Finanzen": 40.0, "Ordnung": 60.0}


def test_chart_data_leaves_out_days_on_which_a_unit_was_too_small(ctx, make_department):
    from learning.metrics.dashboards import trends

    department = make_department("Ordnung")
    for day, n in ((date(2026, 10, 1), 4), (date(2026, 10, 8), 6)):
        db.session.add(MetricSnapshot(day=day, metric="training.completion", phase_key=0, unit_kind="department",
                                      unit_id=department.id, value=50.0, n=n))
    db.session.commit()
    [series] = trends(["training.completion"], 0, ("department", department.id), date(2026, 10, 8), 30)
    assert series.points == [(date(2026, 10, 1), None), (date(2026, 10, 8), 50.0)]
