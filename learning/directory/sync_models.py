"""What directory sync remembers about a person between runs: since when they are missing, and why."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from learning.db import db
from learning.pagecache import Shown


class DirectorySyncState(db.Model):
    """A synced person's lifecycle state: deactivation waits for the grace period after ``missing_since``.

    ``missing_since`` is when a sync first found the person disabled in the directory or out of the
    sync's scope (cleared when they are back); ``deactivated_by_sync`` marks a deactivation the sync
    made, which is the only kind it undoes when the person returns (an administrator's stays).
    """

    __page_cache__ = Shown.NOWHERE  # no page but the sync's admin page shows it
    __tablename__ = "directory_sync_state"

    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    missing_since: Mapped[datetime | None]
    missing_reason: Mapped[str] = mapped_column(String(20), default="")
    deactivated_by_sync: Mapped[bool] = mapped_column(default=False)
