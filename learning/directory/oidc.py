"""Single sign-on with OpenID Connect (Keycloak, ADFS, Entra ID) through Authlib's Flask client.

The authorization code flow with PKCE (S256): ``start_sign_in`` reads the provider's discovery
document (``<issuer>/.well-known/openid-configuration``, its ``issuer`` must be the configured one)
and sends the person there with a fresh ``state`` and ``nonce`` kept in the session;
``finish_sign_in`` takes the answer at ``<LEARNING_BASE_URL>/login/oidc/callback``, checks the state,
exchanges the code (with the PKCE verifier and the client secret) and validates the ID token
(signature against the provider's published keys, ``iss``, ``aud``, ``exp``, ``nonce``) before
anyone is signed in. People are found by the token's ``sub`` (``ExternalIdentity`` with source
``oidc``), never by e-mail: ``services.person_for_identity`` decides as for LDAP sign-in.

Who gets an account: with ``LEARNING_OIDC_CREATE_PEOPLE`` on (the default), a first sign-in
creates the person, as LDAP sign-in does: the provider decides who may use the platform (Keycloak:
client roles or a group; Entra ID and ADFS: "assignment required" on the application). Off, only
people the platform already knows sign in (linked before, or through a link an administrator
confirms); everyone else is told to ask the administration.

Sign-out ends the provider's session too when its discovery document names an
``end_session_endpoint`` (RP-initiated logout with ``id_token_hint`` and
``post_logout_redirect_uri`` = ``<LEARNING_BASE_URL>/login``).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

import requests
from authlib.integrations.base_client import MismatchingStateError, OAuthError
from authlib.integrations.flask_client import FlaskIntegration, FlaskOAuth2App
from flask import current_app, request, session
from flask_babel import gettext as _
from flask_babel import ngettext
from joserfc.errors import JoseError
from sqlalchemy import exists, select

from learning.auth.devices import start_device_session
from learning.db import db, utcnow
from learning.directory.ldap import DirectoryEntry
from learning.directory.models import ExternalIdentity
from learning.directory.services import SignInNotPossible, note_reachable, note_unreachable, person_for_identity
from learning.errors import ServiceError
from learning.org.models import User
from learning.security import is_safe_redirect

logger = logging.getLogger(__name__)

OIDC = "oidc"  # ExternalIdentity.source of people who sign in through OpenID Connect
SCOPE = "openid email profile"
METADATA_MAX_AGE = 3600  # seconds: a changed provider (new endpoints, keys) is noticed within the hour
NEXT_KEY = "oidc_next"
ID_TOKEN_KEY = "oidc_id_token"
CALLBACK_PATH = "/login/oidc/callback"
CLIENT_NAME = "learning_oidc"  # Authlib keeps each started sign-in's state, nonce and PKCE verifier under it


class ProviderUnreachable(Exception):
    """The provider's discovery document (or its token endpoint) cannot be read: not the person's fault."""


class SignInFailed(ServiceError):
    """The provider's answer was refused (state, token, claims): nobody is signed in."""


@dataclass(frozen=True)
class OidcSettings:
    issuer: str
    client_id: str
    client_secret: str = field(repr=False)  # never in a log line or traceback
    label: str
    create_people: bool
    timeout: int
    allow_http: bool

    @classmethod
    def from_config(cls, config) -> OidcSettings | None:
        """The configured provider, or None when ``OIDC_ISSUER`` is empty."""
        if not config.get("OIDC_ISSUER"):
            return None
        return cls(issuer=config["OIDC_ISSUER"].rstrip("/"), client_id=config["OIDC_CLIENT_ID"],
                   client_secret=config["OIDC_CLIENT_SECRET"], label=config.get("OIDC_LABEL") or "Single Sign-On",
                   create_people=bool(config.get("OIDC_CREATE_PEOPLE", True)),
                   timeout=int(config.get("OIDC_TIMEOUT", 10)), allow_http=bool(config.get("OIDC_ALLOW_HTTP")))

    @property
    def discovery_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    def describe(self, base_url: str) -> list[tuple[str, str]]:
        """What is configured, for the admin page: never the secret."""
        return [("LEARNING_OIDC_ISSUER", self.issuer), ("LEARNING_OIDC_CLIENT_ID", self.client_id),
                ("LEARNING_OIDC_CLIENT_SECRET", "••••••" if self.client_secret else "–"),
                ("LEARNING_OIDC_LABEL", self.label),
                ("LEARNING_OIDC_CREATE_PEOPLE", "on" if self.create_people else "off"),
                ("LEARNING_OIDC_TIMEOUT", f"{self.timeout} s"),
                (_("Redirect URI"), base_url + CALLBACK_PATH),
                (_("Post-logout redirect URI"), base_url + "/login")]


