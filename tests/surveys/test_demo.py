"""The demo surveys tell their story: a barrier that moves, hidden small teams, and one survey for anna."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from learning.db import db
from learning.demo.data import load_demo
from learning.org.models import User
from learning.surveys.models import Survey
from learning.surveys.results import ALL, survey_results
from learning.surveys.taking import load_survey, open_surveys_for


def test_demo_surveys(app):
    today = date.today()
    with app.test_request_context(headers={"Accept-Language": "en"}):
        counts = load_demo(today)
        assert counts["surveys"] == 3 and counts["survey_responses"] > 60
        surveys = {s.instrument: s.id for s in db.session.scalars(select(Survey))}
        adkar = survey_results(load_survey(surveys["adkar"]), today=today)
        first, second = adkar.waves
        assert first.released and first.stats(ALL).adkar.barrier == "knowledge"  # the closed round shows
        assert not second.released and second.groups == {}  # the open round shows nothing yet
        assert second.participants > 0 and adkar.wave is first
        assert adkar.comments  # enough answers overall for the comments of the closed round
        # After the second round has closed (its last day is in eight days), the barrier has moved.
        adkar = survey_results(load_survey(surveys["adkar"]), today=today + timedelta(days=9))
        first, second = adkar.waves
        assert second.released and second.stats(ALL).adkar.barrier == "ability"
        assert first.stats(ALL).adkar.readiness < second.stats(ALL).adkar.readiness
        for wave in adkar.waves:  # some teams answered too rarely: hidden, with a sibling
            assert any(node[0] == "t" and node in wave.hidden["responses"] for node in wave.groups)
            assert any(node[0] == "t" and node not in wave.hidden["responses"] for node in wave.groups)
        assert adkar.comments  # enough answers overall for the comments
        tam = survey_results(load_survey(surveys["tam"]), today=today).waves[0].stats(ALL)
        assert tam.constructs["usefulness"].score > tam.constructs["ease_of_use"].score
        anna = db.session.scalar(select(User).where(User.username == "anna"))
        waiting = [item for item in open_surveys_for(anna, today) if not item.answered]
        assert [item.survey.id for item in waiting] == [surveys["adkar"]]
        assert load_survey(surveys["enps"]).opened_at is None  # a draft for the project group
