"""Sign-in with the directory, the identities it links, the links an admin confirms, and the directory's state.

Services flush; the caller's unit of work commits. Outside sign-ins (LDAP now, OpenID Connect later)
find people by ``ExternalIdentity`` (source, subject), never by e-mail: ``person_for_identity``
decides between signing in, creating the person and asking an administrator to confirm a link.
"""

from __future__ import annotations

import logging
import uuid

import ldap3
from flask import current_app
from flask_babel import gettext as _
from ldap3.utils.conv import escape_filter_chars
from sqlalchemy import delete, exists, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import joinedload

from learning.audit.services import record
from learning.db import AFTER_COMMIT, db, utcnow
from learning.directory.ldap import (
    NAME_ATTRIBUTES,
    DirectoryEntry,
    DirectorySettings,
    DirectoryUnreachable,
    check_connection,
    entry_from_response,
    find_person,
    password_is_right,
    service_connection,
)
from learning.directory.models import LDAP, DirectoryStatus, ExternalIdentity, PendingLink
from learning.errors import NotFound, ServiceError
from learning.org.models import Role, User
from learning.org.services import USERNAME_RE, PersonData, create_person
from learning.settings.services import setting

logger = logging.getLogger(__name__)

MAX_LOGIN_LENGTH = 254


class SignInNotPossible(ServiceError):
    """Sign-in cannot happen now although the password was not found wrong: not counted as a failed sign-in.

    The directory is unreachable, or an administrator must first confirm a link. Whatever the service
    recorded (the pending link, the directory's state) is kept: the caller commits despite the refusal.
    """

    counts_as_failed_sign_in = False


def directory_settings() -> DirectorySettings | None:
    """The configured LDAP directory, or None."""
    return DirectorySettings.from_config(current_app.config)


def directory_configured() -> bool:
    return bool(current_app.config.get("LDAP_URL"))


# Signing in -------------------------------------------------------------------
def sign_in_with_directory(login: str, password: str) -> User | None:
    """The active person whose directory account this is, if the directory accepts the password; else None.

    Finds the entry with the service account (the login filter-escaped), then binds as the person;
    the password is passed to the directory only, never stored or logged. Raises SignInNotPossible when
    the directory cannot be reached or a link awaits an administrator.
    """
    settings = directory_settings()
    login = (login or "").strip()
    if settings is None or not login or len(login) > MAX_LOGIN_LENGTH or any(ord(c) < 32 for c in login):
        return None
    entry = _password_of_entry(
        settings, lambda connection: find_person(connection, settings, login), password,
        _("Sign-in is temporarily not possible: the directory cannot be reached. Please try again in a few minutes; "
          "if it keeps happening, tell the administration."))
    if entry is None:
        return None
    return person_for_identity(LDAP, entry)


def _password_of_entry(settings: DirectorySettings, find, password: str, unreachable: str) -> DirectoryEntry | None:
    """The entry ``find(connection)`` picks, if the directory accepts ``password`` for it (a bind as the person).

    The directory's state is noted for the admin page; when it cannot be reached, SignInNotPossible
    says ``unreachable``.
    """
    try:
        with service_connection(settings) as connection:
            entry = find(connection)
        accepted = entry is not None and password_is_right(settings, entry.dn, password)
    except DirectoryUnreachable as error:
        note_unreachable(str(error))
        raise SignInNotPossible(unreachable) from None
    note_reachable()
    return entry if accepted else None


FIRST_SIGN_IN_ATTEMPTS = 3


def person_for_identity(source: str, entry: DirectoryEntry) -> User | None:
    """The account an outside identity signs in to: linked before, newly created, or None (deactivated).

    A first sign-in whose e-mail address belongs to a local account is not linked: the link waits for an
    administrator (``PendingLink``) and SignInNotPossible says so.

    Two first sign-ins of the same person at the same moment (two browser tabs, a double click) both find
    no identity and both create the person; the unique keys (the identity's source and subject, the
    e-mail address, the user name) let only one commit. The other one fails at its insert
    (``IntegrityError``; on SQLite also "database is locked" when its snapshot went stale), or finds the
    winner's e-mail address taken. It then rolls back and tries again on a fresh transaction, which finds
    the winner's identity: both sign in to the one person, never a second person or an error page. So
    this is one of the few services that roll back; the caller must not have changed anything before
    in its unit of work that it would miss (the sign-in has not).
    """
    for attempt in range(FIRST_SIGN_IN_ATTEMPTS):
        try:
            return _person_for_identity(source, entry)
        except _LostRace:
            db.session.rollback()
            db.session.info.pop(AFTER_COMMIT, None)  # what the lost attempt queued for after the commit is void
            if attempt == FIRST_SIGN_IN_ATTEMPTS - 1:
                raise SignInNotPossible(_("Sign-in is temporarily not possible. Please try again.")) from None
            logger.info("A simultaneous first sign-in through %s created the person; trying again", source)
    raise AssertionError("unreachable")


