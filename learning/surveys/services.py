"""Use cases of surveys: building one, opening and closing waves, taking one, and who still may.

Each service validates, changes and commits once; a refusal raises a ``SurveyError`` whose
message can be shown to the person. Reads run a fixed number of queries whatever the number of
surveys, people and answers.

Anonymity: taking an anonymous survey writes a participation (who, which wave, which day) and a
response (what, which wave, which coarse unit) in one transaction, with nothing that links the
two (see ``learning.surveys.models``). Nothing about the respondent is logged or audited, and
nothing is stored before the last page is sent: earlier pages travel in the form itself.

For other features (reminders): ``open_surveys_for(user, today)`` and ``non_participants(survey,
wave)``, a SELECT of the ids of eligible people who have not taken part.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from flask_babel import gettext as _
from sqlalchemy import Select, delete, exists, func, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import joinedload, selectinload

from learning.audit.services import record
from learning.content import complexity_message, too_complex
from learning.db import db, utcnow
from learning.guards import FIRST_DAY, LAST_DAY, day_in_range
from learning.org.models import Role, Team, User, UserRole
from learning.phases.models import RolloutPhase, phase_department
from learning.surveys.instruments import apply_template, default_options, template_title
from learning.surveys.models import (
    ANSWER_MAX,
    CONSTRUCT_MAX,
    INTRO_MAX,
    MAX_OPTIONS,
    OPTION_MAX,
    TEXT_MAX,
    TITLE_MAX,
    AudienceKind,
    Instrument,
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

DEFAULT_DAYS_OPEN = 14
MAX_DAYS_OPEN = 366
THRESHOLD_MAX = 200


class SurveyError(Exception):
    """An action was refused; the message says why, in the person's language."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class NotFound(SurveyError):
    """The survey (or its part) does not exist or is not meant for the person (shown as 404)."""


class AnswerErrors(SurveyError):
    """Answers that cannot be accepted, per question id (shown next to each question)."""

    def __init__(self, errors: dict[int, str]):
        super().__init__(_("Please check your answers."))
        self.errors = errors


def is_manager_of_surveys(user) -> bool:
    """The project group builds surveys and reads their results."""
    return bool(getattr(user, "is_authenticated", False)) and user.has_role(Role.PROJECT_GROUP)


def thresholds_floor() -> tuple[int, int]:
    """The organisation's reporting thresholds (admin settings, never below 5 and 10)."""
    try:
        from learning.settings.services import setting

        return int(setting("surveys.min_responses")), int(setting("surveys.min_comments"))
    except (ImportError, KeyError):  # settings feature not installed
        return 5, 10


# Audience ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Person:
    """What audience matching needs to know about someone."""

    user_id: int
    team_id: int | None
    department_id: int | None
    roles: frozenset[str]


def person_for(user: User) -> Person:
    department_id = None
    if user.team_id is not None:
        department_id = db.session.scalar(select(Team.department_id).where(Team.id == user.team_id))
    return Person(user.id, user.team_id, department_id, frozenset(r.value for r in user.roles) | {"employee"})


def _ints(values) -> list[int]:
    result = []
    for value in values or []:
        try:
            result.append(int(value))
        except (TypeError, ValueError):
            continue
    return result


def phase_departments(surveys: list[Survey]) -> dict[int, set[int]]:
    """Departments affected by the phases of surveys aimed at their phase (one query, none if not needed)."""
    phase_ids = {s.phase_id for s in surveys if s.audience == AudienceKind.PHASE and s.phase_id}
    result: dict[int, set[int]] = defaultdict(set)
    if phase_ids:
        for phase_id, department_id in db.session.execute(
                select(phase_department.c.phase_id, phase_department.c.department_id)
                .where(phase_department.c.phase_id.in_(phase_ids))):
            result[phase_id].add(department_id)
    return result


