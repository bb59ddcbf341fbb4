"""Retention of the audit log: entries older than the admins' ``retention.audit_days`` are deleted."""

from __future__ import annotations

from datetime import datetime

from learning.audit.models import AuditEntry
from learning.transparency.retention import purge_older, retention_rule


@retention_rule("audit_log", "retention.audit_days", order=10)
def purge_audit_log(cutoff: datetime, dry_run: bool) -> int:
    return purge_older(AuditEntry, AuditEntry.at, cutoff, dry_run)
