from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import BooleanField, EmailField, RadioField, SelectField, SelectMultipleField, StringField
from wtforms.utils import unset_value
from wtforms.validators import DataRequired, Email, Length, Optional, ValidationError

from learning.forms import ActionForm, CheckboxesField, DayField  # noqa: F401  (ActionForm used by org views)
from learning.org.audience import KIND_LABELS, REQUIRED_MESSAGES, AudienceKind
from learning.org.audience import kind_of as audience_kind_of
from learning.org.search import search_text
from learning.roles import ROLE_LABELS, Role


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


class ImportForm(FlaskForm):
    file = FileField(_l("CSV file"), validators=[
        FileRequired(_l("Please choose a CSV file.")), FileAllowed(["csv", "txt"], _l("Please choose a CSV file."))],
        description=_l("Semicolons or commas as separators; UTF-8 or Windows-1252."),
        render_kw={"accept": ".csv,.txt,text/csv,text/plain"})
    deactivate_missing = BooleanField(_l("Deactivate people who are not in the file"))
    dry_run = BooleanField(_l("Only check the file, change nothing"))


# The person picker ------------------------------------------------------------------------------

class PersonPickerField(SelectMultipleField):
    """People chosen with the person picker (``person_picker`` macro; ``learning.org.picker``).

    ``data`` is a list of user ids (at most one unless ``multiple``). Besides the ticked people the
    form sends the search text (``<name>-q``); the search button (``<name>-search``, the picker
    without JavaScript) asks the view to show the form again with the matches instead of saving.
    The view fills the choices with :func:`learning.org.picker.fill_picker`.
    """

    def __init__(self, label=None, validators=None, *, multiple=True, empty_label=None, **kwargs):
        super().__init__(label, validators, coerce=int, **kwargs)
        self.multiple = multiple
        self.empty_label = empty_label  # one person: the choice of nobody
        self.query, self.searching = "", False
        self.chosen, self.matches = [], []

    def process(self, formdata, data=unset_value, extra_filters=None):
        if data is not unset_value and not isinstance(data, list | tuple):
            data = [] if data is None else [data]
        super().process(formdata, data, extra_filters)
        if formdata is not None:
            self.query = search_text(formdata.get(f"{self.name}-q"))
            self.searching = f"{self.name}-search" in formdata

    def process_formdata(self, valuelist):
        values = [v.strip() for v in valuelist if v.strip()]
        if not all(v.isascii() and v.isdigit() and len(v) < 19 for v in values):
            self.data = []
            raise ValueError(_l("Please choose a person from the list."))
        self.data = list(dict.fromkeys(int(v) for v in values))

    def offer(self, chosen, matches) -> None:
        """The people to show: those chosen so far (ticked) and the matches of the search."""
        self.chosen = chosen
        shown = {person.id for person in chosen}
        self.matches = [person for person in matches if person.id not in shown]
        self.choices = [(person.id, person.name) for person in [*self.chosen, *self.matches]]

    @property
    def person_id(self) -> int | None:
        """The one person chosen (a picker of one), or None."""
        return self.data[0] if self.data else None

    def pre_validate(self, form):
        if not self.multiple and len(self.data or ()) > 1:
            raise ValidationError(_l("Please choose one person."))
        offered = {value for value, _label in self.choices}
        if any(value not in offered for value in self.data or ()):
            raise ValidationError(_l("Please choose a person from the list."))


class TeamForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    department_id = SelectField(_l("Department"), coerce=_optional_int, validators=[DataRequired()])
    manager_ids = PersonPickerField(_l("Managers"), description=_l(
        "A team may have several managers, e.g. a team lead and a department head. Find them by name."))


# The audience widget ----------------------------------------------------------------------------

def audience_choice(label, kinds=tuple(AudienceKind), labels=None, message=None) -> RadioField:
    """The radio buttons of the audience widget: ``kinds`` in this order, worded by ``labels`` (else the usual)."""
    labels = {**KIND_LABELS, **(labels or {})}
    return RadioField(label, default=AudienceKind.EVERYONE.value,
                      choices=[(AudienceKind(kind).value, labels[AudienceKind(kind)]) for kind in kinds],
                      validators=[DataRequired(message=message or _l("Please choose who this is for."))])