def reaches(survey: Survey, person: Person, departments_of_phase: dict[int, set[int]]) -> bool:
    """Whether the person belongs to the survey's audience (the Python twin of ``audience_select``)."""
    values = survey.audience_values or []
    if survey.audience == AudienceKind.EVERYONE:
        return True
    if survey.audience == AudienceKind.DEPARTMENTS:
        return person.department_id is not None and person.department_id in _ints(values)
    if survey.audience == AudienceKind.TEAMS:
        return person.team_id is not None and person.team_id in _ints(values)
    if survey.audience == AudienceKind.ROLES:
        return bool(person.roles & {str(v) for v in values})
    if survey.audience == AudienceKind.PHASE:
        return person.department_id is not None and person.department_id in departments_of_phase.get(
            survey.phase_id or 0, set())
    return False


def audience_select(survey: Survey) -> Select:
    """SELECT the ids of the active people the survey is meant for."""
    stmt = select(User.id).where(User.active.is_(True))
    values = survey.audience_values or []
    if survey.audience == AudienceKind.EVERYONE:
        return stmt
    if survey.audience == AudienceKind.DEPARTMENTS:
        return stmt.where(User.team_id.in_(select(Team.id).where(Team.department_id.in_(_ints(values)))))
    if survey.audience == AudienceKind.TEAMS:
        return stmt.where(User.team_id.in_(_ints(values)))
    if survey.audience == AudienceKind.ROLES:
        roles = {str(v) for v in values}
        if Role.EMPLOYEE.value in roles:  # everybody is an employee
            return stmt
        return stmt.where(User.id.in_(select(UserRole.user_id).where(UserRole.role.in_(roles))))
    if survey.audience == AudienceKind.PHASE:
        departments = select(phase_department.c.department_id).where(phase_department.c.phase_id == survey.phase_id)
        return stmt.where(User.team_id.in_(select(Team.id).where(Team.department_id.in_(departments))))
    return stmt.where(False)


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
    person = person_for(user)
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
    person = person_for(user)
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
    if not survey.locked or not reaches(survey, person_for(user), phase_departments([survey])):
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
        return _("This survey opens on %(day)s. Please come back then.", day=_day(state.wave.opens_on))
    if state.status == WaveStatus.CLOSED:
        return _("This survey is closed. Answers are no longer accepted.")
    if state.status != WaveStatus.OPEN:
        return _("This survey is not open.")
    return None


def _day(value: date) -> str:
    from flask_babel import format_date

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
        raise SurveyError(_("Some answers do not belong to this survey. Please start again from the survey's page."))
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
    audience = audience_select(survey).subquery()
    counts = db.session.execute(
        select(func.count().filter(User.team_id == user.team_id),
               func.count().filter(Team.department_id == department_id))
        .select_from(User).join(audience, audience.c.id == User.id).join(Team, Team.id == User.team_id)
    ).one()
    team_ok, department_ok = counts[0] >= minimum, counts[1] >= minimum
    return (department_id if department_ok else None), (user.team_id if team_ok else None)


def submit_response(user: User, survey_id: int, raw: dict[int, list[str]], today: date) -> None:
    """Store a complete response: participation and answers in one transaction, with no link between them.

    One response per person and wave: the participation's key decides, also between two
    submissions at the same moment. Closed, not yet open and not addressed surveys refuse.
    """
    for attempt in range(3):
        try:
            return _submit(user, survey_id, raw, today)
        except OperationalError:  # SQLite: another writer held the database for longer than the busy timeout
            db.session.rollback()
            if attempt == 2:
                raise SurveyError(_("Your answers could not be saved just now. Please send them again.")) from None
    return None


def _submit(user: User, survey_id: int, raw: dict[int, list[str]], today: date) -> None:
    state = respondent_state(user, survey_id, today)
    reason = refusal(state)
    if reason:
        raise SurveyError(reason)
    survey, wave = state.survey, state.wave
    answers, errors = parse_answers(survey, raw)
    if errors:
        raise AnswerErrors(errors)
    department_id, team_id = _unit_of(survey, user, survey.min_responses)
    user_id, anonymous = user.id, survey.anonymous
    db.session.add(SurveyParticipation(survey_id=survey.id, wave_id=wave.id, user_id=user_id, taken_on=today))
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise SurveyError(_("You have already answered this survey in this round. Thank you!")) from None
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
    try:
        db.session.commit()
    except IntegrityError:  # the participation of a simultaneous submission won at commit time
        db.session.rollback()
        raise SurveyError(_("You have already answered this survey in this round. Thank you!")) from None
    if not anonymous:  # an anonymous response is never logged: the log's time could be laid next to it
        logger.info("Named survey %s wave %s answered by user %s", survey.id, wave.number, user_id)


