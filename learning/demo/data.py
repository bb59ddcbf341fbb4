"""Gemeinde Musterhausen: departments, teams and people of the demo installation."""

from __future__ import annotations

import random
from datetime import date, timedelta

from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

from learning.db import db
from learning.demo.announcements import load_announcements
from learning.demo.authoring import load_authoring
from learning.demo.events import load_events
from learning.demo.feedback import load_feedback
from learning.demo.learning import load_learning
from learning.demo.messaging import load_messaging
from learning.demo.metrics import load_metric_history
from learning.demo.onboarding import load_onboarding
from learning.demo.programme import load_phases
from learning.demo.surveys import load_surveys
from learning.org.models import Department, Team, User
from learning.roles import Role
from learning.settings.models import PlatformSetting

DEMO_PASSWORD = "demo"
MAIL_DOMAIN = "musterhausen.example"

# department -> teams
STRUCTURE = {
    "Bürgerservice": ["Bürgerbüro", "Standesamt", "Soziales"],
    "Finanzen": ["Kämmerei", "Steuern und Abgaben", "Kasse"],
    "Bauen und Umwelt": ["Bauverwaltung", "Umwelt und Grün"],
    "Ordnung": ["Ordnungsamt", "Gewerbe"],
    "Zentrale Dienste": ["Personal", "IT und Digitalisierung"],
}

# The demo logins: username, first, last, team, roles, managed teams
LOGINS = [
    ("anna", "Anna", "Schmidt", "Bürgerbüro", {Role.EMPLOYEE}, []),
    ("mara", "Mara", "Hoffmann", "Bürgerbüro", {Role.MANAGER}, ["Bürgerbüro", "Standesamt"]),
    ("paul", "Paul", "Neumann", "IT und Digitalisierung", {Role.PROJECT_GROUP}, []),
    ("admin", "Andrea", "Admin", "IT und Digitalisierung", {Role.ADMIN}, []),
    ("lena", "Lena", "Vogt", "Bürgerbüro", {Role.AUTHOR}, []),  # subject expert who writes courses
]

FIRST_NAMES = [
    "Jonas", "Lea", "Lukas", "Laura", "Felix", "Julia", "Tim", "Sarah", "Jan", "Lisa", "Niklas", "Katharina",
    "Moritz", "Johanna", "Paula", "Tobias", "Marie", "Sebastian", "Sophie", "Stefan", "Sabine", "Thomas",
    "Petra", "Michael", "Claudia", "Andreas", "Monika", "Frank", "Birgit", "Jürgen", "Ute", "Matthias",
    "Heike", "Uwe", "Anja", "Dirk", "Nicole", "Ralf", "Silke", "Kerstin", "Markus", "Carsten", "Elif",
    "Mehmet", "Aylin", "Dominik", "Franziska", "Bernd", "Gabriele", "Hannah", "Emil", "Ida", "Ole",
]
LAST_NAMES = [
    "Müller", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz", "Koch", "Richter",
    "Klein", "Wolf", "Schröder", "Neumann", "Schwarz", "Zimmermann", "Braun", "Krüger", "Hofmann", "Hartmann",
    "Lange", "Schmitt", "Werner", "Krause", "Meier", "Lehmann", "Köhler", "Herrmann", "König", "Walter",
    "Mayer", "Huber", "Kaiser", "Fuchs", "Peters", "Lang", "Scholz", "Möller", "Weiß", "Jung", "Hahn",
    "Schubert", "Vogel", "Friedrich", "Keller", "Günther", "Frank", "Berger", "Winkler", "Roth", "Yılmaz",
]

PEOPLE_PER_TEAM = 5


def _ascii(text: str) -> str:
    for a, b in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss"), ("ı", "i"), ("Ä", "Ae"), ("Ö", "Oe"), ("Ü", "Ue")):
        text = text.replace(a, b)
    return text.lower()


def demo_exists() -> bool:
    return db.session.scalar(select(func.count()).select_from(User)) > 0


def load_demo(today: date, seed: int = 2030) -> dict[str, int]:
    """Create Gemeinde Musterhausen; return counts. Expects an empty organisation."""
    rng = random.Random(seed)
    password_hash = generate_password_hash(DEMO_PASSWORD, method="scrypt")  # one hash for all: fast
    teams: dict[str, Team] = {}
    for department_name, team_names in STRUCTURE.items():
        department = Department(name=department_name)
        db.session.add(department)
        for team_name in team_names:
            teams[team_name] = Team(name=team_name, department=department)
            db.session.add(teams[team_name])

    used_usernames: set[str] = set()
    people: list[User] = []

    def person(username, first, last, team, roles, start):
        used_usernames.add(username)
        user = User(
            username=username, email=f"{_ascii(first)}.{_ascii(last)}@{MAIL_DOMAIN}", first_name=first,
            last_name=last, team=team, start_date=start, password_hash=password_hash,
            employee_number=f"MH-{1000 + len(people)}",
        )
        user.roles = roles
        db.session.add(user)
        people.append(user)
        return user

    for username, first, last, team_name, roles, managed in LOGINS:
        user = person(username, first, last, teams[team_name], roles,
                      today - timedelta(days=rng.randint(400, 5000)))
        user.managed_teams = [teams[t] for t in managed]

    names = [(f, la) for f in FIRST_NAMES for la in LAST_NAMES]
    rng.shuffle(names)
    for team_name, team in teams.items():
        managed = any(team_name in login[5] for login in LOGINS)
        for i in range(PEOPLE_PER_TEAM):
            first, last = names.pop()
            username = _ascii(f"{first[0]}{last}")
            while username in used_usernames:
                username += "1"
            start = today - timedelta(days=rng.randint(30, 9000))
            user = person(username, first, last, team, {Role.EMPLOYEE}, start)
            if i == 0 and not managed:
                user.roles = {Role.MANAGER}
                user.managed_teams = [team]
    # Department heads also lead every team of their department (a second manager).
    for team_names in STRUCTURE.values():
        head = next(p for p in people if p.team is teams[team_names[0]] and p.has_role(Role.MANAGER))
        for team_name in team_names[1:]:
            if head not in teams[team_name].managers:
                teams[team_name].managers.append(head)
    # Administration → Organisation: the name in the header, on certificates, in mails and on prints.
    db.session.add(PlatformSetting(key="organisation.name", value="Gemeinde Musterhausen"))
    db.session.commit()
    phases = load_phases(today)
    learning = load_learning(today, phases)
    authoring = load_authoring(today, phases)
    announcements = load_announcements(today, phases)
    feedback = load_feedback(today, phases)
    onboarding = load_onboarding(today, phases)
    surveys = load_surveys(today, phases)
    events = load_events(today, phases)  # learning/demo/events.py
    messaging = load_messaging(today, phases)  # reminders for everything above
    history = load_metric_history(today)  # last: figures of everything above
    people_now = db.session.scalar(select(func.count()).select_from(User))  # the new hires came later
    return {"departments": len(STRUCTURE), "teams": len(teams), "people": people_now, "phases": len(phases),
            **learning, **authoring, **announcements, **feedback, **onboarding, **surveys, **messaging, **history,
            **events}
