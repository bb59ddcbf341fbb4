"""Retention of reminders: finished outbox rows expire like other individual logs.

Registered with ``learning.transparency.retention`` under the admins' setting
``retention.individual_logs_days``. An outbox row is kept at least as long as its key could be
planned again (``retention_floor_days``), so that deleting it can never bring a reminder back.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select

from learning.db import db, utcnow
from learning.messaging.models import FINAL_STATUSES, Outbox
from learning.messaging.reminders import retention_floor_days
from learning.transparency.retention import retention_rule


def _count_or_delete(model, condition, dry_run: bool) -> int:
    if dry_run:
        return db.session.scalar(select(func.count()).select_from(model).where(condition)) or 0
    return db.session.execute(delete(model).where(condition)).rowcount or 0


@retention_rule("outbox", "retention.individual_logs_days", order=40)
def purge_outbox(cutoff: datetime, dry_run: bool) -> int:
    cutoff = min(cutoff, utcnow() - timedelta(days=retention_floor_days()))
    return _count_or_delete(Outbox, Outbox.status.in_([s.value for s in FINAL_STATUSES]) & (Outbox.planned_at < cutoff),
                            dry_run)
