"""Signed-in devices: one row per sign-in, named by the cookies of that browser."""

from __future__ import annotations

from datetime import date

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from learning.db import db
from learning.pagecache import Shown


class DeviceSession(db.Model):
    """A browser signed in to an account; deleting the row signs that browser out for good.

    The session cookie and the "stay signed in" cookie carry a random token; only its SHA-256
    is stored. What is kept about the device is coarse on purpose: browser and system family
    (from the user agent, no version, no address) and two days, not times.
    """

    __page_cache__ = Shown.NOWHERE

    __tablename__ = "device_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    browser: Mapped[str | None] = mapped_column(String(40))
    system: Mapped[str | None] = mapped_column(String(40))
    signed_in_on: Mapped[date]
    last_seen_on: Mapped[date] = mapped_column(index=True)
