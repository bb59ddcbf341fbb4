"""A substantive version: people who completed the course take it again; their certificate stays verifiable."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from learning.db import db, utcnow
from learning.i18n import local_today
from learning.messaging.outbox import send_due
from learning.notifications.models import Notification
from learning.roles import Role
from learning.training.models import (
    Assignment,
    Course,
    CourseCompletion,
    EarlierCompletion,
    Lesson,
    LessonCompletion,
    QuizAttempt,
)
from tests.training.authoring.test_publish import edit_lesson, publish


@pytest.fixture
def author(make_user):
    return make_user("autorin", roles={Role.AUTHOR})


def complete(app, user, slug: str, code: str) -> None:
    """The person did every lesson, passed the quiz and holds the certificate ``code``."""
    with app.app_context():
        course = db.session.scalar(select(Course).where(Course.slug == slug))
        done = utcnow() - timedelta(days=40)
        today = local_today()
        db.session.add(Assignment(user_id=user.id, course_id=course.id, mandatory=True,
                                  assigned_on=today - timedelta(days=60), due_on=today - timedelta(days=30),
                                  started_at=done, completed_at=done))
        for lesson in course.lessons:
            db.session.add(LessonCompletion(user_id=user.id, lesson_id=lesson.id, completed_at=done))
        db.session.add(QuizAttempt(user_id=user.id, course_id=course.id, started_at=done, submitted_at=done, score=100,
                                   passed=True, details=[]))
        db.session.add(CourseCompletion(user_id=user.id, course_id=course.id, completed_at=done,
                                        verification_code=code))
        db.session.commit()


def test_completed_learners_take_a_substantive_version_again_with_notice_and_mail(
        app, client, login, people, author, make_draft, smtp_server):
    app.config.update(SMTP_URL=smtp_server.url, MAIL_HOURS=(0, 24), MAIL_WEEKENDS=True, REMINDER_DIGEST="immediate",
                      BASE_URL="https://lernen.example.de")
    make_draft("datenschutz", title="Datenschutz im Amt", editors=[author], published=True)
    employee = people["employee"]
    complete(app, employee, "datenschutz", "ALTCODE234")
    edit_lesson(app, "datenschutz", 1, "## Neue Rechtslage\n\nAb 2027 gilt eine neue Frist.", author)
    login(client, "autorin")
    response = publish(client, "datenschutz", "Neue Rechtslage", substantive=True)
    assert response.status_code == 302
    with app.app_context():
        today = local_today()
        course = db.session.scalar(select(Course).where(Course.slug == "datenschutz"))
        assignment = db.session.scalar(select(Assignment).where(Assignment.user_id == employee.id))
        assert assignment.due_on == today + timedelta(days=30)  # no due rule of its own
        assert (assignment.completed_at, assignment.started_at, assignment.assigned_on) == (None, None, today)
        assert db.session.scalar(select(CourseCompletion).where(CourseCompletion.user_id == employee.id)) is None
        earlier = db.session.scalar(select(EarlierCompletion).where(EarlierCompletion.user_id == employee.id))
        assert (earlier.verification_code, earlier.superseded_by_version, earlier.course_id) == (
            "ALTCODE234", 2, course.id)
        assert len(earlier.record["lessons"]) == 2 and earlier.record["attempts"][0]["passed"] is True
        lesson_ids = select(Lesson.id).where(Lesson.course_id == course.id)
        assert db.session.scalar(select(func.count()).select_from(LessonCompletion)
                                 .where(LessonCompletion.lesson_id.in_(lesson_ids))) == 0
        assert db.session.scalar(select(func.count()).select_from(QuizAttempt)) == 0
        notices = db.session.execute(select(Notification.kind, Notification.details)
                                     .where(Notification.user_id == employee.id)).all()
        assert [(kind, details["course_title"]) for kind, details in notices] == [
            ("training.assigned", "Datenschutz im Amt")]
        send_due(ignore_schedule=True)
    mails = [m for m in smtp_server.messages if employee.email in str(m["To"])]
    assert len(mails) == 1 and "Datenschutz im Amt" in mails[0].get_body(("plain",)).get_content()

    learner = app.test_client()
    login(learner, "employee")
    # the old certificate is still genuine, and the course is open again on the person's list
    verified = learner.get("/learning/verify/ALTCODE234")
    assert verified.status_code == 200 and "It was issued for an earlier version of the course" in \
        verified.get_data(as_text=True)
    assert learner.get("/learning/certificates/ALTCODE234").status_code == 200
    page = learner.get("/learning/courses/datenschutz").get_data(as_text=True)
    assert "Not started" in page and "You completed this course" not in page
    # taking it again earns a new certificate
    with app.app_context():
        course_id = db.session.scalar(select(Course.id).where(Course.slug == "datenschutz"))
    learner.submit("/learning/courses/datenschutz/lessons/lektion-1/done")
    learner.submit("/learning/courses/datenschutz/lessons/lektion-2/done")
    learner.submit("/learning/courses/datenschutz/quiz/start")
    with app.app_context():
        attempt = db.session.scalar(select(QuizAttempt).where(QuizAttempt.user_id == employee.id))
        course = db.session.get(Course, course_id)
        question = course.questions[0]
        right = next(a.id for a in question.answers if a.correct)
    learner.submit("/learning/courses/datenschutz/quiz", {"attempt_id": attempt.id, f"q{question.id}": right})
    with app.app_context():
        new = db.session.scalar(select(CourseCompletion).where(CourseCompletion.user_id == employee.id))
        assert new is not None and new.verification_code != "ALTCODE234"


def test_a_course_rule_gives_the_new_due_date(app, client, login, people, author, make_draft):
    make_draft("fristregel", editors=[author], published=True)
    with app.app_context():
        db.session.scalar(select(Course).where(Course.slug == "fristregel")).default_due = "assigned+14"
        db.session.commit()
    complete(app, people["employee"], "fristregel", "FRIST23456")
    edit_lesson(app, "fristregel", 0, "## Neu\n\nNeu.", author)
    login(client, "autorin")
    publish(client, "fristregel", "Neu", substantive=True)
    with app.app_context():
        due = db.session.scalar(select(Assignment.due_on).where(Assignment.user_id == people["employee"].id))
        assert due == local_today() + timedelta(days=14)


def test_a_version_that_is_not_substantive_changes_nothing_for_completed_learners(
        app, client, login, people, author, make_draft):
    make_draft("kleinigkeit", editors=[author], published=True)
    complete(app, people["employee"], "kleinigkeit", "BLEIBT2345")
    with app.app_context():
        before = db.session.scalar(select(Assignment).where(Assignment.user_id == people["employee"].id))
        due_before = before.due_on
    edit_lesson(app, "kleinigkeit", 1, "## Abschnitt 2\n\nTippfehler korrigiert.", author)
    login(client, "autorin")
    assert publish(client, "kleinigkeit", "Tippfehler").status_code == 302
    with app.app_context():
        assignment = db.session.scalar(select(Assignment).where(Assignment.user_id == people["employee"].id))
        assert assignment.completed_at is not None and assignment.due_on == due_before
        assert db.session.scalar(select(CourseCompletion.verification_code)
                                 .where(CourseCompletion.user_id == people["employee"].id)) == "BLEIBT2345"
        assert db.session.scalar(select(func.count()).select_from(EarlierCompletion)) == 0
        assert db.session.scalar(select(func.count()).select_from(LessonCompletion)) == 2
        assert db.session.scalar(select(func.count()).select_from(Notification)) == 0


def test_taking_it_again_runs_a_fixed_number_of_statements(app, client, login, make_user, author, make_draft,
                                                            count_queries):
    counts = []
    for slug, people in (("wenige", 1), ("viele", 6)):
        make_draft(slug, editors=[author], published=True)
        for n in range(people):
            complete(app, make_user(f"{slug}{n}"), slug, f"{slug.upper()[:4]}{n}2345Z"[:10])
        edit_lesson(app, slug, 0, "## Neu\n\nNeu.", author)
    login(client, "autorin")
    for slug in ("wenige", "viele"):
        with count_queries() as statements:
            assert publish(client, slug, "Neu", substantive=True).status_code == 302
        counts.append(len([s for s in statements if not s.lstrip().upper().startswith(("INSERT", "DELETE"))]))
    assert counts[0] == counts[1]


def test_certificate_holders_without_an_assignment_are_asked_too_and_people_who_left_are_not(
        app, client, login, make_user, author, make_draft):
    make_draft("alle", editors=[author], published=True)
    holder, left = make_user("zertifikat"), make_user("ausgeschieden", active=False)
    complete(app, holder, "alle", "NURZERT234")
    complete(app, left, "alle", "WEGCODE234")
    with app.app_context():
        db.session.execute(Assignment.__table__.delete().where(Assignment.user_id == holder.id))
        db.session.commit()
    edit_lesson(app, "alle", 0, "## Neu\n\nNeu.", author)
    login(client, "autorin")
    publish(client, "alle", "Neu", substantive=True)
    with app.app_context():
        assignment = db.session.scalar(select(Assignment).where(Assignment.user_id == holder.id))
        assert assignment is not None and assignment.rule_id is None and assignment.completed_at is None
        assert db.session.scalar(select(func.count()).select_from(LessonCompletion)
                                 .where(LessonCompletion.user_id == holder.id)) == 0
        assert db.session.scalar(select(CourseCompletion.verification_code)
                                 .where(CourseCompletion.user_id == left.id)) == "WEGCODE234"
        assert db.session.scalar(select(func.count()).select_from(LessonCompletion)
                                 .where(LessonCompletion.user_id == left.id)) == 2
