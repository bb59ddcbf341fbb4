"""Inviting people without a directory: the "no password yet" filter, the preview, the send through the outbox."""

from __future__ import annotations

import re
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import time_machine
from sqlalchemy import func, select, update

from learning.audit.models import AuditEntry
from learning.db import db
from learning.directory.models import LDAP, ExternalIdentity
from learning.messaging.models import Outbox, OutboxStatus
from learning.org.models import User
from learning.roles import Role

BERLIN = ZoneInfo("Europe/Berlin")
MONDAY = date(2026, 3, 2)
LINK = re.compile(r"http://localhost(/password/reset/\S+)")


def berlin(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=BERLIN)


def _outbox(app) -> list[tuple]:
    with app.app_context():
        return [tuple(row) for row in db.session.execute(
            select(Outbox.user_id, Outbox.kind, Outbox.status).order_by(Outbox.user_id))]


def _invited(app) -> list[int]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEntry.target_id).where(
            AuditEntry.action == "account.invitation_queued").order_by(AuditEntry.target_id)))


def _newcomers(make_user, people):
    """Two people without a password, and one of each kind that is skipped."""
    team = people["team"]
    fresh = [make_user(f"neu{n}", password=None, team=team, last_name=f"Neu {n}") for n in (1, 2)]
    skipped = {
        "deactivated": make_user("weg", password=None, active=False, team=team),
        "password": make_user("hatschon", team=team),
        "directory": make_user("verzeichnis", password=None, team=team),
        "no_email": make_user("ohnemail", password=None, team=team),
    }
    return fresh, skipped


def _prepare_skips(app, skipped):
    with app.app_context():
        db.session.add(ExternalIdentity(source=LDAP, subject="f3b8c0de-0000-4000-8000-000000000001",
                                        user_id=skipped["directory"].id))
        db.session.execute(update(User).where(User.id == skipped["no_email"].id).values(email=""))
        db.session.commit()


def test_the_people_list_filters_people_without_a_password(client, people, login, make_user):
    fresh, skipped = _newcomers(make_user, people)
    login(client, "admin")
    page = client.get("/admin/people?password=none&status=all").get_data(as_text=True)
    for person in fresh + [skipped["deactivated"], skipped["directory"], skipped["no_email"]]:
        assert f'value="{person.id}"' in page
    for person in (skipped["password"], people["admin"], people["employee"]):
        assert f'value="{person.id}"' not in page
    assert '<option value="none" selected>No password yet</option>' in page


def test_the_preview_says_who_gets_a_link_and_who_is_skipped_why_and_changes_nothing(
        app, client, people, login, make_user):
    fresh, skipped = _newcomers(make_user, people)
    _prepare_skips(app, skipped)
    login(client, "admin")
    chosen = [p.id for p in fresh + list(skipped.values())]
    response = client.get("/admin/people/invite", query_string={"user_id": chosen})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert '<dd id="invite-count">2</dd>' in page and '<dd id="skip-count">4</dd>' in page
    for reason in ("Deactivated (1)", "Already has a password (1)", "Signs in with the directory account (1)",
                   "No email address (1)"):
        assert reason in page
    assert "Send links to 2 people" in page
    assert _outbox(app) == [] and _invited(app) == []


def test_sending_queues_one_link_per_person_audit_logged_and_never_twice(app, client, people, login, make_user):
    fresh, skipped = _newcomers(make_user, people)
    _prepare_skips(app, skipped)
    login(client, "admin")
    chosen = [str(p.id) for p in fresh + list(skipped.values())]
    response = client.submit("/admin/people/invite", {"user_id": chosen, "password": "none", "status": "all"})
    assert response.status_code == 302 and response.location.endswith("/admin/people?status=all&password=none")
    ids = sorted(p.id for p in fresh)
    assert _outbox(app) == [(i, "org.first_password", OutboxStatus.QUEUED.value) for i in ids]
    assert _invited(app) == ids
    # Sent again: the links already waiting are not queued a second time, and the preview says why.
    client.submit("/admin/people/invite", {"user_id": chosen})
    assert len(_outbox(app)) == 2 and _invited(app) == ids
    page = client.get("/admin/people/invite", query_string={"user_id": chosen}).get_data(as_text=True)
    assert "A link is already waiting in the outbox (2)" in page and '<dd id="invite-count">0</dd>' in page


