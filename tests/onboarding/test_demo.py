"""The demo onboarding: two templates, a new hire in mara's team starting next week and one three weeks in."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from learning.db import db
from learning.onboarding.access import shows_in_navigation
from learning.onboarding.journeys import my_journey, team_journeys
from learning.onboarding.models import Journey, JourneyStatus, JourneyTemplate
from learning.onboarding.overview import overview
from learning.onboarding.tasks import my_tasks
from learning.onboarding.templates import template_for
from learning.org.models import User


def _user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def test_demo_onboarding(app):
    from learning.demo.data import load_demo

    today = date(2026, 5, 14)  # a Thursday
    with app.test_request_context():
        counts = load_demo(today)
        assert counts["journeys"] == 5 and counts["journey_templates"] == 2

        templates = {t.name: template_for(t.id) for t in db.session.scalars(select(JourneyTemplate))}
        default = next(t for t in templates.values() if t.department_id is None)
        citizen = next(t for t in templates.values() if t.department_id is not None)
        assert citizen.department.name == "Bürgerservice"
        for template in (default, citizen):
            assert {t.owner_role for t in template.tasks} == {"new_hire", "manager", "buddy", "it"}
            assert min(t.offset_days for t in template.tasks) < 0 < max(t.offset_days for t in template.tasks)
            assert {t.course.slug for t in template.tasks if t.course} >= {"digitalisierung-2030",
                                                                          "datenschutz-im-digitalen-alltag"}
        assert len(citizen.tasks) > len(default.tasks)

        mara = _user("mara")
        team = {s.journey.new_hire.username: s for s in team_journeys(mara, today)}
        assert set(team) == {"jalbers", "lbrandt"}

        jana = team["jalbers"]
        assert jana.journey.start_date == date(2026, 5, 18)  # next Monday
        assert jana.journey.template_id == citizen.id and jana.journey.buddy.username == "anna"
        assert jana.status == JourneyStatus.ON_TRACK and 0 < jana.progress.done < jana.progress.total

        leon = team["lbrandt"]
        assert leon.journey.start_date == date(2026, 4, 20) and leon.journey.buddy is not None
        assert leon.status == JourneyStatus.BEHIND and leon.overdue >= 2
        page = my_journey(_user("lbrandt"), today)
        assert 0 < page.own_progress.done < page.own_progress.total
        assert any(i.by_course for i in page.items)  # a course completed his course task

        assert my_tasks(_user("anna"), today).total > 0  # anna is Jana's buddy
        assert my_tasks(mara, today).bucket("overdue")
        figures = overview(today)
        assert figures.total.done == 2 and 80 <= figures.total.average_days <= 110
        assert figures.total.on_track >= 2
        assert all(j.closed_at is None for j in db.session.scalars(select(Journey)))
        assert all(shows_in_navigation(_user(name)) for name in ("jalbers", "anna", "mara", "admin"))
        assert today - timedelta(days=30) < leon.journey.start_date


def test_demo_new_hires_have_one_due_date_per_course_and_none_before_their_start(app):
    """Issue 14, §11, on the demo of 2026-12-07: jalbers (starts 14.12.) has nothing due before her first day;
    lbrandt's plan gives his courses the due dates of *My learning*."""
    import time_machine

    from learning.demo.data import load_demo
    from learning.training.models import Assignment, Course
    from learning.training.services import my_learning

    today = date(2026, 12, 7)
    with time_machine.travel(datetime(2026, 12, 7, 9, tzinfo=UTC), tick=False), app.test_request_context():
        load_demo(today)
        jana = _user("jalbers")
        assert jana.start_date == date(2026, 12, 14)
        dues = db.session.scalars(select(Assignment.due_on).where(Assignment.user_id == jana.id)).all()
        assert dues and all(due is None or due >= jana.start_date for due in dues)
        # The rule golive-14 gave 13.12. (a day before her start); she gets two weeks from her first day.
        e_akte = db.session.scalar(select(Assignment.due_on).join(Course, Course.id == Assignment.course_id)
                                   .where(Assignment.user_id == jana.id, Course.slug == "e-akte-grundlagen"))
        assert e_akte == date(2026, 12, 28)

        leon = _user("lbrandt")
        learning = {item.course.id: item.due_on for item in my_learning(leon, today)}
        page = my_journey(leon, today)
        course_items = [i for i in page.all_items if i.task.course_id is not None]
        assert course_items
        for item in course_items:
            if item.task.course_id in learning and learning[item.task.course_id] is not None:
                assert item.due_on == learning[item.task.course_id], item.task.title
        datenschutz = next(i for i in course_items if i.task.course.slug == "datenschutz-im-digitalen-alltag")
        assert datenschutz.due_on == date(2027, 2, 5)
