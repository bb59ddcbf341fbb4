"""URL argument values for the access matrix: a rollout phase with one FAQ entry."""

from __future__ import annotations


def samples(app, people) -> dict:
    from learning.db import db
    from learning.org.models import Department, User
    from learning.phases.models import PhaseFaq, RolloutPhase

    with app.app_context():
        phase = RolloutPhase(slug="zugang-phase", title="Zugangsphase", period="2026-H2", goals="Ziele",
                             changes="Änderungen")
        phase.departments = [db.session.get(Department, people["team"].department_id)]
        phase.contacts = [db.session.get(User, people["project_group"].id)]
        phase.faq = [PhaseFaq(position=1, question="Frage?", answer="Antwort.")]
        db.session.add(phase)
        db.session.commit()
        return {"phase_slug": phase.slug, "faq_id": phase.faq[0].id}
