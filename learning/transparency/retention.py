"""Retention: delete raw individual records after the periods admins set; aggregates stay.

Each feature registers what it keeps for a limited time with ``@retention_rule(setting_key)``:
a function ``(cutoff) -> number of rows deleted`` (or counted when ``dry_run``), where ``cutoff``
is the instant before which records expire. The daily job and ``flask retention run`` call
``apply_retention``; every run with deletions is written to the audit log.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select

from learning.audit.models import AuditEntry
from learning.audit.services import record
from learning.db import db, utcnow
from learning.messaging.models import CapturedMail
from learning.settings.services import setting


@dataclass(frozen=True)
class RetentionRule:
    name: str
    setting_key: str
    purge: Callable[[datetime, bool], int]


RULES: list[RetentionRule] = []


def retention_rule(name: str, setting_key: str):
    def register(purge):
        RULES.append(RetentionRule(name, setting_key, purge))
        return purge

    return register


def _purge(model, column, cutoff: datetime, dry_run: bool) -> int:
    if dry_run:
        return db.session.scalar(select(func.count()).select_from(model).where(column < cutoff)) or 0
    return db.session.execute(delete(model).where(column < cutoff)).rowcount or 0


@retention_rule("audit_log", "retention.audit_days")
def purge_audit_log(cutoff: datetime, dry_run: bool) -> int:
    return _purge(AuditEntry, AuditEntry.at, cutoff, dry_run)


@retention_rule("captured_mail", "retention.individual_logs_days")
def purge_captured_mail(cutoff: datetime, dry_run: bool) -> int:
    return _purge(CapturedMail, CapturedMail.created_at, cutoff, dry_run)


def apply_retention(now: datetime | None = None, dry_run: bool = False) -> dict[str, int]:
    """Delete (or count) every expired record, audited when anything went; flushed.

    The caller's unit of work commits. A dry run changes nothing; its caller opens no unit of work,
    so nothing a rule did by mistake could be committed either.
    """
    now = now or utcnow()
    counts = {}
    for rule in RULES:
        cutoff = now - timedelta(days=setting(rule.setting_key))
        counts[rule.name] = rule.purge(cutoff, dry_run)
    if not dry_run and any(counts.values()):
        record(None, "retention.applied", None, ", ".join(f"{k}: {v}" for k, v in counts.items() if v), **counts)
        db.session.flush()
    return counts
