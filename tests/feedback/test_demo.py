"""The demo feedback: realistic posts whose history follows the workflow."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from learning.db import db
from learning.feedback import services
from learning.feedback.models import FeedbackPost, FeedbackStatusChange, FeedbackVote, PostStatus
from learning.phases.models import RolloutPhase


def test_demo_feedback(app):
    from learning.demo.data import load_demo
    from learning.demo.feedback import load_feedback

    today = date(2026, 5, 14)
    with app.app_context():
        load_demo(today)
        phases = {p.slug: p for p in db.session.scalars(select(RolloutPhase))}
        if not db.session.scalar(select(func.count()).select_from(FeedbackPost)):  # until data.py calls it
            assert load_feedback(today, phases) == {"feedback_posts": 14}
        posts = db.session.scalars(select(FeedbackPost)).all()
        assert 8 <= len(posts) <= 14
        assert sum(p.phase_id is None for p in posts) == 2  # the general channel
        assert {p.kind for p in posts} == {"question", "idea", "concern", "praise"}
        anonymous = [p for p in posts if p.anonymous]
        assert anonymous and all(p.author_id is None and p.created_at is None for p in anonymous)
        assert len({p.author_id for p in posts if p.author_id}) >= 5
        votes = dict(db.session.execute(
            select(FeedbackVote.post_id, func.count()).group_by(FeedbackVote.post_id)).all())
        assert all(p.vote_count == votes.get(p.id, 0) for p in posts)
        assert all(p.created_on <= today for p in posts)
        for post in posts:
            status = "new"
            for change in post.changes:
                assert change.from_status == status
                assert PostStatus(change.to_status) in services.TRANSITIONS[PostStatus(status)]
                assert change.to_status != "declined" or change.reason
                assert change.changed_at.date() <= today
                status = change.to_status
            assert post.status == status
        assert db.session.scalar(select(func.count()).select_from(FeedbackStatusChange)
                                 .where(FeedbackStatusChange.notified_at.is_(None))) >= 1
        for slug in ("e-akte", "onlinedienste"):
            groups = services.you_said_we_did(phases[slug])
            items = groups[PostStatus.IMPLEMENTED] + groups[PostStatus.PLANNED]
            assert items and all(item.answer is not None for item in items), slug