class _LostRace(Exception):
    """Another first sign-in of the same directory account (or one with the same login) committed first."""


def _signed_in(identity: ExternalIdentity, source: str) -> User | None:
    if not identity.user.active:
        logger.info("Deactivated user %s tried to sign in through %s", identity.user_id, source)
        return None
    identity.last_sign_in_at = utcnow()
    return identity.user


def _identity(source: str, subject: str) -> ExternalIdentity | None:
    return db.session.scalar(select(ExternalIdentity).options(joinedload(ExternalIdentity.user))
                             .where(ExternalIdentity.source == source, ExternalIdentity.subject == subject))


def _person_for_identity(source: str, entry: DirectoryEntry) -> User | None:
    identity = _identity(source, entry.subject)
    if identity is not None:
        return _signed_in(identity, source)
    if not entry.email:
        logger.warning("Directory account %s has no e-mail address; no account was created", entry.dn)
        raise SignInNotPossible(_("Your directory account has no e-mail address, which the learning platform needs. "
                                  "Please ask the administration."))
    local = db.session.scalar(select(User).where(User.email == entry.email))
    if local is not None:
        identity = _identity(source, entry.subject)
        if identity is not None:  # a simultaneous first sign-in created and linked the person a moment ago
            return _signed_in(identity, source)
        record_pending_link(local, source, entry)
        raise SignInNotPossible(_("An account with your e-mail address already exists on the learning platform. "
                                  "An administrator must confirm that it is yours before you can sign in with your "
                                  "directory account; please try again later."))
    login = entry.login.lower()
    taken = db.session.scalar(select(exists().where(User.username == login)))
    try:
        user = create_person(PersonData(email=entry.email, first_name=entry.first_name or entry.login,
                                        last_name=entry.last_name or entry.login,
                                        username=login if USERNAME_RE.match(login) and not taken else ""), None)
        link_identity(user, source, entry.subject, actor=None)
    except ServiceError:  # the e-mail address or user name was free a moment ago: someone just took it
        raise _LostRace() from None
    except (IntegrityError, OperationalError) as error:
        if isinstance(error, OperationalError) and not _busy(error):
            raise
        raise _LostRace() from None
    identity_of(user, source).last_sign_in_at = utcnow()
    logger.info("User %s created at the first sign-in through %s", user.id, source)
    return user


def _busy(error: OperationalError) -> bool:
    """SQLite's "database is locked": another writer held the file too long, or this snapshot went stale."""
    return "locked" in str(error.orig).lower() or "busy" in str(error.orig).lower()


def confirm_with_directory(user: User, password: str) -> bool:
    """Is ``password`` the person's directory password? For confirming a sensitive action (``/login/confirm``).

    A person who signs in with the directory has no local password to confirm with. Their entry is found
    by the identity's fixed identifier (not by a login name, which may have changed since), then the
    directory is asked with a bind as the person. False without a directory identity; raises
    SignInNotPossible when the directory cannot be reached.
    """
    settings = directory_settings()
    identity = identity_of(user, LDAP) if settings is not None else None
    if identity is None or not password:
        return False
    return _password_of_entry(
        settings, lambda connection: _entry_by_subject(connection, settings, identity.subject), password,
        _("Your password cannot be checked right now: the directory cannot be reached. Please try again in a few "
          "minutes.")) is not None


def _entry_by_subject(connection, settings: DirectorySettings, subject: str) -> DirectoryEntry | None:
    """The entry whose identifier attribute is ``subject`` (objectGUID as its escaped bytes); None if not one."""
    if settings.id_attribute.lower() == "objectguid":
        try:
            value = "".join(f"\\{byte:02x}" for byte in uuid.UUID(subject).bytes_le)
        except ValueError:
            return None
    else:
        value = escape_filter_chars(subject)
    connection.search(settings.base_dn, f"(&{settings.user_filter}({settings.id_attribute}={value}))",
                      search_scope=ldap3.SUBTREE, size_limit=2, time_limit=settings.timeout,
                      attributes=[settings.login_attribute, settings.id_attribute, *NAME_ATTRIBUTES])
    found = [item for item in connection.response or [] if item.get("type") == "searchResEntry"]
    entry = entry_from_response(found[0], settings) if len(found) == 1 else None
    return entry if entry is not None and entry.subject == subject else None


def link_identity(user: User, source: str, subject: str, actor: User | None) -> ExternalIdentity:
    """Record that ``subject`` of ``source`` is ``user`` (replacing the person's earlier one of that source)."""
    db.session.execute(delete(ExternalIdentity).where(ExternalIdentity.source == source,
                                                      ExternalIdentity.user_id == user.id))
    identity = ExternalIdentity(source=source, subject=subject, user_id=user.id)
    db.session.add(identity)
    db.session.flush()
    record(actor, "directory.identity_linked", user, summary=f"{source}: {subject}", source=source, subject=subject)
    return identity


