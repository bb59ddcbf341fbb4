"""Sign-in, sign-out (this device, one device, everywhere), password reset, first password and password change."""

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import confirm_login, current_user, fresh_login_required, login_user, logout_user

from learning.auth import bp
from learning.auth.devices import sign_out_device, sign_out_everywhere
from learning.auth.forms import ChangePasswordForm, LoginForm, NewPasswordForm, PasswordMailForm, ReauthenticateForm
from learning.auth.services import (
    authenticate,
    change_password,
    login_throttle_key,
    request_password_mail,
    set_password_with_token,
    sign_out,
    user_for_token,
)
from learning.db import unit_of_work
from learning.directory.services import SignInNotPossible, confirm_with_directory, has_identity
from learning.errors import ServiceError, show_on_form
from learning.extensions import limiter
from learning.forms import ActionForm
from learning.mail import MailError
from learning.security import AUTHENTICATED, PUBLIC, allow, redirect_back


def _login_key() -> str:
    """Failed sign-ins count per account and address, whether the user name or the email address was typed."""
    if "login_throttle_key" not in g:
        g.login_throttle_key = login_throttle_key(request.form.get("username", ""))
    return f"{request.remote_addr}|{g.login_throttle_key}"


def _failed(response) -> bool:
    """A sign-in that failed for a wrong password; "temporarily not possible" does not count towards a lockout."""
    return response.status_code != 302 and not g.get("sign_in_not_counted")


@bp.route("/login", methods=["GET", "POST"])
@allow(PUBLIC)
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT"], methods=["POST"], key_func=_login_key,
               deduct_when=_failed, scope="login-account")
@limiter.limit(lambda: current_app.config["LOGIN_IP_LIMIT"], methods=["POST"], deduct_when=_failed,
               scope="login-address")
def login():
    if current_user.is_authenticated:
        return redirect_back(request.args.get("next"))
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        with unit_of_work():
            try:
                user = authenticate(form.username.data, form.password.data, request.headers.get("User-Agent"))
            except SignInNotPossible as error:  # caught inside: what it recorded (a pending link) is committed
                user, g.sign_in_not_counted = None, True
                show_on_form(form, error)
        if user is not None:
            login_user(user, remember=form.remember.data)
            return redirect_back(form.next.data)
        if not g.get("sign_in_not_counted"):
            # One answer for unknown names, wrong passwords and accounts without a password.
            form.password.errors.append(_("User name or password is not correct. If you have not set a password "
                                          "yet, use “First sign-in or forgotten password” below."))
    return render_template("auth/login.html", form=form)


@bp.route("/login/confirm", methods=["GET", "POST"])
@allow(AUTHENTICATED)
def reauthenticate():
    form = ReauthenticateForm(next=request.args.get("next", ""))
    directory = has_identity(current_user)
    if form.validate_on_submit():
        confirmed = current_user.check_password(form.password.data)
        if not confirmed and directory:  # a directory account confirms with its directory password
            with unit_of_work():  # keeps what the check noted about the directory's state
                try:
                    confirmed = confirm_with_directory(current_user, form.password.data)
                except SignInNotPossible as error:
                    show_on_form(form, error, default="password")
                    return render_template("auth/reauthenticate.html", form=form, directory=directory)
        if confirmed:
            confirm_login()
            return redirect_back(form.next.data)
        form.password.errors.append(_("The password is not correct."))
    return render_template("auth/reauthenticate.html", form=form, directory=directory)


@bp.route("/logout", methods=["POST"])
@allow(PUBLIC)
def logout():
    provider_sign_out = oidc_views.provider_sign_out_url()  # single sign-on: the provider's session ends too
    if current_user.is_authenticated:
        with unit_of_work():
            sign_out(current_user)  # the device's cookies stop working everywhere, not only in this browser
    logout_user()
    flash(_("You have been signed out."), "success")
    if provider_sign_out:
        return oidc_views.continue_to_provider(provider_sign_out)
    return redirect(url_for("auth.login"))


@bp.route("/account/devices/<int:device_id>/sign-out", methods=["POST"])
@allow(AUTHENTICATED)
def sign_out_device_view(device_id: int):
    if not ActionForm().validate_on_submit():
        flash(_("Your form has expired. Please try again."), "warning")
        return redirect(url_for("home.account"))
    current = device_id == current_user.device_id
    with unit_of_work():
        signed_out = sign_out_device(current_user, device_id)
    if not signed_out:
        abort(404)
    if current:
        logout_user()
        flash(_("You have been signed out."), "success")
        return redirect(url_for("auth.login"))
    flash(_("The device has been signed out."), "success")
    return redirect(url_for("home.account", _anchor="devices-heading"))


@bp.route("/account/sign-out-everywhere", methods=["POST"])
@allow(AUTHENTICATED)
def sign_out_everywhere_view():
    if not ActionForm().validate_on_submit():
        flash(_("Your form has expired. Please try again."), "warning")
        return redirect(url_for("home.account"))
    with unit_of_work():
        sign_out_everywhere(current_user)
    logout_user()
    flash(_("You have been signed out on every device. Your calendar and feed addresses have been renewed."),
          "success")
    return redirect(url_for("auth.login"))


@bp.route("/password/forgot", methods=["GET", "POST"])
@allow(PUBLIC)
@limiter.limit("10 per hour", methods=["POST"], scope="password-mail")
def forgot_password():
    form = PasswordMailForm()
    if form.validate_on_submit():
        try:
            with unit_of_work():
                request_password_mail(form.email.data)
        except MailError:
            flash(_("The email could not be sent right now. Please try again later or ask the administration."),
                  "danger")
            return render_template("auth/forgot_password.html", form=form)
        flash(_("If an account uses this address, we have sent it a link. Please check your inbox."), "info")
        return redirect(url_for("auth.login"))
    return render_template("auth/forgot_password.html", form=form)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
@allow(PUBLIC)
def reset_password(token: str):
    try:
        user = user_for_token(token)
    except ServiceError as exc:
        flash(str(exc), "danger")
        return redirect(url_for("auth.forgot_password"))
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            with unit_of_work():
                set_password_with_token(token, form.password.data)
        except ServiceError as exc:
            show_on_form(form, exc, default="password")
        else:
            logout_user()
            flash(_("Your password has been saved. You can now sign in."), "success")
            return redirect(url_for("auth.login"))
    return render_template("auth/reset_password.html", form=form, user=user, first=not user.password_hash)


@bp.route("/account/password", methods=["GET", "POST"])
@allow(AUTHENTICATED)
@fresh_login_required
def change_password_view():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            with unit_of_work():
                change_password(current_user, form.current.data, form.password.data)
        except ServiceError as exc:
            show_on_form(form, exc, default="password")
        else:
            login_user(current_user._get_current_object(), fresh=True)
            flash(_("Your password has been changed. Other devices have been signed out and your calendar and "
                    "feed addresses renewed."), "success")
            return redirect(url_for("home.account"))
    return render_template("auth/change_password.html", form=form)


from learning.directory import oidc_views  # noqa: E402,F401  OpenID Connect sign-in routes on this blueprint
