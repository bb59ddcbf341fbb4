"""Planning is idempotent (the outbox's UNIQUE key), a dry run writes nothing, features plug kinds in,
and retention never deletes a key that could be planned again."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from learning.db import db, unit_of_work
from learning.mail import CapturedMail
from learning.messaging import reminders
from learning.messaging.models import Outbox, OutboxStatus
from learning.messaging.reminders import Entry, Planned, plan_reminders, reminder_kind
from learning.notifications.models import Notification
from tests.messaging.conftest import MONDAY, berlin

NINE = berlin(MONDAY, 9)


@pytest.fixture
def learners(make_user, make_course, make_assignment):
    course = make_course("datenschutz")
    people = [make_user(f"person{n}") for n in range(5)]
    for person in people:
        make_assignment(person, course, due_on=MONDAY)
    return people


def _count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(Outbox.id)))


def test_planning_twice_queues_nothing_twice(app, plan, learners):
    assert plan(NINE).new == 5
    again = plan(NINE + timedelta(minutes=10))
    assert (again.considered, again.new) == (5, 0)
    assert _count(app) == 5


def test_a_dry_run_counts_and_writes_nothing(app, plan, learners):
    result = plan(NINE, dry_run=True)
    assert (result.considered, result.new, _count(app)) == (5, 5, 0)
    plan(NINE)
    assert plan(NINE, dry_run=True).new == 0


def test_two_planners_at_once_queue_each_reminder_once(app, learners):
    barrier = threading.Barrier(2)
    results, errors = [], []

    def planner():
        try:
            with time_machine.travel(NINE, tick=True), app.app_context():
                barrier.wait()
                with unit_of_work():
                    results.append(plan_reminders().new)
                db.session.remove()
        except Exception as exc:  # pragma: no cover - shown by the assertion
            errors.append(exc)

    threads = [threading.Thread(target=planner) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sum(results) == 5 and _count(app) == 5


def test_the_unique_key_refuses_a_second_row(app, learners):
    from sqlalchemy.exc import IntegrityError

    with app.app_context():
        for _ in range(2):
            db.session.add(Outbox(user_id=learners[0].id, kind="k", subject_key="s", period_key="p"))
        with pytest.raises(IntegrityError):
            db.session.commit()


# A feature plugs a kind in --------------------------------------------------------------------------------------

@pytest.fixture
def registry(monkeypatch):
    """A private copy of the registry, so that test kinds do not stay registered."""
    monkeypatch.setattr(reminders, "_KINDS", dict(reminders._KINDS))
    return reminders


def test_a_feature_kind_is_planned_rechecked_described_and_delivered(app, registry, plan, send, learners):
    """The way onboarding and surveys plug in: a planner, a checker and a describer."""
    open_tasks = {learners[0].id: "Laptop abholen", learners[1].id: "Schlüssel abholen"}
    task_due = reminder_kind("test.task_due", label="Task due", description="A task is due.", order=5)

    @task_due.planner
    def plan_tasks(ctx):
        return [Planned(user_id, f"task:{user_id}", ctx.today.isoformat(), {"task": title})
                for user_id, title in open_tasks.items()]

    @task_due.checker
    def still_due(items, ctx):
        return {item.id: {"task": open_tasks[item.user_id]} for item in items if item.user_id in open_tasks}

    @task_due.describer
    def describe(details, today):
        return Entry(title=details["task"], detail="Bitte erledigen.", endpoint="home.index")

    app.config["REMINDER_DUE_SOON_DAYS"] = 0
    plan(NINE, kinds=["test.task_due"])
    del open_tasks[learners[1].id]  # done before sending
    report = send(NINE)
    assert (report.mails, report.dropped) == (1, 1)
    with app.app_context():
        notification = db.session.scalars(select(Notification)).one()
        assert (notification.user_id, notification.kind, notification.details) == (
            learners[0].id, "test.task_due", {"task": "Laptop abholen"})
        mail = db.session.scalars(select(CapturedMail)).one()
        assert "Laptop abholen" in mail.body and "Task due" in mail.body
    assert "test.task_due" in {kind.name for kind in registry.optional_kinds()}


def test_a_row_of_a_kind_that_is_gone_is_dropped_not_sent(app, registry, plan, send, learners):
    plan(NINE)
    with app.app_context():
        db.session.execute(Outbox.__table__.update().values(kind="gone.kind"))
        db.session.commit()
    assert send(NINE).dropped == 5



# Retention -------------------------------------------------------------------------------------------------------

def test_retention_keeps_keys_that_could_be_planned_again(app, learners):
    from learning.messaging.reminders import retention_floor_days
    from learning.messaging.retention import purge_outbox
    from learning.notifications.retention import purge_notifications

    with time_machine.travel(NINE, tick=False), app.app_context():
        floor = retention_floor_days()
        assert floor > app.config["REMINDER_OVERDUE_EVERY_DAYS"] * app.config["REMINDER_OVERDUE_TIMES"]
        person = learners[0].id
        for days, status in [(floor + 5, "sent"), (floor - 5, "sent"), (floor + 5, "queued"), (floor + 5, "failed")]:
            db.session.add(Outbox(user_id=person, kind="k", subject_key=f"{days}{status}", period_key="p",
                                  status=status, planned_at=NINE - timedelta(days=days)))
        db.session.add(Notification(user_id=person, kind="k", subject_key="s", details={},
                                    created_at=NINE - timedelta(days=40), read_at=NINE))
        db.session.add(Notification(user_id=person, kind="k", subject_key="t", details={},
                                    created_at=NINE - timedelta(days=40)))
        db.session.commit()
        # Even a retention of one day (the setting's floor is 30) keeps what could come back.
        assert purge_outbox(NINE - timedelta(days=1), dry_run=False) == 2
        assert sorted(db.session.scalars(select(Outbox.status))) == ["queued", "sent"]
        assert purge_notifications(NINE - timedelta(days=30), dry_run=False) == 1  # read ones only
        assert db.session.scalar(select(func.count(Notification.id))) == 1
        assert OutboxStatus.QUEUED.value == "queued"


def test_retention_rules_are_registered_with_the_platform(app):
    from learning.transparency.retention import RULES

    assert {"outbox", "notifications"} <= {rule.name for rule in RULES}


def test_planning_on_a_date_far_from_any_due_date_finds_nothing(app, plan, learners):
    assert plan(berlin(date(2027, 6, 1))).considered == 0
