"""Retention of reminders: finished outbox rows and read or done notifications expire like other individual logs.

Registered with ``learning.transparency.retention`` under the admins' setting
``retention.individual_logs_days``. An outbox row is kept at least as long as its key could be
planned again (``retention_floor_days``), so that deleting it can never bring a reminder back.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, not_, or_, select

from learning.db import db, utcnow
from learning.messaging.models import FINAL_STATUSES, Outbox
from learning.messaging.reminders import retention_floor_days
from learning.notifications.models import Notification
from learning.transparency.retention import retention_rule


def _count_or_delete(model, condition, dry_run: bool) -> int:
    if dry_run:
        return db.session.scalar(select(func.count()).select_from(model).where(condition)) or 0
    return db.session.execute(delete(model).where(condition)).rowcount or 0


@retention_rule("outbox", "retention.individual_logs_days")
def purge_outbox(cutoff: datetime, dry_run: bool) -> int:
    cutoff = min(cutoff, utcnow() - timedelta(days=retention_floor_days()))
    return _count_or_delete(Outbox, Outbox.status.in_([s.value for s in FINAL_STATUSES]) & (Outbox.planned_at < cutoff),
                            dry_run)


@retention_rule("notifications", "retention.individual_logs_days")
def purge_notifications(cutoff: datetime, dry_run: bool) -> int:
    """Read notifications, and unread ones whose work is done (no longer shown), once older than the cutoff."""
    from learning.i18n import local_today
    from learning.notifications.services import still_relevant

    finished = or_(Notification.read_at.is_not(None), not_(still_relevant(local_today())))
    return _count_or_delete(Notification, finished & (Notification.created_at < cutoff), dry_run)
