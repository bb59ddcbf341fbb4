"""The attacks of issue 14 §1, replayed: differencing over time, across filters, and unanimity.

An insider watches results before and after one more person answers, on every page, export and
dashboard that shows survey figures, and reads a group in which everybody answered the same.
None of it may give an answer away: results of a round are released only when it has closed
(and it never reopens), distributions need the comment threshold, and a group in which
everybody asked has answered shows no figure drawn from the answers.

The organisation (``org`` in conftest): Amt A with teams A1 (7 people, led by ``manager``), A2
(6), A3 (5) and A4 (2); Amt B with B1 (6); plus the four people of ``people``: 30 in all.
"""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from learning.audit.models import AuditEntry
from learning.db import db, unit_of_work
from learning.errors import ServiceError
from learning.surveys.export import export_rows
from learning.surveys.managing import close_wave
from learning.surveys.models import SurveyWave
from learning.surveys.results import ALL, department_node, survey_results, team_node
from learning.surveys.taking import load_survey, questions_in_order
from tests.surveys.conftest import RELEASED, TODAY, attached
from tests.test_exports import read_export_csv

OPEN = "2026-03-12 10:00 +01:00"  # the first round runs from 10 to 24 March
OPEN_DAY = TODAY + timedelta(days=2)
CLOSED = "2026-03-25 10:00 +01:00"
CSRF = re.compile(r'name="csrf_token"[^>]*value="[^"]*"|value="[^"]*"[^>]*name="csrf_token"')
SO_FAR = re.compile(r"So far \d+ of \d+ people have taken part\.")
TOOK_PART = re.compile(r'(<td class="kern-table__cell">)\d+ of \d+(</td>)')  # the rounds table: whole audience
PRINTED_ON = re.compile(r"Printed on: [^<]*")  # the printed report's date, which moves with the clock


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(OPEN, tick=False)
    return time_machine


def _pulse(values: tuple, comment: str | None = None) -> dict:
    answers = dict(enumerate(values))
    if comment:
        answers[3] = comment
    return answers


def _adkar(level: int) -> dict:
    return {i: level for i in range(10)}


@pytest.fixture
def watched(org, make_survey, answer, clock):
    """An open pulse survey that fifteen people (five each in A1, A2 and B1) have answered."""
    survey_id = make_survey("pulse")
    for n, team in enumerate(("A1", "A2", "B1")):
        for i, person in enumerate(org["members"][team][:5]):
            answer(person, survey_id, _pulse((3 + (i + n) % 3, 2 + i % 3, 4), f"Kommentar {team} {i}."))
    return survey_id


def _page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return PRINTED_ON.sub("", CSRF.sub("", response.get_data(as_text=True)))


def _xlsx_values(data: bytes) -> list[list]:
    book = load_workbook(io.BytesIO(data))
    return [[list(row) for row in sheet.iter_rows(values_only=True)] for sheet in book.worksheets]


def _snapshot(client, survey_id: int, urls: list[str]) -> dict:
    """What the project group can read: results pages (participation count aside) and both exports."""
    seen = {url: TOOK_PART.sub(r"\1\2", SO_FAR.sub("", _page(client, url))) for url in urls}
    # The tables (the info block names the time of the download, which differs by design).
    seen["csv"] = read_export_csv(client.get(f"/surveys/{survey_id}/results.csv").get_data())[1]
    seen["xlsx"] = _xlsx_values(client.get(f"/surveys/{survey_id}/results.xlsx").get_data())[0]
    return seen


def test_one_more_answer_changes_nothing_the_project_group_sees_while_the_round_is_open(
        client, login, org, watched, answer):
    a, b = org["departments"]["A"].id, org["departments"]["B"].id
    urls = [f"/surveys/{watched}/results", f"/surveys/{watched}/results?department={a}",
            f"/surveys/{watched}/results?department={b}", f"/surveys/{watched}/results?wave=1",
            f"/surveys/{watched}/results?wave=1&department={a}", f"/surveys/{watched}/manage"]
    login(client, "projectgroup")
    before = _snapshot(client, watched, urls)
    first = client.get(f"/surveys/{watched}/results").get_data(as_text=True)
    # anna (in A3, where nobody has answered yet) answers 1/5/2 with a comment.
    answer(org["members"]["A3"][0], watched, _pulse((1, 5, 2), "Annas Kommentar."))
    after = _snapshot(client, watched, urls)
    for key in before:
        assert after[key] == before[key], key
    page = client.get(f"/surveys/{watched}/results").get_data(as_text=True)
    # The one number the project group needs to chase participation: for the whole audience only.
    assert "So far 15 of 30 people have taken part." in first and "So far 16 of 30 people have taken part." in page
    # Nothing of the round is shown at all: no mean, no share, no comment, no rate per unit.
    assert "Mean:" not in page and "Annas Kommentar." not in page and "Kommentar A1 0." not in page
    assert "Took part" not in page and "Results not released yet" in page
    rows = after["csv"]
    assert rows == [list(rows[0])]  # the header only


