"""Stored values of runtime settings; a setting without a row has its default."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from learning.db import db, utcnow
from learning.pagecache import SETTINGS_SCOPE, Shown


class PlatformSetting(db.Model):
    __page_cache__ = Shown.EVERYONE
    __page_cache_scope__ = SETTINGS_SCOPE  # and the settings' own counter: every worker reads them anew

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    value: Mapped[object] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
