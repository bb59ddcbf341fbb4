"""The preferences form: how often mail comes, and which optional reminders."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField
from wtforms.validators import InputRequired

from learning.forms import ActionForm, CheckboxesField  # noqa: F401  (mark-read and renew buttons)
from learning.notifications.models import Digest

DIGEST_LABELS = {
    Digest.IMMEDIATE: _l("At once – one mail per reminder, at most a few per day"),
    Digest.DAILY: _l("Once a day – all reminders of a day in one mail, in the morning"),
    Digest.WEEKLY: _l("Once a week – all reminders of the week in one mail"),
}


class PreferencesForm(FlaskForm):
    digest = RadioField(_l("How often would you like to get mail?"),
                        choices=[(d.value, label) for d, label in DIGEST_LABELS.items()],
                        validators=[InputRequired(message=_l("Please choose how often you want to get mail."))])
    kinds = CheckboxesField(
        _l("Remind me of"),
        description=_l("Reminders you switch off come neither by mail nor in the notification centre. Overdue "
                       "mandatory training is always reminded."))

    def __init__(self, *args, kinds=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.kinds.choices = [(kind.name, kind.label) for kind in kinds]
