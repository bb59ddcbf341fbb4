"""Accounts: sign-in, password tokens (reset and first password), password changes.

Services flush; the caller's unit of work commits. Mail with a sign-in link goes out after the
commit; a refusal is a ``ServiceError`` (on the form field it names).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable

from flask import current_app, render_template, session
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import bindparam, func, inspect, or_, select
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key
from werkzeug.security import check_password_hash

from learning.audit.services import record
from learning.auth.devices import expired, keep_device, note_seen, sign_out_device, start_device_session, token_hash
from learning.auth.models import DeviceSession
from learning.db import after_commit, db, read_outside_transaction, unit_of_work, utcnow
from learning.directory.services import local_password_allowed, sign_in_with_directory
from learning.errors import ServiceError
from learning.i18n import local_today
from learning.mail import absolute_url, send_mail
from learning.org.models import User, UserRole
from learning.pagecache import Counters, counter_columns, note_counters

logger = logging.getLogger(__name__)

MIN_PASSWORD_LENGTH = 10
RESET = "password-reset"
INVITATION = "invitation"


# The device, the person, one row per role, and their page counters: the one statement of every signed-in request.
_PERSON = (select(User.__table__, DeviceSession.id.label("device_id"),
                  DeviceSession.last_seen_on.label("device_last_seen_on"), UserRole.role, *counter_columns(User.id))
           .select_from(DeviceSession).join(User, User.id == DeviceSession.user_id)
           .outerjoin(UserRole, UserRole.user_id == User.id).where(DeviceSession.token_hash == bindparam("token")))
_USER_COLUMNS = [(attr.key, attr.columns[0].key) for attr in User.__mapper__.column_attrs]
MAX_TOKEN_LENGTH = 64


def load_user(device_token: str) -> User | None:
    """Return the active user of a signed-in device (session or remember-me cookie), else None.

    Every signed-in request runs this: one statement outside the session's transaction reads the
    device, the person, their roles and their page counters (learning/pagecache.py), and the person
    joins the session as if a query had loaded them. A device not used for longer than "stay signed
    in" lasts is no longer signed in; the day it was last used is written at most once a day.
    """
    if not device_token or len(device_token) > MAX_TOKEN_LENGTH:
        return None
    rows = read_outside_transaction(_PERSON, {"token": token_hash(device_token)})
    if not rows or not rows[0].active:
        return None
    first = rows[0]._mapping
    today = local_today()
    if expired(first["device_last_seen_on"], today):
        return None
    user = db.session.identity_map.get(identity_key(User, first["id"]))
    if user is None:  # as a query does, an instance the session already holds is used as it is
        user = _loaded(User, {key: first[column] for key, column in _USER_COLUMNS})
        roles = [_loaded(UserRole, {"user_id": user.id, "role": row.role}) for row in rows if row.role]
        set_committed_value(user, "role_rows", roles)
        for instance in (user, *roles):
            make_transient_to_detached(instance)
        db.session.add(user)
    user.device_token, user.device_id = device_token, first["device_id"]
    note_counters(user.id, Counters(*rows[0][-len(Counters._fields):]))
    if first["device_last_seen_on"] < today:
        note_seen(first["device_id"], today)
    return user


def _loaded(model, columns: dict):
    """An instance with ``columns`` set as if loaded, without the constructor's change tracking."""
    instance = inspect(model).class_manager.new_instance()
    for key, value in columns.items():
        set_committed_value(instance, key, value)
    return instance


def mark_remembered_session(app, user) -> None:
    """Bind a session restored from the remember-me cookie to this browser.

    Flask-Login sets the session identifier only in ``login_user``; without it, "strong"
    session protection would sign a remembered person out again on the next request.
    """
    session["_id"] = app.login_manager._session_identifier_generator()


def _usable_login(login: str) -> str | None:
    """The identifier as looked up (trimmed, lower case), or None when it cannot name an account."""
    login = (login or "").strip().lower()
    if not login or len(login) > 254 or any(ord(c) < 32 for c in login):
        return None
    return login


def find_login(login: str) -> User | None:
    """The account a user name or email address names, whatever its state."""
    login = _usable_login(login)
    if login is None:
        return None
    return db.session.scalar(
        select(User).where(or_(func.lower(User.username) == login, User.email == login))
    )


def login_throttle_key(login: str) -> str:
    """What failed sign-ins are counted by: the account, whichever identifier names it, else the text."""
    usable = _usable_login(login)
    account_id = None if usable is None else db.session.scalar(
        select(User.id).where(or_(func.lower(User.username) == usable, User.email == usable)))
    if account_id is not None:
        return f"account:{account_id}"
    return "name:" + hashlib.sha256((login or "").strip().lower().encode()).hexdigest()


# A scrypt hash of a random password that was thrown away, with the cost of a stored password's
# (tests/auth checks the parameters): checked when there is no usable account, so that answer takes
# as long as a wrong password. A constant, so no worker's first unknown name costs a hash more.
DUMMY_HASH = ("scrypt:32768:8:1$Z0d7JH6UsqpDS2VN$05f80a05bf8564790a12971d12d9d1175e1beb87d4f3a620a4924d742fc5e5dd3f"
              "b68b47bd6e7ac38154d134547e0718a830be466fbd543ed390a0488685e2ea")


