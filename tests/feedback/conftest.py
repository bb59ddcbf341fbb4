"""Factories for feedback tests: a channel (a phase) and posts written straight into the database."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from learning.db import db, utcnow
from learning.feedback.models import FeedbackPost, FeedbackSubscription, FeedbackVote


@pytest.fixture
def channel(make_phase):
    return make_phase("e-akte", title="Elektronische Akte", title_en="Electronic files", period="2026-H1")


@pytest.fixture
def make_post(app):
    """A post; ``voters`` upvote it (and follow it), a named ``author`` follows it."""

    def factory(phase, author=None, *, title: str | None = None, body: str = "Ein Text.", kind: str = "idea",
                status: str = "new", hidden: bool = False, hidden_reason: str | None = None, voters=(),
                created_on: date | None = None) -> FeedbackPost:
        with app.app_context():
            post = FeedbackPost(
                phase_id=phase.id, kind=kind, title=title or f"Beitrag {uuid.uuid4().hex[:6]}", body=body,
                author_id=author.id if author else None, anonymous=author is None, status=status, hidden=hidden,
                hidden_reason=hidden_reason, vote_count=len(voters), created_on=created_on or date.today(),
                created_at=utcnow() if author else None,
            )
            db.session.add(post)
            db.session.flush()
            followers = {v.id for v in voters} | ({author.id} if author else set())
            db.session.add_all(FeedbackVote(post_id=post.id, user_id=v.id) for v in voters)
            db.session.add_all(FeedbackSubscription(post_id=post.id, user_id=u) for u in followers)
            db.session.commit()
            db.session.refresh(post)
            db.session.expunge(post)
            return post

    return factory
