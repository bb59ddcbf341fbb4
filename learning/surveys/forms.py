"""Forms of the survey builder: a new survey from a template, settings, sections, questions, rounds."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, IntegerField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from learning.forms import ActionForm, CheckboxesField, DayField, RenderableMarkdown  # noqa: F401  (ActionForm used by the views)
from learning.org.audience import KIND_LABELS as AUDIENCE_LABELS
from learning.org.audience import AudienceKind
from learning.roles import ROLE_LABELS, Role
from learning.surveys.building import THRESHOLD_MAX
from learning.surveys.models import (
    CONSTRUCT_MAX,
    INTRO_MAX,
    KIND_LABELS,
    TEXT_MAX,
    TITLE_MAX,
    Instrument,
)

# The audience kinds in the order the settings offer them (labels: ``learning.org.audience``).
AUDIENCE_CHOICES = (AudienceKind.EVERYONE, AudienceKind.PHASE, AudienceKind.DEPARTMENTS, AudienceKind.TEAMS,
                    AudienceKind.ROLES)

TEMPLATE_CHOICES = [
    (Instrument.ADKAR.value, _l("ADKAR change readiness: ten statements on awareness, desire, knowledge, ability and "
                                "reinforcement (5 points) and one open question")),
    (Instrument.TAM.value, _l("Technology acceptance: six statements each on usefulness and ease of use (7 points) "
                              "and one open question")),
    (Instrument.ENPS.value, _l("eNPS: would you recommend us as an employer (0 to 10) and why")),
    (Instrument.PULSE.value, _l("Short pulse: three statements (5 points) and one open question")),
    (Instrument.CUSTOM.value, _l("Empty: I add my own questions")),
]


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _optional_int(value):
    try:
        return int(value) if value not in (None, "", "None") else None
    except (TypeError, ValueError):
        return None


def _lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


class NewSurveyForm(FlaskForm):
    instrument = RadioField(_l("Template"), choices=TEMPLATE_CHOICES, default=Instrument.ADKAR.value,
                            validators=[InputRequired(message=_l("Please choose a template."))],
                            description=_l("The template fills the survey with questions in German and English. You "
                                           "can change everything before you open the survey."))
    phase_id = SelectField(_l("Rollout phase"), coerce=_optional_int,
                           description=_l("The survey then addresses the departments the phase affects."))
    title = StringField(_l("Title"), filters=[_strip], validators=[Optional(), Length(max=TITLE_MAX)],
                        description=_l("Leave empty to use the template's title."), render_kw={"maxlength": TITLE_MAX})

    def set_choices(self, phases, locale: str) -> None:
        self.phase_id.choices = [("", _l("No particular phase"))] + [(p.id, p.localized_title(locale)) for p in phases]


class SurveyForm(FlaskForm):
    title = StringField(_l("Title (German)"), filters=[_strip],
                        validators=[DataRequired(message=_l("Please enter a title.")), Length(max=TITLE_MAX)],
                        render_kw={"maxlength": TITLE_MAX})
    title_en = StringField(_l("Title (English)"), filters=[_strip], validators=[Optional(), Length(max=TITLE_MAX)],
                           render_kw={"maxlength": TITLE_MAX})
    intro = TextAreaField(
        _l("Introduction (German)"), filters=[_strip],
        validators=[DataRequired(message=_l("Please explain the purpose, that taking part is voluntary and what "
                                            "happens with the answers.")), Length(max=INTRO_MAX),
                    RenderableMarkdown()],
        description=_l("Shown before the first question: the purpose, that taking part is voluntary, and what "
                       "happens with the answers. Markdown is possible. Whether the survey is anonymous and from how "
                       "many answers results are shown is added automatically."),
        render_kw={"rows": 8, "maxlength": INTRO_MAX},
    )
    intro_en = TextAreaField(_l("Introduction (English)"), filters=[_strip],
                             validators=[Optional(), Length(max=INTRO_MAX), RenderableMarkdown()],
                             render_kw={"rows": 8, "maxlength": INTRO_MAX})
    phase_id = SelectField(_l("Rollout phase"), coerce=_optional_int)
    audience = RadioField(_l("Who the survey is for"), default=AudienceKind.EVERYONE.value,
                          choices=[(kind.value, AUDIENCE_LABELS[kind]) for kind in AUDIENCE_CHOICES],
                          validators=[DataRequired(message=_l("Please choose who the survey is for."))])
    department_ids = CheckboxesField(_l("Departments"), coerce=int,
                                     description=_l('Used when "Selected departments" is chosen above.'))
    team_ids = CheckboxesField(_l("Teams"), coerce=int, description=_l('Used when "Selected teams" is chosen above.'))
    roles = CheckboxesField(_l("Roles"), choices=[(r.value, ROLE_LABELS[r]) for r in Role],
                            description=_l('Used when "People with selected roles" is chosen above. Everybody has '
                                           'the role "Employee".'))
    anonymous = RadioField(
        _l("Anonymity"), default="anonymous",
        choices=[("anonymous", _l("Anonymous: answers are stored without a name (recommended)")),
                 ("named", _l("Named: answers are stored with the respondent's name"))],
        validators=[DataRequired()],
        description=_l("Respondents are told before the first question. A named survey needs a good reason and, "
                       "usually, the staff council's agreement."),
    )
    min_responses = IntegerField(_l("Fewest answers for a score"),
                                 validators=[InputRequired(message=_l("Please enter a whole number.")),
                                             NumberRange(min=1, max=THRESHOLD_MAX)],
                                 description=_l("A group with fewer answers shows no figures. Locked once the survey "
                                                "opens."))
    min_comments = IntegerField(_l("Fewest answers for comments"),
                                validators=[InputRequired(message=_l("Please enter a whole number.")),
                                            NumberRange(min=1, max=THRESHOLD_MAX)],
                                description=_l("Free-text answers are shown only for groups with at least this many "
                                               "answers. Locked once the survey opens."))
    opens_on = DayField(_l("First day of the first round"),
                         validators=[InputRequired(message=_l("Please enter a date such as 01.06.2026."))])
    closes_on = DayField(_l("Last day of the first round"),
                          validators=[InputRequired(message=_l("Please enter a date such as 14.06.2026."))])
    wave_label = StringField(_l("Name of the first round"), filters=[_strip], validators=[Optional(), Length(max=100)],
                             description=_l('For example "before go-live". Optional.'), render_kw={"maxlength": 100})

    def set_choices(self, phases, departments, teams, locale: str) -> None:
        self.phase_id.choices = [("", _l("No particular phase"))] + [(p.id, p.localized_title(locale)) for p in phases]
        self.department_ids.choices = [(d.id, d.name) for d in departments]
        self.team_ids.choices = [(t.id, f"{t.department.name} / {t.name}") for t in teams]

    def audience_values(self) -> list:
        return {
            AudienceKind.DEPARTMENTS.value: list(self.department_ids.data or []),
            AudienceKind.TEAMS.value: list(self.team_ids.data or []),
            AudienceKind.ROLES.value: list(self.roles.data or []),
        }.get(self.audience.data, [])


class SectionForm(FlaskForm):
    title = StringField(_l("Title of the section (German)"), filters=[_strip],
                        validators=[DataRequired(message=_l("Please enter a title for the section.")),
                                    Length(max=TITLE_MAX)], render_kw={"maxlength": TITLE_MAX})
    title_en = StringField(_l("Title of the section (English)"), filters=[_strip],
                           validators=[Optional(), Length(max=TITLE_MAX)], render_kw={"maxlength": TITLE_MAX})
    description = TextAreaField(_l("Explanation (German)"), filters=[_strip],
                                validators=[Optional(), Length(max=TEXT_MAX)], render_kw={"rows": 2})
    description_en = TextAreaField(_l("Explanation (English)"), filters=[_strip],
                                   validators=[Optional(), Length(max=TEXT_MAX)], render_kw={"rows": 2})


class QuestionForm(FlaskForm):
    section_id = SelectField(_l("Section"), coerce=_optional_int,
                             validators=[InputRequired(message=_l("Please choose a section."))])
    kind = RadioField(_l("Kind of question"), choices=[(k.value, label) for k, label in KIND_LABELS.items()],
                      validators=[InputRequired(message=_l("Please choose the kind of question."))])
    text = TextAreaField(_l("Question or statement (German)"), filters=[_strip],
                         validators=[DataRequired(message=_l("Please enter the question.")), Length(max=TEXT_MAX)],
                         render_kw={"rows": 2, "maxlength": TEXT_MAX})
    text_en = TextAreaField(_l("Question or statement (English)"), filters=[_strip],
                            validators=[Optional(), Length(max=TEXT_MAX)], render_kw={"rows": 2, "maxlength": TEXT_MAX})
    options = TextAreaField(
        _l("Labels or answer options (German), one per line"),
        description=_l("Rating scales: one label for every point, from the lowest to the highest (leave empty for "
                       "the standard agreement labels). 0-10 scale: a label for 0 and one for 10. Choices: the "
                       "options. Free text: nothing."),
        render_kw={"rows": 7},
    )
    options_en = TextAreaField(_l("Labels or answer options (English), one per line"),
                               description=_l("As many as in German, or none."), render_kw={"rows": 7})
    required = BooleanField(_l("Required"), description=_l("Respondents must answer it to send the survey."))
    reverse = BooleanField(_l("Reverse-keyed"),
                           description=_l("For rating scales worded the other way round (agreeing is unfavourable): "
                                          "the answer is turned round before the scale's score is computed."))
    construct = StringField(_l("Scale"), filters=[_strip], validators=[Optional(), Length(max=CONSTRUCT_MAX)],
                            description=_l("Rating questions with the same scale name form one scale, with a score, "
                                           "a favourable share and Cronbach's alpha. ADKAR uses awareness, desire, "
                                           "knowledge, ability and reinforcement; technology acceptance usefulness "
                                           "and ease_of_use."),
                            render_kw={"maxlength": CONSTRUCT_MAX})

    def set_choices(self, sections, locale: str) -> None:
        self.section_id.choices = [(s.id, s.localized_title(locale)) for s in sections]

    def option_lines(self) -> tuple[list[str], list[str]]:
        return _lines(self.options.data), _lines(self.options_en.data)


class WaveForm(FlaskForm):
    opens_on = DayField(_l("First day"), validators=[InputRequired(message=_l("Please enter a date such as "
                                                                               "01.06.2026."))])
    closes_on = DayField(_l("Last day"), validators=[InputRequired(message=_l("Please enter a date such as "
                                                                               "14.06.2026."))])
    label = StringField(_l("Name of the round"), filters=[_strip], validators=[Optional(), Length(max=100)],
                        description=_l('For example "after go-live". Optional.'), render_kw={"maxlength": 100})


class ClosingDateForm(FlaskForm):
    """Move the last day of the round that is open (or not yet open); a closed round stays closed."""

    wave = HiddenField()
    closes_on = DayField(_l("New last day"), validators=[InputRequired(message=_l("Please enter a date such as "
                                                                                   "14.06.2026."))],
                          description=_l("Possible only until the round closes: its results are released then, and "
                                         "a closed round cannot be reopened or extended."))

    def wave_number(self) -> int | None:
        try:
            return int(self.wave.data)
        except (TypeError, ValueError):
            return None
