"""Surveys not yet answered: one reminder a few days after a round opens, one shortly before it closes.

Who is reminded comes from the audience and the participation table alone
(``learning.surveys.taking.non_participants``): responses are never read, so a reminder says
nothing about what anybody answered. Whoever has taken part in the meantime is dropped at sending.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from flask_babel import format_date, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select, tuple_
from sqlalchemy.orm import joinedload

from learning.db import db
from learning.messaging.reminders import Entry, Pending, PlanContext, Planned, reminder_kind
from learning.surveys.models import Survey, SurveyParticipation, SurveyWave
from learning.surveys.taking import non_participants

AFTER_OPENING_DAYS = 3  # the first reminder, if the person has not answered by then
BEFORE_CLOSING_DAYS = 2  # the last one, this many days before the last day
WINDOW_DAYS = 7  # a missed planning run may still send the first reminder within this many days

not_answered = reminder_kind(
    "surveys.not_answered", label=_l("Surveys to answer"), order=40, lookback_days=WINDOW_DAYS + 1,
    description=_l("When a survey meant for you is open and you have not answered it yet (at most twice per "
                   "round)."))


def _period(wave: SurveyWave, today: date) -> str | None:
    """Which reminder of the round is due today: "closing", "opened" or none."""
    if wave.closes_on - timedelta(days=BEFORE_CLOSING_DAYS) <= today <= wave.closes_on:
        return "closing"
    first = wave.opens_on + timedelta(days=AFTER_OPENING_DAYS)
    if first <= today < first + timedelta(days=WINDOW_DAYS):
        return "opened"
    return None


def _open_waves(today: date) -> list[SurveyWave]:
    return list(db.session.scalars(
        select(SurveyWave).join(Survey, Survey.id == SurveyWave.survey_id)
        .where(Survey.opened_at.is_not(None), SurveyWave.closed_at.is_(None), SurveyWave.opens_on <= today,
               SurveyWave.closes_on >= today)
        .options(joinedload(SurveyWave.survey)).order_by(SurveyWave.id)))


@not_answered.planner
def plan_not_answered(ctx: PlanContext) -> list[Planned]:
    """Everyone meant for an open round who has not taken part: one query per open round (a handful)."""
    planned = []
    for wave in _open_waves(ctx.today):
        period = _period(wave, ctx.today)
        if period is None:
            continue
        for user_id in db.session.scalars(non_participants(wave.survey, wave)):
            planned.append(Planned(user_id, f"survey:{wave.survey_id}:{wave.number}", period,
                                   {"survey_id": wave.survey_id, "wave_id": wave.id}))
    return planned


@not_answered.checker
def still_not_answered(items: Sequence[Pending], ctx: PlanContext) -> dict[int, dict]:
    """The round is still open and the person has still not taken part (two queries)."""
    wave_ids = {item.payload.get("wave_id") for item in items}
    waves = {w.id: w for w in db.session.scalars(
        select(SurveyWave).where(SurveyWave.id.in_(wave_ids)).options(joinedload(SurveyWave.survey)))}
    pairs = {(item.payload.get("wave_id"), item.user_id) for item in items}
    taken = {tuple(row) for row in db.session.execute(
        select(SurveyParticipation.wave_id, SurveyParticipation.user_id)
        .where(tuple_(SurveyParticipation.wave_id, SurveyParticipation.user_id).in_(pairs)))} if pairs else set()
    result = {}
    for item in items:
        wave = waves.get(item.payload.get("wave_id"))
        if wave is None or not wave.is_open(ctx.today) or (wave.id, item.user_id) in taken:
            continue
        survey = wave.survey
        result[item.id] = {"survey_id": survey.id, "wave_id": wave.id, "title": survey.title,
                           "title_en": survey.title_en or "", "closes_on": wave.closes_on.isoformat(),
                           "anonymous": survey.anonymous}
    return result


@not_answered.shown_while
def still_unanswered(notification, today: date):
    """SQL: the round is still open and the person has still not taken part (participation only, as above).

    Notifications made before ``wave_id`` was kept in the details name the survey only: any open
    round of it that the person has not answered keeps them.
    """
    details = notification.details
    wave_id = details["wave_id"].as_integer()
    # Correlated explicitly: the notification is two levels up, which automatic correlation does not reach.
    taken = (select(SurveyParticipation.user_id)
             .where(SurveyParticipation.wave_id == SurveyWave.id, SurveyParticipation.user_id == notification.user_id)
             .correlate(SurveyWave, notification).exists())
    return (
        select(SurveyWave.id).join(Survey, Survey.id == SurveyWave.survey_id)
        .where(SurveyWave.survey_id == details["survey_id"].as_integer(),
               or_(wave_id.is_(None), SurveyWave.id == wave_id), Survey.opened_at.is_not(None),
               SurveyWave.closed_at.is_(None), SurveyWave.opens_on <= today, SurveyWave.closes_on >= today, ~taken)
        .exists())


@not_answered.describer
def describe_not_answered(details: dict, today: date) -> Entry:
    english = str(get_locale() or "de") == "en"
    title = details["title_en"] if english and details.get("title_en") else details["title"]
    detail = _("Open until %(day)s.", day=format_date(date.fromisoformat(details["closes_on"]), "long"))
    detail += " " + (_("Your answers are stored without your name.") if details.get("anonymous", True)
                     else _("This survey is not anonymous."))
    return Entry(title=title, detail=detail, endpoint="surveys.start", values={"survey_id": details["survey_id"]})
