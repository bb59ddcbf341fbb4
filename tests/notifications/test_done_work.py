"""A reminder disappears as soon as its work is done: from the centre, the bell and the next digest.

Replays issue 14, §11: anna finishes an overdue course, answers the survey and confirms the
announcement; all three reminders must leave the list and the unread count at once (also on a
start page kept by the page cache), stay gone 20 minutes later, and not be mailed in the digest.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
import time_machine
from sqlalchemy import select

from learning.announcements.models import Announcement
from learning.db import db, unit_of_work
from learning.mail import CapturedMail
from learning.messaging.models import Outbox
from learning.notifications.models import Notification
from learning.org.models import User
from learning.training.models import Course
from tests.messaging.conftest import OPEN_BUDGET, at, berlin, plan, send  # noqa: F401  (fixtures)

OPENED = date(2026, 3, 10)  # the survey opens, the announcement is published
DAY = date(2026, 3, 13)  # three days later: all three reminders are due
NOW = berlin(DAY, 9)


@pytest.fixture
def app(kept_app):
    return kept_app(MAIL_FROM="Lernplattform <lernplattform@musterhausen.example>", REMINDER_ACK_DAYS=3,
                    **OPEN_BUDGET)


@pytest.fixture
def anna(app, make_team, make_user, make_course, make_assignment):
    """anna with an overdue mandatory course, an open survey and an announcement to confirm, all unfinished."""
    from learning.announcements.services import AnnouncementData, Publication, create_announcement
    from learning.db import unit_of_work
    from learning.surveys.building import SurveySettings, create_survey, update_survey
    from learning.surveys.managing import open_survey

    team = make_team("Bürgerbüro")
    person = make_user("anna", team=team, first_name="Anna", last_name="Schmidt")
    author = make_user("paul", roles={"project_group"})
    course = make_course("datenschutz", title="Datenschutz kompakt", lessons=1, quiz=False)
    make_assignment(person, course, due_on=DAY - timedelta(days=3), assigned_on=OPENED - timedelta(days=30))
    with time_machine.travel(berlin(OPENED, 8), tick=False), app.test_request_context(
            headers={"Accept-Language": "en"}):
        actor = db.session.get(User, author.id)
        with unit_of_work():
            announcement = create_announcement(AnnouncementData(
                title="Neue Dienstvereinbarung", body="Bitte lesen.", publication=Publication.NOW,
                requires_ack=True), actor, berlin(OPENED, 8))
            survey = create_survey(actor, "pulse", "", None, OPENED)
            update_survey(actor, survey, SurveySettings(
                title=survey.title, title_en=survey.title_en or "", intro=survey.intro or "Worum es geht.",
                intro_en=survey.intro_en or "", anonymous=True, audience="everyone", audience_values=[],
                min_responses=5, min_comments=10, opens_on=OPENED, closes_on=OPENED + timedelta(days=14)))
            open_survey(actor, survey, OPENED)
        ids = {"announcement": announcement.id, "survey": survey.id, "course": course.id}
        db.session.remove()
    # A colleague has confirmed and answered already (and has a reminder of his own): that is not anna's doing.
    colleague = make_user("ben", team=team)
    make_assignment(colleague, course, due_on=DAY - timedelta(days=3), assigned_on=OPENED - timedelta(days=30))
    _answer_survey(app, colleague, ids["survey"])
    with time_machine.travel(berlin(OPENED, 9), tick=False):
        _confirm(app, colleague, ids["announcement"])
    return person, ids


def _bell(client) -> int:
    page = client.get("/").get_data(as_text=True)
    found = re.search(r'aria-label="Notifications, (\d+) unread"', page)
    return int(found.group(1)) if found else 0


def _listed(client) -> list[str]:
    page = client.get("/notifications/").get_data(as_text=True)
    return re.findall(r'id="notification-\d+">\s*<a [^>]*>([^<]+)<', page)


def _finish_course(app, person, course_id):
    from learning.training.services import complete_lesson

    with app.test_request_context():
        course = db.session.get(Course, course_id)
        with unit_of_work():
            assert complete_lesson(db.session.get(User, person.id), course.active_lessons[0]) is not None
        db.session.remove()


def _answer_survey(app, person, survey_id):
    from learning.surveys.taking import load_survey, questions_in_order, submit_response

    with app.test_request_context(headers={"Accept-Language": "en"}):
        questions = questions_in_order(load_survey(survey_id))
        submit_response(db.session.get(User, person.id), survey_id, {q.id: ["3"] for q in questions[:3]}, DAY)
        db.session.remove()


def _confirm(app, person, announcement_id):
    from learning.announcements.services import acknowledge

    with app.test_request_context():
        with unit_of_work():
            assert acknowledge(db.session.get(User, person.id), announcement_id)
        db.session.remove()


def _kinds(app, person) -> set[str]:
    with app.app_context():
        return set(db.session.scalars(select(Notification.kind).where(Notification.user_id == person.id)))


def test_done_work_leaves_the_centre_and_the_bell_at_once(app, client, login, anna, plan, send):  # noqa: F811
    person, ids = anna
    plan(NOW)
    send(NOW)
    assert _kinds(app, person) == {"training.overdue", "surveys.not_answered", "announcements.unacknowledged"}
    with time_machine.travel(NOW + timedelta(minutes=5), tick=False):
        login(client, "anna")
        assert _bell(client) == 3
        assert len(_listed(client)) == 3

        _finish_course(app, person, ids["course"])
        assert _bell(client) == 2  # the same request cycle as a person's next click: at once
        assert "Datenschutz kompakt" not in _listed(client)
        _answer_survey(app, person, ids["survey"])
        assert _bell(client) == 1
        _confirm(app, person, ids["announcement"])
        assert _bell(client) == 0
        assert _listed(client) == []
        assert "No notifications yet." in client.get("/notifications/").get_data(as_text=True)

    # 20 minutes later, after the scheduler planned and sent again: still nothing, the count did not go up.
    later = NOW + timedelta(minutes=20)
    plan(later)
    send(later)
    with time_machine.travel(later + timedelta(minutes=1), tick=False):
        assert _bell(client) == 0
        assert _listed(client) == []
        assert "Neue Dienstvereinbarung" not in client.get("/notifications/?show=unread").get_data(as_text=True)


def test_the_bell_on_a_kept_start_page_changes_when_the_work_is_done(app, client, login, anna, plan,  # noqa: F811
                                                                     send):  # noqa: F811
    app.config["PAGE_CACHE_SECONDS"] = 600
    person, ids = anna
    plan(NOW)
    send(NOW)
    with time_machine.travel(NOW + timedelta(minutes=5), tick=False):
        login(client, "anna")
        assert _bell(client) == 3
        assert _bell(client) == 3  # kept now
        _finish_course(app, person, ids["course"])  # the person's own progress
        assert _bell(client) == 2
        _answer_survey(app, person, ids["survey"])  # no row named after her in that transaction
        assert _bell(client) == 1
        _confirm(app, person, ids["announcement"])
        assert _bell(client) == 0


def test_done_work_is_not_in_the_next_digest(app, anna, plan, send):  # noqa: F811
    app.config.update(REMINDER_DIGEST="daily", MAIL_HOURS=(7, 18), MAIL_WEEKENDS=False)
    person, ids = anna
    afternoon = berlin(DAY, 14)
    plan(afternoon)
    send(afternoon)  # in-app at once; the mail waits for tomorrow's digest
    assert _kinds(app, person) == {"training.overdue", "surveys.not_answered", "announcements.unacknowledged"}
    with app.app_context():
        assert db.session.scalars(select(CapturedMail)).all() == []
    _finish_course(app, person, ids["course"])
    _confirm(app, person, ids["announcement"])
    send(berlin(DAY + timedelta(days=3), 7, 5))  # Monday morning: the daily digest
    with app.app_context():
        mails = db.session.scalars(select(CapturedMail).where(CapturedMail.recipient.contains(person.email))).all()
        statuses = dict(db.session.execute(select(Outbox.kind, Outbox.status).where(
            Outbox.user_id == person.id)).all())
        title = db.session.scalar(select(Announcement.title).where(Announcement.id == ids["announcement"]))
    assert len(mails) == 1  # the survey is still open and unanswered: it alone is mailed
    assert "Datenschutz kompakt" not in mails[0].body and title not in mails[0].body
    assert statuses == {"training.overdue": "dropped", "announcements.unacknowledged": "dropped",
                        "surveys.not_answered": "sent"}


def test_the_count_and_the_centre_cost_the_same_queries_whatever_the_number_of_notifications(
        app, client, login, anna, plan, send, count_queries, make_course, make_assignment):  # noqa: F811
    person, _ids = anna
    plan(NOW)
    send(NOW)
    with time_machine.travel(NOW + timedelta(minutes=5), tick=False):
        login(client, "anna")
        with count_queries() as few:
            client.get("/notifications/")
    for n in range(12):
        course = make_course(f"kurs-{n}", lessons=1, quiz=False)
        make_assignment(person, course, due_on=DAY - timedelta(days=2), assigned_on=OPENED)
    plan(NOW + timedelta(minutes=1))
    send(NOW + timedelta(minutes=1))
    with time_machine.travel(NOW + timedelta(minutes=5), tick=False):
        assert _bell(client) == 15
        with count_queries() as many:
            client.get("/notifications/")
    assert len(few) == len(many)
    assert len([s for s in many if "FROM notification" in s]) <= 3  # the bell, the page and its count


def test_on_the_demo_the_centre_lists_exactly_what_the_senders_re_check_finds_open(app):
    """Every kind's SQL clause agrees with its checker, before and after half the people confirmed and answered."""
    from datetime import UTC, datetime

    from learning.announcements.models import Acknowledgement
    from learning.demo.data import load_demo
    from learning.messaging.reminders import Pending, PlanContext, kind_named
    from learning.notifications.services import still_relevant
    from learning.surveys.models import SurveyParticipation, SurveyWave

    moment = datetime(2026, 12, 7, 9, tzinfo=UTC)
    today = date(2026, 12, 7)

    def compare() -> int:
        rows = db.session.execute(
            select(Notification, Outbox).join(Outbox, Outbox.id == Notification.outbox_id)).all()
        listed = set(db.session.scalars(select(Notification.id).where(still_relevant(today))))
        by_kind: dict[str, list] = {}
        for notification, row in rows:
            by_kind.setdefault(notification.kind, []).append((notification, row))
        compared = 0
        for name, pairs in by_kind.items():
            kind = kind_named(name)
            if kind.still_open is None:
                assert all(n.id in listed for n, _row in pairs), name
                continue
            found = kind.still_due([Pending(r.id, r.user_id, r.subject_key, r.period_key, r.payload, r.mandatory)
                                    for _n, r in pairs], PlanContext.at(moment))
            for notification, row in pairs:
                assert (notification.id in listed) == (row.id in found), (name, notification.details)
                compared += 1
        return compared

    with time_machine.travel(moment, tick=False), app.test_request_context():
        load_demo(today)
        kinds = set(db.session.scalars(select(Notification.kind)))
        assert {"training.overdue", "announcements.unacknowledged", "surveys.not_answered"} <= kinds
        assert compare() > 20
        # Half of the people reminded confirm and answer; the others' reminders must stay.
        confirmed, answered = set(), set()
        for notification in db.session.scalars(select(Notification).where(Notification.user_id % 2 == 0)):
            if notification.kind == "announcements.unacknowledged":
                confirmed.add((notification.details["announcement_id"], notification.user_id))
            elif notification.kind == "surveys.not_answered":
                answered.add((notification.details["wave_id"], notification.user_id))
        assert confirmed and answered
        for announcement_id, user_id in confirmed:
            ack = db.session.scalar(select(Acknowledgement).where(Acknowledgement.announcement_id == announcement_id,
                                                                  Acknowledgement.user_id == user_id))
            if ack is None:
                db.session.add(Acknowledgement(announcement_id=announcement_id, user_id=user_id, version=99))
            else:
                ack.version = 99
        for wave_id, user_id in answered:
            wave = db.session.get(SurveyWave, wave_id)
            db.session.add(SurveyParticipation(survey_id=wave.survey_id, wave_id=wave.id, user_id=user_id,
                                               taken_on=today))
        db.session.flush()
        assert compare() > 20


def test_retention_deletes_unread_notifications_of_done_work_but_keeps_open_ones(app, anna, plan, send):  # noqa: F811
    """A done item's reminder is never shown again, so it must not be kept for ever because nobody read it."""
    from learning.notifications.retention import purge_notifications

    person, ids = anna
    plan(NOW)
    send(NOW)
    _finish_course(app, person, ids["course"])
    later = NOW + timedelta(minutes=10)  # a cutoff after the reminders were made stands for "older than the period"
    with time_machine.travel(later, tick=False), app.app_context():
        assert purge_notifications(later, dry_run=True) == 1
        assert purge_notifications(later, dry_run=False) == 1
        db.session.commit()
    assert _kinds(app, person) == {"surveys.not_answered", "announcements.unacknowledged"}
