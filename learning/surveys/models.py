"""Surveys: questionnaires in sections, repeated in waves, answered anonymously or by name.

Anonymity is a property of the schema, not a promise of the code:

- ``survey_participation`` says who took part in which wave (and on which day): for the response
  rate and for reminders to those who have not. Its key is (survey, wave, user); it has no id of
  its own, so no counter orders it.
- ``survey_response`` and ``survey_answer`` say what was answered. A response carries the survey,
  the wave and the coarse unit needed for reporting (department and team, each only when that unit
  has at least the survey's threshold of eligible members), and nothing else: no user id, no
  time, no day. Its key is a random UUID, and answers are keyed by (response, question), so no
  sequence number gives away the order in which responses arrived, which could otherwise be laid
  next to the order of the participations. On SQLite the three tables are ``WITHOUT ROWID``:
  SQLite's hidden row numbers would be such a sequence too.
- Nothing joins the two sides. Only a *named* survey (declared as such to respondents before
  they start) writes ``survey_named_response``, linking its responses to people.

What remains outside the schema: PostgreSQL keeps rows physically in the order they were
written, so somebody with direct database access (not the application) could read that order
(``ctid``) from both tables. See the README's survey section for the operational advice.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, ForeignKey, Index, PrimaryKeyConstraint, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from learning.content import Profile, Rendering
from learning.db import TimestampMixin, db
from learning.org.audience import AudienceKind
from learning.org.models import User
from learning.pagecache import Shown
from learning.phases.models import RolloutPhase

TITLE_MAX = 200
TEXT_MAX = 1000  # a question's text
INTRO_MAX = 10_000
OPTION_MAX = 200
ANSWER_MAX = 2000  # a free-text answer
CONSTRUCT_MAX = 40
MAX_OPTIONS = 20


class QuestionKind(enum.StrEnum):
    LIKERT5 = "likert5"
    LIKERT7 = "likert7"
    SINGLE = "single"
    MULTIPLE = "multiple"
    SCALE10 = "scale10"  # 0-10, as for the eNPS
    TEXT = "text"

    @property
    def label(self) -> str:
        return str(KIND_LABELS[self])

    @property
    def points(self) -> int | None:
        """The number of points of a rating scale (None for choices and text)."""
        return {QuestionKind.LIKERT5: 5, QuestionKind.LIKERT7: 7, QuestionKind.SCALE10: 11}.get(self)

    @property
    def is_likert(self) -> bool:
        return self in (QuestionKind.LIKERT5, QuestionKind.LIKERT7)

    @property
    def is_scored(self) -> bool:
        """Answers are numbers whose mean means something."""
        return self in (QuestionKind.LIKERT5, QuestionKind.LIKERT7, QuestionKind.SCALE10)


KIND_LABELS = {
    QuestionKind.LIKERT5: _l("Rating scale, 5 points"),
    QuestionKind.LIKERT7: _l("Rating scale, 7 points"),
    QuestionKind.SINGLE: _l("Single choice"),
    QuestionKind.MULTIPLE: _l("Multiple choice"),
    QuestionKind.SCALE10: _l("Scale from 0 to 10 (as for the eNPS)"),
    QuestionKind.TEXT: _l("Free text"),
}


class Instrument(enum.StrEnum):
    CUSTOM = "custom"
    ADKAR = "adkar"
    TAM = "tam"
    ENPS = "enps"
    PULSE = "pulse"

    @property
    def label(self) -> str:
        return str(INSTRUMENT_LABELS[self])


INSTRUMENT_LABELS = {
    Instrument.CUSTOM: _l("Own questionnaire"),
    Instrument.ADKAR: _l("ADKAR change readiness"),
    Instrument.TAM: _l("Technology acceptance (usefulness and ease of use)"),
    Instrument.ENPS: _l("Employee Net Promoter Score (eNPS)"),
    Instrument.PULSE: _l("Short pulse survey"),
}


class WaveStatus(enum.StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    OPEN = "open"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return str(WAVE_STATUS_LABELS[self])

    @property
    def badge(self) -> str:
        return {WaveStatus.DRAFT: "info", WaveStatus.SCHEDULED: "info", WaveStatus.OPEN: "warning",
                WaveStatus.CLOSED: "success"}[self]


WAVE_STATUS_LABELS = {
    WaveStatus.DRAFT: _l("Draft"),
    WaveStatus.SCHEDULED: _l("Scheduled"),
    WaveStatus.OPEN: _l("Open"),
    WaveStatus.CLOSED: _l("Closed"),
}


class Survey(TimestampMixin, db.Model):
    __page_cache__ = Shown.EVERYONE
    __tablename__ = "survey"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(TITLE_MAX))
    title_en: Mapped[str | None] = mapped_column(String(TITLE_MAX))
    # Markdown, shown before the first question: purpose, voluntariness, what happens with the data.
    intro: Mapped[str] = mapped_column(Text, default="")
    intro_en: Mapped[str | None] = mapped_column(Text)
    intro_html: Mapped[str] = mapped_column(Text, default="", server_default="")
    intro_en_html: Mapped[str] = mapped_column(Text, default="", server_default="")
    html_version: Mapped[int] = mapped_column(default=0, server_default="0")  # see learning.content
    instrument: Mapped[str] = mapped_column(String(20), default=Instrument.CUSTOM.value)
    phase_id: Mapped[int | None] = mapped_column(ForeignKey("rollout_phase.id"), index=True)
    anonymous: Mapped[bool] = mapped_column(default=True)
    audience: Mapped[str] = mapped_column(String(20), default=AudienceKind.EVERYONE.value)
    # ids of departments or teams, or role names, depending on ``audience`` (``learning.org.audience``);
    # for ``PHASE`` none: the survey's own phase (``phase_id``) is meant
    audience_values: Mapped[list] = mapped_column(JSON, default=list)
    # Reporting thresholds: set before the survey opens, locked from then on.
    min_responses: Mapped[int] = mapped_column(default=5)
    min_comments: Mapped[int] = mapped_column(default=10)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    opened_at: Mapped[datetime | None]  # None: a draft that the project group can still change

    phase: Mapped[RolloutPhase | None] = relationship()
    created_by: Mapped[User | None] = relationship()
    sections: Mapped[list[SurveySection]] = relationship(
        back_populates="survey", order_by="SurveySection.position", cascade="all, delete-orphan",
        passive_deletes=True,
    )
    questions: Mapped[list[SurveyQuestion]] = relationship(
        back_populates="survey", order_by="SurveyQuestion.position", cascade="all, delete-orphan",
        passive_deletes=True, overlaps="section,questions",
    )
    waves: Mapped[list[SurveyWave]] = relationship(
        back_populates="survey", order_by="SurveyWave.number", cascade="all, delete-orphan", passive_deletes=True,
    )

    __rendered__ = {"intro": Rendering(Profile.STAFF, top_heading=3),
                    "intro_en": Rendering(Profile.STAFF, top_heading=3, language="en")}

    def __str__(self) -> str:
        return self.title

    @property
    def locked(self) -> bool:
        """Opened once: questions, thresholds, anonymity and audience stay as respondents saw them."""
        return self.opened_at is not None

    def localized_title(self, locale: str) -> str:
        return self.title_en if locale == "en" and self.title_en else self.title

    def localized_intro(self, locale: str) -> str:
        return self.intro_en if locale == "en" and self.intro_en else self.intro

    def localized_intro_html(self, locale: str) -> str:
        """The stored HTML of ``localized_intro``."""
        return self.intro_en_html if locale == "en" and self.intro_en else self.intro_html

    @property
    def instrument_label(self) -> str:
        try:
            return Instrument(self.instrument).label
        except ValueError:
            return self.instrument

    def current_wave(self, today: date) -> SurveyWave | None:
        """The wave open today, else the latest one that has begun, else the first."""
        if not self.waves:
            return None
        for wave in self.waves:
            if wave.status(today) == WaveStatus.OPEN:
                return wave
        started = [w for w in self.waves if w.opens_on <= today]
        return started[-1] if started else self.waves[0]

    def wave(self, number: int | None) -> SurveyWave | None:
        return next((w for w in self.waves if w.number == number), None)


class SurveyWave(db.Model):
    """One round of a survey: the same questions, asked again in another period (for trends)."""
    __page_cache__ = Shown.EVERYONE

    __tablename__ = "survey_wave"
    __table_args__ = (UniqueConstraint("survey_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id", ondelete="CASCADE"))
    number: Mapped[int]
    label: Mapped[str] = mapped_column(String(100), default="")  # e.g. "before go-live"
    opens_on: Mapped[date]
    closes_on: Mapped[date]  # the last day on which answers are accepted
    closed_at: Mapped[datetime | None]  # closed early by the project group
    # Set when the retention period has passed: the individual answers and participations are deleted,
    # and the round's results (the export rows, hidden figures left empty) are kept here instead.
    archived_at: Mapped[datetime | None]
    archived_rows: Mapped[list | None] = mapped_column(JSON)

    survey: Mapped[Survey] = relationship(back_populates="waves")

    def status(self, today: date) -> WaveStatus:
        if self.survey.opened_at is None:
            return WaveStatus.DRAFT
        if self.closed_at is not None or today > self.closes_on:
            return WaveStatus.CLOSED
        if today < self.opens_on:
            return WaveStatus.SCHEDULED
        return WaveStatus.OPEN

    def is_open(self, today: date) -> bool:
        return self.status(today) == WaveStatus.OPEN

    def released(self, today: date) -> bool:
        """Whether the round's results may be shown: only once it has closed, and then for good.

        The one place that decides it: the results pages, exports and the dashboards' survey
        figures all ask here. While a round is open, every new answer would change its figures by
        exactly that answer, so watching them (differencing over time) would give it away; a
        closed round takes no more answers and can neither be reopened nor extended
        (``learning.surveys.managing.move_closing_date``). ``today`` is the local day as of which
        results are read (a metrics snapshot passes its own day).
        """
        if self.survey.opened_at is None:
            return False
        if today > self.closes_on:
            return True
        return self.closed_at is not None and _local_day(self.closed_at) <= today


def _local_day(instant: datetime) -> date:
    """The organisation's calendar day of a stored instant (naive values are UTC)."""
    from datetime import UTC
    from zoneinfo import ZoneInfo

    from flask import current_app

    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    return instant.astimezone(ZoneInfo(current_app.config["TIMEZONE"])).date()


