"""Reporting a barrier: anyone can, admins are told and resolve it; bad input changes nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from learning.db import db
from learning.messaging.models import CapturedMail
from learning.transparency.models import BarrierReport


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_anyone_reports_a_barrier_and_admins_get_mail(app, client, people):
    page = client.get("/accessibility/report?page=/training/")
    assert page.status_code == 200 and 'value="/training/"' in page.get_data(as_text=True)
    response = client.submit("/accessibility/report", {
        "page": "/training/", "description": "Der Knopf ist mit der Tastatur nicht erreichbar.",
        "contact": "leser@example.org",
    })
    assert response.status_code == 302 and response.headers["Location"].endswith("/accessibility")
    with app.app_context():
        report = db.session.scalars(select(BarrierReport)).one()
        assert report.reporter_id is None and report.contact == "leser@example.org"
        mails = db.session.scalars(select(CapturedMail)).all()
    assert [m.recipient for m in mails] == [f"{people['admin'].full_name} <{people['admin'].email}>"]
    assert "Tastatur" in mails[0].body


def test_signed_in_reporter_is_remembered(app, client, people, login):
    login(client, people["employee"].username)
    client.submit("/accessibility/report", {"page": "", "description": "Zu kleiner Text", "contact": ""})
    with app.app_context():
        assert db.session.scalars(select(BarrierReport.reporter_id)).one() == people["employee"].id


def test_bad_input_is_refused_on_the_form(app, client):
    response = client.submit("/accessibility/report", {"page": "x", "description": "  ", "contact": "kein-mail"})
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "This field is required." in text and "Invalid email address." in text
    assert _count(app, BarrierReport) == 0


def test_admin_resolves_a_report(app, client, people, login):
    with app.app_context():
        report = BarrierReport(page="/feedback/", description="Fokus unsichtbar", contact="")
        db.session.add(report)
        db.session.commit()
        report_id = report.id
    login(client, people["admin"].username)
    listing = client.get("/admin/barriers")
    assert "Fokus unsichtbar" in listing.get_data(as_text=True)
    assert client.submit(f"/admin/barriers/{report_id}/resolve").status_code == 302
    with app.app_context():
        report = db.session.get(BarrierReport, report_id)
        assert report.resolved_at is not None and report.resolved_by_id == people["admin"].id
