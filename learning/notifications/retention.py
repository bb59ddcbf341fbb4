"""Retention of notifications: read ones, and unread ones whose work is done, expire like other individual logs.

Registered with ``learning.transparency.retention`` under the admins' setting ``retention.individual_logs_days``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, not_, or_, select

from learning.db import db
from learning.i18n import local_today
from learning.notifications.models import Notification
from learning.notifications.services import still_relevant
from learning.transparency.retention import retention_rule


@retention_rule("notifications", "retention.individual_logs_days", order=45)
def purge_notifications(cutoff: datetime, dry_run: bool) -> int:
    """Read notifications, and unread ones whose work is done (no longer shown), once older than the cutoff."""
    finished = or_(Notification.read_at.is_not(None), not_(still_relevant(local_today())))
    condition = finished & (Notification.created_at < cutoff)
    if dry_run:
        return db.session.scalar(select(func.count()).select_from(Notification).where(condition)) or 0
    return db.session.execute(delete(Notification).where(condition)).rowcount or 0
