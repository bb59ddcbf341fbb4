"""Phases: validation of period and slug, saving with audit, the FAQ, and the roadmap's figures."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from learning.audit.models import AuditEntry
from learning.db import db, utcnow
from learning.errors import ServiceError
from learning.org.models import Department, User
from learning.phases import services
from learning.phases.models import PhaseFaq, RolloutPhase
from learning.phases.services import (
    Figure,
    PhaseData,
    add_faq,
    move_faq,
    parse_period,
    parse_slug,
    phase_by_slug,
    remove_faq,
    roadmap,
    roadmap_figure,
    save_phase,
    training_completion,
    update_faq,
)
from learning.training.models import Assignment

TODAY = date(2026, 4, 1)


@pytest.mark.parametrize("text, expected", [
    ("2026-H1", "2026-H1"), (" 2026-h2 ", "2026-H2"), ("2020-H1", "2020-H1"), ("2035-H2", "2035-H2"),
])
def test_valid_periods_are_normalised(text, expected):
    assert parse_period(text) == expected


@pytest.mark.parametrize("text", ["", None, "2026-H3", "2026-H0", "2019-H2", "2036-H1", "2026H1", "26-H1",
                                  "2026-H1x", "2026-1", "H1-2026"])
def test_invalid_periods_are_refused(app, text):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        with pytest.raises(ServiceError) as refused:
            parse_period(text)
    assert refused.value.field == "period"
    assert "2026-H1" in str(refused.value)


@pytest.mark.parametrize("text, expected", [("e-akte", "e-akte"), (" E-Akte ", "e-akte"), ("phase-2", "phase-2")])
def test_valid_slugs(text, expected):
    assert parse_slug(text) == expected


@pytest.mark.parametrize("text", ["", "a", "e akte", "e_akte", "-akte", "akte-", "e--akte", "ä-akte", "x" * 61,
                                  "new", "../etc"])
def test_invalid_slugs_are_refused(app, text):
    with app.test_request_context():
        with pytest.raises(ServiceError) as refused:
            parse_slug(text)
    assert refused.value.field == "slug"


def _data(**fields) -> PhaseData:
    values = {"slug": "e-akte", "title": "E-Akte", "period": "2026-h2", "status": "active"}
    values.update(fields)
    return PhaseData(**values)


def test_save_phase_creates_and_updates_with_audit(ctx, people, make_department):
    department = make_department("Finanzen")
    actor = db.session.get(User, people["project_group"].id)
    phase = save_phase(None, _data(title_en="Electronic files", go_live=date(2026, 9, 1), goals="**Ziele**",
                                   changes="Alles neu", department_ids=[department.id],
                                   contact_ids=[people["manager"].id]), actor)
    db.session.expire_all()
    phase = phase_by_slug("e-akte")
    assert (phase.period, phase.status, phase.title_en, phase.changes) == ("2026-H2", "active", "Electronic files",
                                                                           "Alles neu")
    assert [d.name for d in phase.departments] == ["Finanzen"]
    assert [u.username for u in phase.contacts] == ["manager"]
    save_phase(phase, _data(slug="e-akte-neu", title="E-Akte 2", status="done", department_ids=[],
                            contact_ids=[]), actor)
    db.session.expire_all()
    phase = phase_by_slug("e-akte-neu")
    assert (phase.title, phase.status, phase.departments, phase.contacts) == ("E-Akte 2", "done", [], [])
    actions = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == ["phases.phase_created", "phases.phase_updated"]
    updated = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "phases.phase_updated"))
    assert updated.actor_id == actor.id and updated.target_id == phase.id
    assert {"slug", "title", "status", "department_ids", "contact_ids"} <= set(updated.details["changed"])


def test_slug_must_be_unique(ctx, people, make_phase):
    make_phase("e-akte", title="Alt")
    other = make_phase("mobil", title="Mobil")
    with pytest.raises(ServiceError) as refused:
        save_phase(None, _data(), None)
    assert refused.value.field == "slug"
    with pytest.raises(ServiceError):
        save_phase(db.session.get(RolloutPhase, other.id), _data(slug="E-Akte"), None)
    db.session.rollback()
    assert db.session.scalar(select(RolloutPhase.slug).where(RolloutPhase.id == other.id)) == "mobil"
    assert db.session.scalars(select(AuditEntry)).all() == []
    # Keeping one's own slug is fine.
    save_phase(db.session.get(RolloutPhase, other.id), _data(slug="mobil", title="Mobiles Arbeiten"), None)


@pytest.mark.parametrize("fields, field", [
    ({"title": "  "}, "title"), ({"title": "x" * 201}, "title"), ({"title_en": "x" * 201}, "title_en"),
    ({"status": "finished"}, "status"), ({"period": "2040-H1"}, "period"),
    ({"go_live": date(2019, 12, 31)}, "go_live"), ({"go_live": date(2036, 1, 1)}, "go_live"),
    ({"goals": "x" * 20_001}, "goals"), ({"changes": "x" * 20_001}, "changes"),
    ({"department_ids": [999_999]}, "department_ids"), ({"contact_ids": [999_999]}, "contact_ids"),
])
def test_bad_input_is_refused_and_nothing_changes(ctx, fields, field):
    with pytest.raises(ServiceError) as refused:
        save_phase(None, _data(**fields), None)
    assert refused.value.field == field
    db.session.rollback()
    assert db.session.scalars(select(RolloutPhase)).all() == []


def test_inactive_departments_and_people_cannot_be_chosen(ctx, people, make_department, make_user):
    closed = db.session.get(Department, make_department("Aufgelöst").id)
    closed.active = False
    gone = make_user("gone", active=False)
    db.session.commit()
    with pytest.raises(ServiceError) as refused:
        save_phase(None, _data(department_ids=[closed.id]), None)
    assert refused.value.field == "department_ids"
    with pytest.raises(ServiceError) as refused:
        save_phase(None, _data(contact_ids=[gone.id]), None)
    assert refused.value.field == "contact_ids"


def test_faq_add_update_move_remove(ctx, people, make_phase):
    phase = db.session.get(RolloutPhase, make_phase("e-akte").id)
    actor = db.session.get(User, people["project_group"].id)
    first = add_faq(phase, "Erste Frage?", "Antwort eins", actor)
    second = add_faq(phase, "Zweite Frage?", "Antwort zwei", actor)
    assert [e.question for e in phase.faq] == ["Erste Frage?", "Zweite Frage?"]
    update_faq(first, "Erste Frage, neu?", "Neue Antwort", actor)
    move_faq(second, True, actor)
    move_faq(second, True, actor)  # already first: nothing happens
    db.session.expire_all()
    phase = phase_by_slug("e-akte")
    assert [(e.question, e.position) for e in phase.faq] == [("Zweite Frage?", 1), ("Erste Frage, neu?", 2)]
    remove_faq(phase.faq[0], actor)
    db.session.expire_all()
    assert db.session.scalars(select(PhaseFaq.question)).all() == ["Erste Frage, neu?"]
    actions = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == ["phases.faq_added", "phases.faq_added", "phases.faq_updated", "phases.faq_moved",
                       "phases.faq_removed"]


@pytest.mark.parametrize("question, answer, field", [
    ("", "Antwort", "question"), ("Frage?", " ", "answer"), ("x" * 301, "Antwort", "question"),
    ("Frage?", "x" * 5001, "answer"),
])
def test_faq_bad_input_is_refused(ctx, make_phase, question, answer, field):
    phase = db.session.get(RolloutPhase, make_phase().id)
    with pytest.raises(ServiceError) as refused:
        add_faq(phase, question, answer, None)
    assert refused.value.field == field
    db.session.rollback()
    assert db.session.scalars(select(PhaseFaq)).all() == []


def _complete(app, *assignments) -> None:
    with app.app_context():
        for assignment in assignments:
            db.session.get(Assignment, assignment.id).completed_at = utcnow()
        db.session.commit()


@pytest.fixture
def figures_setup(app, people, make_phase, make_course, make_assignment, make_user):
    """Phase A: 4 mandatory assignments of active people, 1 done (plus ignored ones); B: 2 of 2; C: none."""
    a, b, c = make_phase("phase-a"), make_phase("phase-b"), make_phase("phase-c")
    a1, a2 = make_course(phase=a, quiz=False), make_course(phase=a, quiz=False)
    b1 = make_course(phase=b, quiz=False)
    make_course(phase=c, quiz=False)
    unphased = make_course(quiz=False)
    staff = [people["employee"], people["manager"], make_user("third")]
    gone = make_user("gone", active=False)
    done = [make_assignment(staff[0], a1)]
    make_assignment(staff[1], a1)
    make_assignment(staff[2], a1)
    make_assignment(staff[0], a2)
    done.append(make_assignment(staff[1], a2, mandatory=False))  # voluntary: not counted
    done.append(make_assignment(gone, a2))  # deactivated person: not counted
    done += [make_assignment(staff[0], b1), make_assignment(staff[1], b1)]
    done.append(make_assignment(staff[0], unphased))
    _complete(app, *done)
    return a, b, c


def test_training_completion_counts_mandatory_assignments_per_phase_in_one_query(app, figures_setup,
                                                                                 count_queries):
    a, b, c = figures_setup
    with app.app_context():
        with count_queries() as statements:
            found = training_completion([a.id, b.id, c.id])
    assert len(statements) == 1 and "GROUP BY" in statements[0].upper()
    assert (found[a.id].assignments, found[a.id].completed, found[a.id].percent) == (4, 1, 25)
    assert (found[b.id].assignments, found[b.id].completed, found[b.id].percent) == (2, 2, 100)
    assert c.id not in found  # no data, no figure


def test_roadmap_shows_training_figures_only_where_they_exist(app, figures_setup, people):
    a, b, c = figures_setup
    with app.test_request_context(headers={"Accept-Language": "en"}):
        result = roadmap(db.session.get(User, people["employee"].id), TODAY, "en")
        entries = {e["phase"].slug: e for h in result.half_years for e in h.entries}
    assert [f.value for f in entries["phase-a"]["figures"]] == ["25 % of 4 mandatory assignments"]
    assert [f.key for f in entries["phase-b"]["figures"]] == ["training"]
    assert entries["phase-c"]["figures"] == []


def test_roadmap_runs_by_half_year_to_2030_and_marks_the_viewers_department(ctx, people, make_phase,
                                                                           make_department):
    own = db.session.get(Department, people["team"].department_id)
    other = make_department("Ordnung")
    make_phase("spaet", period="2031-H1", departments=[other])
    make_phase("eigen", period="2026-H2", departments=[own, other], title="Eigene Phase", title_en="Own phase")
    make_phase("fremd", period="2026-H2", departments=[other])
    make_phase("frueh", period="2025-H1", departments=[own], status="done")
    employee = db.session.get(User, people["employee"].id)
    result = roadmap(employee, TODAY, "en")
    periods = [h.period for h in result.half_years]
    assert periods[0] == "2025-H1" and periods[-1] == "2031-H1" and "2030-H2" in periods
    assert len(periods) == len(set(periods)) == 13
    assert [h.period for h in result.half_years if h.current] == ["2026-H1"]
    assert [e["phase"].slug for e in result.mine] == ["frueh", "eigen"]
    assert result.department.id == own.id
    second_half = next(h for h in result.half_years if h.period == "2026-H2")
    assert {e["phase"].slug: e["affects_me"] for e in second_half.entries} == {"eigen": True, "fremd": False}
    assert next(e["title"] for e in second_half.entries if e["phase"].slug == "eigen") == "Own phase"
    # Someone without a team sees no "for you" section, and an empty roadmap still reaches 2030.
    assert roadmap(db.session.get(User, people["project_group"].id), TODAY).mine == []


def test_empty_roadmap_runs_from_now_to_2030(ctx):
    result = roadmap(None, TODAY)
    assert result.count == 0
    assert [h.period for h in result.half_years][:2] == ["2026-H1", "2026-H2"]
    assert result.half_years[-1].period == "2030-H2"


def test_other_features_can_add_a_figure(ctx, make_phase, monkeypatch):
    phase = make_phase("mit-umfrage")

    def survey(phases):
        return {p.id: Figure("survey", "Survey response", "42 %") for p in phases if p.slug == "mit-umfrage"}

    monkeypatch.setattr(services, "_FIGURE_PROVIDERS", list(services._FIGURE_PROVIDERS))
    roadmap_figure(order=30)(survey)
    entry = next(e for h in roadmap(None, TODAY).half_years for e in h.entries if e["phase"].id == phase.id)
    assert entry["figures"] == [Figure("survey", "Survey response", "42 %")]
