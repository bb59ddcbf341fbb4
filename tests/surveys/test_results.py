"""Results: hand-computed figures, small groups that stay hidden under every filter, exports, query counts."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from learning.audit.models import AuditEntry
from learning.db import db, unit_of_work
from learning.privacy import groups_to_hide
from learning.surveys import stats
from learning.surveys.results import ALL, department_node, survey_results, team_node
from learning.surveys.taking import load_survey
from tests.surveys.conftest import RELEASED, TODAY
from tests.test_exports import read_export_csv

NOW = "2026-03-25 10:00 +01:00"  # the round (10 to 24 March) has closed: results released
ADKAR_ALL = {i: 5 for i in range(10)}


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(NOW, tick=False)


def _adkar(a, d, k, ab, r, comment=None) -> dict:
    values = {0: a[0], 1: a[1], 2: d[0], 3: d[1], 4: k[0], 5: k[1], 6: ab[0], 7: ab[1], 8: r[0], 9: r[1]}
    if comment:
        values[10] = comment
    return values


def test_adkar_figures_match_a_hand_computation(app, org, make_survey, answer):
    survey_id = make_survey("adkar")
    people = org["members"]["A1"][:5]
    # Element scores per person (mean of the element's two items):
    rows = [
        ((5, 5), (4, 4), (2, 3), (4, 4), (3, 4)),  # A 5, D 4, K 2.5, Ab 4, R 3.5
        ((4, 4), (4, 5), (3, 3), (4, 5), (4, 4)),  # A 4, D 4.5, K 3, Ab 4.5, R 4
        ((5, 4), (5, 5), (4, 4), (5, 4), (5, 5)),  # A 4.5, D 5, K 4, Ab 4.5, R 5   -> ready
        ((3, 3), (2, 3), (2, 2), (3, 3), (2, 2)),  # A 3, D 2.5, K 2, Ab 3, R 2
        ((4, 5), (4, 4), (4, 5), (4, 4), (4, 4)),  # A 4.5, D 4, K 4.5, Ab 4, R 4   -> ready
    ]
    for person, row in zip(people, rows, strict=True):
        answer(person, survey_id, _adkar(*row))
    with app.test_request_context():
        results = survey_results(load_survey(survey_id), today=RELEASED)
        group = results.wave.stats(ALL)
    means = group.adkar.means
    assert means["awareness"] == pytest.approx((5 + 4 + 4.5 + 3 + 4.5) / 5)  # 4.2
    assert means["desire"] == pytest.approx((4 + 4.5 + 5 + 2.5 + 4) / 5)  # 4.0
    assert means["knowledge"] == pytest.approx((2.5 + 3 + 4 + 2 + 4.5) / 5)  # 3.2
    assert means["ability"] == pytest.approx((4 + 4.5 + 4.5 + 3 + 4) / 5)  # 4.0
    assert means["reinforcement"] == pytest.approx((3.5 + 4 + 5 + 2 + 4) / 5)  # 3.7
    assert group.adkar.barrier is None  # knowledge 3.2 is above 3
    assert group.adkar.readiness == pytest.approx(((4.2 + 4.0 + 3.2 + 4.0 + 3.7) / 5 - 1) / 4 * 100)  # 70.5
    assert group.adkar.ready == pytest.approx(2 / 5)
    assert results.wave.adkar_shown(ALL)


def test_tam_scales_with_reverse_keyed_items_and_a_low_alpha_warning(app, client, login, org, make_survey, answer,
                                                                    clock):
    survey_id = make_survey("tam")
    # Usefulness items 0-5 (item 4 reverse-keyed), ease of use items 6-11 (item 9 reverse-keyed).
    answers = [
        [7, 6, 7, 6, 1, 7, 5, 5, 4, 3, 5, 5],
        [6, 6, 6, 5, 2, 6, 4, 4, 4, 4, 4, 4],
        [5, 5, 6, 5, 3, 5, 3, 2, 3, 5, 3, 3],
        [7, 7, 7, 7, 1, 7, 6, 6, 5, 2, 6, 6],
        [4, 5, 4, 4, 4, 4, 2, 3, 2, 6, 2, 2],
    ]
    for person, values in zip(org["members"]["A1"], answers, strict=False):
        answer(person, survey_id, dict(enumerate(values)))
    with app.test_request_context():
        group = survey_results(load_survey(survey_id), today=RELEASED).wave.stats(ALL)
    useful = group.constructs["usefulness"]
    scored = [[v if i != 4 else 8 - v for i, v in enumerate(row[:6])] for row in answers]
    assert useful.score == pytest.approx(sum(sum(r) / 6 for r in scored) / 5)
    assert useful.favourable == pytest.approx(sum(1 for r in scored for v in r if v >= 6) / 30)
    assert useful.alpha == pytest.approx(stats.cronbach_alpha(scored))
    easy = group.constructs["ease_of_use"]
    scored_easy = [[v if i != 3 else 8 - v for i, v in enumerate(row[6:])] for row in answers]
    assert easy.score == pytest.approx(sum(sum(r) / 6 for r in scored_easy) / 5)
    login(client, "projectgroup")
    page = client.get(f"/surveys/{survey_id}/results").get_data(as_text=True)
    assert "Perceived usefulness" in page and "with reverse-keyed items" in page


def test_alpha_below_0_7_is_flagged_on_the_page(app, client, login, org, make_survey, answer, clock):
    survey_id = make_survey("adkar")
    # Awareness items that disagree with each other: alpha is negative.
    for person, (a1, a2) in zip(org["members"]["A1"], [(5, 1), (1, 5), (4, 2), (2, 4), (3, 3)], strict=False):
        answer(person, survey_id, _adkar((a1, a2), (4, 4), (4, 4), (4, 4), (4, 4)))
    login(client, "projectgroup")
    page = client.get(f"/surveys/{survey_id}/results").get_data(as_text=True)
    assert "below 0.7" in page


@pytest.fixture
def answered(app, org, make_survey, answer):
    """An ADKAR survey answered by 6 in A1, 5 in A2, 2 in A3 (one of them the target), 1 in the tiny A4, 5 in B1.

    The target answers 1 everywhere, everybody else 5: any figure that gave the target away would show it.
    """
    survey_id = make_survey("adkar")
    members = org["members"]
    everyone_else = _adkar((5, 5), (5, 5), (5, 5), (5, 5), (5, 5), "Alles in Ordnung so.")
    for person in members["A1"][:6] + members["A2"][:5] + members["A3"][1:2] + members["A4"][:1] + members["B1"][:5]:
        answer(person, survey_id, everyone_else)
    answer(members["A3"][0], survey_id, _adkar((1, 1), (1, 1), (1, 1), (1, 1), (1, 1), "Ich bin dagegen."))
    return survey_id


def _residual_sizes_are_safe(result, minimum: int) -> list[str]:
    """Every figure: a shown parent minus its shown children leaves nothing or at least ``minimum`` answers."""
    problems = []
    nodes = set(result.groups)
    for metric, hidden in result.hidden.items():
        for parent in nodes:
            children = [n for n in nodes if (parent == ALL and n[0] == "d") or (
                parent[0] == "d" and n[0] == "t" and n[1] == parent[1])]
            if not children:
                continue
            sizes = {n: result.groups[n].sizes().get(metric, 0) for n in children}
            if parent in hidden:
                if not all(c in hidden or sizes[c] == 0 for c in children):
                    problems.append(f"{metric}: {parent} hidden but a child shown")
                continue
            rest = sum(size for c, size in sizes.items() if c in hidden)
            if 0 < rest < minimum:
                problems.append(f"{metric}: {parent} minus shown children leaves {rest}")
            if any(0 < size < minimum and c not in hidden for c, size in sizes.items()):
                problems.append(f"{metric}: a child of {parent} with fewer than {minimum} is shown")
    return problems


def test_no_figure_can_be_recovered_by_subtraction(app, org, answered):
    with app.test_request_context():
        results = survey_results(load_survey(answered), today=RELEASED)
        wave = results.wave
        assert _residual_sizes_are_safe(wave, 5) == []
        a, b = org["departments"]["A"].id, org["departments"]["B"].id
        a1, a2, a3 = (org["teams"][t].id for t in ("A1", "A2", "A3"))
        column = results.columns[0]
        # The target's team and the rest of tiny teams are hidden, and so is the next-smallest sibling.
        for node in (team_node(a, a3), team_node(a, None), team_node(a, a2)):
            assert wave.value(node, column) is None and wave.responses(node) is None
        assert wave.value(team_node(a, a1), column) == 5
        assert wave.responses(department_node(a)) == 14 and wave.responses(department_node(b)) == 5
        # Department A minus team A1 = 8 answers together (A2, A3 and A4): the target's 1 is one of eight.
        together = (wave.value(department_node(a), column) * 14 - 5 * 6) / 8
        assert together == pytest.approx((7 * 5 + 1) / 8)


def test_subtraction_across_filters_and_exports_fails(app, client, login, org, answered, clock):
    """Read every page and filter the project group can, and both exports: the target stays hidden."""
    login(client, "projectgroup")
    a = org["departments"]["A"].id
    overall = client.get(f"/surveys/{answered}/results").get_data(as_text=True)
    filtered = client.get(f"/surveys/{answered}/results?department={a}").get_data(as_text=True)
    for page in (overall, filtered):
        row = page.split('scope="row">A3</th>')[1].split("</tr>")[0]
        assert "hidden" in row and "5,00" not in row and "1,00" not in row and "1.00" not in row
    export = client.get(f"/surveys/{answered}/results.csv")
    _info, table = read_export_csv(export.data)
    rows = [dict(zip(table[0], row, strict=True)) for row in table[1:]]
    figures = {(r["Level"], r["Department"], r["Team"], r["Figure (unit)"]): r for r in rows}
    rate = "Response rate (%)"
    for (level, _department, team, figure), row in figures.items():
        if team in ("A3", "A2", "Teams too small to show separately") and level == "Team" and figure != rate:
            assert row["Value"] == "" and row["Based on (answers)"] == "" and row["Shown"] == "No", (team, figure)
    # Every parent minus its shown children leaves 0 or at least five answers, for every figure in the export.
    for figure in {key[3] for key in figures if key[3] != rate}:
        parent = figures.get(("Department", "Amt A", "", figure))
        if parent is None or parent["Shown"] != "Yes":
            continue
        children = [r for k, r in figures.items() if k[0] == "Team" and k[1] == "Amt A" and k[3] == figure]
        shown = sum(int(r["Based on (answers)"]) for r in children if r["Shown"] == "Yes")
        total = int(parent["Based on (answers)"])
        assert total - shown in (0,) or total - shown >= 5, figure
    assert "Ich bin dagegen." not in export.get_data(as_text=True)  # no free text in exports


def test_comments_need_ten_answers_and_hide_their_sibling(app, client, login, org, answered, clock):
    login(client, "projectgroup")
    page = client.get(f"/surveys/{answered}/results").get_data(as_text=True)
    assert "Ich bin dagegen." in page and "Alles in Ordnung so." in page  # 19 answers overall
    assert page.index("Alles in Ordnung so.") < page.index("Ich bin dagegen.")  # alphabetical, not by time
    for department in ("A", "B"):
        # B has 5 answers (below 10); A (14) would give B's comments away by subtraction: both stay closed.
        filtered = client.get(f"/surveys/{answered}/results?department={org['departments'][department].id}")
        text = filtered.get_data(as_text=True)
        assert "Ich bin dagegen." not in text and "Comments are shown only for groups with at least 10" in text


def test_response_rate_per_unit_hides_small_units(app, org, answered):
    with app.test_request_context():
        wave = survey_results(load_survey(answered), today=RELEASED).wave
    a = org["departments"]["A"].id
    assert wave.rates[team_node(a, org["teams"]["A1"].id)].percent == pytest.approx(100 * 6 / 7)
    # A4 has two people: they are counted with the "too small" rest, which is itself too small and hidden.
    assert wave.rates[team_node(a, None)].hidden
    assert not wave.rates[ALL].hidden


def test_exports_are_readable_aggregates_and_audited(app, client, login, org, answered, clock):
    from openpyxl import load_workbook

    login(client, "projectgroup")
    response = client.get(f"/surveys/{answered}/results.xlsx")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    workbook = load_workbook(io.BytesIO(response.data))
    sheet = workbook["Data"]
    header = [c.value for c in sheet[1]]
    assert header == ["Round (number)", "Round", "Level", "Department", "Team", "Figure (unit)", "Value",
                      "Based on (answers)", "Shown"]
    assert sheet.freeze_panes == "A2" and sheet[1][0].font.b and sheet.column_dimensions["F"].width == 52
    rows = [[c for c in row] for row in sheet.iter_rows(min_row=2)]
    everyone = {r[5].value: r for r in rows if r[2].value == "Whole organisation"}
    answers, score = everyone["Answers (number)"], everyone["Awareness: mean score (1–5)"]
    assert answers[6].value == 19 and answers[6].number_format == "0" and answers[8].value == "Yes"
    assert score[6].value == pytest.approx((18 * 5 + 1) / 19, abs=0.01) and score[6].number_format == "0.00"
    share = everyone["Awareness: favourable answers (%)"][6]
    assert share.value == pytest.approx(95.0) and share.number_format == '0.0" %"'  # 18 of 19, rounded to 0.95
    assert all("Ich bin dagegen." not in str(c.value) for r in rows for c in r)
    about = {r[0]: r[1] for r in workbook["Information"].iter_rows(values_only=True)}
    assert about["Survey"] and "Created on" in about and "fewer than 5 answers" in about["Note"]
    csv_response = client.get(f"/surveys/{answered}/results.csv")
    assert csv_response.headers["Content-Type"] == "text/csv; charset=utf-8"  # the charset named once
    assert re.fullmatch(r'attachment; filename="survey-\d+-results_.+_\d{4}-\d{2}-\d{2}\.csv"',
                        csv_response.headers["Content-Disposition"])
    with app.app_context():
        actions = [e.action for e in db.session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert actions.count("survey.exported") == 2


def test_results_are_for_the_project_group_and_managers_see_their_teams(app, client, login, people, org, answered,
                                                                       clock):
    login(client, "employee")
    assert client.get(f"/surveys/{answered}/results").status_code == 403
    assert client.get(f"/surveys/{answered}/results.csv").status_code == 403
    assert client.get(f"/surveys/{answered}/my-teams").status_code == 403
    manager = app.test_client()
    login(manager, "manager")  # leads A1 (and the Bürgerbüro)
    assert manager.get(f"/surveys/{answered}/results").status_code == 403
    page = manager.get(f"/surveys/{answered}/my-teams").get_data(as_text=True)
    assert 'scope="row">A1</th>' in page and 'scope="row">A2</th>' not in page and 'scope="row">A3</th>' not in page
    assert "5,00" in page or "5.00" in page


def test_results_are_per_wave_and_show_a_trend(app, client, login, people, org, make_survey, answer, time_machine):
    from learning.surveys.managing import add_wave, close_wave
    from tests.surveys.conftest import attached

    survey_id = make_survey("adkar")
    for person in org["members"]["A1"][:5]:
        answer(person, survey_id, _adkar((3, 3), (3, 3), (2, 2), (3, 3), (3, 3)))
    with app.test_request_context(), unit_of_work():
        survey = load_survey(survey_id)
        close_wave(attached(people["project_group"]), survey, TODAY)
        add_wave(attached(people["project_group"]), load_survey(survey_id), TODAY + timedelta(days=30),
                 TODAY + timedelta(days=44), "nach dem Start", TODAY)
    later = TODAY + timedelta(days=31)
    for person in org["members"]["A1"][:5]:
        answer(person, survey_id, _adkar((4, 4), (4, 4), (4, 4), (3, 3), (4, 4)), today=later)
    with app.test_request_context():
        assert [v["c:knowledge"] for _w, v in survey_results(load_survey(survey_id), today=later).trend()] == [2]
        results = survey_results(load_survey(survey_id), today=TODAY + timedelta(days=45))  # both rounds closed
        trend = results.trend()
    assert [values["c:knowledge"] for _wave, values in trend] == [2, 4]
    # (2.8 - 1) / 4 * 100 and (3.8 - 1) / 4 * 100
    assert [round(values["adkar"], 1) for _wave, values in trend] == [45.0, 70.0]
    assert results.waves[0].stats(ALL).adkar.barrier == "awareness"
    assert results.waves[1].stats(ALL).adkar.barrier == "ability"
    time_machine.move_to("2026-04-24 10:00 +02:00", tick=False)
    login(client, "projectgroup")
    page = client.get(f"/surveys/{survey_id}/results").get_data(as_text=True)
    assert 'role="img"' in page and "<svg" in page and "Readiness index per round" in page
    assert "Barrier point: Ability" in page


def _more_answers(org, survey_id, answer, count, pulse=False):
    people = [p for team in ("A1", "A2", "B1") for p in org["members"][team]][:count]
    for person in people:
        answer(person, survey_id, {0: 4, 1: 3, 2: 5, 3: "Gut."} if pulse else
               _adkar((4, 4), (4, 4), (3, 3), (4, 4), (4, 4), "Gut."))


def test_pages_run_a_fixed_number_of_queries(app, client, login, org, make_survey, answer, count_queries, clock):
    survey_id = make_survey("adkar")
    second = make_survey("pulse")
    login(client, "projectgroup")
    pages = [f"/surveys/{survey_id}/results", f"/surveys/{survey_id}/results?department={org['departments']['A'].id}",
             "/surveys/", f"/surveys/{survey_id}/manage", f"/surveys/{survey_id}/results.csv"]
    _more_answers(org, survey_id, answer, 10)  # enough for comments: their query runs at both sizes
    counts = {}
    for url in pages:
        with count_queries() as statements:
            assert client.get(url).status_code == 200
        counts[url] = len(statements)
    _more_answers(org, second, answer, 12, pulse=True)
    for person in org["members"]["B1"] + org["members"]["A3"]:
        answer(person, survey_id, _adkar((5, 5), (4, 4), (3, 3), (4, 4), (4, 4), "Mehr."))
    for url in pages:
        with count_queries() as statements:
            assert client.get(url).status_code == 200
        assert len(statements) == counts[url], url


def test_hidden_groups_use_the_shared_privacy_rule():
    # The survey pages rely on the same helper as the acknowledgement report.
    assert groups_to_hide([3, 6, 6]) == {0, 1}


def test_enps_is_shown_with_its_parts(app, client, login, org, make_survey, answer, clock):
    survey_id = make_survey("enps")
    for person, score in zip(org["members"]["A1"], [10, 9, 8, 6, 3, 10], strict=False):
        answer(person, survey_id, {0: score})
    with app.test_request_context():
        result = survey_results(load_survey(survey_id), today=RELEASED).wave.stats(ALL)
    (enps,) = result.enps.values()
    assert enps.score == pytest.approx(100 * (3 / 6 - 2 / 6))  # 3 promoters, 2 detractors of 6
    login(client, "projectgroup")
    page = client.get(f"/surveys/{survey_id}/results").get_data(as_text=True)
    assert "Promoters (9–10)" in page and "50 %" in page and "33 %" in page


def test_the_export_reads_in_german_with_codes_resolved_to_words(app, org, make_survey, answer, time_machine):
    """A German reader gets German headers and figure names, shares in percent, the barrier point as its name."""
    from flask_babel import force_locale

    from learning.exports import export_csv, export_xlsx
    from learning.surveys.export import results_export

    survey_id = make_survey("adkar")
    for person in org["members"]["A1"][:6] + org["members"]["B1"][:5]:
        answer(person, survey_id, _adkar((5, 5), (5, 4), (4, 4), (2, 3), (5, 5)))  # ability is the barrier
    time_machine.move_to(NOW, tick=False)  # the round has closed
    with app.test_request_context(), force_locale("de"):
        table = results_export(survey_results(load_survey(survey_id), today=RELEASED), "Stadt Musterstadt")
        info, rows = read_export_csv(export_csv(table))
        book = load_xlsx(export_xlsx(table))
    assert info["Organisation"] == "Stadt Musterstadt" and info["Runden"] == "alle freigegebenen Runden"
    assert rows[0] == ["Runde (Nr.)", "Runde", "Ebene", "Fachbereich", "Team", "Kennzahl (Einheit)", "Wert",
                       "Grundlage (Antworten)", "Gezeigt"]
    everyone = {r[5]: r for r in rows[1:] if r[2] == "Gesamte Verwaltung"}
    assert everyone["ADKAR-Hürde (erstes Element bei 3 oder darunter)"][6] == "Fähigkeit (Ability)"  # not 4.0
    assert everyone["Antworten (Anzahl)"][6:] == ["11", "11", "Ja"]
    assert everyone["Wissen (Knowledge): Mittelwert (1–5)"][6] == "4,00"  # decimal comma
    assert everyone["ADKAR: in jedem Element bereit, 4 oder mehr (%)"][6] == "0,0"
    assert not any(r[5].startswith(("scale ", "question ", "adkar")) for r in rows[1:])  # no codes
    sheet = book["Daten"]
    values = {r[5].value: r[6] for r in sheet.iter_rows(min_row=2) if r[2].value == "Gesamte Verwaltung"}
    knowledge = values["Wissen (Knowledge): Mittelwert (1–5)"]
    assert knowledge.value == 4.0 and knowledge.data_type == "n" and knowledge.number_format == "0.00"
    assert values["ADKAR-Hürde (erstes Element bei 3 oder darunter)"].value == "Fähigkeit (Ability)"
    assert "Hinweis" in {r[0] for r in book["Informationen"].iter_rows(values_only=True)}


def load_xlsx(data: bytes):
    from openpyxl import load_workbook

    return load_workbook(io.BytesIO(data))