def test_one_more_answer_changes_nothing_a_manager_sees_while_the_round_is_open(client, login, org, watched,
                                                                                answer):
    login(client, "manager")  # leads A1, where five have answered
    url = f"/surveys/{watched}/my-teams"
    before = [_page(client, url), _page(client, f"{url}?wave=1")]
    answer(org["members"]["A1"][5], watched, _pulse((1, 5, 2), "Noch einer."))
    after = [_page(client, url), _page(client, f"{url}?wave=1")]
    assert after == before
    assert "Results not released yet" in after[0] and "heatmap" not in after[0]


def test_dashboard_figures_do_not_change_with_an_answer_while_the_round_is_open(app, client, login, org,
                                                                                make_survey, answer, clock):
    from learning.metrics.services import compute, snapshot

    survey_id = make_survey("adkar")
    for team in ("A1", "A2", "B1"):
        for i, person in enumerate(org["members"][team][:5]):
            answer(person, survey_id, _adkar(2 + i % 3))

    def survey_figures():
        with app.test_request_context():
            values = sorted((v.metric, v.phase_key, v.unit_kind, v.unit_id, v.value, v.n)
                            for v in compute(OPEN_DAY) if v.metric.startswith("surveys."))
            with unit_of_work():
                snapshot(OPEN_DAY)
            db.session.commit()
        return values

    login(client, "manager")
    before = (survey_figures(), _page(client, "/readiness"))
    answer(org["members"]["A1"][5], survey_id, _adkar(5))
    after = (survey_figures(), _page(client, "/readiness"))
    assert after == before
    assert all(value is None for _m, _p, _k, _u, value, _n in after[0])  # an open round gives no figure at all
    # Once the round has closed, its figures reach the dashboards (the snapshot of that day).
    with app.test_request_context():
        released = {(v.metric, v.unit_kind, v.unit_id): v.value for v in compute(RELEASED)}
    assert released[("surveys.readiness", "org", 0)] is not None


def test_after_release_the_figures_stay_as_they_are(app, client, login, org, watched, answer, clock):
    clock.move_to(CLOSED, tick=False)
    login(client, "projectgroup")
    first = _snapshot(client, watched, [f"/surveys/{watched}/results"])
    assert "Mean:" in first[f"/surveys/{watched}/results"]
    with pytest.raises(ServiceError, match="closed"):
        answer(org["members"]["A3"][0], watched, _pulse((1, 5, 2)), today=RELEASED)
    clock.move_to("2026-04-25 10:00 +02:00", tick=False)
    login(client, "projectgroup")
    assert _snapshot(client, watched, [f"/surveys/{watched}/results"]) == first


def test_the_export_lists_response_rates_in_a_fixed_order_whatever_the_order_of_the_rows_read(
        app, org, watched, clock):
    """PostgreSQL returns rows without ORDER BY in whatever order its plan gives; the file must not follow it."""
    clock.move_to(CLOSED, tick=False)
    with app.test_request_context():
        results = survey_results(load_survey(watched), today=RELEASED)
        rows = export_rows(results)
        for wave in results.released_waves:
            wave.rates = dict(reversed(list(wave.rates.items())))
        assert export_rows(results) == rows
    rates = [(r[2], r[3], r[4]) for r in rows if r[5] == "response rate"]
    assert rates[0] == ("all", "", "") and len(rates) == len(set(rates)) > 3


def _row(page: str, unit: str) -> str:
    match = re.search(r'scope="row">' + re.escape(unit) + r"</th>(.*?)</tr>", page, re.S)
    assert match, unit
    return match.group(1)