def authenticate(login: str, password: str, user_agent: str | None = None) -> User | None:
    """Return the user, signed in on a new device, if the password is right and the account active.

    Unknown names, deactivated accounts and accounts without a password cost one password check
    too (against a dummy hash), so the time of the answer does not tell which accounts exist.
    Without a matching local password, a configured directory is asked (it may raise
    ``SignInNotPossible``: unreachable, or a link awaits an administrator).
    """
    user = find_login(login)
    usable = user is not None and user.active and bool(user.password_hash)
    matches = check_password_hash(user.password_hash if usable else DUMMY_HASH, password)
    if not (usable and matches and local_password_allowed(user)):
        user = sign_in_with_directory(login, password)
        if user is None:
            return None
    user.last_login_at = utcnow()
    start_device_session(user, user_agent)
    db.session.flush()
    logger.info("User %s signed in", user.id)
    return user


def sign_out(user: User) -> None:
    """End the device the person is signed in on: its session and remember-me cookies stop working."""
    if user.device_id is not None:
        sign_out_device(user, user.device_id)


def validate_new_password(user: User, password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ServiceError(_("The password must have at least %(n)d characters.", n=MIN_PASSWORD_LENGTH),
                           "password")
    lowered = password.lower()
    if lowered in {user.username.lower(), user.email.lower(), user.first_name.lower(), user.last_name.lower()}:
        raise ServiceError(_("The password must not be your name, user name or email address."), "password")


def change_password(user: User, current: str, new: str) -> None:
    """Replace the password after checking the current one; signs out other devices, renews personal addresses."""
    if not user.check_password(current):
        raise ServiceError(_("The current password is not correct."), "current")
    validate_new_password(user, new)
    keep_device(user)  # the rotated session token ends every other device (learning/auth/devices.py)
    user.set_password(new)
    record(user, "account.password_changed", user)
    db.session.flush()


# Tokens ----------------------------------------------------------------------
def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"learning.{purpose}")


def _fingerprint(user: User) -> str:
    """Changes whenever the password changes, which makes every token single-use."""
    raw = f"{user.password_hash or ''}:{user.session_token}".encode()
    return hashlib.sha256(raw).hexdigest()[:20]


def make_token(user: User, purpose: str) -> str:
    return _serializer(purpose).dumps({"uid": user.id, "fp": _fingerprint(user)})


def _max_age(purpose: str) -> int:
    if purpose == INVITATION:
        return current_app.config["INVITATION_DAYS"] * 86400
    return current_app.config["PASSWORD_RESET_HOURS"] * 3600


def user_for_token(token: str) -> User:
    """Return the user a reset or invitation token belongs to, or raise ServiceError."""
    for purpose in (RESET, INVITATION):
        try:
            data = _serializer(purpose).loads(token, max_age=_max_age(purpose))
        except SignatureExpired:
            raise ServiceError(_("This link has expired. Please request a new one."), "password") from None
        except BadSignature:
            continue
        user = db.session.get(User, data.get("uid"))
        if user is None or not user.active or data.get("fp") != _fingerprint(user):
            break
        return user
    raise ServiceError(_("This link is not valid or has already been used. Please request a new one."), "password")


def set_password_with_token(token: str, password: str) -> User:
    user = user_for_token(token)
    validate_new_password(user, password)
    user.set_password(password)
    record(user, "account.password_set", user)
    db.session.flush()
    return user


def _mail_token_link(user: User, purpose: str, then: Callable[[], None] | None = None) -> None:
    """Mail the person a link with a token, once the unit of work has committed; ``then`` runs after the mail.

    Without an SMTP server the mail is captured, a row committed on its own. ``MailError`` is
    raised out of the caller's unit of work (after its commit), for the caller to report.
    """
    token = make_token(user, purpose)
    link = absolute_url("auth.reset_password", token=token)
    with force_locale(user.locale or current_app.config["DEFAULT_LOCALE"]):
        if purpose == INVITATION:
            subject = _("Your access to the learning platform")
            valid = ngettext("%(num)d day", "%(num)d days", current_app.config["INVITATION_DAYS"])
        else:
            subject = _("Reset your password")
            valid = ngettext("%(num)d hour", "%(num)d hours", current_app.config["PASSWORD_RESET_HOURS"])
        body = render_template(
            "auth/mail_password.txt", user=user, link=link, purpose=purpose, valid=valid
        )
    recipient, name = user.email, user.full_name

    def send() -> None:
        with unit_of_work():
            send_mail(recipient, subject, body, name=name)
            if then is not None:
                then()

    after_commit(send)


def request_password_mail(email: str) -> None:
    """Mail a reset link (or a first-password link) if an active account has this address.

    The caller shows the same message either way, so nobody learns which addresses exist.
    """
    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None or not user.active:
        logger.info("Password mail requested for unknown or inactive address")
        return
    _mail_token_link(user, RESET if user.password_hash else INVITATION)


def send_invitation(user: User, actor: User) -> None:
    """Mail a first-password link to an imported or newly created person; recorded once the mail is out."""
    if not user.active:
        raise ServiceError(_("%(name)s is deactivated.", name=user.full_name))
    _mail_token_link(user, INVITATION,
                     then=lambda: record(actor, "account.invitation_sent", user, summary=user.email))