class SurveySection(db.Model):
    __page_cache__ = Shown.EVERYONE
    __tablename__ = "survey_section"

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    title: Mapped[str] = mapped_column(String(TITLE_MAX))
    title_en: Mapped[str | None] = mapped_column(String(TITLE_MAX))
    description: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str | None] = mapped_column(Text)

    survey: Mapped[Survey] = relationship(back_populates="sections")
    questions: Mapped[list[SurveyQuestion]] = relationship(
        back_populates="section", order_by="SurveyQuestion.position", overlaps="questions,survey",
    )

    def localized_title(self, locale: str) -> str:
        return self.title_en if locale == "en" and self.title_en else self.title

    def localized_description(self, locale: str) -> str:
        return self.description_en if locale == "en" and self.description_en else self.description


class SurveyQuestion(db.Model):
    """A question; its options are the labels of every scale point, or the choices.

    ``construct`` groups rating items into a scale (an ADKAR element, perceived usefulness, ...);
    ``reverse`` marks an item worded the other way round, reverse-coded before it is scored.
    """
    __page_cache__ = Shown.EVERYONE

    __tablename__ = "survey_question"

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id", ondelete="CASCADE"), index=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("survey_section.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    kind: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)
    text_en: Mapped[str | None] = mapped_column(Text)
    options: Mapped[list] = mapped_column(JSON, default=list)
    options_en: Mapped[list] = mapped_column(JSON, default=list)
    required: Mapped[bool] = mapped_column(default=True)
    reverse: Mapped[bool] = mapped_column(default=False)
    construct: Mapped[str] = mapped_column(String(CONSTRUCT_MAX), default="")

    survey: Mapped[Survey] = relationship(back_populates="questions", overlaps="questions,section")
    section: Mapped[SurveySection] = relationship(back_populates="questions", overlaps="questions,survey")

    @property
    def question_kind(self) -> QuestionKind:
        return QuestionKind(self.kind)

    @property
    def kind_label(self) -> str:
        return self.question_kind.label

    def localized_text(self, locale: str) -> str:
        return self.text_en if locale == "en" and self.text_en else self.text

    def localized_options(self, locale: str) -> list[str]:
        options = list(self.options or [])
        english = list(self.options_en or [])
        if locale == "en" and len(english) == len(options):
            return english
        return options

    def values(self) -> list[int]:
        """The values an answer may take: scale points, or option indexes for choices."""
        kind = self.question_kind
        if kind == QuestionKind.SCALE10:
            return list(range(0, 11))
        if kind.is_likert:
            return list(range(1, kind.points + 1))
        if kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
            return list(range(len(self.options or [])))
        return []

    def scored(self, value: int) -> int:
        """The value as it counts for the construct: reverse-keyed items are turned round."""
        if self.reverse and self.question_kind.is_likert:
            return self.question_kind.points + 1 - value
        return value