def identity_of(user: User, source: str) -> ExternalIdentity | None:
    return db.session.scalar(select(ExternalIdentity).where(ExternalIdentity.source == source,
                                                            ExternalIdentity.user_id == user.id))


def has_identity(user: User) -> bool:
    """Does the person sign in through an outside directory (any source)?"""
    return bool(db.session.scalar(select(exists().where(ExternalIdentity.user_id == user.id))))


def local_password_allowed(user: User) -> bool:
    """May the person sign in with a local password?

    Yes, unless an admin hid local sign-in while a directory or single sign-on is configured: then only
    administrators (break-glass access) and people without a directory identity still may.
    """
    from learning.directory.oidc import oidc_configured  # the OIDC module builds on this one

    if not (directory_configured() or oidc_configured()) or not setting("sign_in.hide_local_passwords"):
        return True
    return user.has_role(Role.ADMIN) or not has_identity(user)


# Links awaiting an administrator -----------------------------------------------
def record_pending_link(user: User, source: str, entry: DirectoryEntry) -> PendingLink:
    """Note (or refresh) that ``entry`` asks to be linked to the local account ``user``; audit-logged once."""
    link = db.session.scalar(select(PendingLink).where(PendingLink.source == source,
                                                       PendingLink.subject == entry.subject))
    if link is None:
        link = PendingLink(source=source, subject=entry.subject)
        db.session.add(link)
        record(None, "directory.link_requested", user, summary=f"{source}: {entry.login} <{entry.email}>",
               source=source, subject=entry.subject, login=entry.login)
        logger.info("Link of a %s account to user %s awaits an administrator", source, user.id)
    link.user_id, link.login, link.email = user.id, entry.login[:254], (entry.email or "")[:254]
    link.name, link.requested_at = entry.full_name[:200], utcnow()
    db.session.flush()
    return link


def pending_links() -> list[PendingLink]:
    return list(db.session.scalars(select(PendingLink).options(joinedload(PendingLink.user))
                                   .order_by(PendingLink.requested_at, PendingLink.id)))


def _pending(link_id: int) -> PendingLink:
    link = db.session.get(PendingLink, link_id)
    if link is None:
        raise NotFound(_("This link request no longer exists."))
    return link


def confirm_link(link_id: int, actor: User) -> User:
    """Link the outside account to the local one: its next sign-in lands in that account."""
    link = _pending(link_id)
    user, source, subject = link.user, link.source, link.subject
    other = db.session.scalar(select(ExternalIdentity).where(ExternalIdentity.source == source,
                                                             ExternalIdentity.subject == subject))
    if other is not None:
        raise ServiceError(_("This directory account is already linked to %(name)s.", name=other.user.full_name))
    db.session.delete(link)
    db.session.flush()
    link_identity(user, source, subject, actor)
    record(actor, "directory.link_confirmed", user, summary=f"{source}: {link.login} <{link.email}>",
           source=source, subject=subject)
    return user


def refuse_link(link_id: int, actor: User) -> User:
    """Drop the request: nothing is linked (a later sign-in asks again)."""
    link = _pending(link_id)
    user = link.user
    record(actor, "directory.link_refused", user, summary=f"{link.source}: {link.login} <{link.email}>",
           source=link.source, subject=link.subject)
    db.session.delete(link)
    db.session.flush()
    return user


# The directory's state, for the administrator ------------------------------------
def directory_status(source: str = LDAP) -> DirectoryStatus | None:
    return db.session.get(DirectoryStatus, source)


def _note(source: str, ok: bool, message: str) -> None:
    status = db.session.get(DirectoryStatus, source)
    if status is not None and status.ok and ok:
        return  # nothing new: a working directory costs no write per sign-in
    try:
        with db.session.begin_nested():  # two workers noting the first state at once: one row wins
            if status is None:
                status = DirectoryStatus(source=source)
                db.session.add(status)
            status.ok, status.message, status.checked_at = ok, message[:500], utcnow()
            if not ok:
                status.failed_at = status.checked_at
    except IntegrityError:
        pass


def note_unreachable(message: str, source: str = LDAP) -> None:
    """Log the failure for the administrator and keep it for the directory page."""
    logger.error("Directory sign-in is not possible: %s", message)
    _note(source, False, message)


def note_reachable(source: str = LDAP) -> None:
    _note(source, True, "")


def try_connection() -> tuple[bool, str]:
    """Connect as the service account and search once: (worked, a line for the admin); the outcome is noted."""
    settings = directory_settings()
    if settings is None:
        raise ServiceError(_("No directory is configured (LEARNING_LDAP_URL)."))
    try:
        message = check_connection(settings)
    except DirectoryUnreachable as error:
        note_unreachable(str(error))
        return False, str(error)
    note_reachable()
    logger.info("Directory connection test: %s", message)
    return True, message
