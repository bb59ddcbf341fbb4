"""Demo training: the bundled courses, assignment rules, and a realistic mix of progress.

anna has a completed course with a certificate, one in progress, one due soon and one overdue;
everybody else gets seeded random progress, written in bulk so the demo loads in moments.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from learning.db import db
from learning.org.audience import AudienceKind
from learning.org.models import Department, User
from learning.phases.models import RolloutPhase
from learning.roles import Role
from learning.training.certificates import new_verification_code
from learning.training.models import (
    Assignment,
    AssignmentRule,
    Course,
    CourseCompletion,
    LessonCompletion,
    QuizAttempt,
)
from learning.training.quiz import passed_record
from learning.training.rules import apply_rules
from learning.training.sync import read_courses, sync_courses

ASSIGNED_DAYS_AGO = 45

# course slug, audience, audience values (department names / phase slug), due rule
RULES = [
    ("digitalisierung-2030", AudienceKind.EVERYONE, [], "assigned+30"),
    ("datenschutz-im-digitalen-alltag", AudienceKind.EVERYONE, [], "assigned+60"),
    ("phishing-und-it-sicherheit", AudienceKind.EVERYONE, [], "assigned+30"),
    ("e-akte-grundlagen", AudienceKind.PHASE, ["e-akte"], "golive-14"),
    ("online-serviceportal", AudienceKind.DEPARTMENTS, ["Bürgerservice", "Ordnung"], "assigned+90"),
]


def _moment(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UTC)


def load_learning(today: date, phases: dict[str, RolloutPhase], seed: int = 2030) -> dict[str, int]:
    specs, problems = read_courses(Path(current_app.config["COURSES_DIR"]), set(phases))
    if problems:
        raise RuntimeError("the bundled courses have problems: " + "; ".join(map(str, problems)))
    sync_courses(specs)
    courses = {c.slug: c for c in db.session.scalars(select(Course))}
    departments = {d.name: d.id for d in db.session.scalars(select(Department))}
    admin = db.session.scalar(select(User).where(User.username == "admin"))
    for slug, audience, values, due in RULES:
        if slug not in courses:
            continue
        if audience == AudienceKind.DEPARTMENTS:
            values = [departments[name] for name in values]
        elif audience == AudienceKind.PHASE:
            values = [phases[values[0]].id]
        db.session.add(AssignmentRule(course_id=courses[slug].id, audience=audience.value, audience_values=values,
                                      mandatory=True, due_rule=due, created_by_id=admin.id if admin else None))
    db.session.commit()
    apply_rules(today - timedelta(days=ASSIGNED_DAYS_AGO))
    _seed_progress(today, courses, random.Random(seed))
    return {"courses": len(courses), "rules": len(RULES)}


def _seed_progress(today: date, courses: dict[str, Course], rng: random.Random) -> None:
    assigned_on = today - timedelta(days=ASSIGNED_DAYS_AGO)
    assignments = db.session.scalars(select(Assignment).join(Assignment.user)).all()
    lessons = {c.id: [lesson.id for lesson in c.active_lessons] for c in courses.values()}
    by_id = {c.id: c for c in courses.values()}
    plans = {
        "digitalisierung-2030": "done", "online-serviceportal": "done",
        "datenschutz-im-digitalen-alltag": "partial", "phishing-und-it-sicherheit": "none",
        "e-akte-grundlagen": "none",
    }
    completions, lesson_rows, attempts = [], [], []
    for assignment in assignments:
        assignment.assigned_at = _moment(assigned_on, 8)
        course = by_id[assignment.course_id]
        user = assignment.user
        if user.username == "anna":
            plan = plans.get(course.slug, "none")
        elif user.has_role(Role.ADMIN, Role.PROJECT_GROUP):
            plan = "done"
        else:
            plan = rng.choices(["done", "partial", "none"], weights=[55, 20, 25])[0]
        if plan == "none":
            continue
        course_lessons = lessons[course.id]
        done = course_lessons if plan == "done" else course_lessons[: max(1, len(course_lessons) // 2)]
        started = assigned_on + timedelta(days=rng.randint(1, 20))
        assignment.started_at = _moment(started)
        for offset, lesson_id in enumerate(done):
            lesson_rows.append(LessonCompletion(user_id=user.id, lesson_id=lesson_id,
                                                completed_at=_moment(started, 10 + min(offset, 8))))
        if plan == "done":
            finished = _moment(started, 19)
            if course.questions:
                details = passed_record(course.questions)
                attempts.append(QuizAttempt(user_id=user.id, course_id=course.id, started_at=_moment(started, 18),
                                            submitted_at=finished, score=100, passed=True, details=details))
            assignment.completed_at = finished
            completions.append(CourseCompletion(user_id=user.id, course_id=course.id, completed_at=finished,
                                                verification_code=new_verification_code()))
            db.session.add(completions[-1])
            db.session.flush()  # the next code is checked against this one
    db.session.add_all(lesson_rows + attempts)
    db.session.commit()
