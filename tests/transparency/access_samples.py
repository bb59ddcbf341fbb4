"""URL argument values for the access matrix: a barrier report."""

from __future__ import annotations


def samples(app, people) -> dict:
    from learning.db import db
    from learning.transparency.models import BarrierReport

    with app.app_context():
        report = BarrierReport(page="/", description="Kontrast zu schwach", contact="")
        db.session.add(report)
        db.session.commit()
        return {"report_id": report.id}