# Building surveys (the project group) -----------------------------------------------------------

def _require_draft(survey: Survey) -> None:
    if survey.locked:
        raise SurveyError(_("This survey has been opened; its questions and settings can no longer be changed."))


def _text(value: str | None, maximum: int, *, required: bool, empty: str, field: str) -> str:
    text = (value or "").strip()
    if required and not text:
        raise SurveyError(empty, field)
    if len(text) > maximum:
        raise SurveyError(_("At most %(max)d characters, please; this has %(length)d.", max=maximum,
                            length=len(text)), field)
    return text


def create_survey(actor: User, instrument: str, title: str, phase_id: int | None, today: date) -> Survey:
    """A new draft, filled from an instrument template (or empty), with one wave from today for two weeks."""
    try:
        kind = Instrument(instrument)
    except ValueError:
        raise SurveyError(_("Please choose a template."), "instrument") from None
    phase = db.session.get(RolloutPhase, phase_id) if phase_id else None
    if phase_id and phase is None:
        raise SurveyError(_("Please choose a rollout phase from the list."), "phase_id")
    default_de, default_en = template_title(kind, phase.title if phase else None,
                                            (phase.title_en or phase.title) if phase else None)
    title = _text(title, TITLE_MAX, required=not default_de, empty=_("Please enter a title."), field="title")
    min_responses, min_comments = thresholds_floor()
    survey = Survey(title=title or default_de, title_en=None if title else default_en,
                    phase_id=phase.id if phase else None, anonymous=True, min_responses=min_responses,
                    min_comments=min_comments, created_by_id=actor.id,
                    audience=AudienceKind.PHASE.value if phase is not None and phase.departments
                    else AudienceKind.EVERYONE.value, audience_values=[])
    apply_template(survey, kind)
    survey.waves.append(SurveyWave(number=1, opens_on=today, closes_on=today + timedelta(days=DEFAULT_DAYS_OPEN)))
    db.session.add(survey)
    db.session.flush()
    record(actor, "survey.created", survey, summary=survey.title, instrument=kind.value,
           questions=len(survey.questions))
    db.session.commit()
    logger.info("Survey %s created from template %s by user %s", survey.id, kind.value, actor.id)
    return survey


@dataclass
class SurveySettings:
    title: str
    title_en: str = ""
    intro: str = ""
    intro_en: str = ""
    phase_id: int | None = None
    anonymous: bool = True
    audience: str = AudienceKind.EVERYONE.value
    audience_values: list = field(default_factory=list)
    min_responses: int = 5
    min_comments: int = 10
    opens_on: date | None = None
    closes_on: date | None = None
    wave_label: str = ""


def _check_thresholds(min_responses, min_comments) -> tuple[int, int]:
    floor_scores, floor_comments = thresholds_floor()
    if not isinstance(min_responses, int) or not floor_scores <= min_responses <= THRESHOLD_MAX:
        raise SurveyError(_("Please enter a whole number from %(low)d to %(high)d.", low=floor_scores,
                            high=THRESHOLD_MAX), "min_responses")
    if not isinstance(min_comments, int) or not max(floor_comments, min_responses) <= min_comments <= THRESHOLD_MAX:
        raise SurveyError(_("Please enter a whole number from %(low)d to %(high)d.",
                            low=max(floor_comments, min_responses), high=THRESHOLD_MAX), "min_comments")
    return min_responses, min_comments


