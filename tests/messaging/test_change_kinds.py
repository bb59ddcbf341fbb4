"""Announcements to confirm (at most twice per version) and feedback status changes (each once, to followers)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine
from sqlalchemy import select

from learning.announcements.models import Acknowledgement, Announcement
from learning.db import db, unit_of_work
from learning.feedback.models import FeedbackStatusChange
from learning.messaging.models import Outbox
from learning.org.models import User
from learning.roles import Role
from tests.messaging.conftest import berlin

PUBLISHED = berlin(date(2026, 3, 2), 10)


@pytest.fixture
def team_a(make_team):
    return make_team("Kämmerei")


@pytest.fixture
def ack_announcement(app, people, team_a, make_user):
    """Published on 2 March 2026, 10:00, to team A only, asking everyone to confirm."""
    from learning.announcements.services import AnnouncementData, Publication, create_announcement

    make_user("kaemmerin", team=team_a)
    make_user("kaemmerer", team=team_a)
    with app.test_request_context(), unit_of_work():
        data = AnnouncementData(title="Neue Kassenordnung", body="Bitte lesen.", audience="teams",
                                audience_values=[team_a.id], publication=Publication.NOW, requires_ack=True)
        announcement = create_announcement(data, db.session.get(User, people["project_group"].id), PUBLISHED)
        return announcement.id


def _ack_rows(outbox):
    return [(row[0], row[3]) for row in outbox(Outbox.kind == "announcements.unacknowledged")]


def _users(app, *usernames) -> list[int]:
    with app.app_context():
        return [db.session.scalar(select(User.id).where(User.username == name)) for name in usernames]


def test_confirmation_reminders_come_twice_to_the_audience_only(app, plan, outbox, ack_announcement):
    app.config["REMINDER_ACK_DAYS"] = 3
    first, second = _users(app, "kaemmerin", "kaemmerer")
    with app.app_context():
        db.session.add(Acknowledgement(announcement_id=ack_announcement, user_id=second, version=1))
        db.session.commit()
    for day in range(0, 3):
        plan(berlin(date(2026, 3, 2) + timedelta(days=day), 18))
    assert _ack_rows(outbox) == []  # not in the first three days
    for day in range(3, 15):
        plan(berlin(date(2026, 3, 2) + timedelta(days=day), 8))
    # Only the person in the audience who has not confirmed; on day 3 and day 6; never again.
    assert _ack_rows(outbox) == [(first, "v1:1"), (first, "v1:2")]


def test_a_substantive_change_asks_again(app, plan, outbox, people, ack_announcement):
    from learning.announcements.services import AnnouncementData, ChangeKind, update_announcement

    app.config["REMINDER_ACK_DAYS"] = 3
    first, second = _users(app, "kaemmerin", "kaemmerer")
    with app.app_context():
        db.session.add(Acknowledgement(announcement_id=ack_announcement, user_id=second, version=1))
        db.session.commit()
    plan(berlin(date(2026, 3, 5)))
    with app.test_request_context(), unit_of_work():
        announcement = db.session.get(Announcement, ack_announcement)
        data = AnnouncementData(title=announcement.title, body="Geänderte Regeln.", audience="teams",
                                audience_values=announcement.audience_values, requires_ack=True,
                                publication="now", change_kind=ChangeKind.SUBSTANTIVE, reason="Neue Fristen")
        update_announcement(announcement, data, db.session.get(User, people["project_group"].id),
                            berlin(date(2026, 3, 10), 9))
    plan(berlin(date(2026, 3, 12)))
    assert _ack_rows(outbox) == [(first, "v1:1")]  # two days after the change: not yet
    plan(berlin(date(2026, 3, 13)))
    assert sorted(_ack_rows(outbox)) == sorted([(first, "v1:1"), (first, "v2:1"), (second, "v2:1")])


def test_no_reminders_for_withdrawn_or_unconfirmable_announcements(app, plan, outbox, people, ack_announcement):
    from learning.announcements.services import AnnouncementData, Publication, create_announcement, set_withdrawn

    with app.test_request_context(), unit_of_work():
        create_announcement(AnnouncementData(title="Nur zur Info", body="Text", publication=Publication.NOW),
                            db.session.get(User, people["project_group"].id), PUBLISHED)
        set_withdrawn(db.session.get(Announcement, ack_announcement), True,
                      db.session.get(User, people["project_group"].id))
    plan(berlin(date(2026, 3, 6)))
    assert _ack_rows(outbox) == []


# Feedback ---------------------------------------------------------------------------------------------------

@pytest.fixture
def channel(make_phase):
    return make_phase("e-akte")


def _feedback_rows(outbox):
    return [(row[0], row[2], row[3]) for row in outbox(Outbox.kind == "feedback.status_changed")]


def test_followers_hear_of_a_status_change_once_but_not_whoever_made_it(app, plan, outbox, people, channel,
                                                                        make_user):
    from learning.feedback import services

    voter = make_user("waehlerin")
    with time_machine.travel(PUBLISHED, tick=False), app.test_request_context(), unit_of_work():
        phase = db.session.merge(channel)
        post = services.create_post(db.session.get(User, people["employee"].id), phase, kind="idea", title="Scanner",
                                    body="Mehr Scanner", anonymous=False, today=date(2026, 3, 2))
        services.vote(db.session.get(User, voter.id), post)
        moderator = db.session.get(User, people["project_group"].id)
        services.vote(moderator, post)  # the moderator follows too, but made the change
        change = services.change_status(moderator, post, "planned")
        post_id, change_id = post.id, change.id
    plan(berlin(date(2026, 3, 3)))
    plan(berlin(date(2026, 3, 3), 10))
    expected = sorted([(people["employee"].id, f"feedback:{post_id}", f"change:{change_id}"),
                       (voter.id, f"feedback:{post_id}", f"change:{change_id}")])
    assert sorted(_feedback_rows(outbox)) == expected
    with app.app_context():
        assert db.session.get(FeedbackStatusChange, change_id).notified_at is not None


def test_anonymous_posts_tell_nobody_and_are_marked_handed_over(app, plan, outbox, people, channel):
    from learning.feedback import services

    with time_machine.travel(PUBLISHED, tick=False), app.test_request_context(), unit_of_work():
        phase = db.session.merge(channel)
        post = services.create_post(db.session.get(User, people["employee"].id), phase, kind="concern",
                                    title="Sorge", body="Text", anonymous=True, today=date(2026, 3, 2))
        change = services.change_status(db.session.get(User, people["project_group"].id), post, "under_review")
        change_id = change.id
    result = plan(berlin(date(2026, 3, 3)))
    assert _feedback_rows(outbox) == []
    assert result.considered == 0
    with app.app_context():
        assert db.session.get(FeedbackStatusChange, change_id).notified_at is not None


def test_a_dry_run_leaves_status_changes_unhandled(app, plan, outbox, people, channel):
    from learning.feedback import services

    with time_machine.travel(PUBLISHED, tick=False), app.test_request_context(), unit_of_work():
        phase = db.session.merge(channel)
        post = services.create_post(db.session.get(User, people["employee"].id), phase, kind="idea", title="Idee",
                                    body="Text", anonymous=False, today=date(2026, 3, 2))
        change_id = services.change_status(db.session.get(User, people["project_group"].id), post, "planned").id
    result = plan(berlin(date(2026, 3, 3)), dry_run=True)
    assert result.new == 1 and outbox() == []
    with app.app_context():
        assert db.session.get(FeedbackStatusChange, change_id).notified_at is None
    assert plan(berlin(date(2026, 3, 3))).new == 1


def test_managers_escalation_is_not_optional_and_others_are():
    from learning.messaging.reminders import optional_kinds, registered_kinds

    names = {kind.name for kind in registered_kinds()}
    assert {"training.due_soon", "training.due_today", "training.overdue", "training.escalation",
            "announcements.unacknowledged", "feedback.status_changed"} <= names
    assert "training.escalation" not in {kind.name for kind in optional_kinds()}
    assert Role.MANAGER  # escalations go to the managers of the staff's teams (see test_training_kinds)