def oidc_settings() -> OidcSettings | None:
    return OidcSettings.from_config(current_app.config)


def oidc_configured() -> bool:
    return bool(current_app.config.get("OIDC_ISSUER"))


def _client(settings: OidcSettings) -> FlaskOAuth2App:
    """The Authlib client of the configured provider, one per application and settings (it caches discovery)."""
    if urlsplit(settings.issuer).scheme != "https" and not settings.allow_http:
        raise ProviderUnreachable(f"The issuer {settings.issuer} does not use https://")
    clients = current_app.extensions.setdefault("learning.oidc", {})
    client = clients.get(settings)
    if client is None:
        client = FlaskOAuth2App(
            FlaskIntegration(CLIENT_NAME), name=CLIENT_NAME, client_id=settings.client_id,
            client_secret=settings.client_secret, server_metadata_url=settings.discovery_url,
            client_kwargs={"scope": SCOPE, "code_challenge_method": "S256", "default_timeout": settings.timeout})
        clients.clear()  # settings changed (tests): the old client goes
        clients[settings] = client
    if time.time() - client.server_metadata.get("_loaded_at", time.time()) > METADATA_MAX_AGE:
        client.server_metadata.clear()
    return client


def provider_metadata(settings: OidcSettings) -> dict:
    """The provider's discovery document (cached for an hour); raises ProviderUnreachable with a line for the admin."""
    client = _client(settings)
    try:
        metadata = client.load_server_metadata()
    except (requests.RequestException, ValueError, TypeError) as error:
        client.server_metadata.clear()
        raise ProviderUnreachable(f"The discovery document {settings.discovery_url} cannot be read: "
                                  f"{type(error).__name__}") from None
    if metadata.get("issuer", "").rstrip("/") != settings.issuer:
        client.server_metadata.clear()
        raise ProviderUnreachable(f"The provider announces the issuer {metadata.get('issuer')!r}, "
                                  f"not {settings.issuer!r} (LEARNING_OIDC_ISSUER)")
    missing = [key for key in ("authorization_endpoint", "token_endpoint", "jwks_uri") if not metadata.get(key)]
    if missing:
        client.server_metadata.clear()
        raise ProviderUnreachable(f"The discovery document names no {', '.join(missing)}")
    return metadata


def _unreachable(error: ProviderUnreachable, settings: OidcSettings) -> SignInNotPossible:
    note_unreachable(str(error), source=OIDC)
    return SignInNotPossible(_("Sign-in with %(provider)s is temporarily not possible: it cannot be reached. Please "
                               "try again in a few minutes; if it keeps happening, tell the administration.",
                               provider=settings.label))


# Signing in -------------------------------------------------------------------------
def start_sign_in(next_page: str | None):
    """The redirect to the provider's authorization endpoint (PKCE S256, state, nonce kept in the session).

    Raises SignInNotPossible (the state noted for the administrator) when the provider cannot be reached.
    """
    settings = oidc_settings()
    if settings is None:
        raise SignInNotPossible(_("Single sign-on is not configured."))
    try:
        provider_metadata(settings)
    except ProviderUnreachable as error:
        raise _unreachable(error, settings) from None
    session[NEXT_KEY] = next_page if is_safe_redirect(next_page) else None
    for key in [key for key in session if key.startswith(f"_state_{CLIENT_NAME}_")]:
        session.pop(key)  # one sign-in at a time per browser: abandoned ones would fill the session cookie
    base = current_app.config["BASE_URL"]
    return _client(settings).authorize_redirect(base + CALLBACK_PATH)


