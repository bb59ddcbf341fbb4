"""Sending through a real SMTP server (aiosmtpd): content, retries, faults, the budget and digests."""

from __future__ import annotations

import re
import socket
import threading
from datetime import date, timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from learning.db import db, unit_of_work, utcnow
from learning.mail import CapturedMail
from learning.messaging.models import Outbox, OutboxStatus
from learning.notifications.models import Notification, NotificationPreference
from learning.org.models import User
from learning.training.models import Assignment
from tests.messaging.conftest import MONDAY, berlin

NINE = berlin(MONDAY, 9)


@pytest.fixture
def due(make_user, make_course, make_assignment):
    """``due(username, **fields)``: a person with a mandatory course due on MONDAY (created on demand)."""
    courses = {}

    def factory(username: str, *, due_on: date = MONDAY, course: str = "datenschutz", mandatory: bool = True,
                **fields):
        if course not in courses:
            courses[course] = make_course(course, title=f"Kurs {course}", title_en=f"Course {course}")
        user = fields.pop("user", None) or make_user(username, **fields)
        make_assignment(user, courses[course], due_on=due_on, mandatory=mandatory)
        return user

    return factory


def _status(app) -> dict[str, int]:
    with app.app_context():
        return dict(db.session.execute(select(Outbox.status, func.count()).group_by(Outbox.status)).all())


def _set_preferences(app, user, digest=None, muted=()):
    with app.app_context():
        db.session.add(NotificationPreference(user_id=user.id, digest=digest, muted_kinds=list(muted)))
        db.session.commit()


# What a mail looks like ----------------------------------------------------------------------------------

def test_a_reminder_mail_is_in_the_recipients_language_with_text_html_and_the_right_headers(
        app, smtp, plan, send, due):
    german = due("deutsch", locale="de", email="deutsch@example.org", first_name="Doris", last_name="Deutsch")
    english = due("english", locale="en", email="english@example.org", first_name="Emma", last_name="English")
    plan(NINE)
    report = send(NINE)
    assert (report.mails, report.sent) == (2, 2)
    by_recipient = {m["To"].addresses[0].addr_spec: m for m in smtp.messages}
    with app.app_context():
        rows = {row.user_id: row for row in db.session.scalars(select(Outbox))}

    de, en = by_recipient["deutsch@example.org"], by_recipient["english@example.org"]
    assert de["To"].addresses[0].display_name == "Doris Deutsch"
    assert de["Content-Language"] == "de" and en["Content-Language"] == "en"
    assert de.get_content_type() == "multipart/alternative"
    text, html = de.get_body(("plain",)).get_content(), de.get_body(("html",)).get_content()
    assert "Kurs datenschutz" in text and "2. März 2026" in text and "heute fällig" in text
    assert '<html lang="de">' in html and "2. März 2026" in html
    assert "Course datenschutz" in en.get_body(("plain",)).get_content()  # the course's English title
    assert "March 2, 2026" in en.get_body(("plain",)).get_content()
    assert "Reminder: Course datenschutz" == en["Subject"]
    # Absolute links to the platform; unsubscribing leads to the preferences page.
    assert "https://lernen.example.de/learning/courses/datenschutz" in text
    assert 'href="https://lernen.example.de/learning/courses/datenschutz"' in html
    assert de["List-Unsubscribe"] == "<https://lernen.example.de/notifications/preferences>"
    assert de["Auto-Submitted"] == "auto-generated"
    # A Message-ID made from the outbox row, so every attempt at it carries the same one.
    row = rows[german.id]
    assert de["Message-ID"] == row.message_id == (
        f"<reminder.{row.id}.{int(row.planned_at.timestamp())}@musterhausen.example>")
    assert en["Message-ID"] == rows[english.id].message_id != de["Message-ID"]
    assert _status(app) == {"sent": 2}
    # RFC 5322's zone "+0000", not the obsolete "GMT"; no font size in rem, which SpamAssassin
    # reads as invisible text (FONT_INVIS_MSGID), and none below 14 px.
    assert re.fullmatch(r"\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} \+0000", de["Date"]), de["Date"]
    assert "GMT" not in str(de["Date"])
    sizes = re.findall(r"font-size:\s*([^;\"]+)", html)
    assert sizes and all(re.fullmatch(r"\d+px", size) and int(size[:-2]) >= 14 for size in sizes), sizes
    assert not re.search(r"\d(\.\d+)?r?em\b", html)


