"""Feedback services: posting, voting, commenting, the status workflow, moderation, "you said, we did"."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from learning.audit.models import AuditEntry
from learning.db import db, unit_of_work
from learning.errors import NotAllowed, NotFound, ServiceError
from learning.feedback import services
from learning.feedback.models import (
    HIDDEN,
    FeedbackComment,
    FeedbackPost,
    FeedbackStatusChange,
    FeedbackSubscription,
    FeedbackVote,
    PostStatus,
)
from learning.org.models import User


def _user(person) -> User:
    return db.session.get(User, person.id)


def _post(post) -> FeedbackPost:
    return db.session.get(FeedbackPost, post.id)


def _followers(post_id: int) -> set[int]:
    return set(db.session.scalars(select(FeedbackSubscription.user_id).where(FeedbackSubscription.post_id == post_id)))


# Posting ----------------------------------------------------------------------------------------

def test_a_named_post_keeps_its_author_who_follows_it(app, ctx, people, channel):
    author = _user(people["employee"])
    post = services.create_post(author, channel, kind="question", title="  Wer scannt?  ", body="Frage",
                                anonymous=False, today=date(2026, 3, 2))
    assert (post.author_id, post.anonymous, post.title, post.status) == (author.id, False, "Wer scannt?", "new")
    assert post.created_on == date(2026, 3, 2) and post.created_at is not None
    assert _followers(post.id) == {author.id}


def test_an_anonymous_post_stores_no_author_no_time_and_no_subscription(app, ctx, people, channel):
    post = services.create_post(_user(people["employee"]), channel, kind="concern", title="Sorge", body="Text",
                                anonymous=True, today=date(2026, 3, 2))
    assert post.author_id is None and post.anonymous and post.created_at is None
    assert post.created_on == date(2026, 3, 2)
    assert _followers(post.id) == set()


@pytest.mark.parametrize(("fields", "message"), [
    ({"title": "x" * 151}, "The title may be at most 150 characters long; it has 151."),
    ({"title": "   "}, "Please enter a title."),
    ({"body": "y" * 5001}, "The text may be at most 5000 characters long; it has 5001."),
    ({"body": ""}, "Please enter your text."),
    ({"kind": "rant"}, "Please choose what kind of post this is."),
])
def test_bad_posts_are_refused_with_a_message_and_nothing_is_stored(app, ctx, people, channel, fields, message):
    values = {"kind": "idea", "title": "Titel", "body": "Text", **fields}
    with pytest.raises(ServiceError, match=message):
        services.create_post(_user(people["employee"]), channel, anonymous=False, **values)
    assert db.session.scalar(select(func.count()).select_from(FeedbackPost)) == 0


def test_limits_are_inclusive(app, ctx, people, channel):
    post = services.create_post(_user(people["employee"]), channel, kind="idea", title="t" * 150, body="b" * 5000,
                                anonymous=False)
    assert len(post.title) == 150 and len(post.body) == 5000


# Voting -----------------------------------------------------------------------------------------

def test_a_vote_counts_once_and_makes_the_voter_a_follower(app, ctx, people, channel, make_post):
    post = make_post(channel, people["manager"])
    voter = _user(people["employee"])
    with unit_of_work():
        services.vote(voter, _post(post))
    assert _post(post).vote_count == 1
    assert _followers(post.id) == {people["manager"].id, voter.id}
    with pytest.raises(ServiceError, match="You have already voted for this post."), unit_of_work():
        services.vote(voter, _post(post))
    db.session.expire_all()
    assert _post(post).vote_count == 1
    assert db.session.scalar(select(func.count()).select_from(FeedbackVote)) == 1


def test_a_hidden_post_cannot_be_voted_for(app, ctx, people, channel, make_post):
    post = make_post(channel, people["manager"], hidden=True, hidden_reason="Beleidigend")
    with pytest.raises(ServiceError, match="hidden"):
        services.vote(_user(people["employee"]), _post(post))
    assert _post(post).vote_count == 0


def test_the_database_refuses_a_duplicate_vote(app, ctx, people, channel, make_post):
    post = make_post(channel)
    db.session.add(FeedbackVote(post_id=post.id, user_id=people["employee"].id))
    db.session.commit()
    db.session.add(FeedbackVote(post_id=post.id, user_id=people["employee"].id))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def _vote_in_threads(app, post_id: int, user_ids: list[int]) -> list[str]:
    """Vote from several threads at once, each with its own session; return each outcome."""
    barrier = threading.Barrier(len(user_ids))
    outcomes: list[str] = []

    def run(user_id: int) -> None:
        with app.app_context():
            user, post = db.session.get(User, user_id), db.session.get(FeedbackPost, post_id)
            barrier.wait()
            try:
                with unit_of_work():
                    services.vote(user, post)
                outcomes.append("ok")
            except ServiceError:
                outcomes.append("refused")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(uid,)) for uid in user_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


def test_simultaneous_votes_of_one_person_count_once(app, people, channel, make_post):
    post = make_post(channel)
    outcomes = _vote_in_threads(app, post.id, [people["employee"].id] * 3)
    assert sorted(outcomes) == ["ok", "refused", "refused"]
    with app.app_context():
        assert db.session.get(FeedbackPost, post.id).vote_count == 1


def test_simultaneous_votes_of_different_people_all_count(app, people, channel, make_post, make_user):
    post = make_post(channel)
    voters = [people["employee"].id, people["manager"].id, people["admin"].id, make_user().id]
    outcomes = _vote_in_threads(app, post.id, voters)
    assert outcomes == ["ok"] * 4
    with app.app_context():
        assert db.session.get(FeedbackPost, post.id).vote_count == 4
        assert _followers(post.id) == set(voters)


# Following and comments -------------------------------------------------------------------------

def test_follow_and_stop_following(app, ctx, people, channel, make_post):
    post = make_post(channel)
    reader = _user(people["employee"])
    services.subscribe(reader, _post(post))
    services.subscribe(reader, _post(post))  # twice is harmless
    assert _followers(post.id) == {reader.id}
    assert services.post_state(reader, _post(post)).subscribed
    services.unsubscribe(reader, _post(post))
    assert _followers(post.id) == set()


def test_comments_and_official_replies(app, ctx, people, channel, make_post):
    post = make_post(channel, people["employee"])
    services.comment(_user(people["manager"]), _post(post), "Gute Idee!")
    with pytest.raises(NotAllowed):
        services.comment(_user(people["employee"]), _post(post), "Ich antworte offiziell", official=True)
    services.comment(_user(people["project_group"]), _post(post), "Wir kümmern uns.", official=True)
    comments = db.session.scalars(select(FeedbackComment).order_by(FeedbackComment.id)).all()
    assert [(c.author_id, c.official) for c in comments] == [(people["manager"].id, False),
                                                             (people["project_group"].id, True)]
    with pytest.raises(ServiceError, match="at most 3000 characters"):
        services.comment(_user(people["manager"]), _post(post), "z" * 3001)
    with pytest.raises(ServiceError, match="Please enter your comment."):
        services.comment(_user(people["manager"]), _post(post), "  ")


def test_a_hidden_post_cannot_be_commented_on(app, ctx, people, channel, make_post):
    post = make_post(channel, hidden=True, hidden_reason="Personenbezug")
    with pytest.raises(ServiceError, match="hidden"):
        services.comment(_user(people["manager"]), _post(post), "Trotzdem")


# The status workflow ----------------------------------------------------------------------------

def test_a_post_moves_along_the_workflow_and_each_step_is_recorded(app, ctx, people, channel, make_post):
    post = make_post(channel, people["employee"])
    paul = _user(people["project_group"])
    for status in ("under_review", "planned", "in_progress", "implemented"):
        services.change_status(paul, _post(post), status, reason=f"Schritt {status}")
    changes = db.session.scalars(select(FeedbackStatusChange).order_by(FeedbackStatusChange.id)).all()
    assert [(c.from_status, c.to_status) for c in changes] == [
        ("new", "under_review"), ("under_review", "planned"), ("planned", "in_progress"),
        ("in_progress", "implemented")]
    assert all(c.changed_by_id == paul.id and c.notified_at is None and c.changed_at for c in changes)
    assert _post(post).status == "implemented"
    audit = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "feedback.status")).all()
    assert len(audit) == 4 and all(a.target_id == post.id and a.actor_id == paul.id for a in audit)


@pytest.mark.parametrize(("start", "target"), [
    ("new", "implemented"), ("new", "in_progress"), ("under_review", "implemented"), ("answered", "implemented"),
    ("implemented", "planned"), ("declined", "implemented"), ("new", "new"), ("new", "bogus"),
])
def test_invalid_transitions_are_refused(app, ctx, people, channel, make_post, start, target):
    post = make_post(channel, status=start)
    with pytest.raises(ServiceError):
        services.change_status(_user(people["project_group"]), _post(post), target, reason="Weil")
    db.session.rollback()
    assert _post(post).status == start
    assert db.session.scalar(select(func.count()).select_from(FeedbackStatusChange)) == 0


def test_every_status_is_reachable_and_implemented_only_from_planned_or_in_progress():
    reachable = {PostStatus.NEW} | {t for targets in services.TRANSITIONS.values() for t in targets}
    assert reachable == set(PostStatus)
    sources = {s for s, targets in services.TRANSITIONS.items() if PostStatus.IMPLEMENTED in targets}
    assert sources == {PostStatus.PLANNED, PostStatus.IN_PROGRESS}


def test_declining_needs_a_reason(app, ctx, people, channel, make_post):
    post = make_post(channel)
    paul = _user(people["project_group"])
    with pytest.raises(ServiceError, match="Please give a reason when you decline a post."):
        services.change_status(paul, _post(post), "declined", reason="  ")
    change = services.change_status(paul, _post(post), "declined", reason="Der Aktenplan ist verbindlich.")
    assert (change.to_status, change.reason) == ("declined", "Der Aktenplan ist verbindlich.")
    with pytest.raises(ServiceError, match="at most 1000"):
        services.change_status(paul, _post(post), "under_review", reason="r" * 1001)


def test_only_the_project_group_changes_statuses(app, ctx, people, channel, make_post):
    post = make_post(channel)
    for role in ("employee", "manager"):
        with pytest.raises(NotAllowed):
            services.change_status(_user(people[role]), _post(post), "under_review")
    services.change_status(_user(people["admin"]), _post(post), "under_review")


def test_who_is_told_about_a_change(app, ctx, people, channel, make_post):
    named = make_post(channel, people["employee"], voters=[people["manager"]])
    anonymous = make_post(channel, voters=[people["manager"]])
    paul = _user(people["project_group"])
    services.subscribe(paul, _post(named))  # the one who changes it is not told about it
    change = services.change_status(paul, _post(named), "planned")
    assert services.recipients_of(change) == sorted([people["employee"].id, people["manager"].id])
    hidden = services.hide(paul, _post(named), "Enthält Namen von Bürgern")
    assert services.recipients_of(hidden) == [people["employee"].id]
    assert services.recipients_of(services.hide(paul, _post(anonymous), "Beleidigend")) == []
    assert services.recipients_of(services.change_status(paul, _post(anonymous), "under_review")) == []


# Moderation -------------------------------------------------------------------------------------

def test_hide_and_unhide(app, ctx, people, channel, make_post):
    post = make_post(channel, people["employee"], title="Sichtbar?")
    paul = _user(people["project_group"])
    services.hide(paul, _post(post), "Enthält personenbezogene Daten")
    hidden = _post(post)
    assert hidden.hidden and hidden.hidden_reason == "Enthält personenbezogene Daten"
    with pytest.raises(NotFound):
        services.post_for(_user(people["manager"]), channel, post.id)
    assert services.post_for(_user(people["employee"]), channel, post.id).id == post.id  # the author
    assert services.post_for(paul, channel, post.id).id == post.id
    assert services.channel_page(_user(people["manager"]), channel).page.total == 0
    assert services.channel_page(_user(people["employee"]), channel).page.total == 1
    assert services.channel_page(paul, channel, status=HIDDEN).page.total == 1
    with pytest.raises(ServiceError, match="already hidden"):
        services.hide(paul, _post(post), "Nochmal")
    with pytest.raises(NotAllowed):
        services.unhide(_user(people["employee"]), _post(post))
    services.unhide(paul, _post(post))
    assert not _post(post).hidden and _post(post).hidden_reason is None
    changes = db.session.scalars(select(FeedbackStatusChange).order_by(FeedbackStatusChange.id)).all()
    assert [(c.from_status, c.to_status) for c in changes] == [("new", HIDDEN), (HIDDEN, "new")]
    audit = db.session.scalars(select(AuditEntry).where(AuditEntry.action.like("feedback.%"))
                               .order_by(AuditEntry.id)).all()
    assert [(a.action, a.target_type, a.target_id) for a in audit] == [
        ("feedback.hide", "feedbackpost", post.id), ("feedback.unhide", "feedbackpost", post.id)]
    assert all(str(people["employee"].id) not in str(a.details) for a in audit)


def test_hiding_needs_a_reason(app, ctx, people, channel, make_post):
    post = make_post(channel)
    with pytest.raises(ServiceError, match="Please say why"):
        services.hide(_user(people["project_group"]), _post(post), "")
    with pytest.raises(NotAllowed):
        services.hide(_user(people["employee"]), _post(post), "Weil")


# Reading ----------------------------------------------------------------------------------------

def test_channel_filters_search_and_sorting(app, ctx, people, channel, make_post, make_phase):
    other = make_phase("anderer-kanal")
    make_post(other, title="Anderer Kanal")
    a = make_post(channel, title="Scanner fehlt", kind="concern", voters=[people["manager"]],
                  created_on=date(2026, 1, 1))
    b = make_post(channel, title="Lob für die Schulung", kind="praise", status="answered",
                  created_on=date(2026, 2, 1))
    c = make_post(channel, title="Zweiter Bildschirm", body="Ein SCANNER wäre auch gut", kind="idea",
                  voters=[people["manager"], people["admin"]], created_on=date(2026, 1, 15))
    reader = _user(people["employee"])

    def ids(**filters):
        return [p.id for p in services.channel_page(reader, channel, **filters).page.items]

    assert ids() == [b.id, c.id, a.id]
    assert ids(sort="votes") == [c.id, a.id, b.id]
    assert ids(kind="praise") == [b.id]
    assert ids(status="open") == [c.id, a.id]
    assert ids(status="answered") == [b.id]
    assert ids(q="scanner") == [c.id, a.id]
    assert ids(q="100%_") == []
    assert ids(kind="nonsense", status="nonsense") == [b.id, c.id, a.id]
    assert ids(status=HIDDEN) == [b.id, c.id, a.id]  # not a filter for people outside the project group
    page = services.channel_page(_user(people["manager"]), channel, per_page=2, page=2)
    assert [p.id for p in page.page.items] == [a.id] and page.voted == {a.id}


def test_channels_count_open_visible_posts(app, ctx, people, channel, make_post, make_phase):
    empty = make_phase("leer", period="2027-H1")
    make_post(channel)
    make_post(channel, status="planned")
    make_post(channel, status="implemented")
    make_post(channel, hidden=True, hidden_reason="x")
    summary = {s.phase.slug: (s.open_posts, s.posts) for s in services.channels()}
    assert summary == {"general": (0, 0), channel.slug: (2, 3), empty.slug: (0, 0)}  # the general channel too


def test_top_open_posts_for_the_phase_page(app, ctx, people, channel, make_post):
    make_post(channel, title="Erledigt", status="implemented", voters=[people["manager"], people["admin"]])
    make_post(channel, title="Versteckt", hidden=True, hidden_reason="x", voters=[people["manager"]])
    top = make_post(channel, title="Oben", voters=[people["manager"]])
    second = make_post(channel, title="Darunter")
    result = services.top_open_posts(channel, limit=3)
    assert [p.id for p in result["posts"]] == [top.id, second.id] and result["open_count"] == 2


def test_you_said_we_did_lists_implemented_and_planned_posts_with_the_answer(app, ctx, people, channel, make_post):
    paul = _user(people["project_group"])
    done = make_post(channel, people["employee"], title="Schulung mit Beispielen", status="in_progress")
    with unit_of_work():
        services.comment(paul, _post(done), "Erste Antwort", official=True)
        services.comment(paul, _post(done), "Die Schulung enthält jetzt Übungsakten.", official=True)
        services.change_status(paul, _post(done), "implemented")
    planned = make_post(channel, title="Zweiter Monitor", status="under_review")
    with unit_of_work():
        services.change_status(paul, _post(planned), "planned", reason="Im Haushalt 2027 beantragt.")
    make_post(channel, title="Abgelehnt", status="declined")
    make_post(channel, title="Versteckt geplant", status="planned", hidden=True, hidden_reason="x")
    groups = services.you_said_we_did(channel)
    implemented, = groups[PostStatus.IMPLEMENTED]
    assert implemented.post.id == done.id and implemented.answer.body == "Die Schulung enthält jetzt Übungsakten."
    assert implemented.change.to_status == "implemented"
    planned_item, = groups[PostStatus.PLANNED]
    assert planned_item.post.id == planned.id and planned_item.answer is None
    assert planned_item.change.reason == "Im Haushalt 2027 beantragt."
    assert groups[PostStatus.IN_PROGRESS] == []


def test_roadmap_shows_open_feedback_per_phase(app, client, people, login, make_phase):
    from learning.feedback.models import FeedbackPost

    phase = make_phase("e-akte", title="E-Akte")
    with app.app_context():
        for status, hidden in [("new", False), ("planned", False), ("implemented", False), ("new", True)]:
            db.session.add(FeedbackPost(phase_id=phase.id, kind="idea", title=status, body="x", status=status,
                                        hidden=hidden, created_on=date(2026, 11, 1)))
        db.session.commit()
    login(client, "employee")
    page = client.get("/phases/").get_data(as_text=True)
    assert "2 open posts" in page  # implemented is closed; hidden posts are not counted
