"""Factories for onboarding tests: templates with tasks, and new hires whose journeys start as in real life."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from learning.db import db
from learning.onboarding.models import Journey, JourneyTemplate, JourneyTemplateTask, JourneyTemplateVersion
from learning.roles import Role
from tests.conftest import _PASSWORD_HASH

# owner, offset, title: a small plan with a task before day one, on day one and later for each role
TASKS = [
    ("it", -5, "Arbeitsplatz und Zugänge bereitstellen"),
    ("manager", -3, "Willkommensmail senden"),
    ("new_hire", 0, "An der Lernplattform anmelden"),
    ("buddy", 0, "Gemeinsam zu Mittag essen"),
    ("manager", 7, "Erstes Feedbackgespräch führen"),
    ("new_hire", 14, "Dienstvereinbarungen lesen"),
]


@pytest.fixture
def make_template(app):
    """A template (version 1) with ``tasks`` as (owner, offset, title[, course]) tuples."""
    counter = iter(range(1, 10**6))

    def factory(name: str | None = None, *, department=None, tasks=TASKS, it_contact=None) -> JourneyTemplate:
        with app.app_context():
            template = JourneyTemplate(name=name or f"Vorlage {next(counter)}", description="",
                                       department_id=department.id if department else None,
                                       it_contact_id=it_contact.id if it_contact else None, version=1)
            db.session.add(template)
            db.session.flush()
            db.session.add(JourneyTemplateVersion(template_id=template.id, version=1, summary="Angelegt"))
            for position, spec in enumerate(tasks, start=1):
                owner, offset, title, *course = spec
                db.session.add(JourneyTemplateTask(
                    template_id=template.id, version=1, key=f"k{position}", position=position, title=title,
                    description=f"Beschreibung von **{title}**", owner_role=owner, offset_days=offset,
                    course_id=course[0].id if course else None))
            db.session.commit()
            db.session.refresh(template)
            db.session.expunge(template)
            return template

    return factory


@pytest.fixture
def new_hire(app, people, make_user):
    """Create a person the way the admin form does (so their journey starts); returns the User."""
    from learning.org.services import PersonData, create_person

    counter = iter(range(1, 10**6))

    def factory(start: date | None, *, team=None, username: str | None = None, roles=(Role.EMPLOYEE,)):
        n = next(counter)
        with app.test_request_context():
            user = create_person(PersonData(
                email=f"neu{n}@example.org", first_name="Neue", last_name=f"Kollegin {n}",
                username=username or f"neu{n}", start_date=start, team_id=(team or people["team"]).id,
                roles=set(roles)), None)
            user.password_hash = _PASSWORD_HASH
            db.session.commit()
            db.session.refresh(user)
            user.roles  # noqa: B018
            db.session.expunge(user)
            return user

    return factory


def journey_of(user) -> Journey | None:
    """The person's journey with its tasks (inside an app context)."""
    journey = db.session.scalar(select(Journey).where(Journey.new_hire_id == user.id))
    if journey is not None:
        journey.tasks  # noqa: B018
    return journey
