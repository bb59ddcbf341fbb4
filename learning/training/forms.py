"""Forms of the training pages for the project group: assignment rules, course upload."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import BooleanField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from learning.forms import ActionForm  # noqa: F401  (used by rule views)
from learning.org.audience import AudienceKind
from learning.org.forms import AudienceFields, audience_choice
from learning.training.due import DueRule


def _optional_int(value):
    return int(value) if value not in (None, "", "None") else None


def valid_due_rule(form, field) -> None:
    """Accept what DueRule.parse accepts; explain the format in the reader's language otherwise."""
    if not (field.data or "").strip():
        return
    try:
        DueRule.parse(field.data)
    except ValueError:
        raise ValidationError(_l("Enter a date such as 2026-06-30, or start, golive or assigned followed by + or - "
                                 "and a number of days, such as start+14 or golive-7.")) from None


class RuleForm(AudienceFields, FlaskForm):
    audience_phase_field = "phase_id"

    course_id = SelectField(_l("Course"), coerce=_optional_int,
                            validators=[DataRequired(message=_l("Please choose a course."))])
    audience = audience_choice(_l("Who gets the course"), message=_l("Please choose who gets the course."))
    phase_id = SelectField(_l("Rollout phase"), coerce=_optional_int,
                           description=_l('Used when "The departments affected by a rollout phase" is chosen '
                                          "above; without a choice, the course's own phase is used. Its go-live "
                                          "date is the anchor of golive due dates."))
    mandatory = BooleanField(_l("Mandatory"), default=True,
                             description=_l("Mandatory courses count for the completion rate; managers see "
                                            "who is overdue."))
    due_rule = StringField(_l("Due date"), validators=[Optional(), Length(max=40), valid_due_rule],
                           description=_l("Leave empty for no due date. A date such as 2026-06-30, or a number of "
                                          "days from the start date (start+14), the go-live date (golive-7; "
                                          "negative means before) or the day of assignment (assigned+30)."),
                           render_kw={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"})

    def set_choices(self, courses, departments, teams, phases, locale: str) -> None:
        """Offer the given courses, departments, teams and phases; remember each course's phase."""
        self.course_id.choices = [("", _l("Please choose"))] + [
            (c.id, c.localized("title", locale)) for c in courses
        ]
        self.course_phase = {c.id: c.phase_id for c in courses}
        self.set_audience_choices(departments, teams)
        self.phase_id.choices = [("", _l("The course's phase"))] + [
            (p.id, (p.title_en or p.title) if locale == "en" else p.title) for p in phases
        ]

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        audience = self.audience.data
        course_phase = getattr(self, "course_phase", {}).get(self.course_id.data)
        phase = (self.phase_id.data if audience == AudienceKind.PHASE.value else None) or course_phase
        if audience == AudienceKind.PHASE.value and self.course_id.data and phase is None:
            self.phase_id.errors = [*self.phase_id.errors,
                                    _l("This course belongs to no rollout phase. Please choose one.")]
            valid = False
        if self.course_id.data and phase is None and not self.due_rule.errors and (self.due_rule.data or "").strip():
            if DueRule.parse(self.due_rule.data).anchor == "golive":
                self.due_rule.errors = [*self.due_rule.errors,
                                        _l("This course belongs to no rollout phase, so there is no go-live date "
                                           "to count from.")]
                valid = False
        return valid


class CourseUploadForm(FlaskForm):
    file = FileField(_l("Course (ZIP file)"), validators=[
        FileRequired(_l("Please choose a ZIP file.")), FileAllowed(["zip"], _l("Please choose a ZIP file."))],
        description=_l("One course folder as a zip, as the export writes it: course.toml, the lessons, the quiz "
                       "and the images."),
        render_kw={"accept": ".zip,application/zip"})