def _claims(client: FlaskOAuth2App, token: dict) -> dict:
    """The validated ID token's claims, completed from the userinfo endpoint where name or e-mail are missing."""
    claims = dict(token.get("userinfo") or {})  # Authlib's validated ID token
    if not claims.get("sub"):
        raise SignInFailed(_("The sign-in could not be verified. Please start again."))
    if not claims.get("email") or not (claims.get("name") or claims.get("family_name")):
        metadata = client.load_server_metadata()
        if metadata.get("userinfo_endpoint"):
            info = client.userinfo(token=token)
            if info.get("sub") != claims["sub"]:  # OpenID Connect Core 5.3.2: must be the same person
                raise SignInFailed(_("The sign-in could not be verified. Please start again."))
            claims = {**info, **{k: v for k, v in claims.items() if v}}
    return claims


def _text(claims: dict, key: str) -> str:
    value = claims.get(key)
    return " ".join(value.split()) if isinstance(value, str) else ""


def entry_from_claims(claims: dict) -> DirectoryEntry:
    """The person as the provider describes them; an e-mail the provider marks unverified is not used."""
    email = _text(claims, "email").lower() or None
    if claims.get("email_verified") is False or (email and (len(email) > 254 or email.count("@") != 1
                                                            or " " in email or email.startswith("@"))):
        email = None
    first, last = _text(claims, "given_name"), _text(claims, "family_name")
    if not (first and last):
        name = _text(claims, "name").split()
        if len(name) >= 2:
            first, last = first or " ".join(name[:-1]), last or name[-1]
        elif name:
            last = last or name[0]
    login = _text(claims, "preferred_username") or (email or "").split("@")[0]
    return DirectoryEntry(dn=f"oidc:{claims['sub']}", subject=str(claims["sub"])[:255], login=login[:80],
                          first_name=first[:100], last_name=last[:100], email=email)


def _may_sign_in(settings: OidcSettings, entry: DirectoryEntry) -> None:
    """With creating people off, only known people (or a local account, through a confirmed link) get further."""
    if settings.create_people:
        return
    known = db.session.scalar(select(exists().where(ExternalIdentity.source == OIDC,
                                                    ExternalIdentity.subject == entry.subject)))
    local = entry.email and db.session.scalar(select(exists().where(User.email == entry.email)))
    if not (known or local):
        logger.info("OpenID Connect sign-in of an unknown person refused (creating people is off)")
        raise SignInNotPossible(_("You have no account on the learning platform yet. Please ask the administration "
                                  "to add you."))


