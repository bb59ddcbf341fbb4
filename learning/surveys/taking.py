"""Taking a survey: who it is meant for, what is open for whom, and storing a response.

Anonymity: taking an anonymous survey writes a participation (who, which wave, which day) and a
response (what, which wave, which coarse unit) in one transaction, with nothing that links the
two (see ``learning.surveys.models``). Nothing about the respondent is logged or audited, and
nothing is stored before the last page is sent: earlier pages travel in the form itself.

For other features (reminders): ``open_surveys_for(user, today)`` and ``non_participants(survey,
wave)``, a SELECT of the ids of eligible people who have not taken part. Reads run a fixed number
of queries whatever the number of surveys, people and answers.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

from flask_babel import format_date
from flask_babel import gettext as _
from sqlalchemy import Select, exists, func, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import joinedload, selectinload

from learning.db import db, unit_of_work
from learning.errors import NotFound, ServiceError
from learning.org import audience
from learning.org.audience import AudienceKind, Person
from learning.org.models import Team, User
from learning.surveys.models import (
    ANSWER_MAX,
    QuestionKind,
    Survey,
    SurveyAnswer,
    SurveyNamedResponse,
    SurveyParticipation,
    SurveyQuestion,
    SurveyResponse,
    SurveySection,
    SurveyWave,
    WaveStatus,
)

logger = logging.getLogger(__name__)


class AnswerErrors(ServiceError):
    """Answers that cannot be accepted, per question id (shown next to each question)."""

    def __init__(self, errors: dict[int, str]):
        super().__init__(_("Please check your answers."))
        self.errors = errors


# Audience ---------------------------------------------------------------------------------------

def audience_of(survey: Survey) -> tuple[str, list]:
    """The survey's audience as ``learning.org.audience`` reads it: a phase survey is for its own phase."""
    if survey.audience == AudienceKind.PHASE:
        return survey.audience, [survey.phase_id] if survey.phase_id else []
    return survey.audience, list(survey.audience_values or [])


def phase_departments(surveys: list[Survey]) -> dict[int, set[int]]:
    """Departments affected by the phases of surveys aimed at their phase (one query, none if not needed)."""
    return audience.phase_departments(s.phase_id for s in surveys if s.audience == AudienceKind.PHASE)


def reaches(survey: Survey, person: Person, departments_of_phase: dict[int, set[int]]) -> bool:
    """Whether the person belongs to the survey's audience (the Python twin of ``audience_select``)."""
    return audience.matches(*audience_of(survey), person, departments_of_phase)


def audience_select(survey: Survey) -> Select:
    """SELECT the ids of the active people the survey is meant for."""
    return audience.audience_select(*audience_of(survey))


def non_participants(survey: Survey, wave: SurveyWave) -> Select:
    """SELECT the ids of eligible people who have not taken part in the wave: the reminder list.

    Built from the audience and the participation table alone; responses are never consulted.
    """
    took_part = exists().where(SurveyParticipation.wave_id == wave.id, SurveyParticipation.user_id == User.id)
    return audience_select(survey).where(~took_part)


# What is open for whom --------------------------------------------------------------------------

@dataclass
class OpenSurvey:
    survey: Survey
    wave: SurveyWave
    answered: bool


def _open_waves(today: date):
    return (SurveyWave.opens_on <= today, SurveyWave.closes_on >= today, SurveyWave.closed_at.is_(None))


def open_surveys_for(user: User, today: date) -> list[OpenSurvey]:
    """The surveys open today that are meant for the person, with whether they have answered (five queries)."""
    surveys = db.session.scalars(
        select(Survey).join(SurveyWave, SurveyWave.survey_id == Survey.id)
        .where(Survey.opened_at.is_not(None), *_open_waves(today))
        .options(selectinload(Survey.waves), joinedload(Survey.phase))
        .order_by(SurveyWave.closes_on, Survey.id)
    ).unique().all()
    if not surveys:
        return []
    person = audience.person_for(user)
    phases = phase_departments(list(surveys))
    waves = {s.id: s.current_wave(today) for s in surveys}
    taken = set(db.session.scalars(
        select(SurveyParticipation.wave_id).where(SurveyParticipation.user_id == user.id,
                                                  SurveyParticipation.wave_id.in_([w.id for w in waves.values()]))))
    return [OpenSurvey(s, waves[s.id], waves[s.id].id in taken) for s in surveys
            if reaches(s, person, phases) and waves[s.id].is_open(today)]


@dataclass
class MySurvey:
    survey: Survey
    wave: SurveyWave
    status: WaveStatus
    answered: bool