def new_response_id() -> str:
    """A random key: unlike a counter, it says nothing about when the response arrived."""
    return uuid.uuid4().hex


class SurveyParticipation(db.Model):
    """Who took part in which wave, and on which day: never what they answered."""
    __page_cache__ = Shown.EVERYONE

    __tablename__ = "survey_participation"
    # One response per person per wave: the database decides, also between two simultaneous submissions.
    __table_args__ = (
        PrimaryKeyConstraint("survey_id", "wave_id", "user_id", name="pk_survey_participation"),
        Index("ix_survey_participation_user_id", "user_id"),
        {"sqlite_with_rowid": False},
    )

    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id", ondelete="CASCADE"))
    wave_id: Mapped[int] = mapped_column(ForeignKey("survey_wave.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    taken_on: Mapped[date]


class SurveyResponse(db.Model):
    """What one person answered in one wave, without saying who or when (see the module docstring)."""
    __page_cache__ = Shown.EVERYONE

    __tablename__ = "survey_response"
    __table_args__ = (
        Index("ix_survey_response_survey_id_wave_id", "survey_id", "wave_id"),
        {"sqlite_with_rowid": False},
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_response_id)
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id", ondelete="CASCADE"))
    wave_id: Mapped[int] = mapped_column(ForeignKey("survey_wave.id", ondelete="CASCADE"))
    # The coarse unit for reporting: NULL when the unit has fewer eligible members than the threshold.
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("team.id"))


class SurveyAnswer(db.Model):
    """One answer of a response: a scale point or option index, a set of options, or a text."""
    __page_cache__ = Shown.EVERYONE

    __tablename__ = "survey_answer"
    __table_args__ = (
        PrimaryKeyConstraint("response_id", "question_id", name="pk_survey_answer"),
        Index("ix_survey_answer_question_id", "question_id"),
        {"sqlite_with_rowid": False},
    )

    response_id: Mapped[str] = mapped_column(ForeignKey("survey_response.id", ondelete="CASCADE"))
    question_id: Mapped[int] = mapped_column(ForeignKey("survey_question.id", ondelete="CASCADE"))
    value: Mapped[int | None]
    choices: Mapped[list | None] = mapped_column(JSON)
    text: Mapped[str | None] = mapped_column(Text)


class SurveyNamedResponse(db.Model):
    """Only for named surveys, declared as such before the first question: whose response this is."""
    __page_cache__ = Shown.EVERYONE

    __tablename__ = "survey_named_response"

    response_id: Mapped[str] = mapped_column(ForeignKey("survey_response.id", ondelete="CASCADE"),
                                             primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