def test_a_unanimous_team_in_which_everybody_answered_gives_nothing_away(app, client, login, org, make_survey,
                                                                        answer, clock):
    survey_id = make_survey("pulse")
    for person in org["members"]["A1"]:  # all seven of A1, all the same
        answer(person, survey_id, _pulse((1, 1, 1)))
    for i, person in enumerate(org["members"]["A2"][:5] + org["members"]["B1"][:5]):
        answer(person, survey_id, _pulse((2 + i % 4, 3 + i % 3, 2 + i % 2)))
    clock.move_to(CLOSED, tick=False)
    a1 = team_node(org["departments"]["A"].id, org["teams"]["A1"].id)
    with app.test_request_context():
        survey = load_survey(survey_id)
        results = survey_results(survey, today=RELEASED)
        wave = results.wave
        questions = [q for q in questions_in_order(survey) if q.question_kind.is_scored]
        assert wave.rates[a1].participants == wave.rates[a1].eligible == 7
        for q in questions:
            assert not wave.shown(a1, f"q{q.id}") and not wave.distribution_shown(a1, q)
            assert all(wave.value(a1, c) is None for c in results.columns)
            # ...and the department figure cannot give it back: a second team of Amt A is hidden too.
            amt_a = department_node(org["departments"]["A"].id)
            hidden_teams = [n for n in wave.groups
                            if n[0] == "t" and n[1] == amt_a[1] and not wave.shown(n, f"q{q.id}")]
            assert not wave.shown(amt_a, f"q{q.id}") or len(hidden_teams) >= 2
        rows = [r for r in export_rows(results) if r[2] == "team" and r[4] == "A1"]
        assert rows and all(r[8] == "no" for r in rows if r[5] not in ("responses", "response rate"))
    manager = app.test_client()
    login(manager, "manager")
    team_row = _row(manager.get(f"/surveys/{survey_id}/my-teams").get_data(as_text=True), "A1")
    assert "1.00" not in team_row and "hidden" in team_row
    login(client, "projectgroup")
    page = client.get(f"/surveys/{survey_id}/results?department={org['departments']['A'].id}").get_data(as_text=True)
    assert "1.00" not in _row(page, "A1") and "hidden" in _row(page, "A1")
    _info, export = read_export_csv(client.get(f"/surveys/{survey_id}/results.csv").get_data())
    counts = ("Answers (number)", "Response rate (%)")
    a1_rows = [r for r in export if r[2] == "Team" and r[4] == "A1"]
    assert a1_rows and all(r[6] == "" for r in a1_rows if r[5] not in counts)
    book = load_workbook(io.BytesIO(client.get(f"/surveys/{survey_id}/results.xlsx").get_data()))
    xlsx_rows = [r for r in book["Data"].iter_rows(values_only=True) if r[2] == "Team" and r[4] == "A1"]
    assert xlsx_rows and all(r[6] is None for r in xlsx_rows if r[5] not in counts)


def test_a_unanimous_audience_in_which_everybody_answered_gives_nothing_away(app, client, login, org, make_survey,
                                                                            answer, clock):
    survey_id = make_survey("pulse", audience="teams", audience_values=[org["teams"]["A1"].id])
    for person in org["members"]["A1"]:
        answer(person, survey_id, _pulse((4, 4, 4)))
    clock.move_to(CLOSED, tick=False)
    with app.test_request_context():
        results = survey_results(load_survey(survey_id), today=RELEASED)
        assert results.wave.rates[ALL].participants == results.wave.rates[ALL].eligible == 7
        shown = [r for r in export_rows(results) if r[8] == "yes" and r[5] not in ("responses", "response rate")]
    assert shown == []
    login(client, "projectgroup")
    page = client.get(f"/surveys/{survey_id}/results").get_data(as_text=True)
    assert "Mean:" not in page and "100 %" not in page.split("Answers per question")[-1]


def test_distributions_need_the_comment_threshold(app, client, login, org, make_survey, answer, clock):
    survey_id = make_survey("pulse")
    for i, person in enumerate(org["members"]["B1"][:5] + org["members"]["A1"][:5] + org["members"]["A2"][:5]):
        answer(person, survey_id, _pulse((1 + i % 5, 3, 4)))
    clock.move_to(CLOSED, tick=False)
    b1 = team_node(org["departments"]["B"].id, org["teams"]["B1"].id)
    with app.test_request_context():
        results = survey_results(load_survey(survey_id), today=RELEASED)
        rows = [r for r in export_rows(results) if r[4] == "B1" and r[5].startswith("question 1")]
        everyone = [r for r in export_rows(results) if r[2] == "all" and r[5].startswith("question 1: share")]
    assert {r[8] for r in rows if r[5] == "question 1: mean"} == {"yes"}  # five answers: the mean is shown...
    assert {r[8] for r in rows if ": share " in r[5]} == {"no"}  # ...but not how they are spread
    assert {r[8] for r in everyone} == {"yes"}  # fifteen answers: both
    login(client, "projectgroup")
    page = client.get(f"/surveys/{survey_id}/results?department={org['departments']['B'].id}").get_data(
        as_text=True)
    assert "Mean:" in page and "Distribution of the answers:" in page and "Distribution of the answers to" not in page
    with app.test_request_context():
        first = questions_in_order(results.survey)[0]
        assert results.wave.shown(b1, f"q{first.id}") and not results.wave.distribution_shown(b1, first)
        assert results.wave.distribution_shown(ALL, first)


