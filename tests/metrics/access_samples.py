"""URL argument values for the access matrix: an export format, with figures to export."""

from __future__ import annotations

from datetime import date

from learning.db import unit_of_work


def samples(app, people) -> dict:
    from learning.metrics.services import snapshot

    with app.test_request_context():
        with unit_of_work():
            snapshot(date.today())
    return {"fmt": "csv"}
