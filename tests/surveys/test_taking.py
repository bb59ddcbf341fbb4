"""Taking a survey: pages without partial storage, one response per wave, and tampered answers refused."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from learning.db import db, unit_of_work
from learning.surveys.models import SurveyAnswer, SurveyParticipation, SurveyResponse
from tests.surveys.conftest import TODAY, attached, question_ids

NOW = "2026-03-10 10:00 +01:00"


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(NOW, tick=False)


def _counts(app) -> tuple[int, int, int]:
    with app.app_context():
        return tuple(db.session.scalar(select(func.count()).select_from(table))
                     for table in (SurveyParticipation, SurveyResponse, SurveyAnswer))


def _full(ids, **overrides) -> dict:
    """Answers to every question of the ADKAR template: ten ratings and a comment."""
    data = {f"q{qid}": "4" for qid in ids[:10]}
    data[f"q{ids[10]}"] = "Mehr Übungszeit."
    data.update(overrides)
    return data


def test_pages_carry_earlier_answers_and_nothing_is_stored_before_the_end(app, client, login, make_survey, clock):
    survey_id = make_survey("adkar")
    ids = question_ids(app, survey_id)
    login(client, "employee")
    first = client.get(f"/surveys/{survey_id}/answer").get_data(as_text=True)
    assert "Page 1 of 6" in first and f'name="q{ids[0]}"' in first and f'name="q{ids[2]}"' not in first
    assert '<fieldset class="kern-fieldset survey-scale' in first and "<legend" in first
    page = client.submit(f"/surveys/{survey_id}/answer", {"step": "0", "nav": "next", f"q{ids[0]}": "5",
                                                          f"q{ids[1]}": "3"}).get_data(as_text=True)
    assert "Page 2 of 6" in page
    assert f'<input type="hidden" name="q{ids[0]}" value="5">' in page  # carried in the form, not on the server
    assert _counts(app) == (0, 0, 0)
    back = client.submit(f"/surveys/{survey_id}/answer", {"step": "1", "nav": "back", f"q{ids[0]}": "5",
                                                          f"q{ids[1]}": "3", f"q{ids[2]}": "2"}).get_data(as_text=True)
    assert "Page 1 of 6" in back and f'id="q{ids[0]}-5" name="q{ids[0]}" value="5" checked' in back
    assert f'<input type="hidden" name="q{ids[2]}" value="2">' in back  # the later page's answer is kept too
    assert _counts(app) == (0, 0, 0)
    response = client.submit(f"/surveys/{survey_id}/answer", {"step": "5", "nav": "submit", **_full(ids)})
    assert response.status_code == 302
    assert _counts(app) == (1, 1, 11)


def test_a_required_question_left_out_is_asked_for_on_its_page(app, client, login, make_survey, clock):
    survey_id = make_survey("adkar")
    ids = question_ids(app, survey_id)
    login(client, "employee")
    page = client.submit(f"/surveys/{survey_id}/answer", {"step": "0", "nav": "next", f"q{ids[0]}": "5"})
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "Page 1 of 6" in text and "Please answer this question." in text
    assert f'href="#q{ids[1]}"' in text and f'aria-describedby="q{ids[1]}-error"' in text
    data = _full(ids)
    del data[f"q{ids[7]}"]
    final = client.submit(f"/surveys/{survey_id}/answer", {"step": "5", "nav": "submit", **data})
    assert "Page 4 of 6" in final.get_data(as_text=True)  # sent back to the page with the gap
    assert _counts(app) == (0, 0, 0)


@pytest.mark.parametrize("tamper", ["6", "0", "-1", "abc", "3.5", "99999999999"])
def test_out_of_range_answers_are_refused_without_an_error_page(app, client, login, make_survey, clock, tamper):
    survey_id = make_survey("adkar")
    ids = question_ids(app, survey_id)
    login(client, "employee")
    response = client.submit(f"/surveys/{survey_id}/answer", {"step": "5", "nav": "submit",
                                                              **_full(ids, **{f"q{ids[3]}": tamper})})
    assert response.status_code == 200
    assert "Please choose one of the offered answers." in response.get_data(as_text=True)
    assert _counts(app) == (0, 0, 0)


def test_two_values_for_one_answer_are_refused(app, client, login, make_survey, clock):
    survey_id = make_survey("adkar")
    ids = question_ids(app, survey_id)
    login(client, "employee")
    data = _full(ids)
    data[f"q{ids[0]}"] = ["2", "5"]
    response = client.submit(f"/surveys/{survey_id}/answer", {"step": "5", "nav": "submit", **data})
    assert "Please choose only one answer." in response.get_data(as_text=True)
    assert _counts(app) == (0, 0, 0)


def test_answers_to_questions_of_another_survey_are_refused(app, client, login, make_survey, clock):
    survey_id = make_survey("adkar")
    other = make_survey("pulse")
    foreign = question_ids(app, other)[0]
    ids = question_ids(app, survey_id)
    login(client, "employee")
    response = client.submit(f"/surveys/{survey_id}/answer", {"step": "5", "nav": "submit",
                                                              **_full(ids, **{f"q{foreign}": "3"})},
                             follow_redirects=True)
    assert response.status_code == 200
    assert "Some answers do not belong to this survey" in response.get_data(as_text=True)
    assert _counts(app) == (0, 0, 0)


def test_a_second_response_in_the_same_wave_is_refused(app, client, login, make_survey, clock):
    survey_id = make_survey("adkar")
    ids = question_ids(app, survey_id)
    login(client, "employee")
    first = client.submit(f"/surveys/{survey_id}/answer", {"step": "5", "nav": "submit", **_full(ids)})
    assert first.status_code == 302
    again = client.submit(f"/surveys/{survey_id}/answer", {"step": "5", "nav": "submit", **_full(ids)},
                          follow_redirects=True)
    assert "You have already answered this survey in this round" in again.get_data(as_text=True)
    assert _counts(app) == (1, 1, 11)
    start = client.get(f"/surveys/{survey_id}").get_data(as_text=True)
    assert "Start the survey" not in start


def test_closed_and_not_yet_open_surveys_refuse_answers(app, client, login, people, make_survey, time_machine):
    later = make_survey("pulse", today=TODAY + timedelta(days=5))
    closing = make_survey("pulse")
    time_machine.move_to(NOW, tick=False)
    login(client, "employee")
    ids = question_ids(app, later)
    early = client.submit(f"/surveys/{later}/answer", {"step": "0", "nav": "submit", f"q{ids[0]}": "3",
                                                       f"q{ids[1]}": "3", f"q{ids[2]}": "3"}, follow_redirects=True)
    assert "This survey opens on" in early.get_data(as_text=True)
    from learning.surveys.managing import close_wave
    from learning.surveys.taking import load_survey

    with app.test_request_context(), unit_of_work():
        close_wave(attached(people["project_group"]), load_survey(closing), TODAY)
    ids = question_ids(app, closing)
    late = client.submit(f"/surveys/{closing}/answer", {"step": "0", "nav": "submit", f"q{ids[0]}": "3",
                                                        f"q{ids[1]}": "3", f"q{ids[2]}": "3"}, follow_redirects=True)
    assert "This survey is closed" in late.get_data(as_text=True)
    time_machine.move_to("2026-04-30 10:00 +02:00", tick=False)  # after the last day of the round
    login(client, "employee")
    assert "This survey is closed" in client.get(f"/surveys/{later}").get_data(as_text=True)
    assert _counts(app) == (0, 0, 0)


def test_a_survey_for_other_departments_is_not_found(app, client, login, org, make_survey, clock):
    survey_id = make_survey("pulse", audience="departments", audience_values=[org["departments"]["B"].id])
    login(client, "employee")  # in the Bürgerbüro, not in Amt B
    assert client.get(f"/surveys/{survey_id}").status_code == 404
    assert client.get(f"/surveys/{survey_id}/answer").status_code == 404
    assert client.submit(f"/surveys/{survey_id}/answer", {"nav": "submit"}).status_code == 404
    colleague = app.test_client()
    login(colleague, "b1-0")
    assert colleague.get(f"/surveys/{survey_id}").status_code == 200


def test_drafts_are_invisible_to_respondents(client, login, make_survey, clock):
    survey_id = make_survey("pulse", opened=False)
    login(client, "employee")
    assert client.get(f"/surveys/{survey_id}").status_code == 404


def test_one_response_per_wave_holds_under_concurrency(app, make_user, people, make_survey):
    """Two submissions of one person at the same moment: the participation key lets exactly one through.

    Runs on PostgreSQL too (LEARNING_TEST_DATABASE_URL): there the loser waits on the unique index
    and fails at its insert; on SQLite the database lock serialises the two.
    """
    from learning.errors import ServiceError
    from learning.surveys.taking import load_survey, questions_in_order, submit_response

    survey_id = make_survey("pulse")
    with app.app_context():
        ids = [q.id for q in questions_in_order(load_survey(survey_id))]
    raw = {ids[0]: ["4"], ids[1]: ["4"], ids[2]: ["4"]}
    barrier = threading.Barrier(4)
    outcomes: list[str] = []

    def take():
        with app.test_request_context(headers={"Accept-Language": "en"}):
            user = attached(people["employee"])
            barrier.wait(timeout=10)
            try:
                submit_response(user, survey_id, raw, TODAY)
                outcomes.append("saved")
            except ServiceError as exc:
                outcomes.append(str(exc))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=take) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert outcomes.count("saved") == 1, outcomes
    assert all("already answered" in o or "could not be saved" in o for o in outcomes if o != "saved"), outcomes
    assert _counts(app) == (1, 1, 3)


def test_the_unit_is_kept_only_when_enough_people_were_asked_there(app, org, make_survey, answer):
    survey_id = make_survey("pulse")
    answer(org["members"]["A1"][0], survey_id, {0: 4, 1: 4, 2: 4})  # team of 7
    answer(org["members"]["A4"][0], survey_id, {0: 2, 1: 2, 2: 2})  # team of 2
    with app.app_context():
        units = set(db.session.execute(select(SurveyResponse.department_id, SurveyResponse.team_id)).all())
    a = org["departments"]["A"].id
    assert units == {(a, org["teams"]["A1"].id), (a, None)}


def test_the_home_card_lists_open_surveys_not_yet_answered(app, client, login, people, make_survey, answer, clock):
    survey_id = make_survey("pulse")
    login(client, "employee")
    home = client.get("/").get_data(as_text=True)
    assert "Surveys" in home and f"/surveys/{survey_id}" in home
    answer(people["employee"], survey_id, {0: 4, 1: 4, 2: 4})
    assert f"/surveys/{survey_id}" not in client.get("/").get_data(as_text=True)
    mine = client.get("/surveys/").get_data(as_text=True)
    assert "Answered" in mine


def test_open_surveys_for_and_non_participants(app, org, people, make_survey, answer):
    from learning.surveys.taking import load_survey, non_participants, open_surveys_for

    survey_id = make_survey("pulse", audience="teams", audience_values=[org["teams"]["B1"].id])
    b1 = org["members"]["B1"]
    answer(b1[0], survey_id, {0: 4, 1: 4, 2: 4})
    with app.test_request_context():
        survey = load_survey(survey_id)
        missing = set(db.session.scalars(non_participants(survey, survey.waves[0])))
        assert missing == {u.id for u in b1[1:]}
        mine = open_surveys_for(attached(b1[1]), TODAY)
        assert [(item.survey.id, item.answered) for item in mine] == [(survey_id, False)]
        assert [(i.survey.id, i.answered) for i in open_surveys_for(attached(b1[0]), TODAY)] == [(survey_id, True)]
        assert open_surveys_for(attached(people["employee"]), TODAY) == []
        assert open_surveys_for(attached(b1[1]), TODAY + timedelta(days=30)) == []


def test_the_phase_page_section_lists_the_phase_surveys(app, people, make_survey, clock):
    from flask import render_template_string
    from flask_login import login_user

    from learning.phases.models import RolloutPhase
    from learning.surveys.models import Survey

    survey_id = make_survey("pulse")
    with app.test_request_context(headers={"Accept-Language": "en"}):
        phase = RolloutPhase(slug="phase-x", title="Phase X", period="2026-H1")
        db.session.add(phase)
        db.session.flush()
        db.session.get(Survey, survey_id).phase_id = phase.id
        db.session.commit()
        login_user(attached(people["employee"]))
        html = render_template_string('{% include "surveys/_phase_section.html" %}', phase=phase)
        assert f"/surveys/{survey_id}" in html and "open until" in html