def _check_dates(opens_on: date | None, closes_on: date | None) -> None:
    if opens_on is None:
        raise SurveyError(_("Please enter the first day of the survey."), "opens_on")
    if closes_on is None:
        raise SurveyError(_("Please enter the last day of the survey."), "closes_on")
    for day, name in ((opens_on, "opens_on"), (closes_on, "closes_on")):
        if not day_in_range(day):
            raise SurveyError(_("Enter a date between %(first)s and %(last)s.", first=FIRST_DAY.isoformat(),
                                last=LAST_DAY.isoformat()), name)
    if closes_on < opens_on:
        raise SurveyError(_("The last day cannot be before the first day."), "closes_on")
    if (closes_on - opens_on).days > MAX_DAYS_OPEN:
        raise SurveyError(_("A survey round can be open for at most a year."), "closes_on")


def _check_audience(kind: str, values: list, phase_id: int | None) -> list:
    try:
        kind = AudienceKind(kind)
    except ValueError:
        raise SurveyError(_("Please choose who the survey is for."), "audience") from None
    if kind in (AudienceKind.DEPARTMENTS, AudienceKind.TEAMS, AudienceKind.ROLES) and not values:
        raise SurveyError({AudienceKind.DEPARTMENTS: _("Please choose at least one department."),
                           AudienceKind.TEAMS: _("Please choose at least one team."),
                           AudienceKind.ROLES: _("Please choose at least one role.")}[kind],
                          {AudienceKind.DEPARTMENTS: "department_ids", AudienceKind.TEAMS: "team_ids",
                           AudienceKind.ROLES: "roles"}[kind])
    if kind == AudienceKind.PHASE and not phase_id:
        raise SurveyError(_("Choose a rollout phase to address the departments it affects."), "audience")
    if kind == AudienceKind.ROLES and not {str(v) for v in values} <= {r.value for r in Role}:
        raise SurveyError(_("Please choose roles from the list."), "roles")
    return list(values) if kind in (AudienceKind.DEPARTMENTS, AudienceKind.TEAMS, AudienceKind.ROLES) else []


def update_survey(actor: User, survey: Survey, data: SurveySettings) -> Survey:
    """Change a draft's texts, audience, anonymity, thresholds and first wave."""
    _require_draft(survey)
    title = _text(data.title, TITLE_MAX, required=True, empty=_("Please enter a title."), field="title")
    title_en = _text(data.title_en, TITLE_MAX, required=False, empty="", field="title_en")
    intro = _text(data.intro, INTRO_MAX, required=True,
                  empty=_("Please explain the purpose, that taking part is voluntary and what happens with the "
                          "answers."), field="intro")
    intro_en = _text(data.intro_en, INTRO_MAX, required=False, empty="", field="intro_en")
    for name, text in (("intro", intro), ("intro_en", intro_en)):
        if too_complex(text):
            raise SurveyError(complexity_message(), name)
    if data.phase_id is not None and db.session.get(RolloutPhase, data.phase_id) is None:
        raise SurveyError(_("Please choose a rollout phase from the list."), "phase_id")
    values = _check_audience(data.audience, data.audience_values, data.phase_id)
    min_responses, min_comments = _check_thresholds(data.min_responses, data.min_comments)
    _check_dates(data.opens_on, data.closes_on)
    survey.title, survey.title_en, survey.intro, survey.intro_en = title, title_en or None, intro, intro_en or None
    survey.phase_id = data.phase_id
    survey.anonymous = bool(data.anonymous)
    survey.audience, survey.audience_values = data.audience, values
    survey.min_responses, survey.min_comments = min_responses, min_comments
    wave = survey.waves[0] if survey.waves else SurveyWave(number=1)
    if not survey.waves:
        survey.waves.append(wave)
    wave.opens_on, wave.closes_on = data.opens_on, data.closes_on
    wave.label = (data.wave_label or "").strip()[:100]
    db.session.commit()
    return survey


def delete_survey(actor: User, survey: Survey) -> None:
    """Delete a draft (an opened survey is kept: people have answered it or were told they could)."""
    _require_draft(survey)
    record(actor, "survey.deleted", survey, summary=survey.title)
    db.session.delete(survey)
    db.session.commit()


