"""Retention: delete raw individual records after the periods admins set; aggregates stay.

Each feature registers what it keeps for a limited time with ``@retention_rule(name, setting_key,
order=...)`` in its module ``learning/<feature>/retention.py`` (found by ``learning.plugins``):
a function ``(cutoff, dry_run) -> number of rows deleted`` (or counted when ``dry_run``), where
``cutoff`` is the instant before which records expire. The daily job and ``flask retention run``
call ``apply_retention``; every run with deletions is written to the audit log, rules in their
``order``. Mail captured instead of sent (``learning.mail``, shared by every feature) is kept here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select

from learning.audit.services import record
from learning.db import db, utcnow
from learning.mail import CapturedMail
from learning.plugins import discover
from learning.settings.services import setting


@dataclass(frozen=True)
class RetentionRule:
    name: str
    setting_key: str
    purge: Callable[[datetime, bool], int]
    order: int = 50


RULES: list[RetentionRule] = []  # in their order: read it after ``discover()``


def retention_rule(name: str, setting_key: str, order: int = 50):
    """Register ``purge(cutoff, dry_run) -> rows`` under ``name``, expiring after the days of ``setting_key``."""

    def register(purge):
        RULES.append(RetentionRule(name, setting_key, purge, order))
        RULES.sort(key=lambda rule: (rule.order, rule.name))
        return purge

    return register


def purge_older(model, column, cutoff: datetime, dry_run: bool) -> int:
    """Delete (or, in a dry run, count) the rows of ``model`` whose ``column`` lies before ``cutoff``."""
    if dry_run:
        return db.session.scalar(select(func.count()).select_from(model).where(column < cutoff)) or 0
    return db.session.execute(delete(model).where(column < cutoff)).rowcount or 0


@retention_rule("captured_mail", "retention.individual_logs_days", order=20)
def purge_captured_mail(cutoff: datetime, dry_run: bool) -> int:
    return purge_older(CapturedMail, CapturedMail.created_at, cutoff, dry_run)


def apply_retention(now: datetime | None = None, dry_run: bool = False) -> dict[str, int]:
    """Delete (or count) every expired record, audited when anything went; flushed.

    The caller's unit of work commits. A dry run changes nothing; its caller opens no unit of work,
    so nothing a rule did by mistake could be committed either.
    """
    discover()
    now = now or utcnow()
    counts = {}
    for rule in RULES:
        cutoff = now - timedelta(days=setting(rule.setting_key))
        counts[rule.name] = rule.purge(cutoff, dry_run)
    if not dry_run and any(counts.values()):
        record(None, "retention.applied", None, ", ".join(f"{k}: {v}" for k, v in counts.items() if v), **counts)
        db.session.flush()
    return counts
