"""Every built-in metric against hand-computed figures, as of a day; snapshots are idempotent."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from learning.db import db, unit_of_work
from learning.metrics.models import MetricSnapshot
from learning.metrics.services import compute, snapshot
from learning.training.models import Assignment


@pytest.fixture
def org(make_department, make_team, make_user):
    department = make_department("Bürgerservice")
    team_a = make_team("Bürgerbüro", department)
    team_b = make_team("Standesamt", department)
    return {
        "department": department, "a": team_a, "b": team_b,
        "e1": make_user("e1", team=team_a), "e2": make_user("e2", team=team_a), "e3": make_user("e3", team=team_b),
    }


def _complete(app, assignment, when: datetime):
    with app.app_context():
        db.session.get(Assignment, assignment.id).completed_at = when
        db.session.commit()


@pytest.fixture
def training_data(app, org, make_phase, make_course, make_assignment):
    """Phase course C1: e1 done after 4 days, e2 overdue, e3 done after 10 days. C2 (no phase): e1 open."""
    phase = make_phase("e-akte")
    c1, c2 = make_course("c1", phase=phase), make_course("c2")
    start = date(2026, 3, 1)
    a1 = make_assignment(org["e1"], c1, assigned_on=start, due_on=date(2026, 3, 10))
    make_assignment(org["e2"], c1, assigned_on=start, due_on=date(2026, 3, 10))
    a3 = make_assignment(org["e3"], c1, assigned_on=start, due_on=date(2026, 3, 20))
    make_assignment(org["e1"], c2, assigned_on=start)
    make_assignment(org["e3"], c2, assigned_on=start, due_on=date(2026, 3, 2), mandatory=False)  # not counted
    _complete(app, a1, datetime(2026, 3, 5, 9, tzinfo=UTC))
    _complete(app, a3, datetime(2026, 3, 11, 22, 30, tzinfo=UTC))  # 23:30 in Berlin: still the 11th
    return phase


def _figures(app, day: date) -> dict:
    with app.test_request_context():
        return {(v.metric, v.phase_key, v.unit_kind, v.unit_id): (v.value, v.n) for v in compute(day)}


def test_training_metrics_as_of_a_day(app, org, training_data):
    phase, a, department = training_data.id, org["a"].id, org["department"].id
    figures = _figures(app, date(2026, 3, 15))
    assert figures[("training.completion", phase, "org", 0)] == (66.7, 3)
    assert figures[("training.completion", phase, "team", a)] == (50.0, 2)
    assert figures[("training.completion", phase, "department", department)] == (66.7, 3)
    assert figures[("training.completion", 0, "org", 0)] == (50.0, 4)
    assert figures[("training.overdue", phase, "org", 0)] == (1.0, 3)
    assert figures[("training.overdue", phase, "team", org["b"].id)] == (0.0, 1)
    assert figures[("training.time_to_competence", phase, "org", 0)] == (7.0, 2)
    assert figures[("training.time_to_competence", phase, "team", a)] == (4.0, 1)

    earlier = _figures(app, date(2026, 3, 8))  # before e3 finished and before anything was due
    assert earlier[("training.completion", phase, "org", 0)] == (33.3, 3)
    assert earlier[("training.overdue", phase, "org", 0)] == (0.0, 3)


def test_acknowledgement_rate(app, org, make_phase):
    from learning.announcements.models import Acknowledgement, Announcement

    phase = make_phase("ack")
    with app.app_context():
        announcement = Announcement(title="Neue Software", body="Bitte lesen", phase_id=phase.id, requires_ack=True,
                                    audience="teams", audience_values=[org["a"].id],
                                    publish_at=datetime(2026, 3, 1, 8, tzinfo=UTC))
        db.session.add(announcement)
        db.session.flush()
        db.session.add(Acknowledgement(announcement_id=announcement.id, user_id=org["e1"].id, version=1,
                                       acknowledged_at=datetime(2026, 3, 2, 8, tzinfo=UTC)))
        db.session.commit()
    figures = _figures(app, date(2026, 3, 3))
    assert figures[("announcements.acknowledged", phase.id, "team", org["a"].id)] == (50.0, 2)
    assert ("announcements.acknowledged", phase.id, "team", org["b"].id) not in figures  # not addressed
    assert _figures(app, date(2026, 3, 1))[("announcements.acknowledged", phase.id, "org", 0)] == (0.0, 2)


def test_feedback_closure_and_first_response(app, org, make_phase, people):
    from learning.feedback.models import FeedbackComment, FeedbackPost, FeedbackStatusChange

    phase = make_phase("fb")
    with app.app_context():
        named = FeedbackPost(phase_id=phase.id, kind="idea", title="Idee", body="x", author_id=org["e1"].id,
                             created_on=date(2026, 3, 1), created_at=datetime(2026, 3, 1, 8, tzinfo=UTC))
        anonymous = FeedbackPost(phase_id=phase.id, kind="concern", title="Sorge", body="y", anonymous=True,
                                 created_on=date(2026, 3, 2))
        hidden = FeedbackPost(phase_id=phase.id, kind="idea", title="Spam", body="z", hidden=True,
                              created_on=date(2026, 3, 2))
        db.session.add_all([named, anonymous, hidden])
        db.session.flush()
        # named: official answer after 6 hours, then closed on the 3rd
        db.session.add(FeedbackComment(post_id=named.id, author_id=people["project_group"].id, body="Danke",
                                       official=True, created_at=datetime(2026, 3, 1, 14, tzinfo=UTC)))
        db.session.add(FeedbackStatusChange(post_id=named.id, from_status="new", to_status="answered",
                                            changed_at=datetime(2026, 3, 3, 9, tzinfo=UTC)))
        # anonymous: under review at 11:00 Berlin on its day (from 0:00 Berlin = 23:00 UTC before): 11 hours
        db.session.add(FeedbackStatusChange(post_id=anonymous.id, from_status="new", to_status="under_review",
                                            changed_at=datetime(2026, 3, 2, 10, tzinfo=UTC)))
        db.session.commit()
    figures = _figures(app, date(2026, 3, 4))
    assert figures[("feedback.closure", phase.id, "org", 0)] == (50.0, 2)
    assert figures[("feedback.first_response", phase.id, "org", 0)] == (8.5, 2)  # median of 6 and 11
    assert not any(k[0].startswith("feedback.") and k[2] != "org" for k in figures)  # never per unit
    assert _figures(app, date(2026, 3, 2))[("feedback.closure", phase.id, "org", 0)] == (0.0, 2)


def test_snapshot_is_idempotent_per_day(app, org, training_data):
    with app.test_request_context():
        with unit_of_work():
            first = snapshot(date(2026, 3, 15))
        with unit_of_work():
            second = snapshot(date(2026, 3, 15))
        with unit_of_work():
            snapshot(date(2026, 3, 16))
        per_day = dict(db.session.execute(
            select(MetricSnapshot.day, func.count()).group_by(MetricSnapshot.day)).all())
    assert first == second > 0
    assert per_day == {date(2026, 3, 15): first, date(2026, 3, 16): first}


def test_cli_backfills_and_refuses_bad_dates(app, runner, org, training_data):
    result = runner.invoke(args=["metrics", "snapshot", "--date", "2026-03-15", "--backfill", "2026-03-13"])
    assert result.exit_code == 0, result.output
    assert result.output.count("figures stored") == 3
    bad = runner.invoke(args=["metrics", "snapshot", "--date", "15.03.2026"])
    assert bad.exit_code == 2 and "is not a date" in bad.output
    reversed_range = runner.invoke(args=["metrics", "snapshot", "--date", "2026-03-10", "--backfill", "2026-03-15"])
    assert reversed_range.exit_code == 2 and "must not be after --date" in reversed_range.output


def test_the_scheduler_snapshots_every_night(app):
    from learning.scheduler.registry import scheduled_jobs

    jobs = {job.id: job for job in scheduled_jobs()}
    assert jobs["metrics.snapshot"].cron == "20 3 * * *"
    with app.test_request_context():
        assert jobs["metrics.snapshot"].func()["figures"] > 0
