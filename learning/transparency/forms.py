from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, Optional

from learning.forms import ActionForm  # noqa: F401  (used by the views)


class BarrierForm(FlaskForm):
    page = StringField(_l("Page or function"), validators=[Optional(), Length(max=500)],
                       description=_l("Where did you notice the barrier? The address or name of the page is enough."))
    description = TextAreaField(_l("What did not work?"), validators=[DataRequired(), Length(max=5000)],
                                description=_l("For example: a button cannot be reached with the keyboard, "
                                               "a text is hard to read, the screen reader announces nothing."))
    contact = EmailField(_l("Email address for our answer (optional)"),
                         validators=[Optional(), Email(), Length(max=254)])
    # Shown only to people who are signed in; unticked, the report stores nothing that names them.
    attach_name = BooleanField(_l("Attach my name to the report"), default=False,
                               description=_l("Without it, the report is stored without your name or user account."))
