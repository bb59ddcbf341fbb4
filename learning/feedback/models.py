"""Feedback channels: one per rollout phase and one general channel, with posts, votes, comments, a status history.

A post of the general channel belongs to no phase (``phase_id`` is NULL): questions about the
platform or the change as a whole. Its channel's slug in URLs is ``GENERAL_CHANNEL``.

Anonymity: an anonymous post stores no author and no exact time. ``author_id`` is NULL and
``created_at`` is NULL; only ``created_on``, the organisation's calendar day, is kept (for every
post, so that "newest first" sorts named and anonymous posts alike by day and then by id).
The sequential id, read together with the exact times of named posts around it, narrows down
when an anonymous post was written; that is accepted, and the id is therefore never logged
together with anything about the request that created it.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from learning.content import Profile, Rendering
from learning.db import db, utcnow
from learning.org.models import User
from learning.pagecache import Shown
from learning.phases.models import RolloutPhase

GENERAL_CHANNEL = "general"  # the URL slug of the channel that belongs to no phase
TITLE_MAX = 150
BODY_MAX = 5000
COMMENT_MAX = 3000
REASON_MAX = 1000


class PostKind(enum.StrEnum):
    QUESTION = "question"
    IDEA = "idea"
    CONCERN = "concern"
    PRAISE = "praise"

    @property
    def label(self) -> str:
        return str(KIND_LABELS[self])


KIND_LABELS = {
    PostKind.QUESTION: _l("Question"),
    PostKind.IDEA: _l("Idea"),
    PostKind.CONCERN: _l("Concern"),
    PostKind.PRAISE: _l("Praise"),
}


class PostStatus(enum.StrEnum):
    NEW = "new"
    UNDER_REVIEW = "under_review"
    ANSWERED = "answered"
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    IMPLEMENTED = "implemented"
    DECLINED = "declined"

    @property
    def label(self) -> str:
        return str(STATUS_LABELS[self])


STATUS_LABELS = {
    PostStatus.NEW: _l("New"),
    PostStatus.UNDER_REVIEW: _l("Under review"),
    PostStatus.ANSWERED: _l("Answered"),
    PostStatus.PLANNED: _l("Planned"),
    PostStatus.IN_PROGRESS: _l("In progress"),
    PostStatus.IMPLEMENTED: _l("Implemented"),
    PostStatus.DECLINED: _l("Declined"),
}

# A post in one of these states has had its answer (the "feedback closure rate" of the metrics).
CLOSED_STATUSES = frozenset({PostStatus.ANSWERED, PostStatus.IMPLEMENTED, PostStatus.DECLINED})
OPEN_STATUSES = frozenset(PostStatus) - CLOSED_STATUSES

# Moderation is recorded in the status history too, with this pseudo-state as ``to_status`` when a
# post is hidden and as ``from_status`` when it is shown again: events for the author only, never a
# post's status.
HIDDEN = "hidden"


class FeedbackPost(db.Model):
    __page_cache__ = Shown.EVERYONE

    __tablename__ = "feedback_post"

    id: Mapped[int] = mapped_column(primary_key=True)
    # NULL: the general channel, which belongs to no phase
    phase_id: Mapped[int | None] = mapped_column(ForeignKey("rollout_phase.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    title: Mapped[str] = mapped_column(String(TITLE_MAX))
    body: Mapped[str] = mapped_column(Text)  # Markdown
    body_html: Mapped[str] = mapped_column(Text, default="", server_default="")
    html_version: Mapped[int] = mapped_column(default=0, server_default="0")  # see learning.content
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)  # NULL when anonymous
    anonymous: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(20), default=PostStatus.NEW.value, index=True)
    hidden: Mapped[bool] = mapped_column(default=False)
    hidden_reason: Mapped[str | None] = mapped_column(String(REASON_MAX))
    vote_count: Mapped[int] = mapped_column(default=0)  # kept in step with feedback_vote in the same transaction
    created_on: Mapped[date] = mapped_column(index=True)  # the local calendar day, for every post
    created_at: Mapped[datetime | None]  # exact time for named posts only; NULL when anonymous

    phase: Mapped[RolloutPhase | None] = relationship()
    author: Mapped[User | None] = relationship()
    comments: Mapped[list[FeedbackComment]] = relationship(
        back_populates="post", order_by="FeedbackComment.id", cascade="all, delete-orphan", passive_deletes=True,
    )
    changes: Mapped[list[FeedbackStatusChange]] = relationship(
        back_populates="post", order_by="FeedbackStatusChange.id", cascade="all, delete-orphan",
        passive_deletes=True,
    )

    __rendered__ = {"body": Rendering(Profile.STAFF, top_heading=3)}

    def __str__(self) -> str:
        return self.title

    @property
    def channel_slug(self) -> str:
        """The slug of the post's channel in URLs: its phase's, or the general channel's."""
        return self.phase.slug if self.phase_id is not None else GENERAL_CHANNEL

    @property
    def kind_label(self) -> str:
        return str(KIND_LABELS.get(self.kind, self.kind))

    @property
    def status_label(self) -> str:
        return str(STATUS_LABELS.get(self.status, self.status))

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def is_author(self, user) -> bool:
        return self.author_id is not None and getattr(user, "id", None) == self.author_id


class FeedbackVote(db.Model):
    """One upvote per person and post; no time is stored (votes are not behaviour data)."""

    __page_cache__ = Shown.EVERYONE

    __tablename__ = "feedback_vote"
    __table_args__ = (UniqueConstraint("post_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("feedback_post.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)


class FeedbackComment(db.Model):
    """A comment on a post; ``official`` marks the answer of the project group."""

    __page_cache__ = Shown.EVERYONE

    __tablename__ = "feedback_comment"

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("feedback_post.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    body: Mapped[str] = mapped_column(Text)  # Markdown
    body_html: Mapped[str] = mapped_column(Text, default="", server_default="")
    html_version: Mapped[int] = mapped_column(default=0, server_default="0")  # see learning.content
    official: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    post: Mapped[FeedbackPost] = relationship(back_populates="comments")
    author: Mapped[User] = relationship()

    __rendered__ = {"body": Rendering(Profile.STAFF, top_heading=3)}


class FeedbackStatusChange(db.Model):
    """A status change or a moderation step: the event that notifications are made from.

    ``notified_at`` stays NULL until the reminders feature has delivered it; who is told is
    decided by ``learning.feedback.services.recipients_of``.
    """

    __page_cache__ = Shown.EVERYONE

    __tablename__ = "feedback_status_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("feedback_post.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[str] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text, default="")
    reason_html: Mapped[str] = mapped_column(Text, default="", server_default="")
    html_version: Mapped[int] = mapped_column(default=0, server_default="0")  # see learning.content
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    notified_at: Mapped[datetime | None] = mapped_column(index=True)

    post: Mapped[FeedbackPost] = relationship(back_populates="changes")
    changed_by: Mapped[User | None] = relationship()

    __rendered__ = {"reason": Rendering(Profile.STAFF, top_heading=3)}

    @property
    def is_moderation(self) -> bool:
        return HIDDEN in (self.from_status, self.to_status)

    @property
    def to_label(self) -> str:
        return str(STATUS_LABELS.get(self.to_status, self.to_status))

    @property
    def from_label(self) -> str:
        return str(STATUS_LABELS.get(self.from_status, self.from_status))


class FeedbackSubscription(db.Model):
    """Who is told about status changes: the named author, voters, and whoever follows the post."""

    __page_cache__ = Shown.PERSON

    __tablename__ = "feedback_subscription"
    __table_args__ = (UniqueConstraint("post_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("feedback_post.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
