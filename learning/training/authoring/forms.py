"""Forms of the course editor: a new course, its settings, a lesson, its editors."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, IntegerField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from learning.forms import ActionForm, DueRuleField  # noqa: F401  (ActionForm: the editor's buttons)
from learning.org.forms import PersonPickerField
from learning.training.authoring.drafts import LESSON_MAX, SUMMARY_MAX, TITLE_MAX
from learning.training.forms import DUE_ANCHORS
from learning.training.models import ShowAnswers

PAUSE_UNITS = {"minutes": 1, "hours": 60, "days": 24 * 60}
WHOLE_NUMBER = _l("Please enter a whole number.")


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _revision(value):
    try:
        return max(0, int(value))
    except (TypeError, ValueError):
        return 0


class WholeNumberField(IntegerField):
    """A whole number, refused in the platform's words (not WTForms' "Not a valid integer value")."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(WHOLE_NUMBER) from None


class RevisionField(HiddenField):
    """The revision of the part the editor started from (the optimistic lock); a tampered value counts as 0."""

    def __init__(self, label=None, validators=None, **kwargs):
        # Several forms on one page carry a revision: rendered without an id, so that no id repeats.
        super().__init__(label, validators, render_kw={"id": False}, **kwargs)

    def process_formdata(self, valuelist):
        self.data = _revision(valuelist[0] if valuelist else 0)


class NewCourseForm(FlaskForm):
    title = StringField(_l("Title of the course"), filters=[_strip],
                        validators=[InputRequired(_l("Please enter a title.")), Length(max=TITLE_MAX)],
                        render_kw={"maxlength": TITLE_MAX})
    slug = StringField(_l("Short name in the address"), filters=[_strip],
                       validators=[Optional(), Length(max=80)],
                       description=_l("Lower-case letters, digits and hyphens, such as e-akte-basics. Leave empty to "
                                      "derive it from the title. It cannot be changed later."),
                       render_kw={"maxlength": 80, "spellcheck": "false", "autocomplete": "off"})