def open_survey(actor: User, survey: Survey, today: date) -> SurveyWave:
    """Open a draft: questions, thresholds, anonymity and audience are locked from now on."""
    _require_draft(survey)
    if not questions_in_order(survey):
        raise SurveyError(_("Add at least one question before opening the survey."))
    wave = survey.waves[0]
    if wave.closes_on < today:
        raise SurveyError(_("The last day of the first round has passed. Please change the dates first."))
    if not (survey.intro or "").strip():
        raise SurveyError(_("Please write the introduction (purpose, voluntariness, use of the answers) first."))
    _check_thresholds(survey.min_responses, survey.min_comments)
    survey.opened_at = utcnow()
    record(actor, "survey.opened", survey, summary=survey.title, wave=wave.number, opens_on=wave.opens_on.isoformat(),
           closes_on=wave.closes_on.isoformat(), anonymous=survey.anonymous, min_responses=survey.min_responses,
           min_comments=survey.min_comments, audience=survey.audience, audience_values=survey.audience_values)
    db.session.commit()
    logger.info("Survey %s opened by user %s", survey.id, actor.id)
    return wave


def close_wave(actor: User, survey: Survey, today: date) -> SurveyWave:
    """Close the open (or scheduled) round now; answers are refused from then on."""
    wave = next((w for w in survey.waves if w.status(today) in (WaveStatus.OPEN, WaveStatus.SCHEDULED)), None)
    if wave is None:
        raise SurveyError(_("No round of this survey is open or scheduled."))
    wave.closed_at = utcnow()
    record(actor, "survey.closed", survey, summary=survey.title, wave=wave.number)
    db.session.commit()
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
        raise SurveyError(_("The dates of a draft are changed in its settings."), "closes_on")
    wave = survey.wave(number)
    if wave is None:
        raise NotFound(_("This round does not exist."))
    if wave.released(today) or wave.status(today) == WaveStatus.CLOSED:
        raise SurveyError(_("Round %(num)d is closed and its results have been released. A closed round cannot be "
                            "reopened or extended; plan a new round instead.", num=wave.number), "closes_on")
    if closes_on is None:
        raise SurveyError(_("Please enter the last day of the survey."), "closes_on")
    if closes_on < today:
        raise SurveyError(_("The last day cannot be in the past. To end the round now, close it."), "closes_on")
    _check_dates(wave.opens_on, closes_on)
    later = next((w for w in survey.waves if w.number > wave.number), None)
    if later is not None and closes_on >= later.opens_on:
        raise SurveyError(_("The round must end before the next one begins (%(day)s).", day=_day(later.opens_on)),
                          "closes_on")
    before = wave.closes_on
    wave.closes_on = closes_on
    record(actor, "survey.closing_moved", survey, summary=survey.title, wave=wave.number,
           closes_on_before=before.isoformat(), closes_on=closes_on.isoformat())
    db.session.commit()
    return wave


def add_wave(actor: User, survey: Survey, opens_on: date | None, closes_on: date | None, label: str,
             today: date) -> SurveyWave:
    """Repeat an opened survey in a new round, after the last one has ended (for trends)."""
    if not survey.locked:
        raise SurveyError(_("Open the survey first; further rounds repeat it."))
    _check_dates(opens_on, closes_on)
    last = survey.waves[-1]
    if last.status(today) != WaveStatus.CLOSED and not last.closes_on < opens_on:
        raise SurveyError(_("The new round must begin after the current one ends (%(day)s).",
                            day=_day(last.closes_on)), "opens_on")
    if closes_on < today:
        raise SurveyError(_("The last day of the new round has already passed."), "closes_on")
    if opens_on <= last.closes_on and last.closed_at is not None and opens_on < today:
        raise SurveyError(_("The new round cannot begin in the past."), "opens_on")
    wave = SurveyWave(number=last.number + 1, opens_on=opens_on, closes_on=closes_on, label=(label or "").strip()[:100])
    survey.waves.append(wave)
    db.session.flush()
    record(actor, "survey.wave_added", survey, summary=survey.title, wave=wave.number,
           opens_on=opens_on.isoformat(), closes_on=closes_on.isoformat())
    db.session.commit()
    return wave


