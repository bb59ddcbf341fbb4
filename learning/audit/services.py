"""Record audit entries; the caller's unit of work commits them together with the change they describe."""

from __future__ import annotations

from learning.audit.models import AuditEntry
from learning.db import db, unit_of_work


def record(actor, action: str, target=None, summary: str = "", **details) -> AuditEntry:
    """Add an audit entry to the session (committed by the caller's unit of work)."""
    entry = AuditEntry(
        actor_id=getattr(actor, "id", None),
        action=action,
        target_type=type(target).__name__.lower() if target is not None else None,
        target_id=getattr(target, "id", None),
        summary=summary[:500],
        details=details,
    )
    db.session.add(entry)
    return entry


def record_view(actor, what: str, target=None, summary: str = "", **details) -> None:
    """Record that someone looked at individual-level data (who, what, when), in a unit of work of its own.

    Staff councils ask who saw whose data; the entry is written before the page is shown. Called from
    a view that reads only, it commits at once; inside a view's unit of work it joins that one.
    """
    with unit_of_work():
        record(actor, f"view.{what}", target, summary, **details)