class SettingsForm(FlaskForm):
    revision = RevisionField()
    title = StringField(_l("Title"), filters=[_strip],
                        validators=[InputRequired(_l("Please enter a title.")), Length(max=TITLE_MAX)],
                        render_kw={"maxlength": TITLE_MAX})
    summary = TextAreaField(_l("Summary"), filters=[_strip],
                            validators=[InputRequired(_l("Please describe in a sentence or two what the course is "
                                                         "about.")), Length(max=SUMMARY_MAX)],
                            description=_l("Shown in the course catalogue."), render_kw={"rows": 3})
    phase = SelectField(_l("Rollout phase"), validate_choice=False,
                        description=_l("The course appears on the phase's page; go-live due dates count from the "
                                       "phase's go-live date."))
    tags = StringField(_l("Tags"), filters=[_strip], validators=[Optional(), Length(max=500)],
                       description=_l("Separated by commas, such as: e-file, basics."))
    minutes = WholeNumberField(_l("Estimated time in minutes"), default=15,
                           validators=[InputRequired(WHOLE_NUMBER), NumberRange(min=1, max=600)])
    mandatory = BooleanField(_l("Mandatory course"),
                             description=_l("Mandatory courses count for the completion rate; managers see who is "
                                            "overdue."))
    due = DueRuleField(_l("Default due date"), anchors=DUE_ANCHORS,
                       description=_l("Suggested when the course is assigned by a rule. Leave both empty for no due "
                                      "date."))
    pass_mark = WholeNumberField(_l("Pass mark of the quiz (percent)"), default=80,
                             validators=[InputRequired(WHOLE_NUMBER), NumberRange(min=1, max=100)])
    max_attempts = WholeNumberField(_l("Attempts at the quiz"), validators=[Optional(), NumberRange(min=1, max=100)],
                                description=_l("Leave empty for unlimited attempts."))
    attempt_pause = WholeNumberField(_l("Pause after a failed attempt"), default=0,
                                 validators=[InputRequired(WHOLE_NUMBER), NumberRange(min=0, max=43200)],
                                 description=_l("0 for no pause."))
    pause_unit = SelectField(_l("Unit of the pause"), default="minutes",
                             choices=[("minutes", _l("minutes")), ("hours", _l("hours")), ("days", _l("days"))])
    show_answers = RadioField(_l("When the correct answers are shown"), default=ShowAnswers.AFTER_PASSING.value,
                              choices=[(ShowAnswers.AFTER_PASSING.value, _l("After the quiz has been passed")),
                                       (ShowAnswers.AFTER_LAST_ATTEMPT.value,
                                        _l("After the quiz has been passed or the last attempt is used up")),
                                       (ShowAnswers.NEVER.value, _l("Never"))],
                              validators=[InputRequired(_l("Please choose when the correct answers are shown."))])
    title_en = StringField(_l("Title in English"), filters=[_strip], validators=[Optional(), Length(max=TITLE_MAX)],
                           render_kw={"maxlength": TITLE_MAX, "lang": "en"})
    summary_en = TextAreaField(_l("Summary in English"), filters=[_strip],
                               validators=[Optional(), Length(max=SUMMARY_MAX)], render_kw={"rows": 3, "lang": "en"})
    tags_en = StringField(_l("Tags in English"), filters=[_strip], validators=[Optional(), Length(max=500)],
                          render_kw={"lang": "en"})

    def set_phases(self, phases, locale: str) -> None:
        self.phase.choices = [("", _l("No rollout phase"))] + [
            (p.slug, (p.title_en or p.title) if locale == "en" else p.title) for p in phases]

    def pause_minutes(self) -> int:
        return (self.attempt_pause.data or 0) * PAUSE_UNITS.get(self.pause_unit.data, 1)

    def show_pause(self, minutes: int) -> None:
        """Fill the pause fields from a stored number of minutes, in the largest unit that divides it."""
        for unit in ("days", "hours"):
            if minutes and minutes % PAUSE_UNITS[unit] == 0:
                self.attempt_pause.data, self.pause_unit.data = minutes // PAUSE_UNITS[unit], unit
                return
        self.attempt_pause.data, self.pause_unit.data = minutes, "minutes"


class NewLessonForm(FlaskForm):
    revision = RevisionField()
    lesson_title = StringField(_l("Title of the new lesson"), filters=[_strip],
                               validators=[InputRequired(_l("Please enter a title.")), Length(max=TITLE_MAX)],
                               render_kw={"maxlength": TITLE_MAX})


class LessonForm(FlaskForm):
    revision = RevisionField()
    title = StringField(_l("Title of the lesson"), filters=[_strip],
                        validators=[InputRequired(_l("Please enter a title.")), Length(max=TITLE_MAX)],
                        render_kw={"maxlength": TITLE_MAX})
    body = TextAreaField(_l("Text (Markdown)"),
                         description=_l("The title is shown above the text. Start sections with ## and sub-sections "
                                        "with ###. Images come from the media library and need an alternative text."),
                         render_kw={"rows": 18, "spellcheck": "true", "data-editor": "de"})
    title_en = StringField(_l("Title in English"), filters=[_strip], validators=[Optional(), Length(max=TITLE_MAX)],
                           render_kw={"maxlength": TITLE_MAX, "lang": "en"})
    body_en = TextAreaField(_l("Text in English (Markdown)"),
                            description=_l("Optional. People who read the platform in English see this text; "
                                           "without it they see the German text."),
                            render_kw={"rows": 18, "lang": "en", "spellcheck": "true", "data-editor": "en"})


class EditorsForm(FlaskForm):
    editor_ids = PersonPickerField(_l("Add editors"),
                                   description=_l("Only people with the role “Author” or “Project group” can be "
                                                  "named. Editors may change the course; the project group may "
                                                  "change every course."))


class PreviewForm(FlaskForm):
    """The live preview's request: a text and its language (CSRF-protected like every POST)."""

    text = TextAreaField(validators=[Optional(), Length(max=LESSON_MAX)])
    language = SelectField(choices=[("de", "de"), ("en", "en")], default="de", validate_choice=False)
