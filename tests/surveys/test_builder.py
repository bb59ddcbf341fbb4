"""The project group's builder: templates, settings, questions, opening, rounds, and what gets locked."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from learning.audit.models import AuditEntry
from learning.db import db, unit_of_work
from learning.errors import ServiceError
from learning.surveys.building import QuestionData, SurveySettings, create_survey, save_question, update_survey
from learning.surveys.instruments import TEMPLATES
from learning.surveys.managing import add_wave, close_wave, open_survey
from learning.surveys.models import Instrument, QuestionKind, Survey
from learning.surveys.taking import load_survey, questions_in_order
from tests.surveys.conftest import TODAY, attached

NOW = "2026-03-10 10:00 +01:00"


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def pg(app, people):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        yield attached(people["project_group"])
        db.session.remove()


def test_templates_come_in_german_and_english(pg):
    counts = {}
    for instrument in TEMPLATES:
        survey = create_survey(pg, instrument.value, "", None, TODAY)
        questions = questions_in_order(survey)
        assert survey.title and survey.title_en and survey.intro and survey.intro_en
        assert all(q.text and q.text_en for q in questions)
        assert all(s.title and s.title_en for s in survey.sections)
        for q in questions:
            if q.question_kind.is_likert:  # labels at every point, in both languages
                assert len(q.options) == len(q.options_en) == q.question_kind.points
        counts[instrument] = [q.kind for q in questions]
    adkar = load_survey(db.session.scalar(select(Survey.id).where(Survey.instrument == "adkar")))
    constructs = [q.construct for q in questions_in_order(adkar) if q.construct]
    assert sorted(set(constructs)) == sorted({"awareness", "desire", "knowledge", "ability", "reinforcement"})
    assert all(constructs.count(e) >= 1 for e in set(constructs))
    assert counts[Instrument.ADKAR].count("likert5") == 10 and counts[Instrument.ADKAR].count("text") == 1
    tam = load_survey(db.session.scalar(select(Survey.id).where(Survey.instrument == "tam")))
    tam_items = [q for q in questions_in_order(tam) if q.construct]
    assert [q.construct for q in tam_items].count("usefulness") == 6
    assert [q.construct for q in tam_items].count("ease_of_use") == 6
    assert all(q.kind == "likert7" for q in tam_items) and sum(q.reverse for q in tam_items) == 2
    assert counts[Instrument.ENPS][0] == "scale10"
    assert 3 <= len(counts[Instrument.PULSE]) <= 5


def test_creating_opening_closing_and_exporting_are_audited(app, pg):
    survey = create_survey(pg, "pulse", "", None, TODAY)
    open_survey(pg, survey, TODAY)
    close_wave(pg, survey, TODAY)
    actions = [e.action for e in db.session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert actions == ["survey.created", "survey.opened", "survey.closed"]
    opened = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "survey.opened"))
    assert opened.details["min_responses"] == 5 and opened.details["anonymous"] is True


def _settings(survey, **changes) -> SurveySettings:
    values = dict(title=survey.title, intro="Zweck, Freiwilligkeit, Datenverwendung.", opens_on=TODAY,
                  closes_on=TODAY + timedelta(days=14), min_responses=5, min_comments=10)
    values.update(changes)
    return SurveySettings(**values)


def test_thresholds_cannot_go_below_the_organisation_floor(pg):
    survey = create_survey(pg, "pulse", "", None, TODAY)
    for changes, field in [({"min_responses": 4}, "min_responses"), ({"min_comments": 9}, "min_comments"),
                           ({"min_responses": 12, "min_comments": 10}, "min_comments")]:
        with pytest.raises(ServiceError) as refused:
            update_survey(pg, survey, _settings(survey, **changes))
        assert refused.value.field == field
    update_survey(pg, survey, _settings(survey, min_responses=8, min_comments=15))
    assert (survey.min_responses, survey.min_comments) == (8, 15)


def test_the_organisation_setting_raises_the_default_and_the_floor(app, people):
    from learning.settings.services import save_settings

    with app.test_request_context(), unit_of_work():
        save_settings({"surveys.min_responses": 7, "surveys.min_comments": 12}, attached(people["admin"]))
    with app.test_request_context():
        pg = attached(people["project_group"])
        survey = create_survey(pg, "pulse", "", None, TODAY)
        assert (survey.min_responses, survey.min_comments) == (7, 12)
        with pytest.raises(ServiceError):
            update_survey(pg, survey, _settings(survey, min_responses=6, min_comments=12))


def test_opening_locks_questions_thresholds_and_anonymity(pg):
    survey = create_survey(pg, "pulse", "", None, TODAY)
    open_survey(pg, survey, TODAY)
    with pytest.raises(ServiceError, match="can no longer be changed"):
        update_survey(pg, survey, _settings(survey, min_responses=6, anonymous=False))
    question = questions_in_order(survey)[0]
    with pytest.raises(ServiceError, match="can no longer be changed"):
        save_question(pg, survey, question, QuestionData(section_id=question.section_id, kind="likert5", text="Neu"))
    db.session.refresh(survey)
    assert survey.min_responses == 5 and survey.anonymous


@pytest.mark.parametrize("data, field", [
    ({"kind": "likert5", "options": ["a", "b", "c"]}, "options"),
    ({"kind": "likert7", "options": ["1", "2", "3", "4", "5", "6", "7"], "options_en": ["x"]}, "options_en"),
    ({"kind": "single", "options": ["nur eine"]}, "options"),
    ({"kind": "multiple", "options": ["a", "a"]}, "options"),
    ({"kind": "single", "options": ["a", "b"], "reverse": True}, "reverse"),
    ({"kind": "text", "construct": "skala"}, "construct"),
    ({"kind": "bogus"}, "kind"),
    ({"kind": "likert5", "text": " "}, "text"),
])
def test_questions_are_checked(pg, data, field):
    survey = create_survey(pg, "custom", "Eigene", None, TODAY)
    from learning.surveys.building import save_section

    section = save_section(pg, survey, None, "Teil 1")
    values = {"section_id": section.id, "text": "Wie geht es Ihnen?", **data}
    with pytest.raises(ServiceError) as refused:
        save_question(pg, survey, None, QuestionData(**values))
    assert refused.value.field == field


def test_a_likert_question_without_labels_gets_the_standard_labels(pg):
    survey = create_survey(pg, "custom", "Eigene", None, TODAY)
    from learning.surveys.building import save_section

    section = save_section(pg, survey, None, "Teil 1")
    question = save_question(pg, survey, None, QuestionData(section_id=section.id, kind="likert7", text="Frage"))
    assert question.options[0] == "Stimme überhaupt nicht zu" and question.options_en[-1] == "Strongly agree"
    assert question.question_kind == QuestionKind.LIKERT7


def test_a_new_round_starts_after_the_last_one(pg):
    survey = create_survey(pg, "pulse", "", None, TODAY)
    with pytest.raises(ServiceError, match="Open the survey first"):
        add_wave(pg, survey, TODAY + timedelta(days=30), TODAY + timedelta(days=40), "", TODAY)
    open_survey(pg, survey, TODAY)
    with pytest.raises(ServiceError):
        add_wave(pg, survey, TODAY + timedelta(days=3), TODAY + timedelta(days=40), "", TODAY)  # overlaps round 1
    wave = add_wave(pg, survey, TODAY + timedelta(days=30), TODAY + timedelta(days=40), "nachher", TODAY)
    assert wave.number == 2 and [w.number for w in survey.waves] == [1, 2]


def test_the_builder_pages_work_without_javascript(app, client, login, people, clock):
    login(client, "projectgroup")
    assert client.get("/surveys/new").status_code == 200
    created = client.submit("/surveys/new", {"instrument": "adkar", "phase_id": "", "title": ""})
    assert created.status_code == 302
    survey_id = int(created.headers["Location"].split("/")[2])
    manage = client.get(f"/surveys/{survey_id}/manage").get_data(as_text=True)
    assert "Open the survey" in manage and "ADKAR change readiness" in manage
    questions = client.get(f"/surveys/{survey_id}/questions").get_data(as_text=True)
    assert questions.count("survey-builder-list__item") == 11
    with app.app_context():
        survey = load_survey(survey_id)
        first, second = questions_in_order(survey)[:2]
        section_id = first.section_id
    moved = client.submit(f"/surveys/{survey_id}/questions/{second.id}/move", {"direction": "up"})
    assert moved.status_code == 302
    with app.app_context():
        assert [q.id for q in questions_in_order(load_survey(survey_id))][:2] == [second.id, first.id]
    bad = client.submit(f"/surveys/{survey_id}/questions/new", {
        "section_id": section_id, "kind": "likert5", "text": "Neu", "options": "eins\nzwei"})
    assert bad.status_code == 200 and "Give exactly 5 labels, one per line." in bad.get_data(as_text=True)
    good = client.submit(f"/surveys/{survey_id}/questions/new", {
        "section_id": section_id, "kind": "single", "text": "Wie oft?", "options": "täglich\nwöchentlich\nselten",
        "required": "y"})
    assert good.status_code == 302
    settings = client.get(f"/surveys/{survey_id}/edit").get_data(as_text=True)
    assert 'name="min_responses"' in settings
    low = client.submit(f"/surveys/{survey_id}/edit", {
        "title": "Bereitschaft", "intro": "Zweck.", "audience": "everyone", "anonymous": "anonymous",
        "min_responses": "3", "min_comments": "10", "opens_on": "2026-03-10", "closes_on": "2026-03-24"})
    assert "Please enter a whole number from 5 to 200." in low.get_data(as_text=True)
    preview = client.get(f"/surveys/{survey_id}/preview").get_data(as_text=True)
    assert "Wie oft?" in preview and "disabled" in preview
    opened = client.submit(f"/surveys/{survey_id}/open", {})
    assert opened.status_code == 302
    locked = client.get(f"/surveys/{survey_id}/questions/{first.id}").get_data(as_text=True)
    assert "Its questions are locked" in locked and 'name="text"' not in locked
    assert client.submit(f"/surveys/{survey_id}/delete", {}).status_code == 302
    with app.app_context():
        assert db.session.get(Survey, survey_id) is not None  # opened surveys are never deleted


def test_a_draft_can_be_deleted(app, client, login, people, clock):
    login(client, "projectgroup")
    created = client.submit("/surveys/new", {"instrument": "custom", "phase_id": "", "title": "Probe"})
    survey_id = int(created.headers["Location"].split("/")[2])
    assert client.submit(f"/surveys/{survey_id}/delete", {}).status_code == 302
    with app.app_context():
        assert db.session.get(Survey, survey_id) is None
        assert db.session.scalar(select(AuditEntry.action).order_by(AuditEntry.id.desc())) == "survey.deleted"


def test_a_phase_survey_addresses_the_departments_of_the_phase(app, pg, org):
    from learning.org.models import Department
    from learning.phases.models import RolloutPhase

    phase = RolloutPhase(slug="e-akte-test", title="E-Akte", title_en="E-file", period="2026-H1",
                         departments=[db.session.get(Department, org["departments"]["B"].id)])
    db.session.add(phase)
    db.session.commit()
    survey = create_survey(pg, "tam", "", phase.id, TODAY)
    assert survey.audience == "phase" and survey.title.endswith(": E-Akte") and survey.title_en.endswith(": E-file")
    from learning.surveys.taking import audience_select

    reached = set(db.session.scalars(audience_select(survey)))
    assert reached == {u.id for u in org["members"]["B1"]}
