"""Building surveys (the project group): drafts from a template, their settings, sections and questions.

A draft can be changed freely; once opened (``learning.surveys.managing.open_survey``) its
questions, thresholds, anonymity and audience are locked. Services check, change and flush; a
refusal raises a ``ServiceError`` naming the form field it concerns.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, timedelta

from flask_babel import gettext as _
from sqlalchemy import delete

from learning.audit.services import record
from learning.content import complexity_message, too_complex
from learning.db import db
from learning.errors import NotFound, ServiceError
from learning.guards import FIRST_DAY, LAST_DAY, day_in_range
from learning.org import audience
from learning.org.audience import AudienceKind
from learning.org.models import User
from learning.phases.models import RolloutPhase
from learning.surveys.instruments import apply_template, default_options, template_title
from learning.surveys.models import (
    CONSTRUCT_MAX,
    INTRO_MAX,
    MAX_OPTIONS,
    OPTION_MAX,
    TEXT_MAX,
    TITLE_MAX,
    Instrument,
    QuestionKind,
    Survey,
    SurveyQuestion,
    SurveySection,
    SurveyWave,
)
from learning.surveys.taking import questions_in_order

logger = logging.getLogger(__name__)

DEFAULT_DAYS_OPEN = 14
MAX_DAYS_OPEN = 366
THRESHOLD_MAX = 200


def thresholds_floor() -> tuple[int, int]:
    """The organisation's reporting thresholds (admin settings, never below 5 and 10)."""
    try:
        from learning.settings.services import setting

        return int(setting("surveys.min_responses")), int(setting("surveys.min_comments"))
    except (ImportError, KeyError):  # settings feature not installed
        return 5, 10


# Drafts ------------------------------------------------------------------------------------------

def require_draft(survey: Survey) -> None:
    if survey.locked:
        raise ServiceError(_("This survey has been opened; its questions and settings can no longer be changed."))


def _text(value: str | None, maximum: int, *, required: bool, empty: str, field: str) -> str:
    text = (value or "").strip()
    if required and not text:
        raise ServiceError(empty, field)
    if len(text) > maximum:
        raise ServiceError(_("At most %(max)d characters, please; this has %(length)d.", max=maximum,
                            length=len(text)), field)
    return text


def create_survey(actor: User, instrument: str, title: str, phase_id: int | None, today: date) -> Survey:
    """A new draft, filled from an instrument template (or empty), with one wave from today for two weeks."""
    try:
        kind = Instrument(instrument)
    except ValueError:
        raise ServiceError(_("Please choose a template."), "instrument") from None
    phase = db.session.get(RolloutPhase, phase_id) if phase_id else None
    if phase_id and phase is None:
        raise ServiceError(_("Please choose a rollout phase from the list."), "phase_id")
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
    db.session.flush()
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


def check_thresholds(min_responses, min_comments) -> tuple[int, int]:
    floor_scores, floor_comments = thresholds_floor()
    if not isinstance(min_responses, int) or not floor_scores <= min_responses <= THRESHOLD_MAX:
        raise ServiceError(_("Please enter a whole number from %(low)d to %(high)d.", low=floor_scores,
                            high=THRESHOLD_MAX), "min_responses")
    if not isinstance(min_comments, int) or not max(floor_comments, min_responses) <= min_comments <= THRESHOLD_MAX:
        raise ServiceError(_("Please enter a whole number from %(low)d to %(high)d.",
                            low=max(floor_comments, min_responses), high=THRESHOLD_MAX), "min_comments")
    return min_responses, min_comments


def check_dates(opens_on: date | None, closes_on: date | None) -> None:
    if opens_on is None:
        raise ServiceError(_("Please enter the first day of the survey."), "opens_on")
    if closes_on is None:
        raise ServiceError(_("Please enter the last day of the survey."), "closes_on")
    for day, name in ((opens_on, "opens_on"), (closes_on, "closes_on")):
        if not day_in_range(day):
            raise ServiceError(_("Enter a date between %(first)s and %(last)s.", first=FIRST_DAY.isoformat(),
                                last=LAST_DAY.isoformat()), name)
    if closes_on < opens_on:
        raise ServiceError(_("The last day cannot be before the first day."), "closes_on")
    if (closes_on - opens_on).days > MAX_DAYS_OPEN:
        raise ServiceError(_("A survey round can be open for at most a year."), "closes_on")


def _check_audience(kind: str, values: list, phase_id: int | None) -> tuple[AudienceKind, list]:
    """The audience as stored; a phase survey is for its own phase (``phase_id``) and stores no values."""
    chosen, values = audience.normalise(kind, values, message=_("Please choose who the survey is for."))
    audience.check(chosen, values)
    if chosen == AudienceKind.PHASE and not phase_id:
        raise ServiceError(_("Choose a rollout phase to address the departments it affects."), "audience")
    return chosen, [] if chosen == AudienceKind.PHASE else values


