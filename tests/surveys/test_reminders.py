"""Reminders for surveys not yet answered: from participation alone, twice per round at most."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import time_machine
from sqlalchemy import select

from learning.db import db, unit_of_work
from learning.messaging.models import Outbox
from learning.messaging.reminders import Pending, PlanContext, kind_named, plan_reminders
from tests.surveys.conftest import TODAY

BERLIN = ZoneInfo("Europe/Berlin")


def _at(day):
    return datetime.combine(day, time(9, 0), tzinfo=BERLIN).astimezone(UTC)


def _plan(app, day):
    with time_machine.travel(_at(day), tick=False), app.app_context():
        with unit_of_work():
            plan_reminders()
        rows = db.session.execute(select(Outbox.user_id, Outbox.subject_key, Outbox.period_key)
                                  .where(Outbox.kind == "surveys.not_answered").order_by(Outbox.id)).all()
        db.session.remove()
        return [tuple(r) for r in rows]


def test_non_participants_are_reminded_after_opening_and_before_closing(app, org, make_survey, answer):
    survey_id = make_survey("pulse", audience="teams", audience_values=[org["teams"]["B1"].id])
    b1 = org["members"]["B1"]
    answer(b1[0], survey_id, {0: 4, 1: 4, 2: 4})
    assert _plan(app, TODAY + timedelta(days=1)) == []  # too early
    rows = _plan(app, TODAY + timedelta(days=3))
    assert sorted(r[0] for r in rows) == sorted(u.id for u in b1[1:])
    assert {(r[1], r[2]) for r in rows} == {(f"survey:{survey_id}:1", "opened")}
    assert len(_plan(app, TODAY + timedelta(days=4))) == 5  # planning again adds nothing
    answer(b1[1], survey_id, {0: 3, 1: 3, 2: 3}, today=TODAY + timedelta(days=5))
    rows = _plan(app, TODAY + timedelta(days=12))  # two days before the last day
    assert sorted(r[0] for r in rows if r[2] == "closing") == sorted(u.id for u in b1[2:])


def test_a_reminder_is_dropped_once_the_person_has_taken_part(app, org, make_survey, answer):
    survey_id = make_survey("pulse", audience="teams", audience_values=[org["teams"]["B1"].id])
    b1 = org["members"]["B1"]
    _plan(app, TODAY + timedelta(days=3))
    answer(b1[2], survey_id, {0: 4, 1: 4, 2: 4}, today=TODAY + timedelta(days=3))
    kind = kind_named("surveys.not_answered")
    with time_machine.travel(_at(TODAY + timedelta(days=3)), tick=False), app.test_request_context(
            headers={"Accept-Language": "en"}):
        items = [Pending(row.id, row.user_id, row.subject_key, row.period_key, row.payload, row.mandatory)
                 for row in db.session.scalars(select(Outbox).where(Outbox.kind == "surveys.not_answered"))]
        due = kind.still_due(items, PlanContext.at())
        assert {i.user_id for i in items if i.id in due} == {u.id for u in b1} - {b1[2].id}
        entry = kind.describe(next(iter(due.values())), TODAY)
        assert entry.endpoint == "surveys.start" and entry.values == {"survey_id": survey_id}
        assert "stored without your name" in entry.detail
    with time_machine.travel(_at(TODAY + timedelta(days=20)), tick=False), app.app_context():
        assert kind.still_due(items, PlanContext.at()) == {}  # the round has closed