def test_one_smtp_connection_carries_the_whole_batch(app, smtp, plan, send, due):
    for n in range(6):
        due(f"person{n}")
    plan(NINE)
    assert send(NINE).mails == 6
    assert len(smtp.messages) == 6 and smtp.connections == 1


def test_demo_mode_captures_mail_for_the_sent_mail_page(app, plan, send, due):
    assert app.config["SMTP_URL"] == ""
    due("anna", email="anna@example.org")
    plan(NINE)
    assert send(NINE).mails == 1
    with app.app_context():
        mail = db.session.scalars(select(CapturedMail)).one()
        assert "anna@example.org" in mail.recipient and "Kurs datenschutz" in mail.body
        assert mail.message_id.startswith("<reminder.")


def test_the_mail_is_signed_with_the_organisation_s_name(app, plan, send, due):
    from learning.db import unit_of_work
    from learning.settings.services import save_settings

    with app.test_request_context(), unit_of_work():
        save_settings({"organisation.name": "Stadt Musterstadt"}, None)
    due("anna", email="anna@example.org")
    plan(NINE)
    assert send(NINE).mails == 1
    with app.app_context():
        mail = db.session.scalars(select(CapturedMail)).one()
        assert "Lernplattform · Stadt Musterstadt" in mail.body


# Faults: nothing lost, nothing twice -------------------------------------------------------------------------

def test_smtp_down_then_up_loses_nothing_and_sends_nothing_twice(app, smtp, plan, send, due):
    people = [due(f"person{n}") for n in range(3)]
    plan(NINE)
    smtp.stop()
    first = send(NINE)
    assert first.smtp_unavailable and first.mails == 0
    assert first.notified == 3  # the notification centre does not depend on the mail server
    assert _status(app) == {"queued": 3}
    with app.app_context():
        rows = db.session.scalars(select(Outbox)).all()
        assert {(r.attempts, r.deferrals) for r in rows} == {(0, 1)}  # no attempt used up
        assert {r.next_attempt_at for r in rows} == {NINE + timedelta(seconds=60)}
    # Still down an hour of retries later: the messages wait, with growing pauses, and never fail.
    moment = NINE
    for _ in range(8):
        moment += timedelta(hours=1)
        send(moment)
    assert _status(app) == {"queued": 3}
    smtp.start()
    assert send(moment + timedelta(hours=1)).mails == 3
    assert send(moment + timedelta(hours=2)).mails == 0
    assert sorted(smtp.recipients()) == sorted(f"Test Person {p.last_name.split()[-1]} <{p.email}>" for p in people)
    assert len({m["Message-ID"] for m in smtp.messages}) == 3
    with app.app_context():
        assert db.session.scalar(select(func.count(Notification.id))) == 3  # one each, not one per attempt


def test_a_refused_message_is_retried_with_backoff_then_fails_for_good_and_can_be_sent_again(
        app, smtp, plan, send, due, people):
    from learning.messaging.outbox import retry

    app.config["MAIL_MAX_ATTEMPTS"] = 3
    due("unknown", email="unknown@example.org")
    due("known", email="known@example.org")
    smtp.refuse.add("unknown@example.org")
    plan(NINE)
    assert send(NINE).mails == 1  # the other person's mail is not held up
    with app.app_context():
        row = db.session.scalar(select(Outbox).where(Outbox.status == OutboxStatus.QUEUED.value))
        assert (row.attempts, row.next_attempt_at) == (1, NINE + timedelta(seconds=60))
        assert "550" in row.last_error
    assert send(NINE + timedelta(seconds=30)).claimed == 0  # waits for its backoff
    send(NINE + timedelta(seconds=61))  # second attempt; then the pause doubles
    with app.app_context():
        assert db.session.scalar(select(Outbox.next_attempt_at).where(Outbox.attempts == 2)) == (
            NINE + timedelta(seconds=61 + 120))
    send(NINE + timedelta(minutes=10))
    assert _status(app) == {"sent": 1, "failed": 1}
    smtp.refuse.clear()
    with time_machine.travel(NINE + timedelta(minutes=10, seconds=30), tick=False), app.test_request_context():
        failed = db.session.scalar(select(Outbox).where(Outbox.status == OutboxStatus.FAILED.value))
        with unit_of_work():
            retry(failed.id, db.session.get(User, people["admin"].id))
    assert send(NINE + timedelta(minutes=11)).mails == 1
    assert _status(app) == {"sent": 2}
    assert [m["To"].addresses[0].addr_spec for m in smtp.messages] == ["known@example.org", "unknown@example.org"]


