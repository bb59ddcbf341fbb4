"""Retention deletes what has passed its period, keeps the rest and the aggregates, and is audited."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select

from learning.audit.models import AuditEntry
from learning.db import db
from learning.mail import CapturedMail
from learning.metrics.models import MetricSnapshot
from learning.transparency.retention import apply_retention

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)


def _seed(app):
    with app.app_context():
        for days in (10, 400, 1200):
            at = NOW - timedelta(days=days)
            db.session.add(AuditEntry(action=f"test.{days}", at=at, summary=""))
            db.session.add(CapturedMail(recipient="a@example.org", subject=str(days), body="", message_id=f"<{days}>",
                                        created_at=at))
        db.session.add(MetricSnapshot(day=date(2023, 1, 1), metric="training.completion", unit_kind="org", value=50,
                                      n=10, computed_at=NOW - timedelta(days=1200)))
        db.session.commit()


def _count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_deletes_by_the_configured_periods_and_keeps_aggregates(app):
    _seed(app)
    with app.test_request_context():
        planned = apply_retention(NOW, dry_run=True)
        assert (planned["audit_log"], planned["captured_mail"]) == (1, 2)
        assert _count(CapturedMail) == 3  # a dry run changes nothing
        counts = apply_retention(NOW)
        assert (counts["audit_log"], counts["captured_mail"]) == (1, 2)  # audit: 1095 days, mail: 365 by default
        assert sorted(db.session.scalars(select(CapturedMail.subject))) == ["10"]
        assert _count(AuditEntry, AuditEntry.action.startswith("test.")) == 2
        assert _count(MetricSnapshot) == 1  # aggregates stay
        run = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "retention.applied")).one()
        assert (run.details["audit_log"], run.details["captured_mail"]) == (1, 2)
        assert not any(apply_retention(NOW).values())  # idempotent


def test_follows_the_admin_setting(app, people):
    from learning.settings.services import save_settings

    _seed(app)
    with app.test_request_context():
        save_settings({"retention.individual_logs_days": 30}, people["admin"])
        assert apply_retention(NOW)["captured_mail"] == 2
        save_settings({"retention.audit_days": 180}, people["admin"])
        assert apply_retention(NOW + timedelta(days=1))["audit_log"] == 1


def test_cli(app, runner):
    _seed(app)
    result = runner.invoke(args=["retention", "run", "--dry-run"])
    assert result.exit_code == 0 and "captured_mail: would delete" in result.output
