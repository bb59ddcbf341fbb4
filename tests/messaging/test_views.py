"""Admin pages of the mail (outbox with retry, captured mail), the CLI commands and the demo's reminders."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from learning.audit.models import AuditEntry
from learning.db import db
from learning.messaging.models import Outbox, OutboxStatus
from learning.roles import Role


@pytest.fixture
def rows(app, people, make_user):
    """Outbox rows in every status; ``rows(n)`` adds n more sent ones."""

    def add(count: int = 0) -> None:
        with app.app_context():
            user = people["employee"].id
            if count == 0:
                for status in OutboxStatus:
                    db.session.add(Outbox(user_id=user, kind="training.due_today", subject_key=f"s-{status}",
                                          period_key="p", status=status.value,
                                          last_error="550 no such user" if status == "failed" else None))
            for n in range(count):
                db.session.add(Outbox(user_id=user, kind="training.overdue", subject_key=f"extra-{n}",
                                      period_key="p", status="sent", message_id=f"<m{n}@x>"))
            db.session.commit()

    return add


def test_the_outbox_page_shows_every_status_and_is_audited(app, client, login, people, rows):
    rows()
    login(client, "admin")
    page = client.get("/admin/mail/outbox").get_data(as_text=True)
    for label in ("Queued", "Being sent", "Sent", "Failed", "Not sent"):
        assert label in page
    assert "550 no such user" in page and "Training due today" in page
    failed = client.get("/admin/mail/outbox?status=failed").get_data(as_text=True)
    assert failed.count(">Send again<") == 1 and "s-sent" not in failed
    assert "aria-label=\"Send again: Training due today to Test Person 2\"" in failed
    with app.app_context():
        assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "view.messaging.outbox")) is not None


def test_an_admin_sends_a_failed_message_again(app, client, login, rows):
    rows()
    login(client, "admin")
    with app.app_context():
        failed = db.session.scalar(select(Outbox).where(Outbox.status == "failed"))
    response = client.submit(f"/admin/mail/outbox/{failed.id}/retry", {"status": "failed"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/mail/outbox?status=failed")
    with app.app_context():
        row = db.session.get(Outbox, failed.id)
        assert (row.status, row.attempts) == ("queued", 0)
        assert db.session.scalar(select(AuditEntry.action).where(AuditEntry.action == "outbox.retry"))
    assert client.submit(f"/admin/mail/outbox/{failed.id}/retry").status_code == 302  # queued: again is harmless
    with app.app_context():
        sent = db.session.scalar(select(Outbox.id).where(Outbox.status == "sent"))
    assert client.submit(f"/admin/mail/outbox/{sent}/retry").status_code == 404
    assert client.submit("/admin/mail/outbox/999999/retry").status_code == 404


def test_a_mail_the_server_never_confirmed_is_marked_and_can_be_sent_again(app, client, login, people, rows):
    rows(1)
    with app.app_context():
        unconfirmed = Outbox(user_id=people["employee"].id, kind="training.due_today", subject_key="s-unconfirmed",
                             period_key="p", status="sent", outcome="not confirmed", message_id="<u@x>",
                             last_error="no answer after the message was sent: Connection unexpectedly closed")
        db.session.add(unconfirmed)
        db.session.commit()
        unconfirmed_id = unconfirmed.id
    login(client, "admin")
    for language, label in (("en", "never confirmed it: it may not have arrived"),
                            ("de", "nie bestätigt hat: Sie ist vielleicht nicht angekommen")):
        page = client.get("/admin/mail/outbox?status=sent", headers={"Accept-Language": language})
        text = page.get_data(as_text=True)
        assert label in text and "Connection unexpectedly closed" in text
    assert text.count(">Erneut senden<") == 1  # only the unconfirmed one of the two sent mails
    assert client.submit(f"/admin/mail/outbox/{unconfirmed_id}/retry").status_code == 302
    with app.app_context():
        assert db.session.get(Outbox, unconfirmed_id).status == "queued"


def test_retry_all_failed(app, client, login, rows):
    rows()
    login(client, "admin")
    client.submit("/admin/mail/outbox/retry-failed")
    with app.app_context():
        assert db.session.scalar(select(Outbox).where(Outbox.status == "failed")) is None
    assert "There are no failed messages." in client.submit(
        "/admin/mail/outbox/retry-failed", follow_redirects=True).get_data(as_text=True)


@pytest.mark.parametrize("role", ["employee", "manager", "project_group"])
def test_only_admins_see_the_outbox(client, login, people, role):
    login(client, people[role].username)
    assert client.get("/admin/mail/outbox").status_code == 403


def test_the_outbox_page_runs_a_fixed_number_of_queries(app, client, login, rows, count_queries):
    login(client, "admin")
    rows()
    with count_queries() as few:
        assert client.get("/admin/mail/outbox").status_code == 200
    rows(40)
    with count_queries() as many:
        assert client.get("/admin/mail/outbox").status_code == 200
    assert len(few) == len(many)


def test_the_admin_page_links_the_outbox_and_the_scheduler(client, login, people):
    login(client, "admin")
    page = client.get("/admin/").get_data(as_text=True)
    assert 'href="/admin/mail/outbox"' in page and 'href="/admin/scheduler/"' in page


# Command line ----------------------------------------------------------------------------------------------------

def test_reminders_plan_dry_run_prints_what_would_be_queued(app, runner, make_user, make_course, make_assignment):
    from learning.i18n import local_today

    with app.app_context():
        today = local_today()
    make_assignment(make_user("lerner"), make_course("kurs"), due_on=today)
    result = runner.invoke(args=["reminders", "plan", "--dry-run", "-v"])
    assert result.exit_code == 0, result.output
    assert "training.due_today" in result.output and "1 would be queued" in result.output
    assert "assignment:" in result.output
    with app.app_context():
        assert db.session.scalar(select(Outbox)) is None
    result = runner.invoke(args=["reminders", "plan"])
    assert "1 queued" in result.output
    result = runner.invoke(args=["outbox", "send", "--now"])
    assert result.exit_code == 0 and "1 mail(s) with 1 reminder(s)" in result.output
    status = runner.invoke(args=["outbox", "status"])
    assert "sent: 1" in status.output
    from learning.scheduler.models import JobRun

    with app.app_context():
        assert [r.job_id for r in db.session.scalars(select(JobRun).order_by(JobRun.id))] == [
            "reminders.plan", "outbox.send"]


def test_outbox_send_reports_an_unreachable_server(app, runner, make_user, make_course, make_assignment):
    from tests.conftest import free_port

    app.config["SMTP_URL"] = f"smtp://127.0.0.1:{free_port()}"
    from learning.i18n import local_today

    with app.app_context():
        today = local_today()
    make_assignment(make_user("lerner"), make_course("kurs"), due_on=today)
    runner.invoke(args=["reminders", "plan"])
    result = runner.invoke(args=["outbox", "send", "--now"])
    assert result.exit_code != 0 and "could not be reached" in result.output
    with app.app_context():
        assert db.session.scalar(select(Outbox.status)) == "queued"


def test_the_demo_has_reminders_notifications_and_captured_mail(make_app):
    from sqlalchemy import func

    from learning.demo.data import load_demo
    from learning.mail import CapturedMail
    from learning.notifications.models import Notification
    from learning.org.models import User

    app = make_app(DEMO=True)
    with app.app_context():
        counts = load_demo(date.today())
        assert counts["reminders"] > 0 and counts["notifications"] > 0 and counts["reminder_mails"] > 0
        anna = db.session.scalar(select(User).where(User.username == "anna"))
        assert db.session.scalar(select(func.count(Notification.id)).where(Notification.user_id == anna.id)) > 0
        assert db.session.scalar(select(func.count(CapturedMail.id)).where(
            CapturedMail.message_id.startswith("<reminder."))) > 0
        mara = db.session.scalar(select(User).where(User.username == "mara"))
        assert mara.has_role(Role.MANAGER)
        assert db.session.scalar(select(Outbox.id).where(Outbox.user_id == mara.id,
                                                         Outbox.kind == "training.escalation")) is not None


def test_the_outbox_can_be_searched_by_person_and_kind(app, client, login, people, rows, make_user):
    rows()
    other = make_user("zweite", first_name="Zora", last_name="Zweig")
    with app.app_context():
        db.session.add(Outbox(user_id=other.id, kind="training.overdue", subject_key="z", period_key="p",
                              status="queued"))
        db.session.commit()
    login(client, "admin")
    page = client.get("/admin/mail/outbox?person=zweig").get_data(as_text=True)
    assert "Zora Zweig" in page and "Messages (1)" in page
    page = client.get("/admin/mail/outbox?kind=training.due_today").get_data(as_text=True)
    assert "Messages (5)" in page and "Zora Zweig" not in page
    page = client.get("/admin/mail/outbox?kind=unknown&person=").get_data(as_text=True)
    assert "Messages (6)" in page  # an unknown kind and an empty search filter nothing out
    page = client.get("/admin/mail/outbox?person=%25").get_data(as_text=True)
    assert "No messages with this status." in page  # a percent sign is no wildcard: nobody's name holds one


def test_the_outbox_speaks_in_words_with_the_keys_behind_a_disclosure(client, login, rows):
    rows()
    login(client, "admin")
    page = client.get("/admin/mail/outbox").get_data(as_text=True)
    assert "Waiting: " in page and "failed: 1." in page
    detail = page.split("<summary>Technical detail</summary>")[1].split("</details>")[0]
    assert "outbox-key" in detail
