"""The audit log: views of individual data are recorded; admins search by action, person and period."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from learning.audit.models import AuditEntry
from learning.db import db


def _entries(app, prefix: str) -> list[AuditEntry]:
    with app.app_context():
        return db.session.scalars(select(AuditEntry).where(AuditEntry.action.startswith(prefix))).all()


def test_viewing_the_people_of_a_rule_is_recorded(app, client, people, login, make_course):
    from learning.training.models import AssignmentRule

    course = make_course("audit-kurs")
    with app.app_context():
        rule = AssignmentRule(course_id=course.id, audience="everyone", audience_values=[], due_rule="assigned+30")
        db.session.add(rule)
        db.session.commit()
        rule_id = rule.id
    login(client, people["project_group"].username)
    assert client.get(f"/learning/rules/{rule_id}/people").status_code == 200
    [entry] = _entries(app, "view.")
    assert entry.action == "view.training.rule_people" and entry.actor_id == people["project_group"].id
    assert (entry.target_type, entry.target_id) == ("assignmentrule", rule_id)


def _add(app, action: str, actor_id, at: datetime, target_id=None):
    with app.app_context():
        db.session.add(AuditEntry(action=action, actor_id=actor_id, at=at, summary=action,
                                  target_type="user" if target_id else None, target_id=target_id))
        db.session.commit()


def test_admin_searches_by_person_action_and_period(app, client, people, login):
    admin, employee = people["admin"], people["employee"]
    _add(app, "user.updated", admin.id, datetime(2026, 3, 1, 9, tzinfo=UTC), target_id=employee.id)
    _add(app, "view.onboarding.journey", people["manager"].id, datetime(2026, 3, 2, 9, tzinfo=UTC))
    _add(app, "course.synced", None, datetime(2026, 4, 1, 9, tzinfo=UTC))
    login(client, admin.username)

    def shown(query: str) -> list[str]:
        text = client.get("/admin/audit/" + query).get_data(as_text=True)
        return [a for a in ("user.updated", "view.onboarding.journey", "course.synced") if f"<code>{a}</code>" in text]

    assert shown("") == ["user.updated", "view.onboarding.journey", "course.synced"]
    assert shown(f"?person={employee.last_name}") == ["user.updated"]  # the person it concerned
    assert shown(f"?person={people['manager'].username}") == ["view.onboarding.journey"]
    assert shown("?action=view.") == ["view.onboarding.journey"]
    assert shown("?from=2026-03-02&to=2026-03-31") == ["view.onboarding.journey"]
    response = client.get("/admin/audit/?from=gestern")
    assert response.status_code == 200 and "is not a date" in response.get_data(as_text=True)
    assert shown("?from=gestern") == []


# The log in words ------------------------------------------------------------------------------------------

def _recorded_actions() -> set[str]:
    """Every action name the source records (string constants, both sides of a conditional, record_view's)."""
    import ast
    from pathlib import Path

    def names(node) -> list[str]:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return [node.value]
        if isinstance(node, ast.IfExp):
            return names(node.body) + names(node.orelse)
        return []

    found = set()
    for path in (Path(__file__).resolve().parents[1] / "learning").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) in (
                    "record", "record_view") and len(node.args) >= 2:
                prefix = "view." if getattr(node.func, "id", getattr(node.func, "attr", None)) == "record_view" else ""
                found.update(prefix + name for name in names(node.args[1]))
    # The two built names: a unit's (de)activation and record_view's "view.<what>".
    found.update(f"{kind}.{state}" for kind in ("department", "team") for state in ("deactivated", "reactivated"))
    return found


def test_every_recorded_action_reads_as_a_sentence():
    from learning.audit.words import SENTENCES, VIEWS, category_of

    actions = _recorded_actions()
    assert len(actions) > 50
    missing = sorted(a for a in actions if a not in SENTENCES and not (a.startswith("view.") and a[5:] in VIEWS))
    assert missing == []
    assert sorted(a for a in actions if category_of(a) is None) == []


def test_a_role_change_reads_as_a_german_sentence(app, people, make_user):
    from flask_babel import force_locale

    from learning.audit.words import describe
    from learning.db import unit_of_work
    from learning.org.models import User
    from learning.org.services import PersonData, update_person
    from learning.roles import Role

    anna = make_user("aschmidt", first_name="Anna", last_name="Schmidt")
    with app.test_request_context(), force_locale("de"):
        with unit_of_work():
            user, admin = db.session.get(User, anna.id), db.session.get(User, people["admin"].id)
            update_person(user, PersonData(email=user.email, first_name="Anna", last_name="Schmidt",
                                           username=user.username, roles={Role.EMPLOYEE, Role.PROJECT_GROUP}), admin)
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "user.updated"))
        [item] = describe([entry])
        admin_name = people["admin"].full_name
        assert item.sentence == (f"{admin_name} hat die Angaben von Anna Schmidt geändert. "
                                 "Anna Schmidt hat die Rolle Projektgruppe erhalten.")
        assert item.category == "Personen, Rollen und Konten"