# Sections and questions -------------------------------------------------------------------------

def section_of(survey: Survey, section_id: int) -> SurveySection:
    section = next((s for s in survey.sections if s.id == section_id), None)
    if section is None:
        raise NotFound(_("This section does not exist."))
    return section


def question_of(survey: Survey, question_id: int) -> SurveyQuestion:
    question = next((q for q in questions_in_order(survey) if q.id == question_id), None)
    if question is None:
        raise NotFound(_("This question does not exist."))
    return question


def save_section(actor: User, survey: Survey, section: SurveySection | None, title: str, title_en: str = "",
                 description: str = "", description_en: str = "") -> SurveySection:
    _require_draft(survey)
    title = _text(title, TITLE_MAX, required=True, empty=_("Please enter a title for the section."), field="title")
    if section is None:
        section = SurveySection(position=max((s.position for s in survey.sections), default=0) + 1)
        survey.sections.append(section)
    section.title, section.title_en = title, (title_en or "").strip()[:TITLE_MAX] or None
    section.description = _text(description, TEXT_MAX, required=False, empty="", field="description")
    section.description_en = _text(description_en, TEXT_MAX, required=False, empty="", field="description_en") or None
    db.session.commit()
    return section


def delete_section(actor: User, survey: Survey, section: SurveySection) -> None:
    _require_draft(survey)
    if section.questions:
        raise SurveyError(_("This section still has questions. Delete them or move them to another section first."))
    survey.sections.remove(section)
    db.session.delete(section)
    db.session.commit()


def _swap(items: list, item, direction: str) -> bool:
    index = items.index(item)
    other = index - 1 if direction == "up" else index + 1
    if not 0 <= other < len(items):
        return False
    items[index].position, items[other].position = items[other].position, items[index].position
    if items[index].position == items[other].position:  # equal positions (old data): spread them first
        for n, entry in enumerate(items, start=1):
            entry.position = n * 10
        items[index].position, items[other].position = items[other].position, items[index].position
    return True


def move_section(actor: User, survey: Survey, section: SurveySection, direction: str) -> None:
    _require_draft(survey)
    if _swap(list(survey.sections), section, direction):
        db.session.commit()


def move_question(actor: User, survey: Survey, question: SurveyQuestion, direction: str) -> None:
    _require_draft(survey)
    if _swap(list(question.section.questions), question, direction):
        db.session.commit()


@dataclass
class QuestionData:
    section_id: int
    kind: str
    text: str
    text_en: str = ""
    options: list[str] = field(default_factory=list)
    options_en: list[str] = field(default_factory=list)
    required: bool = True
    reverse: bool = False
    construct: str = ""


def _options(kind: QuestionKind, options: list[str], options_en: list[str]) -> tuple[list[str], list[str]]:
    options = [o.strip() for o in options if o and o.strip()]
    options_en = [o.strip() for o in options_en if o and o.strip()]
    if any(len(o) > OPTION_MAX for o in options + options_en):
        raise SurveyError(_("An answer option may be at most %(max)d characters long.", max=OPTION_MAX), "options")
    if kind == QuestionKind.TEXT:
        return [], []
    if kind.is_likert or kind == QuestionKind.SCALE10:
        wanted = kind.points if kind.is_likert else 2
        default_de, default_en = default_options(kind)
        options = options or default_de
        options_en = options_en or (default_en if options == default_de else [])
        if len(options) != wanted:
            raise SurveyError(_("Give exactly %(num)d labels, one per line.", num=wanted) if kind.is_likert else
                              _("Give two labels, one per line: for 0 and for 10."), "options")
        if options_en and len(options_en) != wanted:
            raise SurveyError(_("Give as many English labels as German ones, or none."), "options_en")
        return options, options_en
    if not 2 <= len(options) <= MAX_OPTIONS:
        raise SurveyError(_("Give from 2 to %(max)d answer options, one per line.", max=MAX_OPTIONS), "options")
    if len(set(options)) != len(options):
        raise SurveyError(_("Each answer option may appear only once."), "options")
    if options_en and len(options_en) != len(options):
        raise SurveyError(_("Give as many English options as German ones, or none."), "options_en")
    return options, options_en