def test_everyone_the_filters_find_is_invited(app, client, people, login, make_user):
    fresh, skipped = _newcomers(make_user, people)
    login(client, "admin")
    response = client.get("/admin/people/invite",
                          query_string={"scope": "filtered", "password": "none", "q": "Neu"})
    assert '<dd id="invite-count">2</dd>' in response.get_data(as_text=True)
    client.submit("/admin/people/invite", {"scope": "filtered", "password": "none", "q": "Neu"})
    assert [row[0] for row in _outbox(app)] == sorted(p.id for p in fresh)


def test_without_a_choice_or_a_csrf_token_nothing_is_queued(app, client, people, login, make_user):
    make_user("neu", password=None)
    login(client, "admin")
    response = client.get("/admin/people/invite")
    assert response.status_code == 200 and "Please tick the people" in response.get_data(as_text=True)
    assert "Please tick the people" in client.submit("/admin/people/invite", {}).get_data(as_text=True)
    response = client.post("/admin/people/invite", data={"scope": "filtered"})
    assert response.status_code == 400
    assert _outbox(app) == []


def test_only_admins_reach_the_bulk_invitation(client, people, login, make_user):
    person = make_user("neu", password=None)
    for username in ("employee", "manager", "projectgroup"):
        login(client, username)
        assert client.get("/admin/people/invite", query_string={"user_id": person.id}).status_code == 403
        assert client.submit("/admin/people/invite", {"user_id": str(person.id)}).status_code == 403
        client.submit("/logout")


def test_the_link_arrives_by_real_smtp_within_the_mail_hours_and_sets_the_password(
        app, client, people, login, make_user, smtp_server):
    from learning.messaging.outbox import send_due

    app.config.update(SMTP_URL=smtp_server.url, MAIL_HOURS=(7, 18), MAIL_WEEKENDS=False, REMINDER_DIGEST="immediate")
    person = make_user("neu", password=None, first_name="Nora", last_name="Neu", locale="de")
    with time_machine.travel(berlin(MONDAY, 19), tick=False):  # after the mail hours
        login(client, "admin")
        client.submit("/admin/people/invite", {"user_id": str(person.id)})
        with app.app_context():
            report = send_due()
            db.session.remove()
        assert report.mails == 0 and smtp_server.messages == []
    with time_machine.travel(berlin(date(2026, 3, 3), 7, 5), tick=False), app.app_context():
        report = send_due()
        db.session.remove()
    assert report.mails == 1
    [message] = smtp_server.messages
    assert message["To"].endswith("<neu@example.org>")
    body = message.get_body(("plain",)).get_content()
    assert "Legen Sie Ihr Passwort für die Lernplattform fest" in body and "neu" in body
    link = LINK.search(body).group(1)
    with time_machine.travel(berlin(date(2026, 3, 3), 8), tick=False):  # the link counts from the mail
        visitor = app.test_client()
        assert visitor.get(link).status_code == 200
        response = visitor.submit(link, {"password": "ein-neues-Passwort", "confirm": "ein-neues-Passwort"})
        assert response.status_code == 302
    with app.app_context():
        assert db.session.get(User, person.id).password_hash
        assert db.session.scalar(select(Outbox.status)) == OutboxStatus.SENT.value


def test_the_people_list_runs_a_fixed_number_of_queries(app, client, people, login, make_user, count_queries):
    login(client, "admin")
    counts = []
    for extra in (1, 20):
        for _ in range(extra):
            make_user(password=None, team=people["team"], roles={Role.EMPLOYEE, Role.PROJECT_GROUP})
        with app.app_context():
            db.session.execute(update(User).values(password_hash=None).where(User.username.like("user%")))
            db.session.commit()
        client.get("/admin/people?password=none")  # warm
        with count_queries() as statements:
            assert client.get("/admin/people?password=none").status_code == 200
        counts.append(len(statements))
    assert counts[0] == counts[1]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) > 20


def test_links_do_not_wait_for_the_daily_digest(app, client, people, login, make_user, smtp_server):
    """An invitation is sent on purpose: within the mail hours it goes out at the outbox's next run."""
    from learning.messaging.outbox import send_due

    app.config.update(SMTP_URL=smtp_server.url, MAIL_HOURS=(7, 18), MAIL_WEEKENDS=False, REMINDER_DIGEST="daily")
    person = make_user("bald", password=None, locale="de")
    with time_machine.travel(berlin(MONDAY, 10), tick=False):
        login(client, "admin")
        client.submit("/admin/people/invite", {"user_id": str(person.id)})
        with app.app_context():
            report = send_due()
            db.session.remove()
    assert report.mails == 1
    [message] = smtp_server.messages
    assert message["To"].endswith("<bald@example.org>")