def _wave(app, survey_id: int) -> SurveyWave:
    with app.app_context():
        wave = db.session.scalar(select(SurveyWave).where(SurveyWave.survey_id == survey_id))
        db.session.expunge(wave)
        return wave


def test_a_released_round_can_neither_be_reopened_nor_extended(app, client, login, people, make_survey, clock):
    from learning.surveys.managing import move_closing_date

    early = make_survey("pulse")
    by_date = make_survey("pulse")
    with app.test_request_context(headers={"Accept-Language": "en"}), unit_of_work():
        close_wave(attached(people["project_group"]), load_survey(early), OPEN_DAY)
    clock.move_to(CLOSED, tick=False)  # by_date's round ended on 24 March
    for survey_id, today in ((early, OPEN_DAY), (by_date, RELEASED)):
        with app.test_request_context(headers={"Accept-Language": "en"}):
            with pytest.raises(ServiceError, match="cannot be reopened or extended"):
                move_closing_date(attached(people["project_group"]), load_survey(survey_id), 1,
                                  TODAY + timedelta(days=40), today)
        before = _wave(app, survey_id)
        login(client, "projectgroup")
        response = client.submit(f"/surveys/{survey_id}/closing-date",
                                 {"wave": "1", "closes_on": (TODAY + timedelta(days=40)).isoformat()})
        assert response.status_code == 200
        assert "Round 1 is closed and its results have been released. A closed round cannot be reopened or " \
               "extended" in response.get_data(as_text=True)
        after = _wave(app, survey_id)
        assert (after.closes_on, after.closed_at) == (before.closes_on, before.closed_at)
    german = client.submit(f"/surveys/{early}/closing-date", {"wave": "1", "closes_on": "2026-05-01"},
                           headers={"Accept-Language": "de"})
    assert "kann weder wieder geöffnet noch verlängert werden" in german.get_data(as_text=True)


def test_the_last_day_moves_only_while_the_round_is_open(app, client, login, make_survey, clock):
    survey_id = make_survey("pulse")
    login(client, "projectgroup")
    manage = client.get(f"/surveys/{survey_id}/manage").get_data(as_text=True)
    assert "Move the last day of round 1" in manage
    new_day = TODAY + timedelta(days=21)
    response = client.submit(f"/surveys/{survey_id}/closing-date", {"wave": "1", "closes_on": new_day.isoformat()})
    assert response.status_code == 302
    assert _wave(app, survey_id).closes_on == new_day
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "survey.closing_moved"))
        assert entry is not None
    # Refused with a message, and nothing changed: a day in the past, or no date at all.
    for value, message in (((OPEN_DAY - timedelta(days=1)).isoformat(), "cannot be in the past"),
                           ("", "Please enter a date")):
        response = client.submit(f"/surveys/{survey_id}/closing-date", {"wave": "1", "closes_on": value})
        assert response.status_code == 200 and message in response.get_data(as_text=True)
        assert _wave(app, survey_id).closes_on == new_day
    clock.move_to("2026-04-01 10:00 +02:00", tick=False)  # past the new last day: closed and released
    assert "Move the last day" not in client.get(f"/surveys/{survey_id}/manage").get_data(as_text=True)


def test_the_privacy_explanation_states_the_rules_in_both_languages(client, login, make_survey, clock):
    survey_id = make_survey("pulse")
    login(client, "employee")
    english = client.get(f"/surveys/{survey_id}").get_data(as_text=True)
    assert "Results of a round are released only when the round has closed" in english
    assert "never reopened or extended" in english
    assert "Where everybody asked in a group has answered, no result of that group is shown" in english
    german = client.get(f"/surveys/{survey_id}", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert "erst freigegeben, wenn die Runde beendet ist" in german
    assert "Wo alle Befragten einer Gruppe geantwortet haben, wird für diese Gruppe gar kein Ergebnis" in german
