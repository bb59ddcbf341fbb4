"""Form pieces every feature uses: a CSRF-protected button, a group of checkboxes and a date field."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectMultipleField
from wtforms.csrf.core import CSRFTokenField
from wtforms.meta import DefaultMeta
from wtforms.widgets import CheckboxInput, ListWidget

from learning.guards import FIRST_DAY, LAST_DAY, day_in_range


def _render_field(meta, field, render_kw):
    """Render a field as WTForms does, but the CSRF token without an ``id``.

    Every form carries a hidden ``csrf_token`` input; with its default ``id="csrf_token"`` a page with
    several forms has the same id several times (invalid HTML, WCAG 4.1.1). Nothing refers to it by id.
    """
    if isinstance(field, CSRFTokenField):
        render_kw = {**render_kw, "id": False}
    return DefaultMeta.render_field(meta, field, render_kw)


def render_csrf_tokens_without_id() -> None:
    """Make every FlaskForm (of every feature) render its CSRF token without an id; called by create_app."""
    FlaskForm.Meta.render_field = _render_field


class ActionForm(FlaskForm):
    """An empty form: a CSRF-protected button."""


class CheckboxesField(SelectMultipleField):
    """Several choices as a group of checkboxes (easier on phones than a multi-select)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class RenderableMarkdown:
    """A Markdown field's second limit besides its length: lines and formatting characters (``learning.content``)."""

    def __call__(self, form, field) -> None:
        from wtforms.validators import ValidationError

        from learning.content import complexity_message, too_complex

        if field.data and too_complex(field.data):
            raise ValidationError(complexity_message())


class DayField(DateField):
    """A date input (``type="date"``, ISO format) within the platform's range of dates (1900–2100).

    Every date field of the platform is one of these, so a date such as 9999-12-31, which would
    overflow the first calculation with it (a due date, a reminder), never reaches a service.
    """

    def __init__(self, label=None, validators=None, **kwargs):
        render_kw = {"min": FIRST_DAY.isoformat(), "max": LAST_DAY.isoformat(), **(kwargs.pop("render_kw", None) or {})}
        super().__init__(label, validators, render_kw=render_kw, **kwargs)

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            self.data = None
            raise ValueError(_l("Enter a date such as 2026-09-30.")) from None
        if not day_in_range(self.data):
            self.data = None
            raise ValueError(_l("Enter a date between %(first)s and %(last)s.", first=FIRST_DAY.isoformat(),
                                last=LAST_DAY.isoformat()))
