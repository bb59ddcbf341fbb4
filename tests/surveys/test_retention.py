"""Retention: after the admins' period, a round's answers and participations go; its results stay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from learning.db import db, unit_of_work
from learning.surveys.managing import close_wave
from learning.surveys.models import SurveyAnswer, SurveyParticipation, SurveyResponse, SurveyWave
from learning.surveys.results import ALL, survey_results
from learning.surveys.taking import load_survey
from tests.surveys.conftest import RELEASED, TODAY, attached


def _adkar(value: int) -> dict:
    return {i: value for i in range(10)} | {10: "Ein Kommentar."}


def _counts(app):
    with app.app_context():
        return tuple(db.session.scalar(select(func.count()).select_from(t))
                     for t in (SurveyParticipation, SurveyResponse, SurveyAnswer))


def test_expired_rounds_keep_their_results_and_lose_their_answers(app, client, login, people, org, make_survey,
                                                                 answer, time_machine):
    from learning.transparency.retention import apply_retention

    survey_id = make_survey("adkar")
    for person in org["members"]["A1"][:6]:
        answer(person, survey_id, _adkar(4))
    with app.test_request_context():
        with unit_of_work():
            close_wave(attached(people["project_group"]), load_survey(survey_id), TODAY)
        before = survey_results(load_survey(survey_id), today=RELEASED).waves[0].stats(ALL).adkar.readiness
    assert before == 75
    soon = datetime(2026, 6, 1, 8, tzinfo=UTC)
    with app.test_request_context():
        assert apply_retention(soon)["survey_answers"] == 0  # within the 730 days: kept
    later = datetime(2028, 6, 1, 8, tzinfo=UTC)
    with app.test_request_context():
        assert apply_retention(later, dry_run=True)["survey_answers"] == 6
    assert _counts(app) == (6, 6, 66)
    with app.test_request_context(), unit_of_work():
        assert apply_retention(later)["survey_answers"] == 6
    assert _counts(app) == (0, 0, 0)
    with app.app_context():
        wave = db.session.scalar(select(SurveyWave).where(SurveyWave.survey_id == survey_id))
        rows = {(r[2], r[5]): r for r in wave.archived_rows}
        assert rows[("all", "adkar: readiness index")][6] == 75
        assert rows[("all", "responses")][6] == 6
        assert not any("Ein Kommentar." in str(v) for r in wave.archived_rows for v in r)  # no free text kept
    with app.test_request_context():
        results = survey_results(load_survey(survey_id), today=RELEASED)
        assert [values["adkar"] for _wave, values in results.trend()] == [75]
    time_machine.move_to("2028-06-01 10:00 +02:00", tick=False)
    login(client, "projectgroup")
    page = client.get(f"/surveys/{survey_id}/results").get_data(as_text=True)
    assert "Answers deleted, results kept" in page and "Readiness index" in page
    export = client.get(f"/surveys/{survey_id}/results.csv").get_data(as_text=True)
    assert "ADKAR readiness index (0–100);75.0;6;Yes" in export  # the archived figures, in words
    with app.test_request_context():  # a second run finds nothing more to do
        assert apply_retention(later + timedelta(days=1))["survey_answers"] == 0
