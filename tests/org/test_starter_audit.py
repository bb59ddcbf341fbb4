"""The starter template's audit entry and version note read in German, without English words."""

from flask_babel import force_locale
from sqlalchemy import select

from learning.audit.models import AuditEntry
from learning.audit.words import describe
from learning.db import db
from learning.onboarding.models import JourneyTemplateVersion


def test_the_installed_starter_template_reads_in_german(app, runner):
    result = runner.invoke(args=["onboarding", "starter-template"])
    assert result.exit_code == 0, result.output
    with app.test_request_context(), force_locale("de"):
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action.startswith("onboarding.")))
        [item] = describe([entry])
        version = db.session.scalar(select(JourneyTemplateVersion))
    assert entry.action == "onboarding.starter_installed"
    assert item.sentence == f"Das System hat die Startvorlage „{entry.summary}“ für das Onboarding eingerichtet."
    assert "starter" not in item.sentence.lower() and "template" not in item.sentence.lower()
    assert version.summary == "Als Startvorlage eingerichtet"
    assert item.category == "Onboarding"
