"""A form with one field per setting, built from the definitions."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, IntegerField, StringField
from wtforms.validators import InputRequired, Length, NumberRange

from learning.settings.services import SETTINGS, TEXT_FORM_SETTINGS


def field_name(key: str) -> str:
    return key.replace(".", "__")


def settings_form(values: dict, formdata=None):
    class SettingsForm(FlaskForm):
        pass

    for setting in SETTINGS:
        if setting.is_flag:
            field = BooleanField(setting.label, description=setting.description)
        else:
            field = IntegerField(setting.label, description=setting.description, validators=[
                InputRequired(), NumberRange(min=setting.minimum, max=setting.maximum)])
        setattr(SettingsForm, field_name(setting.key), field)
    data = {field_name(k): v for k, v in values.items()}
    return SettingsForm(formdata=formdata, data=data) if formdata is not None else SettingsForm(data=data)


def organisation_form(values: dict, formdata=None):
    """The organisation's name and contacts: one text field per setting."""

    class OrganisationForm(FlaskForm):
        pass

    for setting in TEXT_FORM_SETTINGS:
        setattr(OrganisationForm, field_name(setting.key), StringField(
            setting.label, description=setting.description, validators=[Length(max=setting.maximum)]))
    data = {field_name(s.key): values[s.key] for s in TEXT_FORM_SETTINGS}
    return OrganisationForm(formdata=formdata, data=data) if formdata is not None else OrganisationForm(data=data)


class LogoForm(FlaskForm):
    logo = FileField(_l("Logo image"), validators=[FileRequired(_l("Please choose an image file."))],
                     description=_l("PNG, JPEG or WebP, at most 2 MB; shown at most 600 × 200 pixels. "
                                    "A wide logo on a transparent background works best."))
