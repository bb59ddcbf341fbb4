"""A form with one field per setting, built from the definitions."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField
from wtforms.validators import InputRequired, NumberRange

from learning.settings.services import SETTINGS


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