def test_settings_retention_and_views_read_as_sentences(app, people):
    from flask_babel import force_locale

    from learning.audit.words import describe

    entries = [
        AuditEntry(action="settings.changed", actor_id=people["admin"].id, summary="surveys.min_responses: 5 → 7",
                   details={"key": "surveys.min_responses", "old": 5, "new": 7}),
        AuditEntry(action="retention.applied", details={"audit_log": 3, "outbox": 0, "captured_mail": 2}),
        AuditEntry(action="view.messaging.outbox", actor_id=people["admin"].id, summary="Outbox (all), page 1"),
        AuditEntry(action="feedback.status", actor_id=people["project_group"].id, target_type="feedbackpost",
                   target_id=12, details={"from_status": "new", "to_status": "planned"}),
        AuditEntry(action="something.new", summary="Neu"),
    ]
    with app.test_request_context(), force_locale("de"):
        for entry in entries:
            db.session.add(entry)
        db.session.flush()
        sentences = [item.sentence for item in describe(entries)]
        db.session.rollback()
    admin, project = people["admin"].full_name, people["project_group"].full_name
    assert sentences == [
        f"{admin} hat die Einstellung „Mindestzahl an Antworten für einen Befragungswert“ von 5 auf 7 geändert.",
        "Das System hat Einträge nach Ablauf ihrer Aufbewahrungsfrist gelöscht: 3 Protokolleinträge, "
        "2 aufbewahrte E-Mails.",
        f"{admin} hat den Postausgang mit den Erinnerungen an einzelne Personen angesehen.",
        f"{project} hat den Feedback-Beitrag Nr. 12 von „Neu“ auf „Geplant“ gesetzt.",
        "Das System: Neu.",
    ]


def test_the_log_filters_by_category_and_exports_what_it_shows(app, client, people, login):
    from tests.test_exports import assert_csv_safe, read_export_csv

    admin, employee = people["admin"], people["employee"]
    _add(app, "user.updated", admin.id, datetime(2026, 3, 1, 9, tzinfo=UTC), target_id=employee.id)
    _add(app, "view.onboarding.journey", people["manager"].id, datetime(2026, 3, 2, 9, tzinfo=UTC))
    _add(app, "survey.named_viewed", people["project_group"].id, datetime(2026, 3, 3, 9, tzinfo=UTC))
    _add(app, "survey.closed", people["project_group"].id, datetime(2026, 3, 4, 9, tzinfo=UTC))
    login(client, admin.username)
    page = client.get("/admin/audit/?category=views").get_data(as_text=True)
    assert "<code>view.onboarding.journey</code>" in page and "<code>survey.named_viewed</code>" in page
    assert "<code>survey.closed</code>" not in page and "<code>user.updated</code>" not in page
    surveys = client.get("/admin/audit/?category=surveys").get_data(as_text=True)
    assert "<code>survey.closed</code>" in surveys and "<code>survey.named_viewed</code>" not in surveys
    assert f"changed the details of {employee.full_name}." in client.get("/admin/audit/").get_data(as_text=True)
    assert "There is no category" in client.get("/admin/audit/?category=nonsense").get_data(as_text=True)

    response = client.get("/admin/audit/export.csv?category=views&from=2026-03-01")
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert "audit-log_views-of-individual-data_01-03-2026_" in response.headers["Content-Disposition"]
    info, rows = read_export_csv(response.data)
    assert info["Category"] == "Views of individual data" and info["From"] == "01.03.2026"
    assert rows[0] == ["Time", "Category", "What happened", "Who", "Action (technical)",
                       "Recorded summary (technical)"]
    assert sorted(r[4] for r in rows[1:]) == ["survey.named_viewed", "view.onboarding.journey"]
    assert_csv_safe(rows)
    workbook_response = client.get("/admin/audit/export.xlsx?category=views")
    from tests.test_exports import read_xlsx

    sheet = read_xlsx(workbook_response.data).worksheets[0]
    assert sheet["A2"].is_date and sheet["A2"].number_format == "YYYY-MM-DD HH:MM"
    [exported, _second] = _entries(app, "audit.exported")
    assert exported.actor_id == admin.id and exported.details["rows"] == 2


def test_audit_exports_are_for_admins(client, people, login):
    login(client, people["project_group"].username)
    assert client.get("/admin/audit/export.csv").status_code == 403
