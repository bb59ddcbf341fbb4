"""Programme dashboard exports: department and team names never become spreadsheet formulas."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from learning.db import unit_of_work
from learning.metrics.services import snapshot
from tests.test_exports import (
    HOSTILE,
    assert_csv_safe,
    assert_hostile_texts_inert,
    assert_xlsx_safe,
    read_export_csv,
    read_xlsx,
)


@pytest.fixture
def hostile_org(app, people, make_department, make_team, make_user, make_course, make_assignment):
    """Each hostile text names a team of five in a large department, and a department of one person."""
    big = make_department(HOSTILE[0])
    course = make_course("pflicht")
    today = date.today()
    staff = []
    for number, text in enumerate(HOSTILE):
        team = make_team(text, big)
        staff += [make_user(f"t{number}-{i}", team=team) for i in range(5)]
        department = big if number == 0 else make_department(text)  # the large one carries the first text
        staff.append(make_user(f"d{number}", team=make_team("Team", department)))
    for person in staff:
        make_assignment(person, course, assigned_on=today - timedelta(days=20), due_on=today - timedelta(days=1))
    with app.test_request_context():
        with unit_of_work():
            snapshot(today)
    return {"big": big}


def test_programme_exports_write_unit_names_as_text(client, people, login, hostile_org):
    login(client, people["project_group"].username)
    response = client.get("/programme/export.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    _info, rows = read_export_csv(response.data)
    assert_csv_safe(rows)
    units = {row[0] for row in rows[1:]}
    assert {"'" + text for text in HOSTILE} <= units

    workbook = read_xlsx(client.get("/programme/export.xlsx").data)
    assert_xlsx_safe(workbook)
    assert_hostile_texts_inert(workbook, HOSTILE)


def test_department_view_exports_write_team_and_department_names_as_text(client, people, login, hostile_org):
    """The department's own name is the scope of its rows; its teams carry the other texts."""
    login(client, people["project_group"].username)
    query = f"?department={hostile_org['big'].id}"
    _info, rows = read_export_csv(client.get(f"/programme/export.csv{query}").data)
    assert_csv_safe(rows)
    assert {"'" + text for text in HOSTILE} <= {row[0] for row in rows[1:]}
    assert any(row[0] == "'" + HOSTILE[0] and any(row[1:]) for row in rows[1:])  # its figures are shown

    workbook = read_xlsx(client.get(f"/programme/export.xlsx{query}").data)
    assert_xlsx_safe(workbook)
    assert_hostile_texts_inert(workbook, HOSTILE)
