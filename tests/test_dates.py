"""Every date the platform accepts lies in 1900-01-01 … 2100-12-31; a job that meets one outside goes on."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select, update

from learning.db import db
from learning.guards import FIRST_DAY, LAST_DAY, check_day
from learning.onboarding.models import Journey
from learning.org.models import User

OUT_OF_RANGE = ["9999-12-31", "0001-01-01", "1899-12-31", "2101-01-01"]


@pytest.mark.parametrize("day", OUT_OF_RANGE)
def test_the_person_form_refuses_a_start_date_out_of_range(app, client, people, login, day):
    login(client, "admin")
    response = client.submit("/admin/people/new", {"first_name": "Fern", "last_name": "Datum",
                                                   "email": "fern@example.org", "start_date": day})
    assert response.status_code == 200
    assert "Enter a date between 01.01.1900 and 31.12.2100." in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(User.id).where(User.email == "fern@example.org")) is None


def test_the_range_holds_in_the_services(ctx, people):
    from learning.errors import ServiceError
    from learning.org.services import PersonData, create_person
    from learning.surveys.building import check_dates
    from learning.training.due import DueRule

    with pytest.raises(ServiceError, match="between 1900-01-01 and 2100-12-31"):
        create_person(PersonData(email="fern@example.org", first_name="Fern", last_name="Datum",
                                 start_date=date(9999, 12, 31)), None)
    with pytest.raises(ServiceError):
        check_dates(date(2026, 1, 1), date(9999, 12, 31))
    with pytest.raises(ValueError):
        DueRule.parse("9999-12-31")
    assert DueRule.parse("2100-12-31").fixed == LAST_DAY
    assert check_day(FIRST_DAY) == FIRST_DAY
    with pytest.raises(ValueError):
        check_day(LAST_DAY + timedelta(days=1))


def test_the_announcement_form_refuses_a_publication_time_out_of_range(app, client, people, login):
    login(client, "projectgroup")
    for when in ("0001-01-01T00:00", "9999-12-31T23:59"):
        response = client.submit("/announcements/manage/new", {
            "title": "Fern", "body": "Text", "audience": "everyone", "publication": "later", "publish_at": when})
        assert response.status_code == 200, when
        assert "Enter a date and time such as" in response.get_data(as_text=True)
    with app.app_context():
        from learning.announcements.models import Announcement

        assert db.session.scalar(select(func.count()).select_from(Announcement)) == 0


def test_jobs_report_a_start_date_out_of_range_and_go_on_with_the_others(app, runner, people, make_user,
                                                                          make_course):
    """A start date written around the forms (an old import, a database edit) used to break the sync for all."""
    from learning.scheduler.registry import scheduled_jobs
    from learning.training.models import Assignment, AssignmentRule
    from learning.training.rules import apply_rules

    course = make_course("datum")
    assert runner.invoke(args=["onboarding", "starter-template"]).exit_code == 0
    broken = make_user("fern", team=people["team"], start_date=date.today() + timedelta(days=3))
    waiting = make_user("bald", team=people["team"], start_date=date.today() + timedelta(days=5))
    with app.app_context():
        db.session.execute(update(User).where(User.id == broken.id).values(start_date=date(9999, 12, 31)))
        db.session.commit()

    result = runner.invoke(args=["onboarding", "sync"])
    assert result.exit_code == 0, result.output
    assert "1 started" in result.output
    assert f"Skipped 1 person(s) whose start date is outside 1900-01-01 … 2100-12-31 (ids {broken.id})" in result.output
    with app.app_context():
        assert db.session.scalar(select(Journey.id).where(Journey.new_hire_id == waiting.id)) is not None
        assert db.session.scalar(select(Journey.id).where(Journey.new_hire_id == broken.id)) is None

    with app.app_context():  # a rule due 14 days after the start applies to everyone else
        db.session.add(AssignmentRule(course_id=course.id, audience="everyone", audience_values=[],
                                      due_rule="start+14"))
        db.session.commit()
        apply_rules(date.today())
        due = dict(db.session.execute(select(Assignment.user_id, Assignment.due_on)).all())
        assert due[waiting.id] is not None and due[broken.id] is None

    for job in scheduled_jobs():  # every scheduled job runs past the row
        with app.app_context():
            job.func()
            db.session.remove()


@pytest.mark.parametrize(("text", "day"), [
    ("2027-03-31", date(2027, 3, 31)), ("31.03.2027", date(2027, 3, 31)), ("31.3.2027", date(2027, 3, 31)),
    (" 1.1.2030 ", date(2030, 1, 1)),
])
def test_a_date_field_takes_iso_and_german_dates(text, day):
    from learning.forms import parse_day

    assert parse_day(text) == day


@pytest.mark.parametrize("text", ["31.02.2027", "2027-3-31", "31/03/2027", "31.03.27", "morgen", "٣١.٠٣.٢٠٢٧",
                                  "31.12.9999"])
def test_a_date_field_refuses_anything_else_with_a_message(text):
    from learning.forms import parse_day

    with pytest.raises(ValueError, match="Enter a date"):
        parse_day(text)


def test_a_german_date_in_the_person_form_is_stored_and_shown_as_a_date(app, client, people, login):
    login(client, "admin")
    response = client.submit("/admin/people/new", {
        "first_name": "Fern", "last_name": "Datum", "email": "fern@example.org", "username": "", "employee_number": "",
        "start_date": "1.4.2027", "team_id": "", "locale": "", "roles": ["employee"]})
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(User.start_date).where(User.email == "fern@example.org")) == date(2027, 4, 1)


def test_a_publication_time_may_be_typed_in_german():
    from datetime import UTC, datetime

    from learning.announcements.forms import parse_local

    assert parse_local("30.06.2026 09:00", "Europe/Berlin") == datetime(2026, 6, 30, 7, 0, tzinfo=UTC)
    assert parse_local("2026-06-30T09:00", "Europe/Berlin") == datetime(2026, 6, 30, 7, 0, tzinfo=UTC)
    assert parse_local("30.06.26 9 Uhr", "Europe/Berlin") is None
