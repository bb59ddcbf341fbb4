"""Read the platform's configuration from ``LEARNING_*`` environment variables.

This is the only module that reads the environment. Every setting is checked here so
that a wrong value stops the start with one clear line instead of a traceback later.
"""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import limits
from dotenv import load_dotenv
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

SUPPORTED_LOCALES = ("de", "en")
PROJECT_ROOT = Path(__file__).resolve().parent.parent


class ConfigError(Exception):
    """A setting is missing or wrong; the message names the variable and the fix."""


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def _secret_key(instance_path: Path, configured: str | None) -> str:
    """Return the configured key or one generated once into ``instance/secret_key``."""
    if configured:
        return configured
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    partial = key_file.with_name(f".secret_key.{os.getpid()}")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    try:
        os.link(partial, key_file)  # atomic: of several workers starting at once, one key wins
    except FileExistsError:
        key = key_file.read_text().strip()
    finally:
        partial.unlink()
    return key


def _database_url(value: str | None, instance_path: Path) -> str:
    if not value:
        instance_path.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{instance_path / 'learning.db'}"
    try:
        url = make_url(value)
    except ArgumentError:
        raise ConfigError(
            f"LEARNING_DATABASE_URL is not a database URL: {value!r} "
            "(expected e.g. postgresql+psycopg://user:password@host/dbname or sqlite:///path.db)"
        ) from None
    if url.get_backend_name() not in {"sqlite", "postgresql"}:
        raise ConfigError(
            f"LEARNING_DATABASE_URL uses {url.get_backend_name()!r}; supported are sqlite and postgresql"
        )
    if url.get_backend_name() == "postgresql" and url.get_driver_name() not in {"psycopg", "psycopg2"}:
        # Plain "postgresql://" means psycopg2 to SQLAlchemy; we ship psycopg 3.
        url = url.set(drivername="postgresql+psycopg")
    return url.render_as_string(hide_password=False)


def _smtp_url(value: str | None) -> str:
    if not value:
        return ""
    parts = urlsplit(value)
    if parts.scheme not in {"smtp", "smtps", "smtp+starttls"} or not parts.hostname:
        raise ConfigError(
            f"LEARNING_SMTP_URL must look like smtp://host:25, smtp+starttls://user:pass@host:587 "
            f"or smtps://user:pass@host:465, not {value!r}"
        )
    return value