class AudienceFields:
    """The one audience widget, mixed into a form beside ``FlaskForm``: who something is for.

    The form declares ``audience = audience_choice(...)``; this adds the departments, teams and roles
    to choose from and checks the choice as a whole: the chosen kind needs its values, and values
    ticked for another kind are refused on their field (they would be ignored without a word). A
    form whose ``PHASE`` kind reads a phase from a field of its own names it in ``audience_phase_field``.
    Render it with the ``audience`` macro of ``_macros/forms.html``.
    """

    audience_phase_field: str | None = None

    department_ids = CheckboxesField(_l("Departments"), coerce=int,
                                     description=_l('Used when "Selected departments" is chosen above.'))
    team_ids = CheckboxesField(_l("Teams"), coerce=int,
                               description=_l('Used when "Selected teams" is chosen above.'))
    roles = CheckboxesField(_l("Roles"), choices=[(r.value, ROLE_LABELS[r]) for r in Role],
                            description=_l('Used when "People with selected roles" is chosen above. '
                                           'Everybody has the role "Employee".'))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Declared here, these fields are older than the form's own: list them right after the radio
        # buttons, so that the error summary follows the page.
        own = ["department_ids", "team_ids", "roles"]
        order = [name for name in self._fields if name not in own]
        at = order.index("audience") + 1 if "audience" in order else len(order)
        self._fields = {name: self._fields[name] for name in order[:at] + own + order[at:]}

    def set_audience_choices(self, departments, teams) -> None:
        """Offer these departments and teams (teams as "Department / Team")."""
        self.department_ids.choices = [(d.id, d.name) for d in departments]
        self.team_ids.choices = [(t.id, f"{t.department.name} / {t.name}") for t in teams]

    def audience_value_fields(self) -> dict:
        """The field holding the values of each kind offered (a phase field only if the form names one)."""
        offered = {AudienceKind(value) for value, _label in self.audience.choices}
        fields = {AudienceKind.DEPARTMENTS: self.department_ids, AudienceKind.TEAMS: self.team_ids,
                  AudienceKind.ROLES: self.roles}
        if self.audience_phase_field:
            fields[AudienceKind.PHASE] = getattr(self, self.audience_phase_field)
        return {kind: field for kind, field in fields.items() if kind in offered}

    def audience_values(self) -> list:
        """The values of the chosen kind: what the service stores in ``audience_values``."""
        field = self.audience_value_fields().get(audience_kind_of(self.audience.data))
        if field is None or field.data in (None, ""):
            return []
        return list(field.data) if isinstance(field.data, list | tuple) else [field.data]

    def show_audience(self, kind: str, values) -> None:
        """Fill the widget with a stored audience (for an edit form)."""
        self.audience.data = kind
        field = self.audience_value_fields().get(audience_kind_of(kind))
        values = list(values or [])
        if field is None:
            return
        if isinstance(field, CheckboxesField):
            field.data = values
        else:
            field.data = values[0] if values else None

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        return self.check_audience() and valid

    def check_audience(self) -> bool:
        """Refuse a kind without its values, and values ticked for a kind not chosen, on the field concerned."""
        chosen = audience_kind_of(self.audience.data)
        if chosen is None or self.audience.errors:
            return True  # the radio buttons' own validators have said what is wrong
        labels = {AudienceKind(value): label for value, label in self.audience.choices}
        valid = True
        for kind, field in self.audience_value_fields().items():
            if kind == chosen:
                message = REQUIRED_MESSAGES.get(kind) if not field.data else None
            elif field.data not in (None, "", []):
                message = _l('This applies only to "%(kind)s", but "%(chosen)s" is chosen above. Clear this '
                             'choice, or choose "%(kind)s" above.', kind=labels[kind], chosen=labels[chosen])
            else:
                message = None
            if message is not None and not field.errors:
                field.errors = [*field.errors, message]
                valid = False
        return valid
