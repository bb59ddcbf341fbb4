"""Change announcements: versioned Markdown texts for an audience, acknowledgements and feed tokens."""

from __future__ import annotations

import enum
import secrets
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from learning.content import Profile, Rendering
from learning.db import TimestampMixin, db, utcnow
from learning.org.audience import AudienceKind, Person, matches
from learning.org.models import User
from learning.pagecache import Shown
from learning.phases.models import RolloutPhase


class AnnouncementStatus(enum.StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    PUBLISHED = "published"
    WITHDRAWN = "withdrawn"


class Announcement(TimestampMixin, db.Model):
    __page_cache__ = Shown.EVERYONE

    __tablename__ = "announcement"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text, default="", server_default="")
    html_version: Mapped[int] = mapped_column(default=0, server_default="0")  # see learning.content
    phase_id: Mapped[int | None] = mapped_column(ForeignKey("rollout_phase.id"), index=True)  # None: programme
    audience: Mapped[str] = mapped_column(String(20), default=AudienceKind.EVERYONE.value)
    # ids of departments or teams, or role names, depending on ``audience``
    audience_values: Mapped[list] = mapped_column(JSON, default=list)
    publish_at: Mapped[datetime | None] = mapped_column(index=True)  # None: a draft
    pinned: Mapped[bool] = mapped_column(default=False)
    requires_ack: Mapped[bool] = mapped_column(default=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    version: Mapped[int] = mapped_column(default=1)
    # The version since which acknowledgements count: raised by a substantive change.
    substantive_version: Mapped[int] = mapped_column(default=1)
    withdrawn_at: Mapped[datetime | None]

    phase: Mapped[RolloutPhase | None] = relationship()
    created_by: Mapped[User | None] = relationship()
    versions: Mapped[list[AnnouncementVersion]] = relationship(
        back_populates="announcement", order_by="AnnouncementVersion.version", cascade="all, delete-orphan"
    )

    __rendered__ = {"body": Rendering(Profile.EDITORIAL, top_heading=2)}

    def __str__(self) -> str:
        return self.title

    def status(self, now: datetime | None = None) -> AnnouncementStatus:
        if self.withdrawn_at is not None:
            return AnnouncementStatus.WITHDRAWN
        if self.publish_at is None:
            return AnnouncementStatus.DRAFT
        if self.publish_at > (now or utcnow()):
            return AnnouncementStatus.SCHEDULED
        return AnnouncementStatus.PUBLISHED

    def is_published(self, now: datetime | None = None) -> bool:
        return self.status(now) == AnnouncementStatus.PUBLISHED

    def addresses(self, person: Person) -> bool:
        """Whether the person belongs to the announcement's audience (publication aside; no phase audience)."""
        return self.audience != AudienceKind.PHASE and matches(self.audience, self.audience_values, person)

    def is_acknowledged_by(self, acknowledged_version: int | None) -> bool:
        """Whether an acknowledgement of ``acknowledged_version`` covers the current text."""
        return acknowledged_version is not None and acknowledged_version >= self.substantive_version


class AnnouncementVersion(db.Model):
    """The text of one version; the row of the current version is always there."""

    __page_cache__ = Shown.EVERYONE

    __tablename__ = "announcement_version"
    __table_args__ = (UniqueConstraint("announcement_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    announcement_id: Mapped[int] = mapped_column(ForeignKey("announcement.id", ondelete="CASCADE"))
    version: Mapped[int]
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text, default="", server_default="")
    html_version: Mapped[int] = mapped_column(default=0, server_default="0")  # see learning.content
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    substantive: Mapped[bool] = mapped_column(default=False)
    reason: Mapped[str] = mapped_column(String(500), default="")

    announcement: Mapped[Announcement] = relationship(back_populates="versions")

    __rendered__ = {"body": Rendering(Profile.EDITORIAL, top_heading=2)}
    changed_by: Mapped[User | None] = relationship()


class Acknowledgement(db.Model):
    """"Read and understood": one row per person and announcement, holding the version acknowledged last."""

    __page_cache__ = Shown.PERSON

    __tablename__ = "announcement_acknowledgement"
    __table_args__ = (UniqueConstraint("announcement_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    announcement_id: Mapped[int] = mapped_column(ForeignKey("announcement.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    version: Mapped[int]
    acknowledged_at: Mapped[datetime] = mapped_column(default=utcnow)


def new_feed_token() -> str:
    return secrets.token_urlsafe(32)


class FeedToken(db.Model):
    """The secret part of a person's feed address; whoever knows it reads that person's announcements."""

    __page_cache__ = Shown.PERSON

    __tablename__ = "announcement_feed_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), unique=True)
    token: Mapped[str] = mapped_column(String(64), unique=True, default=new_feed_token)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship()
