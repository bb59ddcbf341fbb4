"""Forms of onboarding: a template's settings, a template task, and the buddy of a journey."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from learning.forms import ActionForm, DayOffsetField, RenderableMarkdown  # noqa: F401  (tick, remove, apply and switch-off buttons)
from learning.onboarding.models import (
    DESCRIPTION_MAX,
    NAME_MAX,
    OFFSET_MAX,
    OFFSET_MIN,
    OWNER_LABELS,
    TITLE_MAX,
)
from learning.org.forms import PersonPickerField


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _optional_int(value):
    if value in (None, "", "None"):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1  # not a choice: the field reports it


class TemplateForm(FlaskForm):
    name = StringField(
        _l("Name"), filters=[_strip],
        validators=[DataRequired(message=_l("Please enter a name.")),
                    Length(max=NAME_MAX, message=_l("The name may be at most %(max)d characters long."))],
        render_kw={"maxlength": NAME_MAX},
    )
    department_id = SelectField(
        _l("For"), coerce=_optional_int,
        description=_l("New staff of a department with its own template get that one; everybody else gets the "
                       "default template."),
    )
    description = TextAreaField(
        _l("Note for the project group"), filters=[_strip],
        validators=[Optional(), Length(max=DESCRIPTION_MAX, message=_l("The note may be at most %(max)d characters "
                                                                       "long."))],
        description=_l("What the template is for and what to keep in mind when changing it. Not shown to new "
                       "staff."),
        render_kw={"rows": 3, "maxlength": DESCRIPTION_MAX},
    )
    it_contact_id = SelectField(
        _l("IT and administration tasks go to"), coerce=_optional_int,
        description=_l("A named person, or every administrator. Changing it makes a new version of the template."),
    )
    copy_from = SelectField(_l("Start with the tasks of"), coerce=_optional_int)

    def set_choices(self, departments, people, templates=None) -> None:
        self.department_id.choices = [("", _l("Default template (all departments without their own)"))] + [
            (d.id, d.name) for d in departments]
        self.it_contact_id.choices = [("", _l("Every administrator"))] + [
            (p.id, f"{p.last_name}, {p.first_name}") for p in people]
        if templates is None:
            del self.copy_from
        else:
            self.copy_from.choices = [("", _l("No template: start empty"))] + [(t.id, t.name) for t in templates]


class TaskForm(FlaskForm):
    title = StringField(
        _l("Title"), filters=[_strip],
        validators=[DataRequired(message=_l("Please enter a title.")),
                    Length(max=TITLE_MAX, message=_l("The title may be at most %(max)d characters long."))],
        description=_l("What is to be done, in a few words, e.g. “Workstation and accounts ready”."),
        render_kw={"maxlength": TITLE_MAX},
    )
    description = TextAreaField(
        _l("Description"), filters=[_strip],
        validators=[Optional(), Length(max=DESCRIPTION_MAX,
                                       message=_l("The description may be at most %(max)d characters long.")),
                    RenderableMarkdown()],
        description=_l("Optional. How to do it, whom to ask, links. You can use Markdown: **bold**, lists with - "
                       "and links."),
        render_kw={"rows": 6, "maxlength": DESCRIPTION_MAX},
    )
    owner_role = RadioField(
        _l("Who does it"), choices=[(role.value, label) for role, label in OWNER_LABELS.items()],
        validators=[InputRequired(message=_l("Please choose who does this task."))],
    )
    offset_days = DayOffsetField(
        _l("Due"), anchor=("start", _l("the first working day")), max_before=-OFFSET_MIN, max_after=OFFSET_MAX,
        required_message=_l("Please enter on which day the task is due."),
        description=_l("0 days after the first working day is the first working day itself."),
    )
    course_id = SelectField(
        _l("Linked course"), coerce=_optional_int,
        description=_l("Optional, for tasks of the new hire: the task is done as soon as they complete the course."),
    )

    def set_choices(self, courses, locale: str) -> None:
        self.course_id.choices = [("", _l("No course"))] + [(c.id, c.localized("title", locale)) for c in courses]


class BuddyForm(FlaskForm):
    buddy_id = PersonPickerField(
        _l("Buddy"), multiple=False, empty_label=_l("No buddy yet"),
        description=_l("Offered are colleagues of the same team; find others of the department by name."))
