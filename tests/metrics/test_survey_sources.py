"""Survey figures in the snapshots are exactly the survey's own, hidden where the survey hides them."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from learning.db import db, unit_of_work
from learning.demo.data import load_demo
from learning.metrics.services import compute
from learning.surveys.models import Survey
from learning.surveys.results import ALL, survey_results


@pytest.fixture
def demo(app):
    with app.test_request_context():
        load_demo(date.today())
    return app


def test_survey_figures_match_the_results_page_and_keep_its_suppression(demo):
    with demo.test_request_context():
        figures = {(v.metric, v.phase_key, v.unit_kind, v.unit_id): v for v in compute(date.today())}
        adkar = db.session.scalar(select(Survey).where(Survey.instrument == "adkar"))
        results = survey_results(adkar, today=date.today())
        assert results.wave.wave.number == 1  # the second round is still open: not released
        column = next(c for c in results.columns if c.kind == "readiness")
        overall = results.wave.value(ALL, column)
        stored = figures[("surveys.readiness", adkar.phase_id, "org", 0)]
        assert overall is not None and stored.value == round(overall, 2) and stored.n >= adkar.min_responses
        checked = 0
        for node in results.wave.groups:
            if node[0] == "t" and node[2] is not None:
                value = figures[("surveys.readiness", adkar.phase_id, "team", node[2])]
                if results.wave.value(node, column) is None:
                    assert value.value is None and value.n == 0  # hidden there, hidden here
                    checked += 1
        assert checked >= 1  # the demo has suppressed teams
        barrier = figures[("surveys.barrier", adkar.phase_id, "org", 0)]
        assert barrier.value == 3.0  # knowledge, the demo's first round (the second one is still open)
        rate = figures[("surveys.response_rate", adkar.phase_id, "org", 0)]
        assert 0 < rate.value <= 100
        # The most recently opened released round wins: the acceptance survey's (closed), not the open ADKAR round.
        tam = survey_results(db.session.scalar(select(Survey).where(Survey.instrument == "tam")), today=date.today())
        assert rate.value == round(tam.wave.rates[ALL].percent, 2)
        # Once the second round has closed (its last day is in eight days), its figures take over.
        later = {(v.metric, v.phase_key, v.unit_kind, v.unit_id): v for v in compute(date.today() + timedelta(days=9))}
        assert later[("surveys.barrier", adkar.phase_id, "org", 0)].value == 4.0  # ability


def test_team_readiness_shows_survey_figures_or_says_there_are_too_few(demo, client, login):
    from learning.metrics.services import snapshot

    with demo.test_request_context():
        with unit_of_work():
            snapshot(date.today())
    login(client, "mara", password="demo")
    text = client.get("/readiness").get_data(as_text=True)
    assert "Readiness index (ADKAR)" in text
    assert "not enough answers to show" in text or "n = " in text
