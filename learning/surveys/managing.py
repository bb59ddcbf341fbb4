"""Running surveys (the project group): opening, closing and repeating rounds, the list of surveys, named answers.

Services check, change and flush; every change is recorded in the audit log. A refusal raises a
``ServiceError`` naming the form field it concerns.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from learning.audit.services import record
from learning.db import db, utcnow
from learning.errors import NotFound, ServiceError
from learning.org import audience
from learning.org.models import User
from learning.surveys.building import check_dates, check_thresholds, require_draft
from learning.surveys.models import (
    Survey,
    SurveyAnswer,
    SurveyNamedResponse,
    SurveyParticipation,
    SurveyResponse,
    SurveyWave,
    WaveStatus,
)
from learning.surveys.taking import audience_of, audience_select, long_date, phase_departments, questions_in_order

logger = logging.getLogger(__name__)


# Rounds ------------------------------------------------------------------------------------------

def open_survey(actor: User, survey: Survey, today: date) -> SurveyWave:
    """Open a draft: questions, thresholds, anonymity and audience are locked from now on."""
    require_draft(survey)
    if not questions_in_order(survey):
        raise ServiceError(_("Add at least one question before opening the survey."))
    wave = survey.waves[0]
    if wave.closes_on < today:
        raise ServiceError(_("The last day of the first round has passed. Please change the dates first."))
    if not (survey.intro or "").strip():
        raise ServiceError(_("Please write the introduction (purpose, voluntariness, use of the answers) first."))
    check_thresholds(survey.min_responses, survey.min_comments)
    survey.opened_at = utcnow()
    record(actor, "survey.opened", survey, summary=survey.title, wave=wave.number, opens_on=wave.opens_on.isoformat(),
           closes_on=wave.closes_on.isoformat(), anonymous=survey.anonymous, min_responses=survey.min_responses,
           min_comments=survey.min_comments, audience=survey.audience, audience_values=survey.audience_values)
    db.session.flush()
    logger.info("Survey %s opened by user %s", survey.id, actor.id)
    return wave


def close_wave(actor: User, survey: Survey, today: date) -> SurveyWave:
    """Close the open (or scheduled) round now; answers are refused from then on."""
    wave = next((w for w in survey.waves if w.status(today) in (WaveStatus.OPEN, WaveStatus.SCHEDULED)), None)
    if wave is None:
        raise ServiceError(_("No round of this survey is open or scheduled."))
    wave.closed_at = utcnow()
    record(actor, "survey.closed", survey, summary=survey.title, wave=wave.number)
    db.session.flush()
    logger.info("Survey %s wave %s closed by user %s", survey.id, wave.number, actor.id)
    return wave


def move_closing_date(actor: User, survey: Survey, number: int | None, closes_on: date | None,
                      today: date) -> SurveyWave:
    """Move the last day of a round that is open (or not yet open): only before its results are released.

    A closed round has released its results (``SurveyWave.released``): reopening or extending it
    would let further answers change figures people have already seen, which gives those answers
    away. It is refused; a new round is planned instead.
    """
    if not survey.locked:
        raise ServiceError(_("The dates of a draft are changed in its settings."), "closes_on")
    wave = survey.wave(number)
    if wave is None:
        raise NotFound(_("This round does not exist."))
    if wave.released(today) or wave.status(today) == WaveStatus.CLOSED:
        raise ServiceError(_("Round %(num)d is closed and its results have been released. A closed round cannot be "
                            "reopened or extended; plan a new round instead.", num=wave.number), "closes_on")
    if closes_on is None:
        raise ServiceError(_("Please enter the last day of the survey."), "closes_on")
    if closes_on < today:
        raise ServiceError(_("The last day cannot be in the past. To end the round now, close it."), "closes_on")
    check_dates(wave.opens_on, closes_on)
    later = next((w for w in survey.waves if w.number > wave.number), None)
    if later is not None and closes_on >= later.opens_on:
        raise ServiceError(_("The round must end before the next one begins (%(day)s).", day=long_date(later.opens_on)),
                          "closes_on")
    before = wave.closes_on
    wave.closes_on = closes_on
    record(actor, "survey.closing_moved", survey, summary=survey.title, wave=wave.number,
           closes_on_before=before.isoformat(), closes_on=closes_on.isoformat())
    db.session.flush()
    return wave


def add_wave(actor: User, survey: Survey, opens_on: date | None, closes_on: date | None, label: str,
             today: date) -> SurveyWave:
    """Repeat an opened survey in a new round, after the last one has ended (for trends)."""
    if not survey.locked:
        raise ServiceError(_("Open the survey first; further rounds repeat it."))
    check_dates(opens_on, closes_on)
    last = survey.waves[-1]
    if last.status(today) != WaveStatus.CLOSED and not last.closes_on < opens_on:
        raise ServiceError(_("The new round must begin after the current one ends (%(day)s).",
                            day=long_date(last.closes_on)), "opens_on")
    if closes_on < today:
        raise ServiceError(_("The last day of the new round has already passed."), "closes_on")
    if opens_on <= last.closes_on and last.closed_at is not None and opens_on < today:
        raise ServiceError(_("The new round cannot begin in the past."), "opens_on")
    wave = SurveyWave(number=last.number + 1, opens_on=opens_on, closes_on=closes_on, label=(label or "").strip()[:100])
    survey.waves.append(wave)
    db.session.flush()
    record(actor, "survey.wave_added", survey, summary=survey.title, wave=wave.number,
           opens_on=opens_on.isoformat(), closes_on=closes_on.isoformat())
    db.session.flush()
    return wave


# The project group's list -----------------------------------------------------------------------

@dataclass
class ManagedSurvey:
    survey: Survey
    wave: SurveyWave | None
    status: WaveStatus
    participants: int
    eligible: int

    @property
    def rate(self) -> int | None:
        return round(100 * self.participants / self.eligible) if self.eligible else None


def manage_list(today: date) -> list[ManagedSurvey]:
    """Every survey with its current round and response rate (six queries at most)."""
    surveys = db.session.scalars(
        select(Survey).options(selectinload(Survey.waves), joinedload(Survey.phase)).order_by(Survey.id.desc())
    ).all()
    if not surveys:
        return []
    counts = dict(db.session.execute(
        select(SurveyParticipation.wave_id, func.count()).group_by(SurveyParticipation.wave_id)).all())
    people = audience.population()
    phases = phase_departments(list(surveys))
    items = []
    for survey in surveys:
        wave = survey.current_wave(today)
        belongs = audience.matcher(*audience_of(survey), phases)
        eligible = sum(1 for person in people if belongs(person))
        items.append(ManagedSurvey(survey, wave, wave.status(today) if wave else WaveStatus.DRAFT,
                                   counts.get(wave.id, 0) if wave else 0, eligible))
    return items


# Exports and named answers -----------------------------------------------------------------------

def record_export(actor: User, survey: Survey, kind: str) -> None:
    """Audit an export of a survey's aggregates (the export holds no individual answers)."""
    record(actor, "survey.exported", survey, summary=f"{survey.title} ({kind})", format=kind)
    db.session.flush()


