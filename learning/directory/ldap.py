"""Talking to an LDAP directory (Active Directory, OpenLDAP): connections with checked TLS, search, bind.

Nothing here touches the database. ``DirectorySettings.from_config`` reads the ``LDAP_*`` settings;
``service_connection`` opens a connection bound as the service account (sign-in uses it to find the
person, directory sync to read everyone); ``find_person`` returns one ``DirectoryEntry``;
``password_is_right`` binds as the person. Every failure to reach or use the directory is a
``DirectoryUnreachable`` with a message for the administrator (never containing a password).
"""

from __future__ import annotations

import logging
import ssl
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import ldap3
from ldap3.core.exceptions import LDAPException
from ldap3.utils.conv import escape_filter_chars

logger = logging.getLogger(__name__)

# Attributes read for a person besides the login and identifier attributes: a simple default mapping
# (name, e-mail); directory sync brings the configurable mapping.
NAME_ATTRIBUTES = ("givenName", "sn", "displayName", "cn", "mail", "userPrincipalName")


class DirectoryUnreachable(Exception):
    """The directory cannot be reached or used (network, TLS, service account, timeout): not the person's fault."""


@dataclass(frozen=True)
class DirectorySettings:
    url: str
    starttls: bool
    bind_dn: str
    bind_password: str = field(repr=False)  # never in a log line or traceback
    base_dn: str
    user_filter: str
    login_attribute: str
    id_attribute: str
    ca_file: str
    timeout: int

    @classmethod
    def from_config(cls, config) -> DirectorySettings | None:
        """The configured directory, or None when ``LDAP_URL`` is empty."""
        if not config.get("LDAP_URL"):
            return None
        return cls(url=config["LDAP_URL"], starttls=bool(config["LDAP_STARTTLS"]),
                   bind_dn=config["LDAP_BIND_DN"], bind_password=config["LDAP_BIND_PASSWORD"],
                   base_dn=config["LDAP_BASE_DN"], user_filter=config["LDAP_USER_FILTER"],
                   login_attribute=config["LDAP_LOGIN_ATTRIBUTE"], id_attribute=config["LDAP_ID_ATTRIBUTE"],
                   ca_file=config["LDAP_CA_FILE"], timeout=int(config["LDAP_TIMEOUT"]))

    @property
    def encrypted(self) -> bool:
        return self.url.startswith("ldaps://") or self.starttls

    def describe(self) -> list[tuple[str, str]]:
        """What is configured, for the admin page: never the password."""
        return [("LEARNING_LDAP_URL", self.url), ("LEARNING_LDAP_STARTTLS", "on" if self.starttls else "off"),
                ("LEARNING_LDAP_BIND_DN", self.bind_dn or "(anonymous)"),
                ("LEARNING_LDAP_BIND_PASSWORD", "••••••" if self.bind_password else "–"),
                ("LEARNING_LDAP_BASE_DN", self.base_dn), ("LEARNING_LDAP_USER_FILTER", self.user_filter),
                ("LEARNING_LDAP_LOGIN_ATTRIBUTE", self.login_attribute),
                ("LEARNING_LDAP_ID_ATTRIBUTE", self.id_attribute),
                ("LEARNING_LDAP_CA_FILE", self.ca_file or "(system CAs)"),
                ("LEARNING_LDAP_TIMEOUT", f"{self.timeout} s")]


@dataclass(frozen=True)
class DirectoryEntry:
    """A person as the directory describes them."""

    dn: str
    subject: str  # the fixed identifier (objectGUID / entryUUID) as text
    login: str
    first_name: str
    last_name: str
    email: str | None

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


def _server(settings: DirectorySettings) -> ldap3.Server:
    parts = urlsplit(settings.url)
    use_ssl = parts.scheme == "ldaps"
    tls = None
    if settings.encrypted:
        # The certificate must chain to the CA file (or the system's CAs) and name the host: fail closed.
        tls = ldap3.Tls(validate=ssl.CERT_REQUIRED, version=ssl.PROTOCOL_TLS_CLIENT,
                        ca_certs_file=settings.ca_file or None, valid_names=[parts.hostname])
    return ldap3.Server(parts.hostname, port=parts.port or (636 if use_ssl else 389), use_ssl=use_ssl, tls=tls,
                        get_info=ldap3.NONE, connect_timeout=settings.timeout)


def _open(settings: DirectorySettings, user: str | None, password: str | None) -> ldap3.Connection:
    """A connection bound as ``user`` (StartTLS before the bind); raises LDAPException when that fails."""
    connection = ldap3.Connection(
        _server(settings), user=user or None, password=password or None, read_only=True,
        receive_timeout=settings.timeout, raise_exceptions=False,
        authentication=ldap3.SIMPLE if user else ldap3.ANONYMOUS)
    connection.open()
    if settings.starttls and not connection.start_tls():
        connection.unbind()
        raise DirectoryUnreachable(f"StartTLS was refused: {connection.result.get('description')}")
    return connection


