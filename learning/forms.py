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