def test_a_temporary_failure_is_retried_with_the_same_message_id(app, smtp, plan, send, due):
    due("person")
    plan(NINE)
    smtp.fail_data = 1
    send(NINE)
    assert smtp.messages == [] and _status(app) == {"queued": 1}
    send(NINE + timedelta(minutes=2))
    with app.app_context():
        row = db.session.scalars(select(Outbox)).one()
    assert [m["Message-ID"] for m in smtp.messages] == [row.message_id]
    assert row.attempts == 1


def test_a_sender_killed_after_claiming_is_replaced_when_its_lease_runs_out(app, smtp, plan, send, at, due):
    from learning.messaging.outbox import claim

    lease = timedelta(seconds=app.config["OUTBOX_CLAIM_SECONDS"])
    due("person")
    plan(NINE)
    claimed = at(NINE, claim, NINE, "dead-sender")  # ... and then the sender died
    assert len(claimed) == 1 and _status(app) == {"sending": 1}
    assert send(NINE + lease - timedelta(seconds=1)).claimed == 0  # the lease still holds
    later = NINE + lease + timedelta(seconds=1)
    assert send(later).mails == 1
    assert send(later + timedelta(minutes=1)).mails == 0
    assert len(smtp.messages) == 1 and _status(app) == {"sent": 1}


class _Killed(BaseException):
    """The sender process dies here (a BaseException: nothing in the platform catches it)."""


def _wait_for_messages(smtp, count: int) -> None:
    for _ in range(100):  # the server stores a message in its own thread
        if len(smtp.messages) >= count:
            return
        threading.Event().wait(0.05)


def _answer_lost_after_the_dot(monkeypatch, error: BaseException) -> None:
    """The server gets the whole message, final dot included; its answer never reaches the sender."""
    from learning import mail

    getreply = mail._SMTP.getreply

    def lost(self):
        if self.dot_sent:
            raise error
        return getreply(self)

    monkeypatch.setattr(mail._SMTP, "getreply", lost)


def _outcomes(app) -> list[tuple]:
    with app.app_context():
        return db.session.execute(select(Outbox.status, Outbox.outcome, Outbox.message_id)).all()


def test_a_sender_killed_after_handing_a_mail_over_never_has_it_sent_again(app, smtp, plan, send, due,
                                                                          monkeypatch):
    lease = timedelta(seconds=app.config["OUTBOX_CLAIM_SECONDS"])
    due("person")
    plan(NINE)
    _answer_lost_after_the_dot(monkeypatch, _Killed())
    with pytest.raises(_Killed):
        send(NINE)
    monkeypatch.undo()
    _wait_for_messages(smtp, 1)
    assert len(smtp.messages) == 1  # delivered, but the sender died before it heard so
    assert [row[:2] for row in _outcomes(app)] == [("sending", None)]
    assert send(NINE + lease - timedelta(seconds=1)).claimed == 0
    report = send(NINE + lease + timedelta(seconds=1))
    assert (report.claimed, report.mails, report.unconfirmed) == (0, 0, 1)
    (status, outcome, message_id), = _outcomes(app)
    assert (status, outcome, message_id) == ("sent", "not confirmed", smtp.messages[0]["Message-ID"])
    assert send(NINE + lease + timedelta(minutes=5)).mails == 0
    assert len(smtp.messages) == 1


