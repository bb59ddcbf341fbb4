"""Metric sources of feedback: posts closed and the time to a first response (organisation-wide)."""

from __future__ import annotations

from datetime import date, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from learning.db import db
from learning.feedback.models import CLOSED_STATUSES, FeedbackComment, FeedbackPost, FeedbackStatusChange
from learning.metrics.models import ORGANISATION
from learning.metrics.services import Metric, Tally, Value, end_of_day, metric_source
from learning.org.models import UserRole
from learning.roles import Role

CLOSURE = Metric("feedback.closure", _l("Feedback closed"), "percent", True,
                 _l("Posts answered, implemented or declined with a reason, out of all visible posts."),
                 per_unit=False)
FIRST_RESPONSE = Metric("feedback.first_response", _l("Time to first response"), "hours", False,
                        _l("Median hours from a post to the project group's first official answer or "
                           "status change (anonymous posts from the start of their day)."), per_unit=False)


@metric_source(CLOSURE, FIRST_RESPONSE, order=30)
def feedback(day: date) -> list[Value]:
    """Organisation-wide per phase (posts may be anonymous, so never per unit); three queries."""
    end = end_of_day(day)
    posts = db.session.execute(
        select(FeedbackPost.id, FeedbackPost.phase_id, FeedbackPost.created_on, FeedbackPost.created_at)
        .where(FeedbackPost.created_on <= day, FeedbackPost.hidden.is_(False))
    ).all()
    if not posts:
        return []
    status: dict[int, str] = {}
    first_answer: dict[int, object] = {}
    for post_id, to_status, changed_at in db.session.execute(
        select(FeedbackStatusChange.post_id, FeedbackStatusChange.to_status, FeedbackStatusChange.changed_at)
        .where(FeedbackStatusChange.changed_at < end)
        .order_by(FeedbackStatusChange.changed_at, FeedbackStatusChange.id)
    ):
        status[post_id] = to_status
        first_answer.setdefault(post_id, changed_at)
    moderators = select(UserRole.user_id).where(UserRole.role.in_([Role.PROJECT_GROUP.value, Role.ADMIN.value]))
    for post_id, created_at in db.session.execute(
        select(FeedbackComment.post_id, func.min(FeedbackComment.created_at))
        .where(FeedbackComment.official | FeedbackComment.author_id.in_(moderators), FeedbackComment.created_at < end)
        .group_by(FeedbackComment.post_id)
    ):
        if post_id not in first_answer or created_at < first_answer[post_id]:
            first_answer[post_id] = created_at
    tally, waits = Tally(), Tally()
    organisation = [ORGANISATION]
    for post_id, phase_id, created_on, created_at in posts:
        closed = status.get(post_id) in CLOSED_STATUSES
        tally.count(phase_id, organisation, posts=1, closed=int(closed))
        if post_id in first_answer:
            start = created_at or end_of_day(created_on - timedelta(days=1))
            waits.sample(phase_id, organisation, max(0.0, (first_answer[post_id] - start).total_seconds() / 3600))
    return tally.rates(CLOSURE.key, "closed", "posts") + waits.medians(FIRST_RESPONSE.key)
