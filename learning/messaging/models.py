"""The outbox of reminders (mail captured when no SMTP server is configured is ``learning.mail.CapturedMail``)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from learning.db import db, utcnow
from learning.org.models import User
from learning.pagecache import Shown


class OutboxStatus(enum.StrEnum):
    QUEUED = "queued"      # waiting for its time: the next digest, the mail hours, a retry
    SENDING = "sending"    # claimed by a sender until ``lease_until``; a lapsed lease makes it claimable again,
    #                        unless ``message_id`` is set: the mail was handed to the server (never sent twice)
    SENT = "sent"          # delivered (in a mail of its own or in a digest); outcome "not confirmed": handed over,
    #                        but the server's answer never came
    DROPPED = "dropped"    # not sent on purpose: work done, opted out, person gone (``outcome`` says why)
    FAILED = "failed"      # refused by the mail server too often; an admin can retry it


FINAL_STATUSES = (OutboxStatus.SENT, OutboxStatus.DROPPED, OutboxStatus.FAILED)


class Outbox(db.Model):
    """One reminder for one person; the UNIQUE key makes planning idempotent.

    ``subject_key`` names what the reminder is about (``assignment:17``) and ``period_key`` which
    occurrence it is (``overdue:2026-03-01:2``): re-running a plan, or two schedulers planning at
    once, can never queue the same reminder twice.
    """

    __page_cache__ = Shown.NOWHERE

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("user_id", "kind", "subject_key", "period_key"),
        Index("ix_outbox_status_next_attempt_at", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(60))
    subject_key: Mapped[str] = mapped_column(String(120))
    period_key: Mapped[str] = mapped_column(String(60))
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    # A mandatory reminder (overdue mandatory training, escalations) ignores the person's opt-outs.
    mandatory: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(10), default=OutboxStatus.QUEUED.value)
    planned_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(default=0)   # times the mail server refused this message
    deferrals: Mapped[int] = mapped_column(default=0)  # times the mail server could not be reached
    claimed_by: Mapped[str | None] = mapped_column(String(120))
    lease_until: Mapped[datetime | None]
    notified_at: Mapped[datetime | None]  # when the in-app notification was created
    sent_at: Mapped[datetime | None] = mapped_column(index=True)
    message_id: Mapped[str | None] = mapped_column(String(200))
    outcome: Mapped[str | None] = mapped_column(String(40))  # why dropped or failed; sent but "not confirmed"
    last_error: Mapped[str | None] = mapped_column(Text)

    user: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<Outbox {self.id} {self.kind} {self.subject_key} {self.period_key} {self.status}>"