def test_a_sender_killed_before_the_final_dot_has_the_mail_sent_once_by_the_next(app, smtp, plan, send, due,
                                                                                monkeypatch):
    from learning.messaging import outbox

    lease = timedelta(seconds=app.config["OUTBOX_CLAIM_SECONDS"])
    due("person")
    plan(NINE)

    def dies(*args):
        raise _Killed

    monkeypatch.setattr(outbox._Batch, "hand_over", dies)  # the whole message but its dot is at the server
    with pytest.raises(_Killed):
        send(NINE)
    monkeypatch.undo()
    assert smtp.messages == []  # a message without its final dot is thrown away
    assert [row[:2] for row in _outcomes(app)] == [("sending", None)]
    assert send(NINE + lease + timedelta(seconds=1)).mails == 1
    assert [row[:2] for row in _outcomes(app)] == [("sent", None)] and len(smtp.messages) == 1


def test_no_answer_to_a_whole_message_means_sent_not_confirmed_and_an_admin_can_send_it_again(
        app, smtp, plan, send, due, monkeypatch, people):
    import smtplib

    from learning.messaging.outbox import retry

    for name in ("first", "second"):
        due(name)
    plan(NINE)
    _answer_lost_after_the_dot(monkeypatch, smtplib.SMTPServerDisconnected("Connection unexpectedly closed"))
    report = send(NINE)
    monkeypatch.undo()
    assert (report.mails, report.unconfirmed) == (0, 2)  # the second mail went on a new connection
    _wait_for_messages(smtp, 2)
    assert len(smtp.messages) == 2
    assert {row[:2] for row in _outcomes(app)} == {("sent", "not confirmed")}
    assert send(NINE + timedelta(hours=1)).claimed == 0  # never sent again on its own
    with time_machine.travel(NINE + timedelta(hours=1), tick=False), app.test_request_context():
        row = db.session.scalars(select(Outbox)).first()
        message_id = row.message_id
        with unit_of_work():
            retry(row.id, db.session.get(User, people["admin"].id))
    assert send(NINE + timedelta(hours=1, minutes=1)).mails == 1
    _wait_for_messages(smtp, 3)
    assert [m["Message-ID"] for m in smtp.messages].count(message_id) == 2  # the same Message-ID again
    assert sorted((r[:2] for r in _outcomes(app)), key=str) == [("sent", "not confirmed"), ("sent", None)]


def test_a_slow_sender_renews_its_claim_so_no_second_sender_takes_its_rows(app, smtp, plan, send, due, monkeypatch):
    from learning.messaging import outbox

    app.config["OUTBOX_CLAIM_SECONDS"] = 30
    for n in range(3):
        due(f"person{n}")
    plan(NINE)
    clock = [0.0]
    monkeypatch.setattr(outbox.time, "monotonic", lambda: clock[0])
    mail_person, competitor = outbox._mail_person, []

    def slow(*args, **kwargs):  # each person's mail takes 20 s; a second sender tries to claim at 50 s
        if len(competitor) == 2:
            competitor.append(outbox.claim(NINE + timedelta(seconds=50), "second-sender"))
        else:
            competitor.append(None)
        clock[0] += 20
        return mail_person(*args, **kwargs)

    monkeypatch.setattr(outbox, "_mail_person", slow)
    assert send(NINE).mails == 3
    assert competitor[2] == []  # without renewal the last person's row would have been free from 30 s on
    assert len(smtp.messages) == 3 and _status(app) == {"sent": 3}


def test_work_finished_between_planning_and_sending_is_not_sent(app, smtp, plan, send, due):
    person = due("person")
    plan(NINE)
    with app.app_context():
        db.session.scalars(select(Assignment)).one().completed_at = utcnow()
        db.session.commit()
    report = send(NINE)
    assert (report.mails, report.dropped, report.notified) == (0, 1, 0)
    assert smtp.messages == []
    with app.app_context():
        row = db.session.scalars(select(Outbox)).one()
        assert (row.status, row.outcome, row.user_id) == ("dropped", "done", person.id)


