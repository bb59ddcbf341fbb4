"""One due date per course and person: a course task of a journey is due when the course's assignment is.

Replays issue 14, §11: lbrandt started three weeks ago; his plan's task "Datenschutz" (start + 21)
said 07.12.2026 while *My learning* said 05.02.2027 (the rule ``assigned+60``). Every page, the
reminders and the figures must give the assignment's date.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from learning.db import db
from learning.messaging.reminders import PlanContext
from learning.onboarding import reminders
from learning.onboarding.journeys import my_journey, team_journeys
from learning.onboarding.overview import overview
from learning.onboarding.sync import start_journey
from learning.org.models import User
from learning.training.models import Assignment, AssignmentRule
from tests.onboarding.conftest import journey_of

TODAY = date(2026, 12, 7)
MOMENT = datetime(2026, 12, 7, 9, tzinfo=UTC)
START = TODAY - timedelta(days=21)  # like lbrandt: three weeks ago
RULE_DUE = TODAY + timedelta(days=60)  # assigned today, "assigned+60": 05.02.2027


@pytest.fixture
def course(make_course):
    return make_course("datenschutz-im-digitalen-alltag", title="Datenschutz im digitalen Arbeitsalltag",
                       lessons=1, quiz=False)


@pytest.fixture
def leon(app, people, course, make_template, new_hire):
    """A new hire whose plan links the course at start + 21 and whom a rule assigns it, due assigned + 60."""
    make_template(tasks=[("new_hire", 30, "Eigene Ziele notieren"),
                         ("new_hire", 21, "Kurs Datenschutz abschließen", course)])
    with app.app_context():
        db.session.add(AssignmentRule(course_id=course.id, audience="everyone", audience_values=[], mandatory=True,
                                      due_rule="assigned+60", active=True))
        db.session.commit()
    with time_machine.travel(MOMENT, tick=False):
        user = new_hire(START, username="lbrandt")
    with app.app_context():
        start_journey(db.session.get(User, user.id))
        db.session.commit()
    return user


def _assignment_due(app, user, course) -> date | None:
    with app.app_context():
        return db.session.scalar(select(Assignment.due_on).where(Assignment.user_id == user.id,
                                                                 Assignment.course_id == course.id))


def _course_item(items):
    return next(i for i in items if i.task.course_id is not None)


def test_the_plan_gives_the_assignments_due_date(app, leon, course, people):
    assert _assignment_due(app, leon, course) == RULE_DUE
    with app.test_request_context():
        journey = journey_of(leon)
        task = next(t for t in journey.tasks if t.course_id is not None)
        assert task.due_on == TODAY  # the plan's own date (start + 21) is not the one shown
        page = my_journey(db.session.get(User, leon.id), TODAY)
        item = _course_item(page.items)
        assert item.due_on == RULE_DUE and not item.overdue
        assert page.status != "behind"
        summary = next(s for s in team_journeys(db.session.get(User, people["manager"].id), TODAY)
                       if s.journey.id == journey.id)
        assert summary.overdue == 0
        assert overview(TODAY).total.behind == 0


def test_my_learning_and_the_plan_show_the_same_date(app, client, login, leon, course):
    with time_machine.travel(MOMENT, tick=False):
        login(client, "lbrandt")  # signed in at the travelled time: a sign-in "from the future" is not valid
        plan_page = client.get("/onboarding/my-journey", headers={"Accept-Language": "de"}).get_data(as_text=True)
        learning_page = client.get("/learning/", headers={"Accept-Language": "de"}).get_data(as_text=True)
    task = re.search(r'Kurs Datenschutz abschließen</p>.*?Fällig am ([^<(]+)', plan_page, re.S).group(1).strip()
    assert task == "5. Februar 2027" or task == "05.02.2027"
    assert task in learning_page
    assert "7. Dezember 2026" not in plan_page.split("Kurs Datenschutz abschließen</p>")[1].split("</li>")[0]


def test_without_an_assignment_the_plan_keeps_its_own_date(app, people, course, make_template, new_hire):
    make_template(tasks=[("new_hire", 21, "Kurs Datenschutz abschließen", course)])
    with time_machine.travel(MOMENT, tick=False):
        user = new_hire(START)
    with app.test_request_context():
        start_journey(db.session.get(User, user.id))
        db.session.commit()
        item = _course_item(my_journey(db.session.get(User, user.id), TODAY + timedelta(days=1)).items)
        assert item.due_on == TODAY and item.overdue


def test_reminders_come_once_for_the_course_on_the_assignments_date(app, leon, course):
    with app.test_request_context():
        context = PlanContext.at(MOMENT)
        journey = journey_of(leon)
        task_id = next(t.id for t in journey.tasks if t.course_id is not None)
        planned = reminders.plan_task_due(context) + reminders.plan_task_overdue(context)
        assert f"journey_task:{task_id}" not in {p.subject_key for p in planned}  # not due today: the course is
        later = PlanContext.at(MOMENT + timedelta(days=70))
        overdue = reminders.plan_task_overdue(later)
        assert f"journey_task:{task_id}" not in {p.subject_key for p in overdue}  # training reminds of it
        from learning.training.reminders import plan_overdue

        assert [p.payload["due_on"] for p in plan_overdue(later) if p.user_id == leon.id] == [RULE_DUE.isoformat()]
