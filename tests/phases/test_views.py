"""Phase pages: the project group manages phases and FAQ; everyone reads the roadmap and phase pages."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from learning.audit.models import AuditEntry
from learning.db import db
from learning.org.models import Department
from learning.phases.models import PhaseFaq, RolloutPhase


def _phase(app, slug: str) -> RolloutPhase | None:
    with app.app_context():
        phase = db.session.scalar(select(RolloutPhase).where(RolloutPhase.slug == slug))
        if phase is not None:
            phase.departments, phase.contacts, phase.faq  # noqa: B018  (load before detaching)
            db.session.expunge_all()
        return phase


def _form(**fields) -> dict:
    data = {"slug": "e-akte", "title": "Elektronische Akte", "title_en": "", "period": "2026-H2",
            "status": "planned", "go_live": "", "goals": "", "changes": ""}
    data.update(fields)
    return data


def test_project_group_creates_and_edits_a_phase(app, client, people, login):
    login(client, "projectgroup")
    department_id = people["team"].department_id
    page = client.get("/phases/new")
    assert page.status_code == 200 and "Add a rollout phase" in page.get_data(as_text=True)
    response = client.submit("/phases/new", _form(go_live="2026-09-01", goals="Alles digital",
                                                  changes="**Bürgerbüro:** neue Ablage",
                                                  department_ids=[str(department_id)],
                                                  contact_ids=[str(people["manager"].id)]))
    assert response.status_code == 302 and response.headers["Location"].endswith("/phases/e-akte")
    phase = _phase(app, "e-akte")
    assert (phase.title, phase.period, phase.go_live.isoformat()) == ("Elektronische Akte", "2026-H2", "2026-09-01")
    assert [d.id for d in phase.departments] == [department_id]
    page = client.get("/phases/e-akte").get_data(as_text=True)
    assert "Alles digital" in page and "<strong>Bürgerbüro:</strong>" in page
    assert "manager@example.org" in page and "The phase has been saved." in page

    edit = client.get("/phases/e-akte/edit").get_data(as_text=True)
    assert 'value="Elektronische Akte"' in edit and "checked" in edit
    response = client.submit("/phases/e-akte/edit", _form(slug="e-akte", title="E-Akte", status="active",
                                                           period="2027-h1", department_ids=[]))
    assert response.status_code == 302
    phase = _phase(app, "e-akte")
    assert (phase.title, phase.status, phase.period, phase.departments, phase.contacts) == (
        "E-Akte", "active", "2027-H1", [], [])
    with app.app_context():
        actions = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == ["phases.phase_created", "phases.phase_updated"]


@pytest.mark.parametrize("fields, message", [
    ({"period": "2026-H3"}, "Enter a half-year such as 2026-H1 or 2026-H2"),
    ({"period": "2040-H1"}, "between 2020 and 2035"),
    ({"slug": "E Akte!"}, "lower-case letters, digits and hyphens"),
    ({"slug": "vorhanden"}, "Another phase already has this short name."),
    ({"title": ""}, "Please enter a title."),
    ({"title": "x" * 201}, "at most 200 characters"),
    ({"go_live": "31.13.2026"}, "Enter a date such as 31.03.2027 (day, month, year)."),
    ({"go_live": "2026-12"}, "Enter a date such as 31.03.2027 (day, month, year)."),
    ({"go_live": "2040-01-01"}, "Enter a go-live date between 2020 and 2035."),
    ({"status": "finished"}, "Not a valid choice"),
    ({"goals": "x" * 20_001}, "at most 20000 characters"),
    ({"department_ids": ["999999"]}, "Affected departments"),
])
def test_bad_input_shows_a_message_and_changes_nothing(app, client, people, login, make_phase, fields, message):
    make_phase("vorhanden", title="Vorhanden")
    login(client, "projectgroup")
    response = client.submit("/phases/new", _form(**fields))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Please check your entries" in page and message in page
    with app.app_context():
        assert db.session.scalars(select(RolloutPhase.slug)).all() == ["vorhanden"]


def test_employee_cannot_manage_phases(app, client, people, login, make_phase):
    make_phase("e-akte")
    login(client, "employee")
    assert client.get("/phases/new").status_code == 403
    assert client.get("/phases/e-akte/edit").status_code == 403
    assert client.get("/phases/e-akte/faq").status_code == 403
    assert client.submit("/phases/new", _form(slug="neu")).status_code == 403
    assert client.submit("/phases/e-akte/edit", _form(title="Gekapert")).status_code == 403
    assert client.submit("/phases/e-akte/faq", {"question": "F?", "answer": "A"}).status_code == 403
    assert _phase(app, "e-akte").title == "E-Akte" and _phase(app, "neu") is None
    page = client.get("/phases/e-akte").get_data(as_text=True)
    assert "Edit this phase" not in page and "Manage the FAQ" not in page


def test_unknown_phase_is_404(client, people, login):
    login(client, "projectgroup")
    assert client.get("/phases/gibt-es-nicht").status_code == 404
    assert client.get("/phases/gibt-es-nicht/edit").status_code == 404


def test_roadmap_marks_the_phases_of_the_viewers_department(app, client, people, login, make_phase,
                                                            make_department, make_team, make_user):
    own = people["team"].department_id
    with app.app_context():
        own_department = db.session.get(Department, own)
        db.session.expunge(own_department)
    other = make_department("Ordnung")
    make_phase("eigen", title="Eigene Phase", period="2026-H2", departments=[own_department])
    make_phase("fremd", title="Fremde Phase", period="2027-H1", departments=[other])
    make_user("outsider", team=make_team("Gewerbe", department=other))

    login(client, "employee")
    page = client.get("/phases/").get_data(as_text=True)
    for_you = page.split('id="for-you-heading"')[1].split('id="timeline-heading"')[0]
    assert "Eigene Phase" in for_you and "Fremde Phase" not in for_you
    assert "Affects your department" in for_you
    timeline = page.split('id="timeline-heading"')[1]
    assert timeline.count("Affects your department") == 1
    assert timeline.index("Eigene Phase") < timeline.index("Affects your department") < timeline.index("Fremde")
    assert "2030, second half" in timeline

    other_client = app.test_client()
    login(other_client, "outsider")
    page = other_client.get("/phases/").get_data(as_text=True)
    for_you = page.split('id="for-you-heading"')[1].split('id="timeline-heading"')[0]
    assert "Fremde Phase" in for_you and "Eigene Phase" not in for_you

    pg_client = app.test_client()
    login(pg_client, "projectgroup")  # in no team: no "for you" section, nothing marked
    page = pg_client.get("/phases/").get_data(as_text=True)
    assert 'id="for-you-heading"' not in page and "Affects your department" not in page
    assert "Add a phase" in page


def test_roadmap_shows_training_completion(app, client, people, login, make_phase, make_course, make_assignment):
    phase = make_phase("e-akte", title="E-Akte")
    make_phase("leer", title="Leere Phase")
    course = make_course(phase=phase, quiz=False)
    make_assignment(people["employee"], course)
    make_assignment(people["manager"], course)
    login(client, "employee")
    page = client.get("/phases/").get_data(as_text=True)
    assert "Training completion" in page and "0 % of 2 mandatory assignments" in page
    assert page.count("Training completion") == 1  # the empty phase shows no figure at all


def _assert_harmless(page: str, where: str) -> None:
    """No live script, event handler or javascript: link; escaped text showing the payload is fine."""
    assert "<script" not in page, where
    assert not re.search(r"<[^>]*\son[a-z]+=", page), where
    assert not re.search(r"<[^>]*javascript:", page), where


def test_markup_in_goals_changes_and_faq_is_neutralised(app, client, people, login, make_phase):
    payload = '<script>alert(1)</script><img src=x onerror="alert(2)"><a href="javascript:alert(3)">x</a>'
    phase = make_phase("xss", title='<script>alert("t")</script>', goals=f"Ziele {payload}",
                       changes=f"Wer {payload}")
    with app.app_context():
        db.session.add(PhaseFaq(phase_id=phase.id, position=1, question=f"Frage {payload}",
                                answer=f"Antwort {payload}"))
        db.session.commit()
    login(client, "employee")
    for url in ("/phases/xss", "/phases/"):
        _assert_harmless(client.get(url).get_data(as_text=True), url)
    page = client.get("/phases/xss").get_data(as_text=True)
    assert "Ziele" in page and "Antwort" in page and "&lt;script&gt;" in page
    login(client, "projectgroup")
    _assert_harmless(client.get("/phases/xss/faq").get_data(as_text=True), "faq")


def test_phase_page_shows_everything_of_the_phase(app, client, people, login, make_phase, make_course):
    from learning.db import utcnow
    from learning.training.models import Course

    phase = make_phase("e-akte", title="E-Akte", title_en="Electronic files", goals="## Ziel\n\nPapierlos",
                       status="active", departments=[])
    make_course("e-akte-kurs", phase=phase, title="E-Akte: Grundlagen", title_en="Electronic files: basics")
    archived = make_course("alt", phase=phase, title="Alter Kurs")
    make_course("fremd", title="Fremder Kurs")
    with app.app_context():
        db.session.get(Course, archived.id).archived_at = utcnow()
        db.session.add_all([PhaseFaq(phase_id=phase.id, position=2, question="Zweite?", answer="B"),
                            PhaseFaq(phase_id=phase.id, position=1, question="Erste?", answer="*A*")])
        db.session.commit()
    login(client, "employee")
    page = client.get("/phases/e-akte").get_data(as_text=True)
    assert "<h1" in page and page.count("<h1") == 1 and "Electronic files</h1>" in page
    assert "Ziel</h3>" in page  # the authored top heading sits right below the section heading
    assert "Electronic files: basics" in page and "/learning/courses/e-akte-kurs" in page
    assert "Alter Kurs" not in page and "Fremder Kurs" not in page
    assert page.index("Erste?") < page.index("Zweite?") and "<details" in page and "<em>A</em>" in page
    assert "In progress" in page and "Affects your department" not in page


def test_faq_management(app, client, people, login, make_phase):
    make_phase("e-akte")
    login(client, "projectgroup")
    assert client.get("/phases/e-akte/faq").status_code == 200
    for question in ("Erste?", "Zweite?"):
        response = client.submit("/phases/e-akte/faq", {"question": question, "answer": f"Antwort auf {question}"})
        assert response.status_code == 302
    response = client.submit("/phases/e-akte/faq", {"question": "", "answer": ""})
    assert response.status_code == 200 and "Please enter the question." in response.get_data(as_text=True)
    with app.app_context():
        first, second = db.session.scalars(select(PhaseFaq.id).order_by(PhaseFaq.position)).all()
    page = client.get(f"/phases/e-akte/faq/{first}").get_data(as_text=True)
    assert 'value="Erste?"' in page
    response = client.submit(f"/phases/e-akte/faq/{first}", {"question": "Erste, neu?", "answer": "x" * 5001})
    assert "at most 5000 characters" in response.get_data(as_text=True)
    assert client.submit(f"/phases/e-akte/faq/{first}", {"question": "Erste, neu?", "answer": "Neu"}).status_code == 302
    assert client.submit(f"/phases/e-akte/faq/{second}/move", {"direction": "up"}).status_code == 302
    with app.app_context():
        assert db.session.scalars(select(PhaseFaq.question).order_by(PhaseFaq.position)).all() == [
            "Zweite?", "Erste, neu?"]
    # Without the confirmation field nothing is removed; with it, the entry goes.
    client.submit(f"/phases/e-akte/faq/{second}/delete")
    client.submit(f"/phases/e-akte/faq/{second}/delete", {"confirm": "1"})
    with app.app_context():
        assert db.session.scalars(select(PhaseFaq.question)).all() == ["Erste, neu?"]
    assert client.get(f"/phases/e-akte/faq/{second}").status_code == 404
    # An entry of another phase is not reachable through this one.
    make_phase("andere")
    assert client.get(f"/phases/andere/faq/{first}").status_code == 404
    page = client.get("/phases/e-akte").get_data(as_text=True)
    assert "Erste, neu?" in page and "Zweite?" not in page


def _count(client, count_queries, url: str) -> int:
    with count_queries() as statements:
        response = client.get(url)
    assert response.status_code == 200
    return len(statements)


def _grow(app, people, make_phase, make_course, make_assignment, make_user, make_department, n: int,
          prefix: str) -> None:
    """Add ``n`` phases, each with departments, a contact, FAQ entries, a course and assignments."""
    with app.app_context():
        own = db.session.get(Department, people["team"].department_id)
        db.session.expunge(own)
    for i in range(n):
        department = make_department(f"{prefix} Fachbereich {i}")
        phase = make_phase(f"{prefix}-{i}", period=f"{2026 + i % 4}-H{1 + i % 2}", departments=[own, department])
        course = make_course(phase=phase, quiz=False, lessons=1)
        learner = make_user(f"{prefix}-learner-{i}")
        make_assignment(learner, course)
        make_assignment(people["manager"], course)
        with app.app_context():
            stored = db.session.get(RolloutPhase, phase.id)
            stored.contacts = [db.session.get(type(people["manager"]), learner.id)]
            stored.faq = [PhaseFaq(position=k, question=f"Frage {k}?", answer="Antwort") for k in range(1, 4)]
            db.session.commit()


@pytest.mark.parametrize("role", ["employee", "projectgroup"])
def test_roadmap_and_phase_page_run_a_fixed_number_of_queries(app, client, people, login, make_phase,
                                                              make_course, make_assignment, make_user,
                                                              make_department, count_queries, role):
    _grow(app, people, make_phase, make_course, make_assignment, make_user, make_department, 1, "a")
    target = make_phase("ziel", departments=[])
    login(client, role)
    client.get("/phases/")  # warm up: first request of the session
    few = {url: _count(client, count_queries, url) for url in ("/phases/", "/phases/ziel")}
    _grow(app, people, make_phase, make_course, make_assignment, make_user, make_department, 6, "b")
    with app.app_context():
        stored = db.session.get(RolloutPhase, target.id)
        stored.departments = list(db.session.scalars(select(Department)))
        stored.contacts = [db.session.get(type(people["manager"]), p.id) for p in people.values()
                           if hasattr(p, "username")]
        stored.faq = [PhaseFaq(position=k, question=f"F{k}?", answer="A") for k in range(1, 8)]
        db.session.commit()
    for _ in range(5):
        make_course(phase=target, quiz=False, lessons=1)
    many = {url: _count(client, count_queries, url) for url in ("/phases/", "/phases/ziel")}
    assert few == many
    # the page's own queries plus the frame's: the person, roles, onboarding menu item, unread count
    assert many["/phases/"] <= 10


def test_pages_have_no_inline_styles_or_scripts(app, client, people, login, make_phase):
    phase = make_phase("e-akte", departments=[])
    with app.app_context():
        db.session.add(PhaseFaq(phase_id=phase.id, position=1, question="Frage?", answer="Antwort"))
        db.session.commit()
        faq_id = db.session.scalar(select(PhaseFaq.id))
    login(client, "projectgroup")
    for url in ("/phases/", "/phases/e-akte", "/phases/new", "/phases/e-akte/edit", "/phases/e-akte/faq",
                f"/phases/e-akte/faq/{faq_id}"):
        response = client.get(url)
        page = response.get_data(as_text=True)
        assert response.status_code == 200, url
        assert "style=" not in page, url
        # scripts only from our own static files (the person picker), never inline
        assert all(re.fullmatch(r'<script src="/static/js/[a-z-]+\.js" defer>', tag)
                   for tag in re.findall(r"<script[^>]*>", page)), url
        assert not re.search(r"\son[a-z]+=", page), url
        assert page.count("<h1") == 1, url


def test_german_pages_render(app, client, people, login, make_phase):
    make_phase("e-akte")
    login(client, "projectgroup")
    for url in ("/phases/", "/phases/e-akte", "/phases/e-akte/edit"):
        assert client.get(url, headers={"Accept-Language": "de"}).status_code == 200


def test_roles_see_the_roadmap(app, client, people, login, make_phase):
    make_phase("e-akte", title="E-Akte")
    for username in ("employee", "manager", "projectgroup", "admin"):
        fresh = app.test_client()
        login(fresh, username)
        assert "E-Akte" in fresh.get("/phases/").get_data(as_text=True)
