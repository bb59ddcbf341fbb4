"""Feedback status changes: the followers of a post hear about its new status (the author about moderation).

Who is told is decided by ``learning.feedback.services.recipients_of``. A change is handed to the
outbox once: planning sets ``FeedbackStatusChange.notified_at`` for every change it looked at (also
when nobody is to be told, e.g. for an anonymous post), so a change is never planned twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from learning.db import db
from learning.feedback.models import HIDDEN, STATUS_LABELS, FeedbackPost, FeedbackStatusChange, FeedbackSubscription
from learning.feedback.services import recipients_of
from learning.messaging.reminders import Entry, Pending, PlanContext, Planned, reminder_kind

# Changes older than this that were never planned (the scheduler was off for weeks) are not announced late.
LATEST_DAYS = 14

status_changed = reminder_kind(
    "feedback.status_changed", label=_l("Feedback you follow"), order=30, lookback_days=LATEST_DAYS + 1,
    description=_l("When feedback you wrote, voted for or follow gets a new status."))


@status_changed.planner
def plan_status_changes(ctx: PlanContext) -> list[Planned]:
    changes = db.session.scalars(
        select(FeedbackStatusChange)
        .where(FeedbackStatusChange.notified_at.is_(None),
               FeedbackStatusChange.changed_at >= ctx.now - timedelta(days=LATEST_DAYS),
               FeedbackStatusChange.changed_at <= ctx.now)
        .options(joinedload(FeedbackStatusChange.post))
        .order_by(FeedbackStatusChange.id)
    ).all()
    ctx.notes["feedback_changes"] = [change.id for change in changes]
    planned = []
    for change in changes:  # one query per change: only the changes since the last plan, a handful
        for user_id in recipients_of(change):
            planned.append(Planned(user_id, f"feedback:{change.post_id}", f"change:{change.id}",
                                   {"post_id": change.post_id, "change_id": change.id, "to_status": change.to_status}))
    return planned


@status_changed.planned
def mark_changes_notified(ctx: PlanContext, planned: list[Planned]) -> None:
    ids = ctx.notes.get("feedback_changes") or []
    if ids:
        db.session.execute(update(FeedbackStatusChange).where(FeedbackStatusChange.id.in_(ids))
                           .values(notified_at=ctx.now))


@status_changed.checker
def status_change_still_due(items: Sequence[Pending], ctx: PlanContext) -> dict[int, dict]:
    """The post is still there and the person still follows it (or, for moderation, is its author)."""
    change_ids = {item.payload.get("change_id") for item in items}
    changes = {c.id: c for c in db.session.scalars(
        select(FeedbackStatusChange).where(FeedbackStatusChange.id.in_(change_ids))
        .options(joinedload(FeedbackStatusChange.post).joinedload(FeedbackPost.phase)))}
    post_ids = {c.post_id for c in changes.values()}
    following = {(post_id, user_id) for post_id, user_id in db.session.execute(
        select(FeedbackSubscription.post_id, FeedbackSubscription.user_id)
        .where(FeedbackSubscription.post_id.in_(post_ids)))} if post_ids else set()
    result = {}
    for item in items:
        change = changes.get(item.payload.get("change_id"))
        if change is None:
            continue
        post = change.post
        if change.is_moderation or post.hidden:
            if post.author_id != item.user_id:
                continue
        elif (post.id, item.user_id) not in following:
            continue
        result[item.id] = {"post_id": post.id, "channel": post.channel_slug, "title": post.title,
                           "from_status": change.from_status, "to_status": change.to_status,
                           "reason": change.reason or ""}
    return result


def _label(status: str) -> str:
    return str(STATUS_LABELS.get(status, status))


@status_changed.describer
def describe_status_change(details: dict, today: date) -> Entry:
    if details["to_status"] == HIDDEN:
        detail = _("Your post was hidden by the moderation. Reason: %(reason)s", reason=details["reason"])
    elif details["from_status"] == HIDDEN:
        detail = _("Your post is visible again.")
    else:
        detail = _("New status: %(status)s (before: %(before)s).", status=_label(details["to_status"]),
                   before=_label(details["from_status"]))
        if details.get("reason"):
            detail += " " + _("Reason: %(reason)s", reason=details["reason"])
    return Entry(title=details["title"], detail=detail, endpoint="feedback.post",
                 values={"channel": details["channel"], "post_id": details["post_id"]})