def wave_participation(survey: Survey) -> tuple[dict[int, int], int]:
    """How many took part in each wave, and how many people the survey is meant for now (two queries)."""
    counts = dict(db.session.execute(
        select(SurveyParticipation.wave_id, func.count()).where(SurveyParticipation.survey_id == survey.id)
        .group_by(SurveyParticipation.wave_id)).all())
    eligible = db.session.scalar(select(func.count()).select_from(audience_select(survey).subquery())) or 0
    return counts, eligible


@dataclass
class NamedResponse:
    name: str
    answers: dict[int, object]


def named_answers(actor: User, survey: Survey, wave: SurveyWave) -> list[NamedResponse]:
    """Who answered what in a named survey's round; every look is recorded in the audit log (three queries).

    Anonymous surveys have nothing to show: their responses carry no name (``NotFound``).
    """
    if survey.anonymous or not survey.locked:
        raise NotFound(_("This survey is anonymous: its answers carry no names."))
    rows = db.session.execute(
        select(SurveyNamedResponse.response_id, User.first_name, User.last_name)
        .join(User, User.id == SurveyNamedResponse.user_id)
        .join(SurveyResponse, SurveyResponse.id == SurveyNamedResponse.response_id)
        .where(SurveyResponse.survey_id == survey.id, SurveyResponse.wave_id == wave.id)
        .order_by(User.last_name, User.first_name)
    ).all()
    answers: dict[str, dict[int, object]] = defaultdict(dict)
    ids = [row.response_id for row in rows]
    if ids:
        for response_id, question_id, value, choices, text in db.session.execute(
                select(SurveyAnswer.response_id, SurveyAnswer.question_id, SurveyAnswer.value, SurveyAnswer.choices,
                       SurveyAnswer.text).where(SurveyAnswer.response_id.in_(ids))):
            answers[response_id][question_id] = text if text is not None else choices if choices is not None else value
    record(actor, "survey.named_viewed", survey, summary=f"{survey.title}: named answers of round {wave.number}",
           wave=wave.number, people=len(rows))
    db.session.flush()
    return [NamedResponse(f"{row.first_name} {row.last_name}", answers[row.response_id]) for row in rows]
