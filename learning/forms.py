"""Form pieces every feature uses: a CSRF-protected button and a group of checkboxes."""

from flask_wtf import FlaskForm
from wtforms import SelectMultipleField
from wtforms.widgets import CheckboxInput, ListWidget


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
