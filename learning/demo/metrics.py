"""Demo metric history: a snapshot every week for the last four months, and today's."""

from __future__ import annotations

from datetime import date, timedelta

from learning.db import unit_of_work
from learning.metrics.services import snapshot

WEEKS = 17


def load_metric_history(today: date) -> dict[str, int]:
    days = [today - timedelta(weeks=n) for n in range(WEEKS, 0, -1)] + [today]
    for day in days:
        with unit_of_work():
            snapshot(day)
    return {"metric_days": len(days)}
