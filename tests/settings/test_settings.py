"""Runtime settings: defaults, validated changes that are audited, never below the privacy floor."""

from __future__ import annotations

from sqlalchemy import select

from learning.audit.models import AuditEntry
from learning.db import db
from learning.settings.services import SETTINGS, current_settings, save_settings


def _form(**changes) -> dict:
    data = {}
    for s in SETTINGS:
        name = s.key.replace(".", "__")
        value = changes.get(name, s.default)
        if s.is_flag:
            if value:
                data[name] = "y"
        else:
            data[name] = str(value)
    return data


def test_defaults_without_rows(ctx):
    values = current_settings()
    assert values["surveys.min_responses"] == 5 and values["surveys.min_comments"] == 10
    assert values["managers.training_individuals"] is True


def test_admin_changes_settings_and_each_change_is_audited(app, client, people, login):
    login(client, people["admin"].username)
    response = client.submit("/admin/settings/", _form(managers__training_individuals=False,
                                                       retention__audit_days=730))
    assert response.status_code == 302
    with app.test_request_context():
        values = current_settings()
        assert values["managers.training_individuals"] is False and values["retention.audit_days"] == 730
        entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "settings.changed")).all()
        assert sorted(e.details["key"] for e in entries) == ["managers.training_individuals", "retention.audit_days"]
        assert all(e.actor_id == people["admin"].id for e in entries)


def test_thresholds_cannot_go_below_the_privacy_floor(app, client, people, login):
    login(client, people["admin"].username)
    response = client.submit("/admin/settings/", _form(surveys__min_responses=3, retention__audit_days="viele"))
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "Number must be between 5 and 100." in text and "Not a valid integer value." in text
    with app.test_request_context():
        assert current_settings()["surveys.min_responses"] == 5
        assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "settings.changed")) is None


def test_a_row_edited_out_of_range_falls_back_to_the_default(ctx):
    from learning.settings.models import PlatformSetting

    db.session.add(PlatformSetting(key="surveys.min_responses", value=1))
    db.session.commit()
    assert current_settings()["surveys.min_responses"] == 5


def test_service_refuses_out_of_range_values(ctx, people):
    import pytest

    from learning.errors import ServiceError

    with pytest.raises(ServiceError):
        save_settings({"surveys.min_comments": 9}, people["admin"])