def _choice(name: str, value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ConfigError(f"{name} must be one of {', '.join(allowed)}, not {value!r}")
    return value


def _positive_int(name: str, value: str | None, default: int) -> int:
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        number = -1
    if number < 0:
        raise ConfigError(f"{name} must be a whole number of 0 or more, not {value!r}")
    return number


WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DIGESTS = ("immediate", "daily", "weekly")


def _int_between(name: str, value: str | None, default: int, minimum: int, maximum: int) -> int:
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        number = minimum - 1
    if not minimum <= number <= maximum:
        raise ConfigError(f"{name} must be a whole number from {minimum} to {maximum}, not {value!r}")
    return number


def _mail_hours(value: str | None) -> tuple[int, int]:
    """``7-18``: mail goes out from 07:00 until 18:00 local time (start inclusive, end exclusive)."""
    if not value:
        return (7, 18)
    start, _sep, end = value.partition("-")
    try:
        hours = (int(start), int(end))
    except ValueError:
        hours = (1, 0)
    if not (0 <= hours[0] < hours[1] <= 24):
        raise ConfigError(f"LEARNING_MAIL_HOURS must look like 7-18 (from 7:00 until 18:00), not {value!r}")
    return hours


def _media_settings(env: dict, instance_path: Path) -> dict:
    """The media store (README: "Media"): where files live, size limits and image processing."""
    mib = 1024 * 1024
    return {
        "MEDIA_DIR": env.get("LEARNING_MEDIA_DIR") or str(instance_path / "media"),
        "MEDIA_MAX_IMAGE_BYTES": _int_between(
            "LEARNING_MEDIA_MAX_IMAGE_MB", env.get("LEARNING_MEDIA_MAX_IMAGE_MB"), 10, 1, 100) * mib,
        "MEDIA_MAX_PDF_BYTES": _int_between(
            "LEARNING_MEDIA_MAX_PDF_MB", env.get("LEARNING_MEDIA_MAX_PDF_MB"), 20, 1, 500) * mib,
        "MEDIA_MAX_VIDEO_BYTES": _int_between(
            "LEARNING_MEDIA_MAX_VIDEO_MB", env.get("LEARNING_MEDIA_MAX_VIDEO_MB"), 100, 1, 2000) * mib,
        "MEDIA_MAX_CAPTIONS_BYTES": _int_between(
            "LEARNING_MEDIA_MAX_CAPTIONS_KB", env.get("LEARNING_MEDIA_MAX_CAPTIONS_KB"), 512, 1, 10240) * 1024,
        # Larger images are scaled down to this longest edge; images with more pixels than this are
        # refused before they are decoded (a decompression bomb: a small file that unpacks to gigabytes).
        "MEDIA_MAX_IMAGE_EDGE": _int_between(
            "LEARNING_MEDIA_MAX_IMAGE_EDGE", env.get("LEARNING_MEDIA_MAX_IMAGE_EDGE"), 1600, 200, 10000),
        "MEDIA_MAX_IMAGE_PIXELS": _int_between(
            "LEARNING_MEDIA_MAX_MEGAPIXELS", env.get("LEARNING_MEDIA_MAX_MEGAPIXELS"), 40, 1, 500) * 1_000_000,
    }


def _reminder_settings(env: dict) -> dict:
    """Reminders, the mail budget, sending and the scheduler (README: "Reminders and the scheduler")."""
    weekday = env.get("LEARNING_DIGEST_WEEKDAY", "monday").strip().lower()
    settings = {
        # Training reminders: "due soon" this many days before (0: none), "overdue" every N days at most M
        # times, and the managers' escalation digest once someone is this many days overdue.
        "REMINDER_DUE_SOON_DAYS": _int_between(
            "LEARNING_REMINDER_DUE_SOON_DAYS", env.get("LEARNING_REMINDER_DUE_SOON_DAYS"), 7, 0, 60),
        "REMINDER_OVERDUE_EVERY_DAYS": _int_between(
            "LEARNING_REMINDER_OVERDUE_EVERY_DAYS", env.get("LEARNING_REMINDER_OVERDUE_EVERY_DAYS"), 7, 1, 60),
        "REMINDER_OVERDUE_TIMES": _int_between(
            "LEARNING_REMINDER_OVERDUE_TIMES", env.get("LEARNING_REMINDER_OVERDUE_TIMES"), 3, 0, 10),
        "REMINDER_ESCALATION_DAYS": _int_between(
            "LEARNING_REMINDER_ESCALATION_DAYS", env.get("LEARNING_REMINDER_ESCALATION_DAYS"), 14, 1, 365),
        # Announcements to confirm: a reminder this many days after publication and again after twice as many.
        "REMINDER_ACK_DAYS": _int_between(
            "LEARNING_REMINDER_ACK_DAYS", env.get("LEARNING_REMINDER_ACK_DAYS"), 3, 1, 60),
        "REMINDER_DIGEST": _choice(
            "LEARNING_REMINDER_DIGEST", env.get("LEARNING_REMINDER_DIGEST", "daily"), DIGESTS),
        # The mail budget: hours, weekends, the weekly digest's day and a cap per person and day.
        "MAIL_HOURS": _mail_hours(env.get("LEARNING_MAIL_HOURS")),
        "MAIL_WEEKENDS": _flag(env.get("LEARNING_MAIL_WEEKENDS")),
        "DIGEST_WEEKDAY": WEEKDAYS.index(_choice("LEARNING_DIGEST_WEEKDAY", weekday, WEEKDAYS)),
        "MAIL_DAILY_CAP": _int_between("LEARNING_MAIL_DAILY_CAP", env.get("LEARNING_MAIL_DAILY_CAP"), 3, 1, 50),
        # Sending: attempts before a message fails for good, and the capped exponential backoff.
        "MAIL_MAX_ATTEMPTS": _int_between(
            "LEARNING_MAIL_MAX_ATTEMPTS", env.get("LEARNING_MAIL_MAX_ATTEMPTS"), 5, 1, 20),
        "MAIL_RETRY_SECONDS": _int_between(
            "LEARNING_MAIL_RETRY_SECONDS", env.get("LEARNING_MAIL_RETRY_SECONDS"), 60, 1, 3600),
        "MAIL_RETRY_MAX_SECONDS": _int_between(
            "LEARNING_MAIL_RETRY_MAX_SECONDS", env.get("LEARNING_MAIL_RETRY_MAX_SECONDS"), 3600, 1, 86400),
        # The scheduler: how often planning and sending run, and the leader's lease (a standby takes over
        # at most this long plus ten seconds after the leader died).
        "REMINDER_PLAN_MINUTES": _int_between(
            "LEARNING_REMINDER_PLAN_MINUTES", env.get("LEARNING_REMINDER_PLAN_MINUTES"), 10, 1, 1440),
        "OUTBOX_SEND_SECONDS": _int_between(
            "LEARNING_OUTBOX_SEND_SECONDS", env.get("LEARNING_OUTBOX_SEND_SECONDS"), 60, 5, 3600),
        # A sender's hold on the rows it claimed; renewed while it works, so it only matters when the
        # sender died: then its rows go out this long later. Longer than one SMTP exchange (20 s timeout).
        "OUTBOX_CLAIM_SECONDS": _int_between(
            "LEARNING_OUTBOX_CLAIM_SECONDS", env.get("LEARNING_OUTBOX_CLAIM_SECONDS"), 90, 5, 3600),
        # Pages kept per person in each worker (see learning/pagecache.py); 0 switches the cache off.
        "PAGE_CACHE_SECONDS": _int_between(
            "LEARNING_PAGE_CACHE_SECONDS", env.get("LEARNING_PAGE_CACHE_SECONDS"), 60, 0, 3600),
        "PAGE_CACHE_ENTRIES": _int_between(
            "LEARNING_PAGE_CACHE_ENTRIES", env.get("LEARNING_PAGE_CACHE_ENTRIES"), 2000, 1, 1_000_000),
        "SCHEDULER_LEASE_SECONDS": _int_between(
            "LEARNING_SCHEDULER_LEASE_SECONDS", env.get("LEARNING_SCHEDULER_LEASE_SECONDS"), 45, 5, 300),
    }
    if settings["MAIL_RETRY_MAX_SECONDS"] < settings["MAIL_RETRY_SECONDS"]:
        raise ConfigError("LEARNING_MAIL_RETRY_MAX_SECONDS must not be smaller than LEARNING_MAIL_RETRY_SECONDS")
    if not settings["MAIL_WEEKENDS"] and settings["DIGEST_WEEKDAY"] >= 5:
        raise ConfigError("LEARNING_DIGEST_WEEKDAY falls on a weekend, when no mail is sent "
                          "(set LEARNING_MAIL_WEEKENDS=1 or choose a weekday)")
    return settings


def _ldap_filter(name: str, value: str) -> str:
    """A filter in parentheses with balanced parentheses: the search ANDs it with the login attribute."""
    depth = 0
    for char in value:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth < 0:
            break
    if not (value.startswith("(") and value.endswith(")")) or depth != 0:
        raise ConfigError(f"{name} must be an LDAP filter in parentheses such as "
                          f"(&(objectCategory=person)(objectClass=user)), not {value!r}")
    return value


def _directory_sync_settings(env: dict) -> dict:
    """Directory sync (the README's *Directory sync* section); the mapping file is checked when the app starts."""
    mapping = env.get("LEARNING_DIRECTORY_MAPPING", "").strip()
    if mapping and not Path(mapping).is_file():
        raise ConfigError(f"LEARNING_DIRECTORY_MAPPING is not a readable file: {mapping!r}")
    share = env.get("LEARNING_DIRECTORY_MAX_DEACTIVATE_SHARE", "").strip() or "0.1"
    try:
        value = float(share[:-1]) / 100 if share.endswith("%") else float(share)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 1:
        raise ConfigError(f"LEARNING_DIRECTORY_MAX_DEACTIVATE_SHARE must be a share from 0 to 1 such as 0.1 "
                          f"(or 10%), not {share!r}")
    return {"DIRECTORY_MAPPING": mapping, "DIRECTORY_MAX_DEACTIVATE_SHARE": value,
            "DIRECTORY_GRACE_DAYS": _int_between("LEARNING_DIRECTORY_GRACE_DAYS",
                                                 env.get("LEARNING_DIRECTORY_GRACE_DAYS"), 7, 0, 365)}


def _directory_settings(env: dict) -> dict:
    """Sign-in with the organisation's directory (README: "Sign-in with the directory (LDAP / Active Directory)")."""
    url = env.get("LEARNING_LDAP_URL", "").strip()
    settings = {
        "LDAP_URL": url,
        "LDAP_STARTTLS": _flag(env.get("LEARNING_LDAP_STARTTLS")),
        "LDAP_BIND_DN": env.get("LEARNING_LDAP_BIND_DN", "").strip(),
        "LDAP_BIND_PASSWORD": env.get("LEARNING_LDAP_BIND_PASSWORD", ""),
        "LDAP_BASE_DN": env.get("LEARNING_LDAP_BASE_DN", "").strip(),
        "LDAP_USER_FILTER": _ldap_filter("LEARNING_LDAP_USER_FILTER", env.get(
            "LEARNING_LDAP_USER_FILTER", "").strip() or "(&(objectCategory=person)(objectClass=user))"),
        "LDAP_LOGIN_ATTRIBUTE": env.get("LEARNING_LDAP_LOGIN_ATTRIBUTE", "").strip() or "sAMAccountName",
        "LDAP_ID_ATTRIBUTE": env.get("LEARNING_LDAP_ID_ATTRIBUTE", "").strip() or "objectGUID",
        "LDAP_CA_FILE": env.get("LEARNING_LDAP_CA_FILE", "").strip(),
        "LDAP_TIMEOUT": _int_between("LEARNING_LDAP_TIMEOUT", env.get("LEARNING_LDAP_TIMEOUT"), 10, 1, 120),
        **_directory_sync_settings(env),
    }
    for key in ("LDAP_LOGIN_ATTRIBUTE", "LDAP_ID_ATTRIBUTE"):
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9-]*", settings[key]):
            raise ConfigError(f"LEARNING_{key} must be an attribute name such as sAMAccountName, not {settings[key]!r}")
    if not url:
        return settings
    parts = urlsplit(url)
    if parts.scheme not in {"ldap", "ldaps"} or not parts.hostname or parts.path not in {"", "/"}:
        raise ConfigError(f"LEARNING_LDAP_URL must look like ldaps://dc1.example.local:636 or "
                          f"ldap://dc1.example.local:389, not {url!r}")
    if parts.scheme == "ldaps" and settings["LDAP_STARTTLS"]:
        raise ConfigError("LEARNING_LDAP_STARTTLS applies to ldap:// URLs only; ldaps:// is encrypted already")
    if not settings["LDAP_BASE_DN"]:
        raise ConfigError("LEARNING_LDAP_BASE_DN is missing: where people are searched, e.g. "
                          "OU=Staff,DC=example,DC=local")
    if bool(settings["LDAP_BIND_DN"]) != bool(settings["LDAP_BIND_PASSWORD"]):
        raise ConfigError("LEARNING_LDAP_BIND_DN and LEARNING_LDAP_BIND_PASSWORD go together: the service account "
                          "that searches the directory (both empty for an anonymous search)")
    if settings["LDAP_CA_FILE"] and not Path(settings["LDAP_CA_FILE"]).is_file():
        raise ConfigError(f"LEARNING_LDAP_CA_FILE is not a readable file: {settings['LDAP_CA_FILE']!r}")
    return settings


