"""The data generator: a consistent organisation, realistic progress, the same data for a seed."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from learning.db import db
from learning.demo.generate import generate
from learning.org.models import Team, User
from learning.roles import Role
from learning.training.models import Assignment, CourseCompletion, QuizAttempt

TODAY = date(2026, 11, 24)


def _fingerprint() -> list[tuple]:
    return db.session.execute(
        select(User.username, User.start_date, Team.name, Assignment.due_on, Assignment.completed_at)
        .join(Team, User.team_id == Team.id).outerjoin(Assignment, Assignment.user_id == User.id)
        .order_by(User.username, Assignment.due_on, Assignment.completed_at)
    ).all()


def test_generates_a_consistent_organisation(app, _cleaner):
    with app.app_context():
        counts = generate(120, seed=7, today=TODAY)
        assert counts["people"] == db.session.scalar(select(func.count()).select_from(User)) == 120
        for username, role in (("anna", Role.EMPLOYEE), ("mara", Role.MANAGER), ("paul", Role.PROJECT_GROUP),
                               ("admin", Role.ADMIN)):
            user = db.session.scalar(select(User).where(User.username == username))
            assert user.has_role(role) and user.check_password("demo")
        # every team has a manager; every completion has a certificate and vice versa
        assert db.session.scalar(select(func.count()).select_from(Team).where(~Team.managers.any())) == 0
        done = db.session.scalar(
            select(func.count()).select_from(Assignment).where(Assignment.completed_at.is_not(None)))
        assert done == db.session.scalar(select(func.count()).select_from(CourseCompletion)) > 0
        overdue = db.session.scalar(select(func.count()).select_from(Assignment).where(
            Assignment.completed_at.is_(None), Assignment.due_on < TODAY))
        assert 0 < overdue < counts["assignments"]
        # the generated quiz attempts look like real ones: every question with its text and answers
        attempt = db.session.scalars(select(QuizAttempt)).first()
        assert attempt.details and all(d["text"] and d["answers"] and d["right"] and d["chosen"] == d["correct"]
                                       for d in attempt.details)
        first = _fingerprint()
        db.session.remove()
    _cleaner.clean()
    with app.app_context():
        generate(120, seed=7, today=TODAY)
        assert _fingerprint() == first
