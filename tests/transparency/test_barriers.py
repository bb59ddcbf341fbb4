"""Reporting a barrier: anyone can, admins are told and resolve it; bad input changes nothing."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from learning.audit.models import AuditEntry
from learning.db import db
from learning.mail import CapturedMail
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


def test_the_name_is_offered_only_to_people_signed_in_and_not_attached_by_default(client, people, login):
    anonymous = client.get("/accessibility/report").get_data(as_text=True)
    assert 'name="attach_name"' not in anonymous
    login(client, people["employee"].username)
    form = client.get("/accessibility/report").get_data(as_text=True)
    checkbox = re.search(r'<input[^>]*name="attach_name"[^>]*>', form).group(0)
    assert 'type="checkbox"' in checkbox and "checked" not in checkbox
    assert "Attach my name to the report" in form


def _identifying(app, person) -> list[str]:
    """Everything stored with the report that could name the person (issue 14, §11)."""
    with app.app_context():
        report = db.session.scalars(select(BarrierReport)).one()
        found = []
        if report.reporter_id is not None:
            found.append("report.reporter_id")
        actors = db.session.scalars(select(AuditEntry.actor_id).where(AuditEntry.action == "barrier.reported")).all()
        if person.id in actors:
            found.append("audit actor")
        texts = [report.page, report.description, report.contact]
        texts += [m.body + m.subject for m in db.session.scalars(select(CapturedMail))]
        texts += [str(e.details) + e.summary for e in db.session.scalars(select(AuditEntry))]
        for value in (person.full_name, person.email, person.username, person.last_name):
            if any(value in text for text in texts):
                found.append(value)
        return found


def test_a_report_sent_while_signed_in_stores_nothing_identifying_by_default(app, client, people, login):
    employee = people["employee"]
    login(client, employee.username)
    response = client.submit("/accessibility/report", {"page": "/learning/", "description": "Zu kleiner Text",
                                                       "contact": ""})
    assert response.status_code == 302
    assert _identifying(app, employee) == []
    admin = app.test_client()
    login(admin, people["admin"].username)
    listing = admin.get("/admin/barriers").get_data(as_text=True)
    assert "Zu kleiner Text" in listing and "anonymous" in listing and employee.full_name not in listing
    german = admin.get("/admin/barriers", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert "anonym" in german and "anonymous" not in german


def test_a_signed_in_reporter_who_asks_for_it_is_named(app, client, people, login):
    employee = people["employee"]
    login(client, employee.username)
    client.submit("/accessibility/report", {"page": "", "description": "Zu kleiner Text", "contact": "",
                                            "attach_name": "y"})
    with app.app_context():
        assert db.session.scalars(select(BarrierReport.reporter_id)).one() == employee.id
        assert employee.full_name in db.session.scalars(select(CapturedMail.body)).first()
    admin = app.test_client()
    login(admin, people["admin"].username)
    assert employee.full_name in admin.get("/admin/barriers").get_data(as_text=True)


def test_asking_for_the_name_without_signing_in_attaches_nothing(app, client, people):
    client.submit("/accessibility/report", {"page": "", "description": "Kontrast", "contact": "", "attach_name": "y"})
    with app.app_context():
        assert db.session.scalars(select(BarrierReport.reporter_id)).one() is None


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