def my_surveys(user: User, today: date) -> list[MySurvey]:
    """Opened surveys meant for the person: open ones first, then upcoming, then those answered or closed."""
    surveys = db.session.scalars(
        select(Survey).where(Survey.opened_at.is_not(None))
        .options(selectinload(Survey.waves), joinedload(Survey.phase)).order_by(Survey.id.desc())
    ).all()
    if not surveys:
        return []
    person = audience.person_for(user)
    phases = phase_departments(list(surveys))
    taken = set(db.session.scalars(select(SurveyParticipation.wave_id).where(SurveyParticipation.user_id == user.id)))
    items = []
    for survey in surveys:
        if not reaches(survey, person, phases):
            continue
        wave = survey.current_wave(today)
        if wave is None:
            continue
        items.append(MySurvey(survey, wave, wave.status(today), wave.id in taken))
    order = {WaveStatus.OPEN: 0, WaveStatus.SCHEDULED: 1, WaveStatus.CLOSED: 2, WaveStatus.DRAFT: 3}
    return sorted(items, key=lambda i: (order[i.status], i.answered, i.wave.closes_on))


# Taking a survey --------------------------------------------------------------------------------

def load_survey(survey_id: int) -> Survey:
    """A survey with its sections, questions and waves (four queries); ``NotFound`` otherwise."""
    survey = db.session.scalar(
        select(Survey).where(Survey.id == survey_id)
        .options(selectinload(Survey.sections).selectinload(SurveySection.questions),
                 selectinload(Survey.waves), joinedload(Survey.phase))
    )
    if survey is None:
        raise NotFound(_("This survey does not exist."))
    return survey


@dataclass
class RespondentState:
    survey: Survey
    wave: SurveyWave | None
    status: WaveStatus
    answered: bool

    @property
    def can_answer(self) -> bool:
        return self.status == WaveStatus.OPEN and not self.answered


def respondent_state(user: User, survey_id: int, today: date) -> RespondentState:
    """The survey as a respondent meets it; ``NotFound`` for drafts and surveys not meant for them."""
    survey = load_survey(survey_id)
    if not survey.locked or not reaches(survey, audience.person_for(user), phase_departments([survey])):
        raise NotFound(_("This survey does not exist."))
    wave = survey.current_wave(today)
    if wave is None:
        raise NotFound(_("This survey does not exist."))
    answered = db.session.scalar(select(exists().where(SurveyParticipation.wave_id == wave.id,
                                                       SurveyParticipation.user_id == user.id)))
    return RespondentState(survey, wave, wave.status(today), bool(answered))


def refusal(state: RespondentState) -> str | None:
    """Why the person cannot answer now, or None when they can."""
    if state.answered:
        return _("You have already answered this survey in this round. Thank you!")
    if state.status == WaveStatus.SCHEDULED:
        return _("This survey opens on %(day)s. Please come back then.", day=long_date(state.wave.opens_on))
    if state.status == WaveStatus.CLOSED:
        return _("This survey is closed. Answers are no longer accepted.")
    if state.status != WaveStatus.OPEN:
        return _("This survey is not open.")
    return None


def long_date(value: date) -> str:
    """A day as the pages write it ("10 March 2026")."""
    return format_date(value, "long")


def questions_in_order(survey: Survey) -> list[SurveyQuestion]:
    return [q for section in survey.sections for q in section.questions]


def steps(survey: Survey) -> list[SurveySection]:
    """The pages of the questionnaire: its sections that hold questions."""
    return [section for section in survey.sections if section.questions]


Parsed = dict[int, object]  # question id -> int, list[int] or str


def parse_answers(survey: Survey, raw: dict[int, list[str]],
                  only: set[int] | None = None) -> tuple[Parsed, dict[int, str]]:
    """Check raw form values against the questions: (answers, errors per question id).

    Values outside a question's scale or options, several values for a single answer, texts that
    are too long and answers to questions of another survey are errors; so is a required question
    left out. ``only`` restricts the check to one page's questions.
    """
    questions = {q.id: q for q in questions_in_order(survey)}
    answers: Parsed = {}
    errors: dict[int, str] = {}
    foreign = [qid for qid in raw if qid not in questions]
    if foreign:
        raise ServiceError(_("Some answers do not belong to this survey. Please start again from the survey's page."))
    for qid, question in questions.items():
        if only is not None and qid not in only:
            continue
        values = [v.strip() for v in raw.get(qid, []) if isinstance(v, str) and v.strip()]
        kind = question.question_kind
        if not values:
            if question.required:
                errors[qid] = _("Please answer this question.")
            continue
        if kind == QuestionKind.TEXT:
            if len(values) > 1:
                errors[qid] = _("Please give one answer.")
            elif len(values[0]) > ANSWER_MAX:
                errors[qid] = _("Your answer may be at most %(max)d characters long; it has %(length)d.",
                                max=ANSWER_MAX, length=len(values[0]))
            else:
                answers[qid] = values[0]
            continue
        try:
            numbers = [int(v) for v in values]
        except ValueError:
            errors[qid] = _("Please choose one of the offered answers.")
            continue
        allowed = set(question.values())
        if any(n not in allowed for n in numbers):
            errors[qid] = _("Please choose one of the offered answers.")
        elif kind == QuestionKind.MULTIPLE:
            answers[qid] = sorted(set(numbers))
        elif len(numbers) > 1:
            errors[qid] = _("Please choose only one answer.")
        else:
            answers[qid] = numbers[0]
    return answers, errors


