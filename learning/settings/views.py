"""The admin page for runtime settings."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from learning.db import unit_of_work
from learning.errors import ServiceError, show_on_form
from learning.roles import Role
from learning.security import allow
from learning.settings import bp
from learning.settings.forms import field_name, settings_form
from learning.settings.services import GROUPS, SETTINGS, current_settings, save_settings


@bp.route("/", methods=["GET", "POST"])
@allow(Role.ADMIN)
def index():
    form = settings_form(current_settings(), request.form if request.method == "POST" else None)
    if form.validate_on_submit():
        try:
            with unit_of_work():
                changed = save_settings({s.key: form[field_name(s.key)].data for s in SETTINGS}, current_user)
        except ServiceError as error:  # the form's own checks catch this first
            show_on_form(form, error, default=field_name(error.field) if error.field else None)
        else:
            if changed:
                flash(ngettext("%(num)d setting saved.", "%(num)d settings saved.", len(changed)), "success")
            else:
                flash(_("Nothing changed."), "info")
            return redirect(url_for("settings.index"))
    groups = [(label, [form[field_name(s.key)] for s in SETTINGS if s.group == group])
              for group, label in GROUPS.items()]
    return render_template("settings/index.html", form=form, groups=groups)
