"""Survey result exports: unit names, the survey title and round labels never become spreadsheet formulas."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from learning.db import db, unit_of_work
from learning.org.models import Department, Team
from learning.surveys.models import Survey, SurveyWave
from tests.surveys.conftest import TODAY, attached
from tests.test_exports import (
    HOSTILE,
    assert_csv_safe,
    assert_hostile_texts_inert,
    assert_xlsx_safe,
    read_export_csv,
    read_xlsx,
)

ALL_FIVES = {i: 5 for i in range(10)}  # the ten ADKAR items


@pytest.fixture
def hostile_survey(app, org, people, make_survey, answer, time_machine):
    """The org's units, the survey title and the round label renamed as an admin or a CSV import could.

    Everyone answers and the round is closed, so its results are released.
    """
    time_machine.move_to("2026-03-10 10:00 +01:00", tick=False)
    survey_id = make_survey("adkar")
    for members in org["members"].values():
        for person in members:
            answer(person, survey_id, ALL_FIVES)
    names = {org["departments"]["A"].id: HOSTILE[0], org["departments"]["B"].id: HOSTILE[1]}
    team_names = dict(zip((org["teams"][t].id for t in ("A1", "A2", "A3", "B1")), HOSTILE[2:], strict=True))
    with app.test_request_context():
        for model, renames in ((Department, names), (Team, team_names)):
            for row_id, name in renames.items():
                db.session.execute(update(model).where(model.id == row_id).values(name=name))
        db.session.execute(update(Survey).where(Survey.id == survey_id).values(title=HOSTILE[0]))
        db.session.execute(update(SurveyWave).where(SurveyWave.survey_id == survey_id).values(label=HOSTILE[2]))
        db.session.commit()
        from learning.surveys.managing import close_wave
        from learning.surveys.taking import load_survey

        with unit_of_work():
            close_wave(attached(people["project_group"]), load_survey(survey_id), TODAY)
    return survey_id


def test_csv_export_writes_names_and_round_labels_as_text(client, login, hostile_survey):
    login(client, "projectgroup")
    response = client.get(f"/surveys/{hostile_survey}/results.csv")
    assert response.status_code == 200
    info, rows = read_export_csv(response.data)
    assert_csv_safe(rows)
    assert info["Survey"] == "'" + HOSTILE[0]  # the info block is written by the same rules
    header = rows[0]
    column = {name: header.index(name) for name in ("Round", "Department", "Team")}
    assert {row[column["Round"]] for row in rows[1:]} == {"'" + HOSTILE[2]}
    assert {"'" + HOSTILE[0], "'" + HOSTILE[1]} <= {row[column["Department"]] for row in rows[1:]}
    assert {"'" + text for text in HOSTILE[2:]} <= {row[column["Team"]] for row in rows[1:]}


def test_xlsx_export_writes_names_title_and_round_labels_as_string_cells(client, login, hostile_survey):
    login(client, "projectgroup")
    response = client.get(f"/surveys/{hostile_survey}/results.xlsx")
    assert response.status_code == 200
    workbook = read_xlsx(response.data)
    assert_xlsx_safe(workbook)
    assert_hostile_texts_inert(workbook, HOSTILE)
    about = {row[0].value: row[1] for row in workbook["Information"].iter_rows() if len(row) > 1}
    assert about["Survey"].value == HOSTILE[0] and about["Survey"].data_type == "s"
    everyone = {row[5]: row for row in workbook["Data"].iter_rows(min_row=2, values_only=True)
                if row[2] == "Whole organisation"}
    answers = everyone["Answers (number)"]
    assert answers[6] == 26 and answers[1] == HOSTILE[2]  # figures stay numbers
