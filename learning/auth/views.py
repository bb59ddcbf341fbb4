"""Sign-in, sign-out, password reset, first password and password change."""

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import confirm_login, current_user, fresh_login_required, login_user, logout_user

from learning.auth import bp
from learning.auth.forms import ChangePasswordForm, LoginForm, NewPasswordForm, PasswordMailForm, ReauthenticateForm
from learning.auth.services import (
    AccountError,
    authenticate,
    change_password,
    find_login,
    request_password_mail,
    set_password_with_token,
    user_for_token,
)
from learning.extensions import limiter
from learning.messaging.mail import MailError
from learning.security import AUTHENTICATED, PUBLIC, allow, redirect_back


def _login_key() -> str:
    return f"{request.remote_addr}|{request.form.get('username', '').strip().lower()}"


def _failed(response) -> bool:
    return response.status_code != 302


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
        user = authenticate(form.username.data, form.password.data)
        if user is not None:
            login_user(user, remember=form.remember.data)
            return redirect_back(form.next.data)
        candidate = find_login(form.username.data)
        if candidate is not None and candidate.active and not candidate.password_hash:
            form.username.errors.append(
                _("You have not set a password yet. Use “First sign-in or forgotten password” below.")
            )
        else:
            form.password.errors.append(_("User name or password is not correct."))
    return render_template("auth/login.html", form=form)


@bp.route("/login/confirm", methods=["GET", "POST"])
@allow(AUTHENTICATED)
def reauthenticate():
    form = ReauthenticateForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        if current_user.check_password(form.password.data):
            confirm_login()
            return redirect_back(form.next.data)
        form.password.errors.append(_("The password is not correct."))
    return render_template("auth/reauthenticate.html", form=form)


@bp.route("/logout", methods=["POST"])
@allow(PUBLIC)
def logout():
    logout_user()
    flash(_("You have been signed out."), "success")
    return redirect(url_for("auth.login"))


@bp.route("/password/forgot", methods=["GET", "POST"])
@allow(PUBLIC)
@limiter.limit("10 per hour", methods=["POST"], scope="password-mail")
def forgot_password():
    form = PasswordMailForm()
    if form.validate_on_submit():
        try:
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
    except AccountError as exc:
        flash(str(exc), "danger")
        return redirect(url_for("auth.forgot_password"))
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            set_password_with_token(token, form.password.data)
        except AccountError as exc:
            form.password.errors.append(str(exc))
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
            change_password(current_user, form.current.data, form.password.data)
        except AccountError as exc:
            form[exc.field].errors.append(str(exc))
        else:
            login_user(current_user._get_current_object(), fresh=True)
            flash(_("Your password has been changed. Other devices have been signed out."), "success")
            return redirect(url_for("home.account"))
    return render_template("auth/change_password.html", form=form)