def test_a_notification_is_withdrawn_when_the_work_is_done_before_the_digest(app, smtp, plan, send, due):
    app.config.update(REMINDER_DIGEST="daily", MAIL_HOURS=(7, 18))
    due("person")
    plan(berlin(MONDAY, 8))
    send(berlin(MONDAY, 8))  # notified at once; the mail waits for Tuesday's digest
    with app.app_context():
        assert db.session.scalar(select(func.count(Notification.id))) == 1
        db.session.scalars(select(Assignment)).one().completed_at = utcnow()
        db.session.commit()
    send(berlin(MONDAY + timedelta(days=1), 7))
    assert smtp.messages == [] and _status(app) == {"dropped": 1}
    with app.app_context():
        assert db.session.scalar(select(func.count(Notification.id))) == 0


def test_deactivated_people_get_nothing(app, smtp, plan, send, due):
    person = due("person")
    plan(NINE)
    with app.app_context():
        db.session.get(User, person.id).deactivate()
        db.session.commit()
    assert send(NINE).mails == 0 and _status(app) == {"dropped": 1}


# The budget: digests, hours, weekends, the daily cap --------------------------------------------------------

def test_several_reminders_become_one_digest_mail_in_the_morning(app, smtp, plan, send, due, make_course,
                                                                 make_assignment):
    app.config.update(REMINDER_DIGEST="daily", MAIL_HOURS=(7, 18), MAIL_WEEKENDS=False, REMINDER_DUE_SOON_DAYS=7)
    person = due("person", due_on=MONDAY + timedelta(days=1), course="a")
    due("", user=person, due_on=MONDAY + timedelta(days=3), course="b")
    due("", user=person, due_on=MONDAY - timedelta(days=2), course="c")  # overdue since Saturday
    plan(berlin(MONDAY, 0, 10))  # planned overnight
    assert send(berlin(MONDAY, 0, 11)).mails == 0
    assert send(berlin(MONDAY, 6, 59)).claimed == 0  # waiting rows are not even claimed before their time
    report = send(berlin(MONDAY, 7, 1))
    assert (report.mails, report.sent) == (1, 3)
    text = smtp.messages[0].get_body(("plain",)).get_content()
    assert all(f"Kurs {c}" in text for c in "abc")
    assert "3" in smtp.messages[0]["Subject"]


def test_a_weekly_digest_waits_for_its_weekday(app, smtp, plan, send, due):
    app.config.update(MAIL_HOURS=(7, 18), DIGEST_WEEKDAY=0)
    person = due("person", due_on=MONDAY + timedelta(days=2))
    _set_preferences(app, person, digest="weekly")
    plan(berlin(MONDAY + timedelta(days=2), 9))  # Wednesday: due today
    for day in range(2, 7):
        assert send(berlin(MONDAY + timedelta(days=day), 12)).mails == 0
    assert send(berlin(MONDAY + timedelta(days=7), 7, 5)).mails == 1


def test_no_mail_at_weekends_or_outside_hours_but_the_notification_comes_at_once(app, smtp, plan, send, due):
    app.config.update(MAIL_HOURS=(7, 18), MAIL_WEEKENDS=False)
    saturday = MONDAY + timedelta(days=5)
    due("person", due_on=saturday)
    plan(berlin(saturday, 8))
    report = send(berlin(saturday, 8))
    assert (report.mails, report.notified, report.waiting) == (0, 1, 1)
    with app.app_context():
        assert db.session.scalar(select(Outbox.next_attempt_at)) == berlin(saturday + timedelta(days=2), 7)
    assert send(berlin(saturday + timedelta(days=1), 12)).claimed == 0  # Sunday
    assert send(berlin(saturday + timedelta(days=2), 7)).mails == 1
    assert _status(app) == {"sent": 1}


def test_a_late_evening_reminder_waits_for_the_morning(app, smtp, plan, send, due):
    app.config.update(MAIL_HOURS=(7, 18))
    due("person")
    plan(berlin(MONDAY, 19))
    assert send(berlin(MONDAY, 19)).mails == 0
    assert send(berlin(MONDAY + timedelta(days=1), 7)).mails == 1


