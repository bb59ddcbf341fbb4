"""URL argument values for the access matrix: a feedback channel and a visible post in it."""

from __future__ import annotations

from datetime import date


def samples(app, people) -> dict:
    from learning.db import db
    from learning.feedback.models import FeedbackPost
    from learning.phases.models import RolloutPhase

    with app.app_context():
        phase = RolloutPhase(slug="feedback-zugang", title="Feedback-Zugang", period="2026-H1")
        db.session.add(phase)
        db.session.flush()
        post = FeedbackPost(phase_id=phase.id, kind="idea", title="Eine Idee", body="Text",
                            author_id=people["employee"].id, created_on=date(2026, 1, 5))
        db.session.add(post)
        db.session.commit()
        return {"channel": phase.slug, "post_id": post.id}
