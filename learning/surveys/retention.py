"""Retention of survey answers: after the admins' period past a round's end, the raw data goes.

For every round that ended before the cutoff, the results are computed once more, with small
groups hidden exactly as on the results page, and stored with the round (the export rows);
then its responses, answers and participations are deleted. The results page, the trend and
the exports read the stored rows from then on. Registered with the retention job of
``learning.transparency.retention`` (daily, and ``flask retention run``).
"""

from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import delete, func, or_, select

from learning.db import db, utcnow
from learning.i18n import local_today
from learning.surveys.export import export_rows
from learning.surveys.models import Survey, SurveyParticipation, SurveyResponse, SurveyWave
from learning.surveys.results import survey_results
from learning.surveys.taking import load_survey

logger = logging.getLogger(__name__)


def expired_waves(cutoff: datetime) -> list[SurveyWave]:
    """Rounds of opened surveys that ended before ``cutoff`` and still hold their answers."""
    last_day = cutoff.astimezone(ZoneInfo(current_app.config["TIMEZONE"])).date()
    return list(db.session.scalars(
        select(SurveyWave).join(Survey, Survey.id == SurveyWave.survey_id)
        .where(Survey.opened_at.is_not(None), SurveyWave.archived_at.is_(None),
               or_(SurveyWave.closed_at < cutoff, SurveyWave.closes_on < last_day))
        .order_by(SurveyWave.survey_id, SurveyWave.number)))


def purge_survey_answers(cutoff: datetime, dry_run: bool) -> int:
    """Archive the results of expired rounds and delete their answers; return the responses deleted."""
    waves = expired_waves(cutoff)
    if not waves:
        return 0
    ids = [w.id for w in waves]
    count = db.session.scalar(select(func.count()).select_from(SurveyResponse)
                              .where(SurveyResponse.wave_id.in_(ids))) or 0
    if dry_run:
        return count
    now = utcnow()
    for survey_id in sorted({w.survey_id for w in waves}):
        results = survey_results(load_survey(survey_id), today=local_today())  # expired rounds are closed
        rows = export_rows(results)
        for wave in (w for w in waves if w.survey_id == survey_id):
            wave.archived_rows = [row for row in rows if row[0] == wave.number]
            wave.archived_at = now
    db.session.flush()
    db.session.execute(delete(SurveyResponse).where(SurveyResponse.wave_id.in_(ids)))  # answers follow (cascade)
    db.session.execute(delete(SurveyParticipation).where(SurveyParticipation.wave_id.in_(ids)))
    logger.info("Survey answers of %d rounds past the retention period deleted (%d responses)", len(ids), count)
    return count


try:  # the retention job of the transparency feature runs every registered rule
    from learning.transparency.retention import retention_rule
except ImportError:  # pragma: no cover - retention feature not installed
    pass
else:
    retention_rule("survey_answers", "retention.survey_answers_days")(purge_survey_answers)
