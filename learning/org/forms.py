from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import BooleanField, EmailField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Email, Length, Optional

from learning.forms import ActionForm, CheckboxesField, DayField  # noqa: F401  (ActionForm used by org views)
from learning.org.models import ROLE_LABELS, Role


def _optional_int(value):
    return int(value) if value not in (None, "", "None") else None


class PersonForm(FlaskForm):
    first_name = StringField(_l("First name"), validators=[DataRequired(), Length(max=100)],
                             render_kw={"autocomplete": "off"})
    last_name = StringField(_l("Last name"), validators=[DataRequired(), Length(max=100)],
                            render_kw={"autocomplete": "off"})
    email = EmailField(_l("Email address"), validators=[DataRequired(), Email(), Length(max=254)],
                       render_kw={"autocomplete": "off"})
    username = StringField(_l("User name"), validators=[Optional(), Length(min=2, max=80)],
                           description=_l("Leave empty to derive it from the email address."),
                           render_kw={"autocomplete": "off", "autocapitalize": "none"})
    employee_number = StringField(_l("Employee number"), validators=[Optional(), Length(max=40)])
    start_date = DayField(_l("Start date"), validators=[Optional()],
                           description=_l("First working day; used for onboarding and relative due dates."))
    team_id = SelectField(_l("Team"), coerce=_optional_int, validate_choice=True)
    locale = SelectField(_l("Language"), choices=[("", _l("Organisation default")), ("de", "Deutsch"),
                                                  ("en", "English")])
    roles = CheckboxesField(_l("Roles"), choices=[(r.value, ROLE_LABELS[r]) for r in Role])
    managed_team_ids = CheckboxesField(_l("Manages these teams"), coerce=int)

    def set_team_choices(self, teams) -> None:
        self.team_id.choices = [("", _l("No team"))] + [(t.id, f"{t.department.name} / {t.name}") for t in teams]
        self.managed_team_ids.choices = [(t.id, f"{t.department.name} / {t.name}") for t in teams]


class DepartmentForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])


class TeamForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    department_id = SelectField(_l("Department"), coerce=_optional_int, validators=[DataRequired()])
    manager_ids = SelectMultipleField(_l("Managers"), coerce=int,
                                      description=_l("A team may have several managers, e.g. a team lead "
                                                     "and a department head."))


class ImportForm(FlaskForm):
    file = FileField(_l("CSV file"), validators=[
        FileRequired(_l("Please choose a CSV file.")), FileAllowed(["csv", "txt"], _l("Please choose a CSV file."))],
        description=_l("Semicolons or commas as separators; UTF-8 or Windows-1252."),
        render_kw={"accept": ".csv,.txt,text/csv,text/plain"})
    deactivate_missing = BooleanField(_l("Deactivate people who are not in the file"))
    dry_run = BooleanField(_l("Only check the file, change nothing"))
