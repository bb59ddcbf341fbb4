"""Team readiness and the programme dashboard: own teams only, no small group in any output."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from learning.audit.models import AuditEntry
from learning.db import db, unit_of_work
from learning.metrics.services import snapshot
from tests.test_exports import read_export_csv


@pytest.fixture
def landscape(app, people, make_department, make_team, make_user, make_course, make_assignment):
    """Departments of 6, 5 and 2 people; mara leads Kasse (6) and Gewerbe (2).

    Ordnung (2) is too small; hiding it alone would let Finanzen and Bauen reveal it by subtraction
    from the whole, so the next-smallest, Bauen (5), is hidden too.
    """
    big = make_department("Finanzen")
    small = make_department("Ordnung")
    kasse = make_team("Kasse", big, managers=[people["manager"]])
    gewerbe = make_team("Gewerbe", small, managers=[people["manager"]])
    bau = make_team("Bauverwaltung", make_department("Bauen"))
    course = make_course("pflicht")
    today = date.today()
    staff = ([make_user(f"k{i}", team=kasse) for i in range(6)] + [make_user(f"g{i}", team=gewerbe) for i in range(2)]
             + [make_user(f"b{i}", team=bau) for i in range(5)])
    for i, person in enumerate(staff):
        make_assignment(person, course, assigned_on=today - timedelta(days=20), due_on=today - timedelta(days=i % 2))
    with app.test_request_context():
        with unit_of_work():
            snapshot(today)
    return {"big": big, "small": small, "kasse": kasse, "gewerbe": gewerbe, "staff": staff}


def test_manager_sees_own_teams_with_a_switcher_and_individuals(app, client, people, login, landscape):
    login(client, people["manager"].username)
    page = client.get("/readiness").get_data(as_text=True)
    assert 'name="team"' in page  # mara leads several teams
    kasse = client.get(f"/readiness?team={landscape['kasse'].id}").get_data(as_text=True)
    assert "Kasse" in kasse and landscape["staff"][1].full_name in kasse
    assert "0 %" in kasse and "n = 6" in kasse  # nobody has completed yet
    with app.app_context():
        entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "view.metrics.team_training")).all()
    assert {(e.actor_id, e.target_type) for e in entries} == {(people["manager"].id, "team")}
    assert landscape["kasse"].id in {e.target_id for e in entries}


def test_a_team_the_manager_does_not_lead_is_refused(app, client, people, login, landscape, make_team):
    other = make_team("Fremdes Team", landscape["big"])
    login(client, people["manager"].username)
    response = client.get(f"/readiness?team={other.id}")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "not one you lead" in text and "Fremdes Team" not in text


def test_individuals_follow_the_privacy_setting(app, client, people, login, landscape):
    from learning.settings.services import save_settings

    with app.test_request_context(), unit_of_work():
        save_settings({"managers.training_individuals": False}, people["admin"])
    login(client, people["manager"].username)
    text = client.get(f"/readiness?team={landscape['kasse'].id}").get_data(as_text=True)
    assert landscape["staff"][1].full_name not in text
    with app.app_context():
        assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "view.metrics.team_training")) is None


def test_small_team_figures_are_hidden_for_its_manager(app, client, people, login, landscape):
    login(client, people["manager"].username)
    text = client.get(f"/readiness?team={landscape['gewerbe'].id}").get_data(as_text=True)
    assert "not enough people to show" in text


def test_programme_dashboard_hides_small_departments_everywhere(app, client, people, login, landscape):
    login(client, people["project_group"].username)
    text = client.get("/programme").get_data(as_text=True)
    assert "Finanzen" in text and "Ordnung" in text
    assert "not enough people to show" in text

    info, rows = read_export_csv(client.get("/programme/export.csv").data)
    header, body = rows[0], {r[0]: r for r in rows[1:]}
    training = header.index("Mandatory training completed (%)")
    based_on = header.index("Mandatory training completed: based on (people)")
    for department in ("Ordnung", "Bauen"):  # too small, and its complement
        assert body[department][1:] == [""] * (len(header) - 1)  # neither value nor n
    assert body["Finanzen"][training] == "0.0" and body["Finanzen"][based_on] == "6"
    assert info["Rollout phase"] == "All phases" and info["Department"] == "Whole organisation"

    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(client.get("/programme/export.xlsx").data))
    values = [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]
    assert all(v is None for r in values if r[0] in ("Ordnung", "Bauen") for v in r[1:])
    finanzen = next(r for r in values if r[0] == "Finanzen")
    assert finanzen[training] == 0.0 and finanzen[based_on] == 6


def test_team_view_of_a_department_hides_the_small_sibling_too(app, client, people, login, landscape, make_team,
                                                               make_user, make_course, make_assignment):
    """Kasse (6) beside a team of 1: hiding only the small team would reveal it by subtraction."""
    single = make_team("Einzelteam", landscape["big"])
    make_assignment(make_user("solo", team=single), make_course("solo-kurs"), assigned_on=date.today())
    with app.test_request_context():
        with unit_of_work():
            snapshot(date.today())
    login(client, people["project_group"].username)
    _info, rows = read_export_csv(client.get(f"/programme/export.csv?department={landscape['big'].id}").data)
    training = rows[0].index("Mandatory training completed (%)")
    by_team = {r[0]: r for r in rows[1:]}
    assert by_team["Einzelteam"][training] == "" and by_team["Kasse"][training] == ""  # the sibling is hidden too
    assert by_team["Finanzen"][training] == "0.0"  # the department as a whole is shown


def test_unknown_filters_are_refused_with_a_message(client, people, login, landscape):
    login(client, people["project_group"].username)
    text = client.get("/programme?phase=gibt-es-nicht&department=999&period=7").get_data(as_text=True)
    assert "There is no rollout phase" in text and "There is no department" in text
    assert "Choose a period" in text and "Metrics by unit" not in text
    assert client.get("/programme/export.csv?department=abc").status_code == 302


def test_dashboard_without_snapshots_offers_to_compute(client, people, login):
    login(client, people["project_group"].username)
    text = client.get("/programme").get_data(as_text=True)
    assert "computed every night" in text
    assert client.submit("/programme/snapshot").status_code == 302
    assert "Metrics by unit" in client.get("/programme").get_data(as_text=True)


def test_pages_run_a_fixed_number_of_queries(app, client, people, login, landscape, make_user, count_queries):
    login(client, people["project_group"].username)
    with count_queries() as few:
        client.get("/programme")
    for i in range(10):
        make_user(f"mehr{i}", team=landscape["kasse"])
    with app.test_request_context():
        with unit_of_work():
            snapshot(date.today())
    with count_queries() as many:
        client.get("/programme")
    assert len(many) == len(few)


@pytest.mark.parametrize(("unit", "value", "english"), [
    ("percent", 66.67, "66.7 %"), ("days", 7.0, "7 days"), ("days", 1.0, "1 day"), ("hours", 8.5, "8.5 h"),
    ("count", 3.0, "3"), ("percent", None, "–"),
])
def test_figures_are_written_out_with_their_unit(ctx, unit, value, english):
    from flask_babel import force_locale

    from learning.metrics.services import Metric
    from learning.metrics.views import format_metric

    assert format_metric(Metric("x", "X", unit, True, ""), value) == english
    with force_locale("de"):
        assert format_metric(Metric("p", "P", "percent", True, ""), 66.67) == "66,7 %"