def _describe(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"[:400]


@contextmanager
def service_connection(settings: DirectorySettings) -> Iterator[ldap3.Connection]:
    """A connection bound as the service account, closed afterwards; raises DirectoryUnreachable."""
    try:
        connection = _open(settings, settings.bind_dn, settings.bind_password)
        if not connection.bind():
            description = connection.result.get("description")
            connection.unbind()
            raise DirectoryUnreachable(f"The service account {settings.bind_dn!r} could not sign in to "
                                       f"{settings.url}: {description}")
    except LDAPException as error:
        raise DirectoryUnreachable(f"{settings.url} cannot be reached: {_describe(error)}") from None
    try:
        yield connection
    except LDAPException as error:
        raise DirectoryUnreachable(f"{settings.url} stopped answering: {_describe(error)}") from None
    finally:
        try:
            connection.unbind()
        except LDAPException:
            pass


def _first(attributes: dict, name: str) -> str:
    values = attributes.get(name) or []
    if isinstance(values, list | tuple):
        values = values[0] if values else ""
    return str(values).strip()


def subject_of(value: bytes, attribute: str) -> str:
    """The fixed identifier as text: objectGUID (16 bytes, little-endian GUID) as its usual lower-case form."""
    if attribute.lower() == "objectguid" and len(value) == 16:
        return str(uuid.UUID(bytes_le=value))
    return value.decode("utf-8", "replace").strip().lower()


def entry_from_response(item: dict, settings: DirectorySettings) -> DirectoryEntry | None:
    """A search result as a DirectoryEntry; None without the identifier attribute (it cannot be matched)."""
    raw = item.get("raw_attributes", {})
    identifiers = next((values for name, values in raw.items() if name.lower() == settings.id_attribute.lower()), [])
    if not identifiers:
        logger.warning("Directory entry %s has no %s; it cannot sign in", item.get("dn"), settings.id_attribute)
        return None
    attributes = {name.lower(): values for name, values in item.get("attributes", {}).items()}
    display = _first(attributes, "displayname") or _first(attributes, "cn")
    first, last = _first(attributes, "givenname"), _first(attributes, "sn")
    if not (first and last) and display:
        first, _sep, last = display.rpartition(" ") if " " in display else ("", "", display)
    email = _first(attributes, "mail").lower() or None
    return DirectoryEntry(dn=item["dn"], subject=subject_of(identifiers[0], settings.id_attribute),
                          login=_first(attributes, settings.login_attribute.lower()),
                          first_name=first[:100], last_name=last[:100] or first[:100], email=email)


def person_filter(settings: DirectorySettings, login: str) -> str:
    """The configured filter AND the login attribute equal to ``login``, escaped (no wildcards, no injection)."""
    return f"(&{settings.user_filter}({settings.login_attribute}={escape_filter_chars(login)}))"


def find_person(connection: ldap3.Connection, settings: DirectorySettings, login: str) -> DirectoryEntry | None:
    """The one person whose login attribute is ``login``; None when nobody or more than one entry matches."""
    connection.search(settings.base_dn, person_filter(settings, login), search_scope=ldap3.SUBTREE,
                      attributes=[settings.login_attribute, settings.id_attribute, *NAME_ATTRIBUTES],
                      size_limit=2, time_limit=settings.timeout)
    result = connection.result.get("result", 0)
    if result not in (0, 4, 32):  # success, size limit exceeded (two matches), no such object (empty base)
        raise DirectoryUnreachable(f"The search in {settings.base_dn!r} failed: {connection.result.get('description')}"
                                   f" {connection.result.get('message', '')}".strip())
    found = [item for item in connection.response or [] if item.get("type") == "searchResEntry"]
    if len(found) != 1:
        if len(found) > 1:
            logger.warning("More than one directory entry has %s=%r; nobody signs in with it",
                           settings.login_attribute, login)
        return None
    return entry_from_response(found[0], settings)


def iter_people(connection: ldap3.Connection, settings: DirectorySettings, page_size: int = 500,
                attributes: tuple[str, ...] = ()) -> Iterator[DirectoryEntry]:
    """Every person the configured filter matches under the base, read in pages (Active Directory answers at
    most 1,000 entries per page); for directory sync, which adds the attributes its mapping reads."""
    results = connection.extend.standard.paged_search(
        settings.base_dn, settings.user_filter, search_scope=ldap3.SUBTREE, paged_size=page_size, generator=True,
        attributes=[settings.login_attribute, settings.id_attribute, *NAME_ATTRIBUTES, *attributes])
    for item in results:
        if item.get("type") == "searchResEntry":
            entry = entry_from_response(item, settings)
            if entry is not None:
                yield entry
    if connection.result.get("result", 0) not in (0, 4):
        raise DirectoryUnreachable(f"The search in {settings.base_dn!r} failed: {connection.result.get('description')}")


def password_is_right(settings: DirectorySettings, dn: str, password: str) -> bool:
    """Bind as the person: True if the directory accepts the password; raises DirectoryUnreachable.

    An empty password is refused here: LDAP would take it as an anonymous bind and say yes.
    """
    if not password:
        return False
    try:
        connection = _open(settings, dn, password)
        accepted = connection.bind()
        result = connection.result or {}
        connection.unbind()
    except LDAPException as error:
        raise DirectoryUnreachable(f"{settings.url} cannot be reached: {_describe(error)}") from None
    if accepted:
        return True
    if result.get("result") not in (49, 53):  # invalidCredentials, unwillingToPerform (AD: disabled, expired)
        raise DirectoryUnreachable(f"Signing in to {settings.url} failed: {result.get('description')}")
    return False


def check_connection(settings: DirectorySettings) -> str:
    """Bind as the service account and search the base once: a line for the admin, or DirectoryUnreachable."""
    with service_connection(settings) as connection:
        connection.search(settings.base_dn, settings.user_filter, search_scope=ldap3.SUBTREE, attributes=[],
                          size_limit=1, time_limit=settings.timeout)
        if connection.result.get("result", 0) not in (0, 4):
            raise DirectoryUnreachable(f"The search in {settings.base_dn!r} failed: "
                                       f"{connection.result.get('description')}")
    return f"{settings.url}: connected{' with TLS' if settings.encrypted else ''}, search base readable"
