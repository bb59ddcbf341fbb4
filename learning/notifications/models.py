"""In-app notifications and each person's reminder preferences (with the secret calendar address)."""

from __future__ import annotations

import enum
import secrets
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from learning.db import db, utcnow
from learning.pagecache import Shown


class Digest(enum.StrEnum):
    IMMEDIATE = "immediate"
    DAILY = "daily"
    WEEKLY = "weekly"


class Notification(db.Model):
    """A reminder shown in the notification centre; made from an outbox row when it is delivered.

    ``details`` is what the reminder kind's re-check found at that moment; the text is rendered
    from it in the reader's language each time the list is shown (no query per item).
    """

    __page_cache__ = Shown.PERSON

    __tablename__ = "notification"
    __table_args__ = (Index("ix_notification_user_id_read_at", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(60))
    subject_key: Mapped[str] = mapped_column(String(120))  # what it is about: a newer one replaces it
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id", ondelete="SET NULL"), unique=True)
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]


def new_calendar_token() -> str:
    return secrets.token_urlsafe(32)


class NotificationPreference(db.Model):
    """How a person wants reminders; a person without a row has the configured defaults."""

    __page_cache__ = Shown.PERSON

    __tablename__ = "notification_preference"

    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    digest: Mapped[str | None] = mapped_column(String(10))  # None: the configured default
    muted_kinds: Mapped[list] = mapped_column(JSON, default=list)  # optional reminder kinds switched off
    # The secret part of the personal calendar address; renewing it makes the old address stop working.
    calendar_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    calendar_token_created_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
