"""The admin pages for runtime settings: privacy and retention, the organisation (name, contacts, logo)."""

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy.exc import OperationalError

from learning.db import db, unit_of_work
from learning.errors import ServiceError, show_on_form
from learning.forms import ActionForm
from learning.roles import Role
from learning.security import PUBLIC, allow
from learning.settings import bp
from learning.settings.forms import LogoForm, field_name, organisation_form, settings_form
from learning.settings.logo import logo_path, remove_logo, save_logo
from learning.settings.services import (
    GROUPS,
    SETTINGS,
    TEXT_FORM_SETTINGS,
    current_settings,
    default_organisation,
    organisation,
    save_settings,
)


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


# The organisation: name, contacts, logo ----------------------------------------------------------------

@bp.route("/organisation", methods=["GET", "POST"])
@allow(Role.ADMIN)
def organisation_page():
    form = organisation_form(current_settings(), request.form if request.method == "POST" else None)
    if form.validate_on_submit():
        try:
            with unit_of_work():
                changed = save_settings({s.key: form[field_name(s.key)].data or "" for s in TEXT_FORM_SETTINGS},
                                        current_user)
        except ServiceError as error:
            show_on_form(form, error, default=field_name(error.field) if error.field else None)
        else:
            flash(_("Saved.") if changed else _("Nothing changed."), "success" if changed else "info")
            return redirect(url_for("settings.organisation_page"))
    return render_template("settings/organisation.html", form=form, logo_form=LogoForm(prefix="logo"),
                           remove_form=ActionForm(prefix="remove"))


@bp.route("/organisation/logo", methods=["POST"])
@allow(Role.ADMIN)
def upload_logo():
    logo_form = LogoForm(prefix="logo")
    if logo_form.validate_on_submit():
        try:
            with unit_of_work():
                save_logo(logo_form.logo.data.read(), current_user)
        except ServiceError as error:
            show_on_form(logo_form, error, default="logo")
        else:
            flash(_("Saved. The new logo is shown in the header, on certificates and on printed reports."),
                  "success")
            return redirect(url_for("settings.organisation_page"))
    form = organisation_form(current_settings())
    return render_template("settings/organisation.html", form=form, logo_form=logo_form,
                           remove_form=ActionForm(prefix="remove"))


@bp.route("/organisation/logo/remove", methods=["POST"])
@allow(Role.ADMIN)
def remove_logo_view():
    if ActionForm(prefix="remove").validate_on_submit():
        with unit_of_work():
            remove_logo(current_user)
        flash(_("The logo is removed."), "success")
    return redirect(url_for("settings.organisation_page"))


@allow(PUBLIC)
def logo(logo_file: str):
    """The current logo, for everyone (also on the sign-in page); any other name is not found."""
    path = logo_path(logo_file)
    if path is None:
        abort(404)
    return send_file(path, mimetype="image/png", max_age=365 * 24 * 3600)


# Served outside /admin: the sign-in page shows it to people who are not signed in.
bp.record_once(lambda state: state.app.add_url_rule("/organisation/logo/<logo_file>", "settings.logo", logo))


@bp.app_template_global("organisation")
def organisation_global():
    """``organisation()`` in every template: name, contacts and logo URL (header, certificates, prints).

    The 503 page (database unreachable) renders the same header: it shows the defaults then.
    """
    try:
        return organisation()
    except OperationalError:
        db.session.rollback()
        return default_organisation()