def _oidc_settings(env: dict) -> dict:
    """Single sign-on with OpenID Connect (docs/oidc.md): Keycloak, ADFS, Entra ID."""
    issuer = env.get("LEARNING_OIDC_ISSUER", "").strip().rstrip("/")
    label = env.get("LEARNING_OIDC_LABEL", "").strip() or "Single Sign-On"
    settings = {
        "OIDC_ISSUER": issuer,
        "OIDC_CLIENT_ID": env.get("LEARNING_OIDC_CLIENT_ID", "").strip(),
        "OIDC_CLIENT_SECRET": env.get("LEARNING_OIDC_CLIENT_SECRET", ""),
        "OIDC_LABEL": label,
        "OIDC_CREATE_PEOPLE": _flag(env.get("LEARNING_OIDC_CREATE_PEOPLE", "1")),
        "OIDC_TIMEOUT": _int_between("LEARNING_OIDC_TIMEOUT", env.get("LEARNING_OIDC_TIMEOUT"), 10, 1, 120),
        "OIDC_ALLOW_HTTP": False,  # tests only (a provider on 127.0.0.1): never read from the environment
    }
    if len(label) > 60 or any(ord(c) < 32 for c in label):
        raise ConfigError('LEARNING_OIDC_LABEL is the button text after "Anmelden mit": at most 60 characters '
                          "on one line, such as Keycloak or Dienstkonto")
    if not issuer:
        return settings
    parts = urlsplit(issuer)
    if parts.scheme != "https" or not parts.hostname or parts.query or parts.fragment:
        raise ConfigError(f"LEARNING_OIDC_ISSUER must be the provider's https:// address such as "
                          f"https://sso.example.de/realms/verwaltung, not {issuer!r}")
    if not settings["OIDC_CLIENT_ID"] or not settings["OIDC_CLIENT_SECRET"]:
        raise ConfigError("LEARNING_OIDC_ISSUER needs LEARNING_OIDC_CLIENT_ID and LEARNING_OIDC_CLIENT_SECRET: the "
                          "client registered at the provider")
    return settings


