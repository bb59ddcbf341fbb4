"""``flask demo generate``: a realistic organisation of any size, for benchmarks and sizing.

Everything is written with SQLAlchemy Core bulk inserts in chunks, deterministic for a seed:
departments and teams with managers, people with start dates spread over decades and some new
hires, the rollout phases and the bundled courses with assignment rules, assignments with a
realistic mix of progress (done, in progress, not started, overdue), lesson completions, quiz
attempts and certificates, announcements with acknowledgements and feedback with votes.
A feature with data of its own adds a step here (there is no registry: none has needed one).
The four demo logins (anna, mara, paul, admin; password ``demo``) exist in every generated
organisation, so benchmarks can sign in as each role.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import bindparam, insert, select, text, update
from werkzeug.security import generate_password_hash

from learning.announcements.models import Acknowledgement, Announcement
from learning.content import rendered_values
from learning.db import db, utcnow
from learning.demo.data import DEMO_PASSWORD, FIRST_NAMES, LAST_NAMES, LOGINS, MAIL_DOMAIN, STRUCTURE
from learning.demo.programme import load_phases
from learning.feedback.models import FeedbackPost, FeedbackVote
from learning.org.models import Department, Team, User, UserRole, team_manager
from learning.roles import Role
from learning.training.certificates import CODE_ALPHABET, CODE_LENGTH
from learning.training.models import (
    Assignment,
    AssignmentRule,
    Course,
    CourseCompletion,
    LessonCompletion,
    QuizAttempt,
)
from learning.training.quiz import passed_record
from learning.training.sync import read_courses, sync_courses

CHUNK = 5_000
TEAM_SIZE = 12
EVERYONE_COURSES = ("digitalisierung-2030", "datenschutz-im-digitalen-alltag", "phishing-und-it-sicherheit")
PHASE_COURSE = ("e-akte-grundlagen", "e-akte")


@dataclass
class Generated:
    """What later steps need: ids, units and the random source."""

    today: date
    rng: random.Random
    people: list[tuple[int, int | None]] = field(default_factory=list)  # (user id, team id)
    teams: dict[int, int] = field(default_factory=dict)  # team id -> department id
    managers: dict[int, int] = field(default_factory=dict)  # team id -> manager id
    phases: dict[str, int] = field(default_factory=dict)  # slug -> id
    counts: dict[str, int] = field(default_factory=dict)


Progress = Callable[[str, int], None]


def _bulk(table, rows: list[dict], progress: Progress, label: str) -> None:
    for start in range(0, len(rows), CHUNK):
        db.session.execute(insert(table), rows[start:start + CHUNK])
        progress(label, len(rows[start:start + CHUNK]))


def _moment(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UTC)


def generate(employees: int, seed: int, today: date, progress: Progress = lambda label, n: None) -> dict[str, int]:
    """Create an organisation of ``employees`` people with activity; return counts per table."""
    state = Generated(today=today, rng=random.Random(seed))
    _organisation(state, employees, progress)
    state.phases = {slug: phase.id for slug, phase in load_phases(today).items()}
    db.session.commit()
    _training(state, progress)
    _announcements(state, progress)
    _feedback(state, progress)
    db.session.commit()
    # Fresh statistics, as autovacuum would gather later: without them PostgreSQL picks poor plans
    # for the bulk-loaded tables (the lesson page at 50,000 people: 6.0 → 2.7 ms of SQL).
    db.session.execute(text("ANALYZE"))
    db.session.commit()
    return state.counts


# Organisation ---------------------------------------------------------------------------

def _organisation(state: Generated, employees: int, progress: Progress) -> None:
    rng = state.rng
    team_count = max(sum(len(t) for t in STRUCTURE.values()), -(-employees // TEAM_SIZE))
    department_count = max(len(STRUCTURE), round(math.sqrt(team_count)))  # 50,000 people: 65 departments
    names = list(STRUCTURE) + [f"Fachbereich {n}" for n in range(len(STRUCTURE) + 1, department_count + 1)]
    now = utcnow()
    db.session.execute(insert(Department), [{"name": n, "created_at": now, "updated_at": now} for n in names])
    department_ids = dict(db.session.execute(select(Department.name, Department.id)).all())
    team_rows = [{"name": t, "department_id": department_ids[d], "created_at": now, "updated_at": now}
                 for d, teams in STRUCTURE.items() for t in teams]
    for n in range(len(team_rows), team_count):
        department = names[n % department_count]
        team_rows.append({"name": f"Team {n + 1}", "department_id": department_ids[department],
                          "created_at": now, "updated_at": now})
    db.session.execute(insert(Team), team_rows)
    state.teams = dict(db.session.execute(select(Team.id, Team.department_id)).all())
    team_by_name = dict(db.session.execute(select(Team.name, Team.id)).all())
    team_ids = sorted(state.teams)

    password_hash = generate_password_hash(DEMO_PASSWORD, method="scrypt")
    rows, roles = [], []
    for username, first, last, team_name, login_roles, _ in LOGINS:
        rows.append(_person(username, first, last, team_by_name[team_name], today_minus(state, rng, 400, 5000),
                            password_hash, len(rows)))
        roles.append((username, login_roles))
    for n in range(max(0, employees - len(LOGINS))):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        team_id = team_ids[n % len(team_ids)]
        if rng.random() < 0.02:  # new hires: started in the last 60 days or start within 30
            start = state.today + timedelta(days=rng.randint(-60, 30))
        else:
            start = today_minus(state, rng, 60, 12000)
        rows.append(_person(f"p{n + 1:06d}", first, last, team_id, start, password_hash, len(rows)))
    _bulk(User, rows, progress, "people")
    ids = dict(db.session.execute(select(User.username, User.id)).all())
    state.people = [(ids[r["username"]], r["team_id"]) for r in rows]

    role_rows = [{"user_id": user_id, "role": Role.EMPLOYEE.value} for user_id, _ in state.people]
    login_ids = {username: ids[username] for username, _ in roles}
    for username, login_roles in roles:
        role_rows += [{"user_id": login_ids[username], "role": r.value} for r in login_roles if r != Role.EMPLOYEE]
    mara = login_ids["mara"]
    state.managers = {team_by_name[t]: mara for t in LOGINS[1][5]}
    for user_id, team_id in state.people:  # the first member of every other team leads it
        if team_id not in state.managers and user_id not in login_ids.values():
            state.managers[team_id] = user_id
            role_rows.append({"user_id": user_id, "role": Role.MANAGER.value})
    for user_id, _ in state.people[len(LOGINS)::500]:
        role_rows.append({"user_id": user_id, "role": Role.PROJECT_GROUP.value})
    _bulk(UserRole, role_rows, progress, "roles")
    _bulk(team_manager, [{"team_id": t, "user_id": u} for t, u in state.managers.items()], progress, "roles")
    db.session.commit()
    state.counts.update(departments=department_count, teams=len(team_ids), people=len(rows))


def today_minus(state: Generated, rng: random.Random, low: int, high: int) -> date:
    return state.today - timedelta(days=rng.randint(low, high))


def _person(username, first, last, team_id, start, password_hash, n) -> dict:
    now = utcnow()
    return {"username": username, "email": f"{username}@{MAIL_DOMAIN}", "first_name": first, "last_name": last,
            "employee_number": f"G-{100000 + n}", "start_date": start, "team_id": team_id,
            "password_hash": password_hash, "active": True, "created_at": now, "updated_at": now}


# Training -------------------------------------------------------------------------------

def _training(state: Generated, progress: Progress) -> None:
    rng, today = state.rng, state.today
    specs, problems = read_courses(Path(current_app.config["COURSES_DIR"]), set(state.phases))
    if problems:
        raise RuntimeError("the bundled courses have problems: " + "; ".join(map(str, problems)))
    sync_courses(specs)
    courses = {c.slug: c for c in db.session.scalars(select(Course))}
    plan = [(courses[slug], None, "assigned+30") for slug in EVERYONE_COURSES if slug in courses]
    phase_slug = PHASE_COURSE[1]
    if PHASE_COURSE[0] in courses and phase_slug in state.phases:
        plan.append((courses[PHASE_COURSE[0]], state.phases[phase_slug], "assigned+45"))
    rules = {}
    for course, phase_id, due in plan:
        rule = AssignmentRule(course_id=course.id, audience="phase" if phase_id else "everyone",
                              audience_values=[phase_id] if phase_id else [], mandatory=True, due_rule=due)
        db.session.add(rule)
        db.session.flush()
        rules[course.id] = rule.id
    lessons = {c.id: [lesson.id for lesson in c.active_lessons] for c, _, _ in plan}
    quizzes = {c.id: passed_record(c.questions) for c, _, _ in plan}  # as a real passed attempt keeps them

    assignments, lesson_rows, completions, attempts = [], [], [], []
    codes: set[str] = set()
    for user_id, _ in state.people:
        for course, phase_id, due in plan:
            if phase_id is not None and rng.random() < 0.5:
                continue  # the phase course reaches the affected half only
            assigned_on = today - timedelta(days=rng.randint(5, 240))
            due_on = assigned_on + timedelta(days=int(due.split("+")[1]))
            outcome = rng.choices(("done", "partial", "none"), weights=(60, 20, 20))[0]
            row = {"user_id": user_id, "course_id": course.id, "rule_id": rules[course.id], "mandatory": True,
                   "assigned_at": _moment(assigned_on, 7), "assigned_on": assigned_on, "due_on": due_on,
                   "started_at": None, "completed_at": None}
            course_lessons = lessons[course.id]
            if outcome != "none":
                started = assigned_on + timedelta(days=rng.randint(0, 20))
                finished = min(today, started + timedelta(days=rng.randint(0, 25)))
                row["started_at"] = _moment(started, 9)
                half = course_lessons[:max(1, len(course_lessons) // 2)]
                done_lessons = course_lessons if outcome == "done" else half
                lesson_rows += [{"user_id": user_id, "lesson_id": lesson_id,
                                 "completed_at": _moment(finished, 10 + min(i, 8))}
                                for i, lesson_id in enumerate(done_lessons)]
                if outcome == "done":
                    row["completed_at"] = _moment(finished, 19)
                    code = _code(rng, codes)
                    completions.append({"user_id": user_id, "course_id": course.id,
                                        "completed_at": row["completed_at"], "verification_code": code})
                    if quizzes[course.id]:
                        attempts.append({"user_id": user_id, "course_id": course.id,
                                         "started_at": _moment(finished, 18), "submitted_at": row["completed_at"],
                                         "score": 100, "passed": True, "details": quizzes[course.id]})
            assignments.append(row)
    _bulk(Assignment, assignments, progress, "assignments")
    _bulk(LessonCompletion, lesson_rows, progress, "lesson completions")
    _bulk(CourseCompletion, completions, progress, "certificates")
    _bulk(QuizAttempt, attempts, progress, "quiz attempts")
    db.session.commit()
    state.counts.update(courses=len(courses), assignments=len(assignments), lesson_completions=len(lesson_rows),
                        certificates=len(completions), quiz_attempts=len(attempts))


def _code(rng: random.Random, taken: set[str]) -> str:
    while True:
        code = "".join(rng.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if code not in taken:
            taken.add(code)
            return code


# Announcements and feedback ----------------------------------------------------------------

def _announcements(state: Generated, progress: Progress) -> None:
    rng, today = state.rng, state.today
    author = state.people[2][0]  # paul
    rows = []
    for n in range(12):
        published = _moment(today - timedelta(days=5 + 9 * n), 8)
        rows.append({"title": f"Ankündigung {n + 1}", "body": "Was sich ändert und was Sie tun müssen.",
                     "phase_id": state.phases.get("e-akte") if n % 3 == 0 else None, "audience": "everyone",
                     "audience_values": [], "publish_at": published, "pinned": n == 0, "requires_ack": n % 2 == 0,
                     "created_by_id": author, "version": 1, "substantive_version": 1,
                     "created_at": published, "updated_at": published})
    db.session.execute(insert(Announcement), [rendered_values(Announcement, row) for row in rows])
    to_confirm = db.session.execute(
        select(Announcement.id, Announcement.publish_at).where(Announcement.requires_ack)).all()
    acks = []
    for announcement_id, published in to_confirm:
        share = rng.uniform(0.5, 0.95)
        for user_id, _ in state.people:
            if rng.random() < share:
                acks.append({"announcement_id": announcement_id, "user_id": user_id, "version": 1,
                             "acknowledged_at": published + timedelta(hours=rng.randint(1, 200))})
    _bulk(Acknowledgement, acks, progress, "acknowledgements")
    db.session.commit()
    state.counts.update(announcements=len(rows), acknowledgements=len(acks))


def _feedback(state: Generated, progress: Progress) -> None:
    rng, today = state.rng, state.today
    phase_ids = list(state.phases.values())
    posts = []
    for n, (user_id, _) in enumerate(state.people[::100]):
        anonymous = n % 4 == 0
        day = today - timedelta(days=rng.randint(0, 180))
        posts.append({"phase_id": rng.choice(phase_ids), "kind": rng.choice(("question", "idea", "concern", "praise")),
                      "title": f"Beitrag {n + 1}", "body": "Ein Vorschlag aus dem Arbeitsalltag.",
                      "author_id": None if anonymous else user_id, "anonymous": anonymous,
                      "status": rng.choice(("new", "under_review", "answered", "planned", "implemented")),
                      "hidden": False, "vote_count": 0, "created_on": day,
                      "created_at": None if anonymous else _moment(day, 11)})
    _bulk(FeedbackPost, [rendered_values(FeedbackPost, post) for post in posts], progress, "feedback")
    post_ids = db.session.scalars(select(FeedbackPost.id)).all()
    votes, seen = [], set()
    for _ in range(len(post_ids) * 10):
        key = (rng.choice(post_ids), rng.choice(state.people)[0])
        if key not in seen:
            seen.add(key)
            votes.append({"post_id": key[0], "user_id": key[1]})
    _bulk(FeedbackVote, votes, progress, "feedback")
    counts: dict[int, int] = {}
    for post_id, _ in seen:
        counts[post_id] = counts.get(post_id, 0) + 1
    db.session.execute(update(FeedbackPost.__table__).where(FeedbackPost.__table__.c.id == bindparam("pid"))
                       .values(vote_count=bindparam("votes")),
                       [{"pid": p, "votes": v} for p, v in counts.items()])
    db.session.commit()
    state.counts.update(feedback_posts=len(posts), feedback_votes=len(votes))
