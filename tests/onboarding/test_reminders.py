"""Onboarding reminders: who is reminded of which task when, re-checked before sending."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from learning.db import db, unit_of_work
from learning.messaging.reminders import Pending, PlanContext, kind_named, plan_reminders
from learning.onboarding import reminders
from learning.onboarding.sync import sync_journeys
from learning.onboarding.tasks import set_buddy, set_task_done
from learning.org.models import User
from tests.onboarding.conftest import journey_of

START = date(2026, 6, 15)


def _ctx(app, day: date) -> PlanContext:
    return PlanContext.at(datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=8))


def _id(journey, offset: int, role: str) -> int:
    return next(t.id for t in journey.tasks if t.offset_days == offset and t.owner_role == role)


def _who(planned) -> set[tuple[int, str]]:
    return {(p.user_id, p.period_key.split(":")[0]) for p in planned}


def test_the_kinds_are_registered():
    for name in ("onboarding.task_due", "onboarding.task_overdue", "onboarding.buddy_missing"):
        kind = kind_named(name)
        assert kind is not None and kind.plan and kind.still_due and kind.describe, name


def test_each_owner_is_reminded_of_their_tasks(app, ctx, people, make_template, make_user, new_hire):
    import time_machine

    make_template()
    with time_machine.travel(datetime(2026, 6, 1, 8, tzinfo=UTC), tick=False):
        user = new_hire(START)
    buddy = make_user("pate", team=people["team"])
    journey = journey_of(user)
    journey.buddy_id = buddy.id
    db.session.commit()
    # On 13 June the new hire's and the buddy's tasks of the first day (15 June) are due soon; the IT task
    # (-5: 10 June, for every administrator) and the manager's mail (-3: 12 June) are overdue.
    day = date(2026, 6, 13)
    due = reminders.plan_task_due(_ctx(app, day))
    assert {(p.user_id, p.subject_key) for p in due} == {
        (user.id, f"journey_task:{_id(journey, 0, 'new_hire')}"),
        (buddy.id, f"journey_task:{_id(journey, 0, 'buddy')}")}
    overdue = reminders.plan_task_overdue(_ctx(app, day))
    assert {(p.user_id, p.subject_key) for p in overdue} == {
        (people["admin"].id, f"journey_task:{_id(journey, -5, 'it')}"),
        (people["manager"].id, f"journey_task:{_id(journey, -3, 'manager')}")}
    assert all(p.period_key.startswith("overdue:") for p in overdue)
    # On the first day: the new hire, the buddy (lunch) are reminded on the day.
    first_day = reminders.plan_task_due(_ctx(app, START))
    assert _who(first_day) >= {(user.id, "today"), (buddy.id, "today")}


def test_done_tasks_and_closed_journeys_get_no_reminder_and_the_checker_drops_them(app, ctx, people, make_template,
                                                                                  new_hire):
    import time_machine

    make_template()
    with time_machine.travel(datetime(2026, 6, 1, 8, tzinfo=UTC), tick=False):
        user = new_hire(START)
    context = _ctx(app, date(2026, 6, 13))
    planned = reminders.plan_task_overdue(context)
    assert planned
    items = [Pending(id=n, user_id=p.user_id, subject_key=p.subject_key, period_key=p.period_key,
                     payload=p.payload, mandatory=False) for n, p in enumerate(planned, start=1)]
    assert set(reminders._still_open(items, context)) == {item.id for item in items}
    entry = kind_named("onboarding.task_overdue").describe(reminders._still_open(items, context)[1], context.today)
    assert entry.title == "Arbeitsplatz und Zugänge bereitstellen" and entry.endpoint == "onboarding.my_tasks"
    assert "Neue Kollegin" in entry.detail

    task = next(t for t in journey_of(user).tasks if t.owner_role == "it")
    set_task_done(db.session.get(User, people["admin"].id), task.id, True)
    left = reminders._still_open(items, context)  # done since: not sent any more
    assert [d["title"] for d in left.values()] == ["Willkommensmail senden"]
    assert {p.user_id for p in reminders.plan_task_overdue(context)} == {people["manager"].id}

    db.session.get(User, user.id).active = False
    db.session.commit()
    sync_journeys({user.id}, context.today)
    assert reminders.plan_task_due(_ctx(app, START)) == []


def test_managers_hear_about_a_missing_buddy_once_a_week(app, ctx, people, make_template, new_hire, make_user):
    import time_machine

    make_template()
    with time_machine.travel(datetime(2026, 6, 1, 8, tzinfo=UTC), tick=False):
        user = new_hire(START)
    early = reminders.plan_buddy_missing(_ctx(app, START - timedelta(days=20)))
    assert early == []  # too early to bother anyone
    planned = reminders.plan_buddy_missing(_ctx(app, START - timedelta(days=10)))
    assert [(p.user_id, p.period_key) for p in planned] == [(people["manager"].id, "2026-W23")]
    items = [Pending(id=1, user_id=people["manager"].id, subject_key=planned[0].subject_key,
                     period_key=planned[0].period_key, payload=planned[0].payload, mandatory=False)]
    context = _ctx(app, START - timedelta(days=10))
    details = reminders.buddy_still_missing(items, context)
    entry = reminders.describe_buddy_missing(details[1], context.today)
    assert user.full_name in entry.title and entry.values == {"journey_id": journey_of(user).id}
    buddy = make_user("pate", team=people["team"])
    set_buddy(db.session.get(User, people["manager"].id), journey_of(user).id, buddy.id)
    assert reminders.buddy_still_missing(items, context) == {}


def test_planning_through_the_outbox_is_idempotent(app, ctx, people, make_template, new_hire):
    import time_machine

    make_template()
    with time_machine.travel(datetime(2026, 6, 1, 8, tzinfo=UTC), tick=False):
        new_hire(START)
    moment = datetime(2026, 6, 13, 8, tzinfo=UTC)
    kinds = ["onboarding.task_due", "onboarding.task_overdue", "onboarding.buddy_missing"]
    first = plan_reminders(moment, kinds=kinds)
    assert first.new >= 3
    assert plan_reminders(moment, kinds=kinds).new == 0
    from learning.messaging.models import Outbox

    assert {row.kind for row in db.session.scalars(select(Outbox))} == set(kinds)


def test_a_ticked_task_and_a_chosen_buddy_take_their_notifications_out_of_the_centre(app, people, make_template,
                                                                                     make_user, new_hire):
    """Issue 14, §11: a reminder disappears as soon as the task is done, not at the next sending."""
    import time_machine

    from learning.messaging.outbox import send_due
    from learning.notifications.models import Notification
    from learning.notifications.services import notification_page, unread_count

    app.config.update(MAIL_HOURS=(0, 24), MAIL_WEEKENDS=True, REMINDER_DIGEST="immediate")
    make_template()
    with time_machine.travel(datetime(2026, 6, 1, 8, tzinfo=UTC), tick=False):
        user = new_hire(START)
    moment = datetime(2026, 6, 13, 8, tzinfo=UTC)
    with time_machine.travel(moment, tick=False), app.test_request_context(headers={"Accept-Language": "en"}):
        plan_reminders()
        send_due()
        manager = db.session.get(User, people["manager"].id)
        kinds = set(db.session.scalars(select(Notification.kind).where(Notification.user_id == manager.id)))
        assert kinds == {"onboarding.task_overdue", "onboarding.buddy_missing"}
        assert unread_count(manager) == 2
        journey = journey_of(user)
        with unit_of_work():  # services flush; the caller commits
            set_task_done(manager, _id(journey, -3, "manager"), True, date(2026, 6, 13))
        assert unread_count(manager) == 1
        journey = journey_of(user)
        journey.buddy_id = make_user("pate", team=people["team"]).id
        db.session.commit()
        assert unread_count(manager) == 0
        assert notification_page(manager, today=date(2026, 6, 13))[1] == []