def load_config(overrides: dict | None = None, environ: os._Environ | dict | None = None) -> dict:
    """Return Flask config values from the environment (and ``.env``), with overrides applied."""
    if environ is None:
        load_dotenv(PROJECT_ROOT / ".env", override=False)
        environ = os.environ
    env = {k: v for k, v in environ.items() if k.startswith("LEARNING_")}
    overrides = dict(overrides or {})
    instance_path = Path(overrides.pop("INSTANCE_PATH", env.get("LEARNING_INSTANCE_PATH") or PROJECT_ROOT / "instance"))


    timezone = env.get("LEARNING_TIMEZONE", "Europe/Berlin")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"LEARNING_TIMEZONE is not a known time zone: {timezone!r} (e.g. Europe/Berlin)") from None

    config = {
        "INSTANCE_PATH": str(instance_path),
        "SECRET_KEY": None,  # filled below, after overrides, so tests need no instance folder
        "SQLALCHEMY_DATABASE_URI": None,
        "BASE_URL": env.get("LEARNING_BASE_URL", "http://127.0.0.1:5000").rstrip("/"),
        "DEMO": _flag(env.get("LEARNING_DEMO")),
        "SMTP_URL": _smtp_url(env.get("LEARNING_SMTP_URL")),
        "MAIL_FROM": env.get("LEARNING_MAIL_FROM", "Lernplattform <lernplattform@localhost>"),
        "DEFAULT_LOCALE": _choice(
            "LEARNING_DEFAULT_LOCALE", env.get("LEARNING_DEFAULT_LOCALE", "de"), SUPPORTED_LOCALES
        ),
        "TIMEZONE": timezone,
        "RATELIMIT_STORAGE_URI": env.get("LEARNING_RATELIMIT_STORAGE_URL", "memory://"),
        "LOGIN_LIMIT": env.get("LEARNING_LOGIN_LIMIT", "5 per 15 minutes"),
        "LOGIN_IP_LIMIT": env.get("LEARNING_LOGIN_IP_LIMIT", "50 per 15 minutes"),
        # Per person: feedback posts, comments (and official replies) and votes.
        "FEEDBACK_POST_LIMIT": env.get("LEARNING_FEEDBACK_POST_LIMIT", "10 per hour"),
        "FEEDBACK_COMMENT_LIMIT": env.get("LEARNING_FEEDBACK_COMMENT_LIMIT", "30 per hour"),
        "FEEDBACK_VOTE_LIMIT": env.get("LEARNING_FEEDBACK_VOTE_LIMIT", "60 per hour"),
        "PROXY_COUNT": _positive_int("LEARNING_PROXY_COUNT", env.get("LEARNING_PROXY_COUNT"), 0),
        "PASSWORD_RESET_HOURS": _positive_int(
            "LEARNING_PASSWORD_RESET_HOURS", env.get("LEARNING_PASSWORD_RESET_HOURS"), 2
        ),
        "INVITATION_DAYS": _positive_int("LEARNING_INVITATION_DAYS", env.get("LEARNING_INVITATION_DAYS"), 14),
        # One CSV import (upload or ``flask users import``): larger files are refused while being read.
        "IMPORT_MAX_ROWS": _int_between("LEARNING_IMPORT_MAX_ROWS", env.get("LEARNING_IMPORT_MAX_ROWS"), 20000,
                                        1, 1000000),
        "IMPORT_MAX_MB": _int_between("LEARNING_IMPORT_MAX_MB", env.get("LEARNING_IMPORT_MAX_MB"), 5, 1, 1000),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",

        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",

        "REMEMBER_COOKIE_DURATION": 60 * 60 * 24 * 14,
        "SESSION_PROTECTION": "strong",
        "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session
        "MAX_CONTENT_LENGTH": 8 * 1024 * 1024,
        "COURSES_DIR": env.get("LEARNING_COURSES_DIR") or str(PROJECT_ROOT / "courses"),
        # A course zip (upload or ``flask courses import``): refused before anything is stored when it exceeds
        # these: the zip itself, its entries, what they unpack to, and how far one entry may unpack (zip bombs).
        "COURSE_ZIP_MAX_MB": _int_between("LEARNING_COURSE_ZIP_MAX_MB", env.get("LEARNING_COURSE_ZIP_MAX_MB"),
                                          20, 1, 2000),
        "COURSE_ZIP_MAX_ENTRIES": _int_between("LEARNING_COURSE_ZIP_MAX_ENTRIES",
                                               env.get("LEARNING_COURSE_ZIP_MAX_ENTRIES"), 500, 1, 100000),
        "COURSE_ZIP_MAX_UNPACKED_MB": _int_between("LEARNING_COURSE_ZIP_MAX_UNPACKED_MB",
                                                   env.get("LEARNING_COURSE_ZIP_MAX_UNPACKED_MB"), 100, 1, 10000),
        "COURSE_ZIP_MAX_RATIO": _int_between("LEARNING_COURSE_ZIP_MAX_RATIO", env.get("LEARNING_COURSE_ZIP_MAX_RATIO"),
                                             100, 2, 10000),
        # Privacy: may the project group see WHO has not acknowledged an announcement (audit-logged)?
        "SHOW_UNACKNOWLEDGED_NAMES": _flag(env.get("LEARNING_SHOW_UNACKNOWLEDGED_NAMES")),
        **_reminder_settings(env),
        **_directory_settings(env),
        **_oidc_settings(env),
        **_media_settings(env, instance_path),
    }
    if config["RATELIMIT_STORAGE_URI"].split(":", 1)[0] not in {"memory", "redis", "rediss", "redis+unix"}:
        raise ConfigError(
            "LEARNING_RATELIMIT_STORAGE_URL must be memory:// or redis://host:6379/0, "
            f"not {config['RATELIMIT_STORAGE_URI']!r}"
        )
    try:
        limits.parse_many(config["LOGIN_LIMIT"])
        limits.parse_many(config["LOGIN_IP_LIMIT"])
    except ValueError:
        raise ConfigError(
            "LEARNING_LOGIN_LIMIT and LEARNING_LOGIN_IP_LIMIT look like '5 per 15 minutes', "
            f"not {config['LOGIN_LIMIT']!r} / {config['LOGIN_IP_LIMIT']!r}"
        ) from None
    for name in ("FEEDBACK_POST_LIMIT", "FEEDBACK_COMMENT_LIMIT", "FEEDBACK_VOTE_LIMIT"):
        try:
            limits.parse(config[name])
        except ValueError:
            raise ConfigError(f"LEARNING_{name} looks like '10 per hour', not {config[name]!r}") from None
    config.update(overrides)
    base = urlsplit(config["BASE_URL"])
    if base.scheme not in {"http", "https"} or not base.netloc:
        raise ConfigError(
            f"LEARNING_BASE_URL must be an http(s) URL such as https://lernen.example.de, not {config['BASE_URL']!r}"
        )
    config["PREFERRED_URL_SCHEME"] = base.scheme
    # Cookies travel only over HTTPS when the platform is served over HTTPS.
    config.setdefault("SESSION_COOKIE_SECURE", base.scheme == "https")
    config.setdefault("REMEMBER_COOKIE_SECURE", base.scheme == "https")
    if not config["SQLALCHEMY_DATABASE_URI"]:
        config["SQLALCHEMY_DATABASE_URI"] = _database_url(env.get("LEARNING_DATABASE_URL"), instance_path)
    else:
        config["SQLALCHEMY_DATABASE_URI"] = _database_url(config["SQLALCHEMY_DATABASE_URI"], instance_path)
    if not config["SECRET_KEY"]:
        config["SECRET_KEY"] = _secret_key(instance_path, env.get("LEARNING_SECRET_KEY"))
    return config