def update_survey(actor: User, survey: Survey, data: SurveySettings) -> Survey:
    """Change a draft's texts, audience, anonymity, thresholds and first wave."""
    require_draft(survey)
    title = _text(data.title, TITLE_MAX, required=True, empty=_("Please enter a title."), field="title")
    title_en = _text(data.title_en, TITLE_MAX, required=False, empty="", field="title_en")
    intro = _text(data.intro, INTRO_MAX, required=True,
                  empty=_("Please explain the purpose, that taking part is voluntary and what happens with the "
                          "answers."), field="intro")
    intro_en = _text(data.intro_en, INTRO_MAX, required=False, empty="", field="intro_en")
    for name, text in (("intro", intro), ("intro_en", intro_en)):
        if too_complex(text):
            raise ServiceError(complexity_message(), name)
    if data.phase_id is not None and db.session.get(RolloutPhase, data.phase_id) is None:
        raise ServiceError(_("Please choose a rollout phase from the list."), "phase_id")
    kind, values = _check_audience(data.audience, data.audience_values, data.phase_id)
    min_responses, min_comments = check_thresholds(data.min_responses, data.min_comments)
    check_dates(data.opens_on, data.closes_on)
    survey.title, survey.title_en, survey.intro, survey.intro_en = title, title_en or None, intro, intro_en or None
    survey.phase_id = data.phase_id
    survey.anonymous = bool(data.anonymous)
    survey.audience, survey.audience_values = kind.value, values
    survey.min_responses, survey.min_comments = min_responses, min_comments
    wave = survey.waves[0] if survey.waves else SurveyWave(number=1)
    if not survey.waves:
        survey.waves.append(wave)
    wave.opens_on, wave.closes_on = data.opens_on, data.closes_on
    wave.label = (data.wave_label or "").strip()[:100]
    db.session.flush()
    return survey


def delete_survey(actor: User, survey: Survey) -> None:
    """Delete a draft (an opened survey is kept: people have answered it or were told they could)."""
    require_draft(survey)
    record(actor, "survey.deleted", survey, summary=survey.title)
    db.session.delete(survey)
    db.session.flush()


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
    require_draft(survey)
    title = _text(title, TITLE_MAX, required=True, empty=_("Please enter a title for the section."), field="title")
    if section is None:
        section = SurveySection(position=max((s.position for s in survey.sections), default=0) + 1)
        survey.sections.append(section)
    section.title, section.title_en = title, (title_en or "").strip()[:TITLE_MAX] or None
    section.description = _text(description, TEXT_MAX, required=False, empty="", field="description")
    section.description_en = _text(description_en, TEXT_MAX, required=False, empty="", field="description_en") or None
    db.session.flush()
    return section


def delete_section(actor: User, survey: Survey, section: SurveySection) -> None:
    require_draft(survey)
    if section.questions:
        raise ServiceError(_("This section still has questions. Delete them or move them to another section first."))
    survey.sections.remove(section)
    db.session.delete(section)
    db.session.flush()


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
    require_draft(survey)
    if _swap(list(survey.sections), section, direction):
        db.session.flush()


def move_question(actor: User, survey: Survey, question: SurveyQuestion, direction: str) -> None:
    require_draft(survey)
    if _swap(list(question.section.questions), question, direction):
        db.session.flush()


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
        raise ServiceError(_("An answer option may be at most %(max)d characters long.", max=OPTION_MAX), "options")
    if kind == QuestionKind.TEXT:
        return [], []
    if kind.is_likert or kind == QuestionKind.SCALE10:
        wanted = kind.points if kind.is_likert else 2
        default_de, default_en = default_options(kind)
        options = options or default_de
        options_en = options_en or (default_en if options == default_de else [])
        if len(options) != wanted:
            raise ServiceError(_("Give exactly %(num)d labels, one per line.", num=wanted) if kind.is_likert else
                              _("Give two labels, one per line: for 0 and for 10."), "options")
        if options_en and len(options_en) != wanted:
            raise ServiceError(_("Give as many English labels as German ones, or none."), "options_en")
        return options, options_en
    if not 2 <= len(options) <= MAX_OPTIONS:
        raise ServiceError(_("Give from 2 to %(max)d answer options, one per line.", max=MAX_OPTIONS), "options")
    if len(set(options)) != len(options):
        raise ServiceError(_("Each answer option may appear only once."), "options")
    if options_en and len(options_en) != len(options):
        raise ServiceError(_("Give as many English options as German ones, or none."), "options_en")
    return options, options_en


def save_question(actor: User, survey: Survey, question: SurveyQuestion | None, data: QuestionData) -> SurveyQuestion:
    """Add or change a question of a draft; Likert scales get labels for every point."""
    require_draft(survey)
    try:
        kind = QuestionKind(data.kind)
    except ValueError:
        raise ServiceError(_("Please choose the kind of question."), "kind") from None
    section = section_of(survey, data.section_id) if data.section_id else None
    if section is None:
        raise ServiceError(_("Please choose a section."), "section_id")
    text = _text(data.text, TEXT_MAX, required=True, empty=_("Please enter the question."), field="text")
    text_en = _text(data.text_en, TEXT_MAX, required=False, empty="", field="text_en")
    options, options_en = _options(kind, data.options, data.options_en)
    construct = _text(data.construct, CONSTRUCT_MAX, required=False, empty="", field="construct")
    if construct and not kind.is_likert:
        raise ServiceError(_("Only rating-scale questions can belong to a scale."), "construct")
    if data.reverse and not kind.is_likert:
        raise ServiceError(_("Only rating-scale questions can be reverse-keyed."), "reverse")
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
    db.session.flush()
    return question


def delete_question(actor: User, survey: Survey, question: SurveyQuestion) -> None:
    require_draft(survey)
    db.session.execute(delete(SurveyQuestion).where(SurveyQuestion.id == question.id))
    db.session.expire(question.section, ["questions"])
    db.session.expire(survey)

