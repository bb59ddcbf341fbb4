"""URL argument values for the access matrix: an open named survey for everyone, with a section and a question.

Named, so that the project group's page of answers with names (404 for anonymous surveys) has a page to show.
"""

from __future__ import annotations

from datetime import timedelta


def samples(app, people) -> dict:
    from learning.db import db, utcnow
    from learning.i18n import local_today
    from learning.surveys.instruments import apply_template
    from learning.surveys.models import Instrument, Survey, SurveyWave

    with app.app_context():
        today = local_today()
        survey = Survey(title="Zugangsumfrage", intro="Worum es geht.", audience="everyone", audience_values=[],
                        anonymous=False,
                        created_by_id=people["project_group"].id, opened_at=utcnow())
        apply_template(survey, Instrument.PULSE)
        survey.waves.append(SurveyWave(number=1, opens_on=today - timedelta(days=1),
                                       closes_on=today + timedelta(days=7)))
        db.session.add(survey)
        db.session.commit()
        return {"survey_id": survey.id, "survey_section_id": survey.sections[0].id,
                "survey_question_id": survey.questions[0].id}
