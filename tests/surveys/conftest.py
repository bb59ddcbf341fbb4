"""Survey fixtures: an organisation with teams of known sizes, opened surveys, and people answering them."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from learning.db import db, unit_of_work
from learning.org.models import User
from learning.roles import Role

TODAY = date(2026, 3, 10)
# The day after the first round of a survey made with the defaults has closed: its results are released.
RELEASED = TODAY + timedelta(days=15)


@pytest.fixture
def org(make_department, make_team, make_user, people):
    """Two departments: Amt A with teams of 7, 6 and 5 people (and a team of 2), Amt B with a team of 6."""
    amt_a, amt_b = make_department("Amt A"), make_department("Amt B")
    teams = {
        "A1": make_team("A1", amt_a, managers=[people["manager"]]), "A2": make_team("A2", amt_a),
        "A3": make_team("A3", amt_a), "A4": make_team("A4", amt_a), "B1": make_team("B1", amt_b),
    }
    sizes = {"A1": 7, "A2": 6, "A3": 5, "A4": 2, "B1": 6}
    members = {name: [make_user(f"{name.lower()}-{n}", team=teams[name]) for n in range(size)]
               for name, size in sizes.items()}
    return {"departments": {"A": amt_a, "B": amt_b}, "teams": teams, "members": members}


def attached(user) -> User:
    return db.session.get(User, user.id)


@pytest.fixture
def make_survey(app, people):
    """An opened survey built through the services: ``make_survey(instrument, audience=..., opened=True)``."""

    def factory(instrument: str = "adkar", *, opened: bool = True, anonymous: bool = True, audience: str = "everyone",
                audience_values=(), min_responses: int = 5, min_comments: int = 10, today: date = TODAY,
                days: int = 14):
        from learning.surveys.building import SurveySettings, create_survey, update_survey
        from learning.surveys.managing import open_survey

        with app.test_request_context(headers={"Accept-Language": "en"}):
            with unit_of_work():
                actor = attached(people["project_group"])
                survey = create_survey(actor, instrument, "Testumfrage" if instrument == "custom" else "", None,
                                       today)
                update_survey(actor, survey, SurveySettings(
                    title=survey.title, title_en=survey.title_en or "", intro=survey.intro or "Worum es geht.",
                    intro_en=survey.intro_en or "", anonymous=anonymous, audience=audience,
                    audience_values=list(audience_values), min_responses=min_responses, min_comments=min_comments,
                    opens_on=today, closes_on=today + timedelta(days=days)))
                if opened:
                    open_survey(actor, survey, today)
                survey_id = survey.id
            db.session.remove()
        return survey_id

    return factory


@pytest.fixture
def answer(app):
    """Submit answers as a person through the service: ``answer(user, survey_id, {question_index: value})``.

    Values are given per question position (0-based, in questionnaire order); lists for multiple choice.
    """

    def submit(user, survey_id: int, values: dict[int, object], today: date = TODAY):
        from learning.surveys.taking import load_survey, questions_in_order, submit_response

        with app.test_request_context(headers={"Accept-Language": "en"}):
            survey = load_survey(survey_id)
            questions = questions_in_order(survey)
            raw = {}
            for index, value in values.items():
                raw[questions[index].id] = [str(v) for v in value] if isinstance(value, list) else [str(value)]
            submit_response(attached(user), survey_id, raw, today)
            db.session.remove()

    return submit


def question_ids(app, survey_id: int) -> list[int]:
    from learning.surveys.taking import load_survey, questions_in_order

    with app.app_context():
        return [q.id for q in questions_in_order(load_survey(survey_id))]


def user_named(app, username: str) -> User:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        user.roles  # noqa: B018
        db.session.expunge(user)
        return user


__all__ = ["RELEASED", "TODAY", "Role", "attached", "question_ids", "user_named"]