def save_question(actor: User, survey: Survey, question: SurveyQuestion | None, data: QuestionData) -> SurveyQuestion:
    """Add or change a question of a draft; Likert scales get labels for every point."""
    _require_draft(survey)
    try:
        kind = QuestionKind(data.kind)
    except ValueError:
        raise SurveyError(_("Please choose the kind of question."), "kind") from None
    section = section_of(survey, data.section_id) if data.section_id else None
    if section is None:
        raise SurveyError(_("Please choose a section."), "section_id")
    text = _text(data.text, TEXT_MAX, required=True, empty=_("Please enter the question."), field="text")
    text_en = _text(data.text_en, TEXT_MAX, required=False, empty="", field="text_en")
    options, options_en = _options(kind, data.options, data.options_en)
    construct = _text(data.construct, CONSTRUCT_MAX, required=False, empty="", field="construct")
    if construct and not kind.is_likert:
        raise SurveyError(_("Only rating-scale questions can belong to a scale."), "construct")
    if data.reverse and not kind.is_likert:
        raise SurveyError(_("Only rating-scale questions can be reverse-keyed."), "reverse")
    if question is None:
        question = SurveyQuestion(position=max((q.position for q in survey.questions), default=0) + 1,
                                  survey_id=survey.id, section_id=section.id)
        db.session.add(question)
    elif question.section_id != section.id:
        question.position = max((q.position for q in section.questions), default=0) + 1
        question.section = section
    question.kind, question.text, question.text_en = kind.value, text, text_en or None
    question.options, question.options_en = options, options_en
    question.required, question.reverse, question.construct = bool(data.required), bool(data.reverse), construct
    db.session.commit()
    return question


def delete_question(actor: User, survey: Survey, question: SurveyQuestion) -> None:
    _require_draft(survey)
    db.session.execute(delete(SurveyQuestion).where(SurveyQuestion.id == question.id))
    db.session.commit()
    db.session.expire(survey)


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
    people = _population()
    phases = phase_departments(list(surveys))
    items = []
    for survey in surveys:
        wave = survey.current_wave(today)
        eligible = sum(1 for person in people if reaches(survey, person, phases))
        items.append(ManagedSurvey(survey, wave, wave.status(today) if wave else WaveStatus.DRAFT,
                                   counts.get(wave.id, 0) if wave else 0, eligible))
    return items


def _population() -> list[Person]:
    """Every active person with team, department and roles (two queries)."""
    roles: dict[int, set[str]] = defaultdict(set)
    for user_id, role in db.session.execute(select(UserRole.user_id, UserRole.role)):
        roles[user_id].add(role)
    rows = db.session.execute(select(User.id, User.team_id, Team.department_id)
                              .outerjoin(Team, User.team_id == Team.id).where(User.active.is_(True)))
    return [Person(uid, team_id, department_id, frozenset(roles.get(uid, set()) | {"employee"}))
            for uid, team_id, department_id in rows]


# Home page ---------------------------------------------------------------------------------------

def home_surveys(user: User, today: date) -> dict | None:
    """The open surveys the person has not answered yet, for the home page card."""
    pending = [item for item in open_surveys_for(user, today) if not item.answered]
    return {"surveys": pending} if pending else None


def record_export(actor: User, survey: Survey, kind: str) -> None:
    """Audit an export of a survey's aggregates (the export holds no individual answers)."""
    record(actor, "survey.exported", survey, summary=f"{survey.title} ({kind})", format=kind)
    db.session.commit()


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
    db.session.commit()
    return [NamedResponse(f"{row.first_name} {row.last_name}", answers[row.response_id]) for row in rows]
