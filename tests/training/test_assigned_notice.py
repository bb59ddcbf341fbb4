"""A course assigned by a rule is announced at once in the notification centre and mailed with the next digest."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from learning.db import db, unit_of_work
from learning.messaging.models import Outbox
from learning.messaging.outbox import send_due
from learning.notifications.models import Notification, NotificationPreference
from learning.org.audience import AudienceKind
from learning.training.models import AssignmentRule, CourseCompletion
from learning.training.rules import apply_rules


def _rule(app, course, due_rule="assigned+14"):
    with app.app_context():
        db.session.add(AssignmentRule(course_id=course.id, audience=str(AudienceKind.EVERYONE), audience_values=[],
                                      mandatory=True, due_rule=due_rule, active=True))
        db.session.commit()


def _notifications(app, user):
    with app.app_context():
        rows = db.session.execute(select(Notification.kind, Notification.details, Notification.read_at)
                                  .where(Notification.user_id == user.id)).all()
        db.session.remove()
        return rows


def test_an_assignment_by_rule_is_announced_at_once_and_only_once(app, people, make_course):
    course = make_course(title="Datenschutz im Alltag")
    _rule(app, course)
    with app.app_context():
        apply_rules(date.today())
    notices = _notifications(app, people["employee"])
    assert [(kind, details["course_title"], read_at) for kind, details, read_at in notices] == [
        ("training.assigned", "Datenschutz im Alltag", None)]
    with app.app_context():
        row = db.session.scalar(select(Outbox).where(Outbox.user_id == people["employee"].id))
        assert row.kind == "training.assigned" and row.notified_at is not None
        apply_rules(date.today())  # again: nothing new
        from learning.messaging.reminders import plan_reminders

        with unit_of_work():
            plan_reminders(kinds=["training.assigned"])  # the safety net finds it announced already
        assert db.session.scalar(select(db.func.count()).select_from(Outbox)
                                 .where(Outbox.user_id == people["employee"].id)) == 1
    assert len(_notifications(app, people["employee"])) == 1


def test_a_rolled_back_assignment_shows_nothing(app, people, make_course):
    _rule(app, make_course())
    with app.app_context():
        try:
            with unit_of_work():
                apply_rules(date.today())
                raise RuntimeError("the change failed later")
        except RuntimeError:
            pass
    assert _notifications(app, people["employee"]) == []


def test_people_who_switched_it_off_get_no_notice(app, people, make_course):
    with app.app_context():
        db.session.add(NotificationPreference(user_id=people["employee"].id, muted_kinds=["training.assigned"]))
        db.session.commit()
    _rule(app, make_course())
    with app.app_context():
        apply_rules(date.today())
    assert _notifications(app, people["employee"]) == []
    assert [kind for kind, _d, _r in _notifications(app, people["manager"])] == ["training.assigned"]


def test_the_notice_goes_into_the_next_mail_and_leaves_the_centre_when_done(app, client, login, people, make_course,
                                                                            smtp_server):
    app.config.update(SMTP_URL=smtp_server.url, MAIL_HOURS=(0, 24), MAIL_WEEKENDS=True, REMINDER_DIGEST="immediate",
                      BASE_URL="https://lernen.example.de")
    course = make_course(title="IT-Sicherheit")
    _rule(app, course)
    with app.app_context():
        apply_rules(date.today())
        send_due(ignore_schedule=True)
    mails = [m for m in smtp_server.messages if people["employee"].email in str(m["To"])]
    assert len(mails) == 1 and "IT-Sicherheit" in mails[0].get_body(("plain",)).get_content()
    assert len(_notifications(app, people["employee"])) == 1  # not notified again by the sender

    login(client, "employee")
    page = client.get("/notifications/").get_data(as_text=True)
    assert "IT-Sicherheit" in page and "A course was assigned to you. Due on" in page
    assert "in 14 days" in page and "This training is mandatory." in page
    with app.app_context():
        db.session.add(CourseCompletion(user_id=people["employee"].id, course_id=course.id,
                                        verification_code="ABCD-EFGH"))
        db.session.commit()
    assert "IT-Sicherheit" not in client.get("/notifications/").get_data(as_text=True)


def test_the_settings_list_it(client, login, people):
    login(client, "employee")
    page = client.get("/notifications/preferences").get_data(as_text=True)
    assert 'value="training.assigned"' in page and "New training assigned" in page


def test_no_notice_for_assignments_older_than_the_planners_window(app, people, make_course, make_assignment):
    make_assignment(people["employee"], make_course(), due_on=date.today() + timedelta(days=3), rule_id=None)
    with app.app_context():
        from learning.messaging.reminders import plan_reminders

        with unit_of_work():
            result = plan_reminders(kinds=["training.assigned"])
        assert result.new == 0
