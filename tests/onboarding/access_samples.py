"""URL argument values for the access matrix: a journey everyone of the five roles takes part in.

The employee is the new hire (in the team the manager leads), the project-group person is the
buddy, and the administrator does the IT tasks (no named IT contact), so every signed-in role
reaches the journey page; a template with one task for the project group's pages.
"""

from __future__ import annotations

from datetime import date


def samples(app, people) -> dict:
    from learning.db import db
    from learning.onboarding.models import (
        Journey,
        JourneyTask,
        JourneyTemplate,
        JourneyTemplateTask,
        JourneyTemplateVersion,
    )

    with app.app_context():
        template = JourneyTemplate(name="Zugang", version=1)
        db.session.add(template)
        db.session.flush()
        db.session.add(JourneyTemplateVersion(template_id=template.id, version=1, summary="Angelegt"))
        task = JourneyTemplateTask(template_id=template.id, version=1, key="zugangsaufgabe", position=1,
                                   title="Arbeitsplatz bereitstellen", owner_role="it", offset_days=-5)
        db.session.add(task)
        start = date(2026, 6, 1)
        journey = Journey(new_hire_id=people["employee"].id, template_id=template.id, template_version=1,
                          start_date=start, buddy_id=people["project_group"].id)
        journey.tasks = [JourneyTask(template_key="zugangsaufgabe", position=1, title="Arbeitsplatz bereitstellen",
                                     owner_role="new_hire", offset_days=0, due_on=start)]
        db.session.add(journey)
        db.session.commit()
        return {"journey_id": journey.id, "journey_task_id": journey.tasks[0].id,
                "journey_template_id": template.id, "template_task_key": task.key}