def test_the_daily_cap_holds_back_further_mails_until_the_next_day(app, smtp, plan, send, due):
    app.config.update(MAIL_DAILY_CAP=2, MAIL_HOURS=(7, 18), REMINDER_DUE_SOON_DAYS=0)
    person = due("person", due_on=MONDAY, course="a")
    plan(berlin(MONDAY, 8))
    due("", user=person, due_on=MONDAY, course="b")
    plan(berlin(MONDAY, 9))
    due("", user=person, due_on=MONDAY, course="c")
    plan(berlin(MONDAY, 10))
    mails = [send(berlin(MONDAY, hour)).mails for hour in (8, 9, 10, 11)]
    assert mails == [1, 1, 0, 0]  # the third waits
    assert send(berlin(MONDAY + timedelta(days=1), 7)).mails == 1
    assert len(smtp.messages) == 3


def test_a_newer_reminder_about_the_same_course_replaces_the_older_in_a_digest(app, smtp, plan, send, due):
    app.config.update(MAIL_HOURS=(7, 18), REMINDER_DUE_SOON_DAYS=3, DIGEST_WEEKDAY=0)
    person = due("person", due_on=MONDAY + timedelta(days=3), locale="en")  # Thursday
    _set_preferences(app, person, digest="weekly")
    for day in range(0, 7):  # due soon on Monday, due today on Thursday, overdue on Friday
        plan(berlin(MONDAY + timedelta(days=day), 6))
        send(berlin(MONDAY + timedelta(days=day), 6, 30))
    assert send(berlin(MONDAY + timedelta(days=7), 7)).mails == 1
    text = smtp.messages[0].get_body(("plain",)).get_content()
    assert text.count("Course datenschutz") == 1  # the course's English title: the person reads English
    assert "Training overdue" in text  # the newest reminder, under its kind's heading
    assert _status(app) == {"sent": 1, "dropped": 2}
    with app.app_context():
        unread = db.session.scalars(select(Notification).where(Notification.read_at.is_(None))).all()
        assert [n.kind for n in unread] == ["training.overdue"]  # older ones about the course are marked read


def test_optional_kinds_can_be_switched_off_but_never_overdue_mandatory_training(app, smtp, plan, send, due):
    person = due("person", due_on=MONDAY - timedelta(days=1), course="pflicht", mandatory=True)
    due("", user=person, due_on=MONDAY - timedelta(days=1), course="kuer", mandatory=False)
    due("", user=person, due_on=MONDAY + timedelta(days=2), course="bald", mandatory=True)
    _set_preferences(app, person, muted=["training.overdue", "training.due_soon"])
    plan(NINE)
    report = send(NINE)
    assert (report.mails, report.sent, report.dropped) == (1, 1, 2)
    text = smtp.messages[0].get_body(("plain",)).get_content()
    assert "Kurs pflicht" in text and "Kurs kuer" not in text and "Kurs bald" not in text
    with app.app_context():
        assert db.session.scalar(select(func.count(Notification.id))) == 1  # switched off: not in-app either


# Concurrency -------------------------------------------------------------------------------------------------

def test_two_senders_at_once_send_every_message_exactly_once(app, smtp, plan, due):
    from learning.messaging.outbox import send_due

    for n in range(40):
        due(f"person{n}")
    plan(NINE)
    barrier = threading.Barrier(2)
    reports, errors = [], []

    def sender(name):
        try:
            with time_machine.travel(NINE, tick=True), app.app_context():
                barrier.wait()
                reports.append(send_due(worker=name, people=7))
                db.session.remove()
        except Exception as exc:  # pragma: no cover - shown by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=sender, args=(f"sender-{n}",)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sum(r.mails for r in reports) == 40
    assert len(smtp.messages) == 40 and len({m["Message-ID"] for m in smtp.messages}) == 40
    assert _status(app) == {"sent": 40}


# Transport ----------------------------------------------------------------------------------------------------

def test_smtp_login_with_the_credentials_of_the_url(app, plan, send, due):
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    from tests.conftest import free_port
    from tests.messaging.conftest import MailServer, _Handler

    logins = []

    def authenticate(server, session, envelope, mechanism, auth_data):
        logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.login == b"lernplattform" and auth_data.password == b"ge heim")

    received = MailServer()
    controller = Controller(_Handler(received), hostname="127.0.0.1", port=free_port(), authenticator=authenticate,
                            auth_require_tls=False)
    controller.start()
    try:
        app.config["SMTP_URL"] = f"smtp://lernplattform:ge%20heim@127.0.0.1:{controller.port}"
        due("person")
        plan(NINE)
        assert send(NINE).mails == 1
    finally:
        controller.stop()
    assert logins == [(b"lernplattform", b"ge heim")] and len(received.messages) == 1


