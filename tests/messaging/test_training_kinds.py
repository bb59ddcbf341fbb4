"""Training reminders are planned on the right local days: due soon, due today, overdue rounds, escalation.

Every test plans at controlled instants (time-machine); daylight-saving changes and month ends included.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from learning.db import db, unit_of_work, utcnow
from learning.messaging.models import Outbox
from learning.org.models import User
from learning.roles import Role
from learning.training.models import Assignment, Course, CourseCompletion
from tests.messaging.conftest import BERLIN, MONDAY, berlin


@pytest.fixture
def learner(make_user, make_team):
    return make_user("lerner", team=make_team("Bürgerbüro"))


def _kinds(outbox, *kinds):
    return [(row[1], row[3]) for row in outbox() if not kinds or row[1] in kinds]


def test_due_soon_comes_once_the_configured_days_before(app, plan, outbox, learner, make_course, make_assignment):
    app.config["REMINDER_DUE_SOON_DAYS"] = 3
    make_assignment(learner, make_course("datenschutz"), due_on=date(2026, 3, 10))
    plan(berlin(date(2026, 3, 6)))
    assert outbox() == []  # four days before: not yet
    for day in (7, 8, 9):  # planned again and again (every ten minutes in production): still once
        plan(berlin(date(2026, 3, day)))
        plan(berlin(date(2026, 3, day), 17))
    assert _kinds(outbox) == [("training.due_soon", "soon:2026-03-10")]


def test_due_soon_can_be_switched_off_for_the_installation(app, plan, outbox, learner, make_course, make_assignment):
    app.config["REMINDER_DUE_SOON_DAYS"] = 0
    make_assignment(learner, make_course(), due_on=date(2026, 3, 10))
    plan(berlin(date(2026, 3, 9)))
    assert outbox() == []


def test_due_today_then_overdue_every_n_days_at_most_m_times(app, plan, outbox, learner, make_course,
                                                            make_assignment):
    app.config.update(REMINDER_DUE_SOON_DAYS=0, REMINDER_OVERDUE_EVERY_DAYS=7, REMINDER_OVERDUE_TIMES=3)
    make_assignment(learner, make_course(), due_on=date(2026, 3, 10))
    start = date(2026, 3, 10)
    for offset in range(0, 40):
        plan(berlin(start + timedelta(days=offset), 6))
    assert _kinds(outbox) == [
        ("training.due_today", "today:2026-03-10"),
        ("training.overdue", "overdue:2026-03-10:1"),  # the day after
        ("training.overdue", "overdue:2026-03-10:2"),  # seven days later
        ("training.overdue", "overdue:2026-03-10:3"),  # and once more; then no more
    ]
    planned_on = {}
    with app.app_context():
        for row in db.session.scalars(select(Outbox).order_by(Outbox.id)):
            planned_on[row.period_key] = row.planned_at.astimezone(BERLIN).date()
    assert planned_on == {"today:2026-03-10": date(2026, 3, 10), "overdue:2026-03-10:1": date(2026, 3, 11),
                          "overdue:2026-03-10:2": date(2026, 3, 18), "overdue:2026-03-10:3": date(2026, 3, 25)}


def test_a_scheduler_that_was_off_sends_one_overdue_notice_not_the_missed_ones(app, plan, outbox, learner,
                                                                              make_course, make_assignment):
    app.config.update(REMINDER_OVERDUE_EVERY_DAYS=7, REMINDER_OVERDUE_TIMES=3)
    make_assignment(learner, make_course(), due_on=date(2026, 3, 10))
    plan(berlin(date(2026, 3, 20)))  # ten days overdue at the first plan
    assert _kinds(outbox) == [("training.overdue", "overdue:2026-03-10:2")]
    plan(berlin(date(2026, 6, 1)))  # long past the last round: nothing for ever after
    assert len(outbox()) == 1


def test_overdue_notices_of_mandatory_training_are_mandatory(app, plan, learner, make_course, make_assignment):
    make_assignment(learner, make_course("pflicht"), due_on=date(2026, 3, 1), mandatory=True)
    make_assignment(learner, make_course("kuer"), due_on=date(2026, 3, 1), mandatory=False)
    make_assignment(learner, make_course("bald"), due_on=date(2026, 3, 5), mandatory=True)
    plan(berlin(date(2026, 3, 3)))
    with app.app_context():
        flags = {(row.kind, row.payload["course_id"]): row.mandatory for row in db.session.scalars(
            select(Outbox))}
        courses = {c.slug: c.id for c in db.session.scalars(select(Course))}
    assert flags == {("training.overdue", courses["pflicht"]): True, ("training.overdue", courses["kuer"]): False,
                     ("training.due_soon", courses["bald"]): False}  # "due soon" can always be switched off


def test_no_reminders_for_done_withdrawn_or_inactive(app, plan, outbox, learner, make_user, make_course,
                                                     make_assignment):
    done = make_assignment(learner, make_course("fertig"), due_on=date(2026, 3, 3))
    certified = make_assignment(learner, make_course("zertifiziert"), due_on=date(2026, 3, 3))
    archived_course = make_course("archiviert")
    make_assignment(learner, archived_course, due_on=date(2026, 3, 3))
    unmatched = make_assignment(learner, make_course("keine-regel"), due_on=date(2026, 3, 3))
    make_assignment(make_user("weg", active=False), make_course("inaktiv"), due_on=date(2026, 3, 3))
    make_assignment(learner, make_course("ohne-termin"), due_on=None)
    with app.app_context():
        db.session.get(Assignment, done.id).completed_at = utcnow()
        db.session.add(CourseCompletion(user_id=learner.id, course_id=certified.course_id,
                                        verification_code="ZERTIFIKAT1"))
        db.session.get(Course, archived_course.id).archived_at = utcnow()
        db.session.get(Assignment, unmatched.id).unmatched_since = utcnow()
        db.session.commit()
    plan(berlin(date(2026, 3, 3)))
    assert outbox() == []


def test_a_moved_due_date_is_reminded_anew(app, plan, outbox, learner, make_course, make_assignment):
    assignment = make_assignment(learner, make_course(), due_on=date(2026, 3, 3))
    plan(berlin(date(2026, 3, 3)))
    with app.app_context():
        db.session.get(Assignment, assignment.id).due_on = date(2026, 3, 17)
        db.session.commit()
    plan(berlin(date(2026, 3, 17)))
    assert _kinds(outbox, "training.due_today") == [("training.due_today", "today:2026-03-03"),
                                                    ("training.due_today", "today:2026-03-17")]


# Local days: daylight saving and month ends ------------------------------------------------------------

@pytest.mark.parametrize(("due_on", "utc_moment", "expected"), [
    # Summer time begins on 29 March 2026: 00:30 in Berlin is still 23:30 UTC on the 28th.
    (date(2026, 3, 29), berlin(date(2026, 3, 29), 0, 30), "training.due_today"),
    (date(2026, 3, 29), berlin(date(2026, 3, 28), 23, 30), "training.due_soon"),
    # Summer time ends on 25 October 2026: 00:30 CEST on the 25th is 22:30 UTC on the 24th.
    (date(2026, 10, 25), berlin(date(2026, 10, 25), 0, 30), "training.due_today"),
    (date(2026, 10, 25), berlin(date(2026, 10, 25), 23, 30), "training.due_today"),
    (date(2026, 10, 25), berlin(date(2026, 10, 26), 0, 10), "training.overdue"),
])
def test_the_day_is_the_local_day_across_daylight_saving(app, plan, outbox, learner, make_course, make_assignment,
                                                       due_on, utc_moment, expected):
    make_assignment(learner, make_course(), due_on=due_on)
    plan(utc_moment)
    assert [row[1] for row in outbox()] == [expected]


@pytest.mark.parametrize(("due_on", "first_day"), [
    (date(2026, 3, 1), date(2026, 2, 26)),  # February 2026 has 28 days
    (date(2028, 3, 1), date(2028, 2, 27)),  # 2028 is a leap year
    (date(2027, 1, 2), date(2026, 12, 30)),  # across the year end
])
def test_due_soon_counts_calendar_days_across_month_ends(app, plan, outbox, learner, make_course, make_assignment,
                                                         due_on, first_day):
    app.config["REMINDER_DUE_SOON_DAYS"] = 3
    make_assignment(learner, make_course(), due_on=due_on)
    plan(berlin(first_day - timedelta(days=1), 23, 59))
    assert outbox() == []
    plan(berlin(first_day, 0, 1))
    assert [row[1] for row in outbox()] == ["training.due_soon"]


def test_overdue_rounds_across_a_month_end(app, plan, outbox, learner, make_course, make_assignment):
    app.config.update(REMINDER_OVERDUE_EVERY_DAYS=7, REMINDER_OVERDUE_TIMES=2)
    make_assignment(learner, make_course(), due_on=date(2026, 1, 31))
    plan(berlin(date(2026, 2, 7)))
    plan(berlin(date(2026, 2, 8)))
    assert [row[3] for row in outbox()] == ["overdue:2026-01-31:1", "overdue:2026-01-31:2"]


# Escalation to managers -----------------------------------------------------------------------------------

@pytest.fixture
def managed(make_user, make_team, make_course, make_assignment):
    """A manager leading two teams; staff with long-overdue mandatory training, and what must not count."""
    manager = make_user("leitung", roles={Role.MANAGER})
    first = make_team("Standesamt", managers=[manager])
    second = make_team("Soziales", managers=[manager])
    course = make_course("pflichtkurs")
    late = make_user("spaet", team=first)
    later = make_user("spaeter", team=second)
    make_assignment(late, course, due_on=date(2026, 2, 1))
    make_assignment(later, course, due_on=date(2026, 2, 10))
    make_assignment(make_user("recent", team=first), course, due_on=date(2026, 2, 25))  # not yet 14 days
    make_assignment(make_user("freiwillig", team=first), course, due_on=date(2026, 2, 1), mandatory=False)
    make_assignment(make_user("gegangen", team=first, active=False), course, due_on=date(2026, 2, 1))
    make_assignment(manager, course, due_on=date(2026, 2, 1))  # their own training is not escalated to them
    return {"manager": manager, "late": late, "later": later, "course": course}


def test_one_escalation_digest_per_manager_and_week(app, plan, outbox, managed):
    app.config["REMINDER_ESCALATION_DAYS"] = 14
    plan(berlin(MONDAY))
    plan(berlin(MONDAY + timedelta(days=3)))
    escalations = outbox(Outbox.kind == "training.escalation")
    assert escalations == [(managed["manager"].id, "training.escalation", "escalation", "2026-W10", "queued")]
    plan(berlin(MONDAY + timedelta(days=7)))
    assert [row[3] for row in outbox() if row[1] == "training.escalation"] == ["2026-W10", "2026-W11"]


def test_escalation_weeks_across_the_year_end(app, plan, outbox, managed):
    # 31 Dec 2026 and 2 Jan 2027 are both in ISO week 2026-W53; 4 Jan 2027 starts 2027-W01.
    for day in (date(2026, 12, 31), date(2027, 1, 2), date(2027, 1, 4)):
        plan(berlin(day))
    assert [row[3] for row in outbox() if row[1] == "training.escalation"] == ["2026-W53", "2027-W01"]


def test_escalation_lists_the_people_now_overdue(app, at, managed):
    from learning.messaging.reminders import Pending, PlanContext
    from learning.training.reminders import escalation

    def check():
        ctx = PlanContext.at()
        return escalation.still_due([Pending(1, managed["manager"].id, "escalation", "2026-W10", {}, True)], ctx)

    details = at(berlin(date(2026, 3, 2)), check)[1]
    assert details["count"] == 2
    assert [p["name"] for p in details["people"]] == ["Test Person 2", "Test Person 3"]  # oldest due date first
    assert {p["team"] for p in details["people"]} == {"Standesamt", "Soziales"}


def test_escalation_names_nobody_when_managers_see_team_figures_only(app, at, people, managed):
    from learning.messaging.reminders import Pending, PlanContext
    from learning.settings.services import save_settings
    from learning.training.reminders import escalation

    with app.test_request_context(), unit_of_work():
        save_settings({"managers.training_individuals": False}, db.session.get(User, people["admin"].id))

    def check():
        return escalation.still_due([Pending(1, managed["manager"].id, "escalation", "w", {}, True)],
                                    PlanContext.at())

    details = at(berlin(date(2026, 3, 2)), check)[1]
    assert details["people"] == []
    assert details["teams"] == [{"team": "Soziales", "count": 1}, {"team": "Standesamt", "count": 1}]


def test_no_escalation_once_the_staff_has_caught_up(app, at, plan, outbox, managed):
    from learning.messaging.reminders import Pending, PlanContext
    from learning.training.reminders import escalation

    with app.app_context():
        for assignment in db.session.scalars(select(Assignment)):
            assignment.completed_at = utcnow()
        db.session.commit()
    plan(berlin(date(2026, 3, 2)))
    assert [row for row in outbox() if row[1] == "training.escalation"] == []
    assert at(berlin(date(2026, 3, 2)), lambda: escalation.still_due(
        [Pending(1, managed["manager"].id, "escalation", "w", {}, True)], PlanContext.at())) == {}