def _unit_of(survey: Survey, user: User, minimum: int) -> tuple[int | None, int | None]:
    """The respondent's department and team, each only if it has enough eligible members (two queries)."""
    if user.team_id is None:
        return None, None
    department_id = db.session.scalar(select(Team.department_id).where(Team.id == user.team_id))
    eligible = audience_select(survey).subquery()
    counts = db.session.execute(
        select(func.count().filter(User.team_id == user.team_id),
               func.count().filter(Team.department_id == department_id))
        .select_from(User).join(eligible, eligible.c.id == User.id).join(Team, Team.id == User.team_id)
    ).one()
    team_ok, department_ok = counts[0] >= minimum, counts[1] >= minimum
    return (department_id if department_ok else None), (user.team_id if team_ok else None)


def submit_response(user: User, survey_id: int, raw: dict[int, list[str]], today: date) -> None:
    """Store a complete response in a unit of work of its own: participation and answers, with no link between them.

    The one service here that ends its transaction itself, and so is called outside a unit of work:
    when SQLite refuses a write because another writer held the database for longer than the busy
    timeout, the whole response is tried again on a fresh transaction (up to three times), which
    sees the other writer's participation if it was the same person's.
    """
    for attempt in range(3):
        try:
            with unit_of_work():
                state = record_response(user, survey_id, raw, today)
                named = None if state.survey.anonymous else (state.survey.id, state.wave.number, user.id)
            break
        except IntegrityError:  # the participation of a simultaneous submission won at commit time
            raise ServiceError(_("You have already answered this survey in this round. Thank you!")) from None
        except OperationalError:
            if attempt == 2:
                raise ServiceError(_("Your answers could not be saved just now. Please send them again.")) from None
    if named:  # an anonymous response is never logged: the log's time could be laid next to it
        logger.info("Named survey %s wave %s answered by user %s", *named)


def record_response(user: User, survey_id: int, raw: dict[int, list[str]], today: date) -> RespondentState:
    """Check a complete response and add it (flush): ``AnswerErrors`` per question, ``ServiceError`` when refused.

    One response per person and wave: the participation's key decides, also between two
    submissions at the same moment. Closed, not yet open and not addressed surveys refuse.
    """
    state = respondent_state(user, survey_id, today)
    reason = refusal(state)
    if reason:
        raise ServiceError(reason)
    survey, wave = state.survey, state.wave
    answers, errors = parse_answers(survey, raw)
    if errors:
        raise AnswerErrors(errors)
    department_id, team_id = _unit_of(survey, user, survey.min_responses)
    user_id, anonymous = user.id, survey.anonymous
    db.session.add(SurveyParticipation(survey_id=survey.id, wave_id=wave.id, user_id=user_id, taken_on=today))
    try:
        db.session.flush()
    except IntegrityError:  # a simultaneous submission of the same person took part first
        raise ServiceError(_("You have already answered this survey in this round. Thank you!")) from None
    response = SurveyResponse(survey_id=survey.id, wave_id=wave.id, department_id=department_id, team_id=team_id)
    db.session.add(response)
    db.session.flush()
    questions = {q.id: q for q in questions_in_order(survey)}
    for qid, value in answers.items():
        kind = questions[qid].question_kind
        db.session.add(SurveyAnswer(
            response_id=response.id, question_id=qid,
            value=value if isinstance(value, int) else None,
            choices=value if kind == QuestionKind.MULTIPLE else None,
            text=value if kind == QuestionKind.TEXT else None,
        ))
    if not anonymous:
        db.session.add(SurveyNamedResponse(response_id=response.id, user_id=user_id))
    db.session.flush()
    return state
