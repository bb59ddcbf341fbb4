"""Forms of the project group's phase pages: a phase, and one question of its FAQ."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from learning.errors import ServiceError
from learning.forms import CheckboxesField, DayField, RenderableMarkdown
from learning.org.forms import PersonPickerField
from learning.phases.models import STATUS_LABELS
from learning.phases.services import (
    FIRST_YEAR,
    LAST_YEAR,
    MAX_ANSWER,
    MAX_QUESTION,
    MAX_SLUG,
    MAX_TEXT,
    MAX_TITLE,
    parse_period,
    parse_slug,
)


def _too_long(maximum: int):
    return Length(max=maximum, message=_l("Please use at most %(max)d characters.", max=maximum))


def valid_period(form, field) -> None:
    try:
        field.data = parse_period(field.data)
    except ServiceError as exc:
        raise ValidationError(str(exc)) from None


def valid_slug(form, field) -> None:
    try:
        field.data = parse_slug(field.data)
    except ServiceError as exc:
        raise ValidationError(str(exc)) from None


MARKDOWN_HINT = _l("Markdown: blank line between paragraphs, - for a list item, **bold**, [link](https://…).")


class PhaseForm(FlaskForm):
    slug = StringField(_l("Short name"), validators=[DataRequired(message=_l("Please enter a short name.")),
                                                     _too_long(MAX_SLUG), valid_slug],
                       description=_l("Part of the page address, such as e-akte: lower-case letters, digits "
                                      "and hyphens."),
                       render_kw={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"})
    title = StringField(_l("Title"), validators=[DataRequired(message=_l("Please enter a title.")),
                                                 _too_long(MAX_TITLE)])
    title_en = StringField(_l("English title"), validators=[Optional(), _too_long(MAX_TITLE)],
                           description=_l("Shown to people who use the platform in English."),
                           render_kw={"lang": "en"})
    period = StringField(_l("Half-year"), validators=[DataRequired(message=_l("Please enter the half-year.")),
                                                      Length(max=10), valid_period],
                         description=_l("Such as 2026-H1 (January to June) or 2026-H2 (July to December), "
                                        "between %(first)d and %(last)d.", first=FIRST_YEAR, last=LAST_YEAR),
                         render_kw={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"})
    status = RadioField(_l("Status"), default="planned",
                        choices=[(status.value, label) for status, label in STATUS_LABELS.items()],
                        validators=[DataRequired(message=_l("Please choose a status."))])
    go_live = DayField(_l("Go-live date"), validators=[Optional()],
                       description=_l("The day the change takes effect. Leave empty while it is not fixed."))
    department_ids = CheckboxesField(_l("Affected departments"), coerce=int)
    contact_ids = PersonPickerField(_l("Contact persons"),
                                    description=_l("Shown with name and email on the phase page."))
    goals = TextAreaField(_l("Goals"), validators=[_too_long(MAX_TEXT), RenderableMarkdown()],
                          description=MARKDOWN_HINT, render_kw={"rows": 8})
    changes = TextAreaField(_l("What changes for whom"), validators=[_too_long(MAX_TEXT), RenderableMarkdown()],
                            description=MARKDOWN_HINT, render_kw={"rows": 10})

    def set_choices(self, departments) -> None:
        """Offer the departments; the contact persons are offered by ``learning.org.picker.fill_picker``."""
        self.department_ids.choices = [(d.id, d.name) for d in departments]


class FaqForm(FlaskForm):
    question = StringField(_l("Question"), validators=[DataRequired(message=_l("Please enter the question.")),
                                                       _too_long(MAX_QUESTION)])
    answer = TextAreaField(_l("Answer"), validators=[DataRequired(message=_l("Please enter the answer.")),
                                                     _too_long(MAX_ANSWER), RenderableMarkdown()],
                           description=MARKDOWN_HINT, render_kw={"rows": 6})
