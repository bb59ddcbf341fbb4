"""Routes of OpenID Connect sign-in (on the auth blueprint: ``/login/oidc`` and its callback) and the
administrator's connection test (on the directory blueprint). Imported by ``learning.auth.views``, before
either blueprint is registered."""

from flask import flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user

from learning.auth import bp as auth_bp
from learning.db import unit_of_work
from learning.directory import bp as directory_bp
from learning.directory.forms import TestConnectionForm
from learning.directory.oidc import (
    OIDC,
    SignInFailed,
    finish_sign_in,
    oidc_settings,
    provider_sign_out_url,
    start_sign_in,
    try_provider,
)
from learning.directory.services import SignInNotPossible, directory_status
from learning.errors import ServiceError
from learning.org.models import Role
from learning.security import PUBLIC, allow, is_safe_redirect, redirect_back


@auth_bp.app_template_global("oidc_settings")
def _oidc_settings():
    return oidc_settings()


@auth_bp.app_template_global("oidc_status")
def _oidc_status():
    return directory_status(OIDC)


def _back_to_login(next_page: str | None):
    return redirect(url_for("auth.login", next=next_page) if is_safe_redirect(next_page) else url_for("auth.login"))


@auth_bp.route("/login/oidc")
@allow(PUBLIC)
def oidc_login():
    """Start single sign-on: a link, not a form (the strict form-action policy forbids posting to the provider)."""
    next_page = request.args.get("next")
    if current_user.is_authenticated:
        return redirect_back(next_page)
    with unit_of_work():  # caught inside: an unreachable provider is noted for the administrator
        try:
            return start_sign_in(next_page)
        except SignInNotPossible as error:
            problem = error
    flash(str(problem), "danger")
    return _back_to_login(next_page)


@auth_bp.route("/login/oidc/callback")
@allow(PUBLIC)
def oidc_callback():
    try:
        with unit_of_work():
            try:
                user, next_page = finish_sign_in()
            except (SignInNotPossible, SignInFailed) as error:  # caught inside: a pending link, the provider's
                flash(str(error), "danger")                      # state are committed
                return redirect(url_for("auth.login"))
    except ServiceError as error:  # any other refusal (e.g. of the person's data): nothing is kept
        flash(str(error), "danger")
        return redirect(url_for("auth.login"))
    login_user(user)
    return redirect_back(next_page)


@directory_bp.route("/oidc/test", methods=["POST"])
@allow(Role.ADMIN)
def oidc_test():
    if not TestConnectionForm().validate_on_submit():
        flash(_("Your form has expired. Please try again."), "warning")
        return redirect(url_for("directory.index", _anchor="oidc-heading"))
    try:
        with unit_of_work():
            worked, message = try_provider()
    except ServiceError as error:
        flash(str(error), "warning")
    else:
        if worked:
            flash(_("The connection works: %(message)s", message=message), "success")
        else:
            flash(_("The provider cannot be reached: %(message)s", message=message), "danger")
    return redirect(url_for("directory.index", _anchor="oidc-heading"))



def continue_to_provider(url: str):
    """After the local sign-out, on to the provider's end-session endpoint.

    A page that moves on by itself (``Refresh`` header, with a link), not a redirect: the sign-out is a
    form, and the strict ``form-action 'self'`` policy refuses a form's redirect to another site.
    """
    response = make_response(render_template("directory/oidc_sign_out.html", url=url, settings=oidc_settings()))
    response.headers["Refresh"] = f"0; url={url}"
    return response

__all__ = ["continue_to_provider", "provider_sign_out_url"]
