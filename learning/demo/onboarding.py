"""Demo onboarding: the default template and one for the Bürgerservice, and five new colleagues.

In mara's team Bürgerbüro, Jana Albers starts next Monday (anna is her buddy; the accounts and the
plan are ready) and Leon Brandt started three weeks ago (most of his first week is done, a course
completed his course task, two tasks are overdue). Three more journeys in other departments give
the project group's overview something to show: two done, one running.

The new colleagues can sign in (user names ``jalbers`` and ``lbrandt``, password ``demo``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select

from learning.db import db
from learning.onboarding.models import Journey, JourneyTask, OwnerRole
from learning.onboarding.starter import (
    CITIZEN_SERVICE_DESCRIPTION,
    CITIZEN_SERVICE_NAME,
    CITIZEN_SERVICE_TASKS,
    DEFAULT_DESCRIPTION,
    DEFAULT_NAME,
    DEFAULT_TASKS,
    install,
)
from learning.onboarding.sync import start_journey, sync_journeys
from learning.org.models import Department, Team, User
from learning.roles import Role
from learning.training.certificates import new_verification_code
from learning.training.models import Assignment, Course, CourseCompletion, LessonCompletion, QuizAttempt
from learning.training.quiz import passed_record
from learning.training.rules import apply_rules

MAIL_DOMAIN = "musterhausen.example"

# username, first name, last name, team, days from today to the start date (None: next Monday),
# how much of the journey is done: "planned", "started", "done" or "running"
NEW_HIRES = [
    ("jalbers", "Jana", "Albers", "Bürgerbüro", None, "planned"),
    ("lbrandt", "Leon", "Brandt", "Bürgerbüro", -21, "started"),
    ("gsommer", "Greta", "Sommer", "Kämmerei", -200, "done"),
    ("mbrandes", "Malte", "Brandes", "Ordnungsamt", -160, "done"),
    ("nkuhn", "Nele", "Kuhn", "Bauverwaltung", -45, "running"),
]


def _moment(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UTC)


def _next_monday(today: date) -> date:
    return today + timedelta(days=7 - today.weekday())


def load_onboarding(today: date, phases) -> dict[str, int]:
    admin = db.session.scalar(select(User).where(User.username == "admin"))
    citizen_service = db.session.scalar(select(Department).where(Department.name == "Bürgerservice"))
    install(DEFAULT_NAME, DEFAULT_DESCRIPTION, DEFAULT_TASKS, actor=admin)
    templates = 1
    if citizen_service is not None:
        install(CITIZEN_SERVICE_NAME, CITIZEN_SERVICE_DESCRIPTION, DEFAULT_TASKS + CITIZEN_SERVICE_TASKS,
                department_id=citizen_service.id, actor=admin)
        templates += 1

    teams = {t.name: t for t in db.session.scalars(select(Team))}
    anna = db.session.scalar(select(User).where(User.username == "anna"))
    password_hash = anna.password_hash if anna else None
    hires: dict[str, tuple[User, str]] = {}
    for number, (username, first, last, team_name, days, plan) in enumerate(NEW_HIRES, start=1):
        if team_name not in teams:
            continue
        start = _next_monday(today) if days is None else today + timedelta(days=days)
        if days is not None and days < -14:
            start -= timedelta(days=start.weekday())  # people start on a Monday
        user = User(username=username, email=f"{first.lower()}.{last.lower()}@{MAIL_DOMAIN}", first_name=first,
                    last_name=last, team=teams[team_name], start_date=start, password_hash=password_hash,
                    employee_number=f"MH-{2000 + number}")
        user.roles = {Role.EMPLOYEE}
        db.session.add(user)
        hires[username] = (user, plan)
    db.session.commit()
    ids = {user.id for user, _plan in hires.values()}
    # What the admin form does through ``people_changed``: courses by the rules, and the journeys.
    apply_rules(today, ids)
    sync_journeys(ids, today)
    for user, _plan in hires.values():
        start_journey(user)  # those who started before the window in which journeys start by themselves

    journeys = {j.new_hire_id: j for j in db.session.scalars(select(Journey).where(Journey.new_hire_id.in_(ids)))}
    for username, (user, plan) in hires.items():
        journey = journeys.get(user.id)
        if journey is None:
            continue
        journey.buddy = _buddy_for(user, anna if username == "jalbers" else None, set(ids))
        _progress(journey, user, plan, today, admin)
    db.session.commit()
    return {"journeys": len(journeys), "journey_templates": templates}


def _buddy_for(user: User, preferred: User | None, new_hires: set[int]) -> User | None:
    if preferred is not None:
        return preferred
    return db.session.scalar(
        select(User).where(User.team_id == user.team_id, User.id.not_in(new_hires), User.active.is_(True),
                           User.username.not_in(("anna", "mara")))
        .order_by(User.last_name, User.id).limit(1))


def _managers(user: User) -> list[User]:
    return list(user.team.managers) if user.team else []


def _owner(task: JourneyTask, journey: Journey, user: User, admin: User | None) -> User | None:
    managers = _managers(user)
    return {
        OwnerRole.NEW_HIRE.value: user,
        OwnerRole.MANAGER.value: managers[0] if managers else None,
        OwnerRole.BUDDY.value: journey.buddy,
        OwnerRole.IT.value: admin,
    }.get(task.owner_role)


def _progress(journey: Journey, user: User, plan: str, today: date, admin: User | None) -> None:
    """Tick off what would realistically be done by now, and complete the courses of course tasks."""
    for task in journey.tasks:
        if plan == "planned":
            done = task.due_on < today
        elif plan == "started":
            # Most of the first three weeks; the manager's check-in after week one and the safety briefing slipped.
            done = task.due_on < today - timedelta(days=1) and task.title not in {
                "Nach der ersten Woche nachfragen: Wie war der Start?", "Sicherheitsunterweisung besuchen"}
        elif plan == "running":
            done = task.due_on < today
        else:
            done = True
        if not done:
            continue
        finished = min(task.due_on - timedelta(days=1 if task.offset_days % 3 else 0), today - timedelta(days=1))
        if task.course_id is not None:
            _complete_course(user, task.course_id, finished)
        else:
            task.done_at = _moment(finished, 9 + task.position % 8)
            task.done_by = _owner(task, journey, user, admin)


def _complete_course(user: User, course_id: int, day: date) -> None:
    """A course completed the way a learner completes it: lessons, a passed quiz, the certificate."""
    course = db.session.get(Course, course_id)
    if course is None or db.session.scalar(select(CourseCompletion.id).where(
            CourseCompletion.user_id == user.id, CourseCompletion.course_id == course_id)) is not None:
        return
    finished = _moment(day, 15)
    for offset, lesson in enumerate(course.active_lessons):
        db.session.add(LessonCompletion(user_id=user.id, lesson_id=lesson.id, completed_at=_moment(day, 9 + offset)))
    if course.questions:
        db.session.add(QuizAttempt(user_id=user.id, course_id=course.id, started_at=_moment(day, 14),
                                   submitted_at=finished, score=100, passed=True,
                                   details=passed_record(course.questions)))
    assignment = db.session.scalar(select(Assignment).where(Assignment.user_id == user.id,
                                                            Assignment.course_id == course_id))
    if assignment is not None:
        assignment.started_at = assignment.started_at or _moment(day, 9)
        assignment.completed_at = finished
    db.session.add(CourseCompletion(user_id=user.id, course_id=course_id, completed_at=finished,
                                    verification_code=new_verification_code()))
    db.session.flush()  # the next code is checked against this one
