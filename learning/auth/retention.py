"""Retention of signed-in devices: a device unused for as long as "stay signed in" lasts is signed out
anyway (``load_user`` refuses it); the nightly retention run deletes its row. Registered with
``learning.transparency.retention`` under ``retention.individual_logs_days``: a shorter setting than
the idle limit deletes devices (and so signs them out) earlier.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select

from learning.auth.devices import idle_days
from learning.auth.models import DeviceSession
from learning.db import db
from learning.i18n import local_today
from learning.transparency.retention import retention_rule


@retention_rule("device_sessions", "retention.individual_logs_days", order=30)
def purge_device_sessions(cutoff: datetime, dry_run: bool) -> int:
    day = max(cutoff.date(), local_today() - timedelta(days=idle_days()))
    condition = DeviceSession.last_seen_on < day
    if dry_run:
        return db.session.scalar(select(func.count()).select_from(DeviceSession).where(condition)) or 0
    return db.session.execute(delete(DeviceSession).where(condition)).rowcount or 0
