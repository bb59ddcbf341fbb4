"""The demo programme: six phases with contacts, what changes for whom and an FAQ, on real pages."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from learning.db import db
from learning.phases.models import RolloutPhase


def test_demo_phases_have_contacts_changes_and_faq(app, client, login):
    from learning.demo.data import load_demo

    with app.app_context():
        load_demo(date(2026, 5, 14))
        phases = db.session.scalars(select(RolloutPhase).options(
            selectinload(RolloutPhase.contacts), selectinload(RolloutPhase.faq))).all()
        assert len(phases) == 6
        for phase in phases:
            assert "paul" in [u.username for u in phase.contacts], phase.slug
            assert phase.changes and phase.goals, phase.slug
            assert 2 <= len(phase.faq) <= 4, phase.slug
            assert [e.position for e in phase.faq] == list(range(1, len(phase.faq) + 1))
        e_akte = next(p for p in phases if p.slug == "e-akte")
        assert {u.username for u in e_akte.contacts} == {"paul", "mara"}
    login(client, "anna", "demo")
    page = client.get("/phases/").get_data(as_text=True)
    for_you = page.split('id="for-you-heading"')[1].split('id="timeline-heading"')[0]
    assert "Electronic files" in for_you and "Online service portal" in for_you
    assert "Digital council work" not in for_you
    page = client.get("/phases/e-akte").get_data(as_text=True)
    assert "This phase affects your department." in page and "Was passiert mit meinen Papierakten?" in page
    assert "paul.neumann@musterhausen.example" in page
