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