def finish_sign_in() -> tuple[User, str | None]:
    """Check the provider's answer and sign the person in on a new device: (user, the page they wanted).

    Raises SignInFailed (state, token or claims refused), SignInNotPossible (provider unreachable,
    a link awaits an administrator, no e-mail address, no account). The caller's unit of work commits.
    """
    settings = oidc_settings()
    if settings is None:
        raise SignInNotPossible(_("Single sign-on is not configured."))
    client = _client(settings)
    next_page = session.pop(NEXT_KEY, None)
    if request.args.get("error"):
        logger.info("The OpenID Connect provider answered %s", request.args.get("error")[:100])
        raise SignInFailed(_("%(provider)s did not sign you in. Please start again.", provider=settings.label))
    if request.args.get("iss") and request.args["iss"].rstrip("/") != settings.issuer:  # RFC 9207 mix-up defence
        raise SignInFailed(_("The sign-in could not be verified. Please start again."))
    try:
        provider_metadata(settings)
        token = client.authorize_access_token()
        claims = _claims(client, token)
    except MismatchingStateError:
        logger.info("OpenID Connect callback with an unknown or used state")
        raise SignInFailed(_("The sign-in took too long or was started in another window. Please start again.")) \
            from None
    except ProviderUnreachable as error:
        raise _unreachable(error, settings) from None
    except requests.RequestException as error:
        raise _unreachable(ProviderUnreachable(f"The provider cannot be reached: {type(error).__name__}"),
                           settings) from None
    except (OAuthError, JoseError, ValueError, KeyError) as error:
        logger.warning("OpenID Connect sign-in refused: %s: %s", type(error).__name__, str(error)[:200])
        raise SignInFailed(_("The sign-in could not be verified. Please start again.")) from None
    if "id_token" not in token or not token.get("userinfo"):
        logger.warning("OpenID Connect token response without an ID token")
        raise SignInFailed(_("The sign-in could not be verified. Please start again."))
    note_reachable(OIDC)
    entry = entry_from_claims(claims)
    _may_sign_in(settings, entry)
    user = person_for_identity(OIDC, entry)
    if user is None:
        raise SignInNotPossible(_("Your account on the learning platform is deactivated. Please ask the "
                                  "administration."))
    user.last_login_at = utcnow()
    start_device_session(user, request.headers.get("User-Agent"))
    db.session.flush()
    session[ID_TOKEN_KEY] = token["id_token"]
    logger.info("User %s signed in through OpenID Connect", user.id)
    return user, next_page if is_safe_redirect(next_page) else None


# Signing out --------------------------------------------------------------------------
def provider_sign_out_url() -> str | None:
    """Where the browser goes to end the provider's session too (RP-initiated logout), or None.

    Read before the local sign-out (it takes the ID token from the session); None when the person did
    not sign in through the provider, or the provider names no ``end_session_endpoint`` or cannot be reached.
    """
    id_token = session.pop(ID_TOKEN_KEY, None)
    settings = oidc_settings()
    if not id_token or settings is None:
        return None
    try:
        endpoint = provider_metadata(settings).get("end_session_endpoint")
    except ProviderUnreachable as error:
        logger.warning("Provider session not ended: %s", error)
        return None
    if not endpoint or urlsplit(endpoint).scheme not in {"https", "http"}:
        return None
    query = urlencode({"id_token_hint": id_token, "client_id": settings.client_id,
                       "post_logout_redirect_uri": current_app.config["BASE_URL"] + "/login"})
    return f"{endpoint}{'&' if '?' in endpoint else '?'}{query}"


# The administrator's connection test -----------------------------------------------------------
def try_provider() -> tuple[bool, str]:
    """Read the discovery document and the provider's keys once: (worked, a line for the admin); noted."""
    settings = oidc_settings()
    if settings is None:
        raise ServiceError(_("No OpenID Connect provider is configured (LEARNING_OIDC_ISSUER)."))
    try:
        metadata = provider_metadata(settings)
        try:
            keys = _client(settings).fetch_jwk_set(force=True).get("keys", [])
        except (requests.RequestException, ValueError) as error:
            raise ProviderUnreachable(f"The provider's keys ({metadata['jwks_uri']}) cannot be read: "
                                      f"{type(error).__name__}") from None
    except ProviderUnreachable as error:
        note_unreachable(str(error), source=OIDC)
        return False, str(error)
    note_reachable(OIDC)
    parts = [ngettext("%(issuer)s publishes %(num)d signing key.", "%(issuer)s publishes %(num)d signing keys.",
                      len(keys), issuer=settings.issuer)]
    if metadata.get("end_session_endpoint"):
        parts.append(_("Signing out of the platform also ends the session at the provider."))
    else:
        parts.append(_("The provider names no end_session_endpoint: signing out ends the session on the platform "
                       "only."))
    if "S256" not in metadata.get("code_challenge_methods_supported", ["S256"]):
        parts.append(_("The provider does not announce PKCE with S256."))
    message = " ".join(parts)
    logger.info("OpenID Connect connection test: %s", message)
    return True, message
