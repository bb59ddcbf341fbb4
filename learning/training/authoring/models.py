"""Authoring records: a course's draft, its editors, its reviews and its published versions."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from learning.db import TimestampMixin, db, utcnow
from learning.org.models import User
from learning.pagecache import Shown
from learning.training.models import Course


class ReviewState(enum.StrEnum):
    EDITING = "editing"  # being written; nobody asked for a review
    IN_REVIEW = "in_review"  # an editor asked for a review (the four-eyes rule)


class CourseDraft(TimestampMixin, db.Model):
    """The authoring record of a course edited in the browser (one per course, kept after publishing).

    ``document`` holds the unpublished course as ``dataclasses.asdict(CourseSpec)``; ``None`` means the draft
    equals the published version. ``revisions`` counts saves per part ("settings", "lesson:<slug>", "quiz")
    for the optimistic lock: a save names the revision it started from and is refused if another came first.
    ``lock_version`` makes two simultaneous saves of the same row fail instead of one overwriting the other.
    """

    __page_cache__ = Shown.NOWHERE

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)  # the course's slug, reserved at creation
    course_id: Mapped[int | None] = mapped_column(ForeignKey("course.id"), unique=True)  # None: never published
    document: Mapped[dict | None] = mapped_column(JSON)
    revisions: Mapped[dict] = mapped_column(JSON, default=dict)
    base_version: Mapped[int] = mapped_column(default=0)  # the version the draft started from; 0: none yet
    review_state: Mapped[str] = mapped_column(String(20), default=ReviewState.EDITING)
    # Who asked for the review and when (the review notices are about this request; None: nobody asked).
    review_requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    review_requested_at: Mapped[datetime | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    lock_version: Mapped[int] = mapped_column(default=1)

    course: Mapped[Course | None] = relationship()
    editors: Mapped[list[CourseEditor]] = relationship(back_populates="draft", cascade="all, delete-orphan")
    versions: Mapped[list[CourseVersion]] = relationship(
        back_populates="draft", order_by="CourseVersion.number.desc()", cascade="all, delete-orphan")
    reviews: Mapped[list[DraftReview]] = relationship(
        back_populates="draft", order_by="DraftReview.created_at", cascade="all, delete-orphan")

    __mapper_args__ = {"version_id_col": lock_version}

    @property
    def title(self) -> str:
        if self.document:
            return self.document.get("title") or self.slug
        return self.course.title if self.course else self.slug

    @property
    def has_changes(self) -> bool:
        return self.document is not None


class CourseEditor(db.Model):
    """A person named on a course as its editor (an author may edit only the courses naming them)."""

    __page_cache__ = Shown.NOWHERE

    draft_id: Mapped[int] = mapped_column(ForeignKey("course_draft.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True, index=True)
    added_at: Mapped[datetime] = mapped_column(default=utcnow)

    draft: Mapped[CourseDraft] = relationship(back_populates="editors")
    user: Mapped[User] = relationship()


class CourseVersion(db.Model):
    """A published version: immutable; who, when, what changed, and the course as it was published."""

    __page_cache__ = Shown.NOWHERE
    __table_args__ = (UniqueConstraint("draft_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("course_draft.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    spec: Mapped[dict] = mapped_column(JSON)  # dataclasses.asdict(CourseSpec) as published
    summary: Mapped[str] = mapped_column(Text, default="")
    # Completed learners must take the course again (e.g. a changed legal requirement).
    substantive: Mapped[bool] = mapped_column(default=False)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    published_at: Mapped[datetime] = mapped_column(default=utcnow)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    draft: Mapped[CourseDraft] = relationship(back_populates="versions")
    published_by: Mapped[User | None] = relationship(foreign_keys=[published_by_id])
    approved_by: Mapped[User | None] = relationship(foreign_keys=[approved_by_id])


class ReviewKind(enum.StrEnum):
    COMMENT = "comment"
    APPROVAL = "approval"  # valid only for the draft it saw (``content_hash``)


class DraftReview(db.Model):
    """A reviewer's comment on a draft or approval of it."""

    __page_cache__ = Shown.NOWHERE

    id: Mapped[int] = mapped_column(primary_key=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("course_draft.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(20))
    body: Mapped[str] = mapped_column(Text, default="")
    content_hash: Mapped[str | None] = mapped_column(String(64))  # the draft document's hash when approved
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    draft: Mapped[CourseDraft] = relationship(back_populates="reviews")
    author: Mapped[User | None] = relationship()
