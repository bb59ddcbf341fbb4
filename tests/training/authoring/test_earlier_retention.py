"""Earlier certificates are kept as long as the person's record of the course: years of retention runs leave them
(and their verification) alone; once the person holds neither an assignment nor a certificate of the course,
the next run deletes them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine
from sqlalchemy import delete, func, select

from learning.audit.models import AuditEntry
from learning.db import db, unit_of_work
from learning.training.models import Assignment, CourseCompletion, EarlierCompletion
from learning.transparency.retention import apply_retention

SUPERSEDED = datetime(2026, 3, 2, 9, tzinfo=UTC)
YEARS_LATER = SUPERSEDED + timedelta(days=10 * 365)


def _earlier(app, user, course, code: str) -> None:
    with app.app_context():
        db.session.add(EarlierCompletion(
            user_id=user.id, course_id=course.id, completed_at=SUPERSEDED - timedelta(days=200), verification_code=code,
            superseded_at=SUPERSEDED, superseded_by_version=2,
            record={"lessons": [{"lesson": "eins", "completed_at": "2025-08-14T10:00:00+00:00"}], "attempts": []}))
        db.session.commit()


def _codes(app) -> list[str]:
    with app.app_context():
        return sorted(db.session.scalars(select(EarlierCompletion.verification_code)))


def _run(app, dry_run=False) -> dict[str, int]:
    with app.app_context():
        if dry_run:
            return apply_retention(dry_run=True)
        with unit_of_work():
            return apply_retention()


def test_years_of_retention_runs_keep_earlier_certificates_while_the_course_record_is_there(
        app, client, people, make_user, make_course, make_assignment):
    course = make_course(title="Datenschutz")
    again, done = people["employee"], make_user("fertig")
    make_assignment(again, course)  # asked to take it again, not yet done
    with app.app_context():  # took it again and has a new certificate; the assignment is no longer there
        db.session.add(CourseCompletion(user_id=done.id, course_id=course.id, verification_code="NEU1NEU1"))
        db.session.commit()
    _earlier(app, again, course, "ALT1ALT1")
    _earlier(app, done, course, "ALT2ALT2")
    with time_machine.travel(YEARS_LATER, tick=False):
        assert _run(app, dry_run=True)["earlier_completions"] == 0
        counts = _run(app)
    assert counts["earlier_completions"] == 0
    assert _codes(app) == ["ALT1ALT1", "ALT2ALT2"]
    for code in ("ALT1-ALT1", "ALT2-ALT2"):  # still verifiable after ten years, publicly
        page = client.get(f"/learning/verify/{code}")
        assert page.status_code == 200 and "Datenschutz" in page.get_data(as_text=True)


def test_an_earlier_certificate_goes_with_the_persons_record_of_the_course(app, people, make_user, make_course,
                                                                          make_assignment):
    course, other = make_course(title="Datenschutz"), make_course(title="IT-Sicherheit")
    kept, gone = people["employee"], make_user("weg")
    make_assignment(kept, course)
    make_assignment(gone, other)  # a record of another course does not keep it
    _earlier(app, kept, course, "BLEIBT01")
    _earlier(app, gone, course, "GEHT0001")
    with time_machine.travel(SUPERSEDED + timedelta(days=1), tick=False):
        assert _run(app, dry_run=True)["earlier_completions"] == 1
        assert _codes(app) == ["BLEIBT01", "GEHT0001"]  # a dry run deletes nothing
        assert _run(app)["earlier_completions"] == 1
    assert _codes(app) == ["BLEIBT01"]
    with app.app_context():
        run = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "retention.applied")).one()
        assert run.details["earlier_completions"] == 1
        db.session.execute(delete(Assignment).where(Assignment.user_id == kept.id))  # the record removed
        db.session.commit()
    with time_machine.travel(SUPERSEDED + timedelta(days=2), tick=False):
        assert _run(app)["earlier_completions"] == 1
        assert not any(_run(app).values())  # idempotent
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(EarlierCompletion)) == 0


def test_what_is_stored_about_me_says_how_long(app, client, login, people, make_course, make_assignment):
    course = make_course(title="Datenschutz")
    make_assignment(people["employee"], course)
    _earlier(app, people["employee"], course, "ALT3ALT3")
    login(client, "employee")
    page = client.get("/my-data").get_data(as_text=True)
    assert ("Certificates from before a course had to be taken again are kept as long as your assignment or "
            "certificate of that course.") in page
    german = client.get("/my-data", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert "bleiben so lange gespeichert wie Ihre Zuweisung oder Ihr Zertifikat dieses Kurses" in german