@pytest.mark.parametrize(("url", "calls"), [
    ("smtp+starttls://user:pw@mail.example:587", ["SMTP mail.example:587", "starttls", "login user", "send"]),
    ("smtps://user:pw@mail.example", ["SMTP_SSL mail.example:465", "login user", "send"]),
    ("smtp://mail.example", ["SMTP mail.example:25", "send"]),
])
def test_the_url_scheme_chooses_starttls_or_tls(app, monkeypatch, url, calls):
    from email.message import EmailMessage

    from learning import mail
    from learning.mail import Mailer

    seen = []

    class FakeSMTP:
        def __init__(self, host, port, timeout=None, context=None):
            seen.append(f"{type(self).__name__.replace('Fake', '')} {host}:{port}")

        def starttls(self, context=None):
            seen.append("starttls")

        def login(self, user, password):
            seen.append(f"login {user}")

        def send_message(self, message):
            seen.append("send")

        def quit(self):
            pass

        def close(self):
            pass

    class FakeSMTP_SSL(FakeSMTP):
        pass

    FakeSMTP.__name__, FakeSMTP_SSL.__name__ = "FakeSMTP", "FakeSMTP_SSL"
    monkeypatch.setattr(mail, "_SMTP", FakeSMTP)  # smtplib's SMTP and SMTP_SSL with the hand-over of the dot
    monkeypatch.setattr(mail, "_SMTPS", FakeSMTP_SSL)
    with app.app_context(), Mailer(url) as mailer:
        mailer.send(EmailMessage())
    assert seen == calls


def test_the_shared_smtp_fixture_receives_a_digest(app, smtp_server, plan, send, due):
    """The project's ``smtp_server`` fixture (aiosmtpd) as a mail program would read the digest."""
    app.config["SMTP_URL"] = smtp_server.url
    person = due("person", course="a", email="person@example.org", locale="en")
    due("", user=person, course="b")
    plan(NINE)
    assert send(NINE).mails == 1
    (message,) = smtp_server.messages
    assert message["To"].addresses[0].addr_spec == "person@example.org"
    assert message["Subject"] == "2 reminders from the learning platform"
    html = message.get_body(("html",)).get_content()
    assert html.count("<li") == 2 and "Course a" in html and "Course b" in html


def test_umlauts_in_names_and_subjects_survive_the_trip(app, smtp, plan, send, make_user, make_course,
                                                        make_assignment):
    person = make_user("juergen", first_name="Jürgen", last_name="Müßig", locale="en", email="jm@example.org")
    make_assignment(person, make_course("uebung", title="Übung", title_en="Übung für alle"), due_on=MONDAY)
    plan(NINE)
    send(NINE)
    (message,) = smtp.messages
    assert message["To"].addresses[0].display_name == "Jürgen Müßig"
    assert message["Subject"] == "Reminder: Übung für alle"
    assert "Übung für alle" in message.get_body(("plain",)).get_content()


def test_captured_mail_shows_names_as_written(app, plan, send, make_user, make_course, make_assignment):
    person = make_user("juergen", first_name="Jürgen", last_name="Müßig", locale="en")
    make_assignment(person, make_course("uebung", title="Übung"), due_on=MONDAY)
    plan(NINE)
    send(NINE)
    with app.app_context():
        mail = db.session.scalars(select(CapturedMail)).one()
        assert mail.recipient.startswith("Jürgen Müßig <") and mail.subject == "Reminder: Übung"


def test_the_smtp_connection_sends_the_final_dot_without_waiting(app, smtp_server):
    """The dot follows the hand-over as a write of its own; Nagle's algorithm held it back ~40 ms per mail."""
    from learning.mail import Mailer, build_message

    with app.app_context(), Mailer(smtp_server.url) as mailer:
        mailer.send(build_message("a@example.org", "Test", "Text", sender="p@example.org"), handing_over=lambda: None)
        assert mailer.client.sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
    assert len(smtp_server.messages) == 1
