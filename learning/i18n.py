"""Language and time zone of each request: German first, English complete."""

from __future__ import annotations

import functools
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app, has_request_context, request, session
from flask_babel import force_locale, format_date, format_datetime, ngettext
from flask_babel import gettext as _
from flask_login import current_user

from learning.config import SUPPORTED_LOCALES


def select_locale() -> str:
    """The user's saved language, else the session's choice, else the browser's, else the default."""
    if not has_request_context():
        return current_app.config["DEFAULT_LOCALE"]
    if getattr(current_user, "is_authenticated", False) and current_user.locale in SUPPORTED_LOCALES:
        return current_user.locale
    chosen = session.get("locale")
    if chosen in SUPPORTED_LOCALES:
        return chosen
    default = current_app.config["DEFAULT_LOCALE"]
    if request.accept_languages:
        best = request.accept_languages.best_match(SUPPORTED_LOCALES)
        if best and request.accept_languages[best] >= request.accept_languages[default]:
            return best
    return default


def select_timezone() -> str:
    return current_app.config["TIMEZONE"]


def local_today() -> date:
    """Today in the organisation's time zone: due dates and start dates are calendar days there."""
    return datetime.now(ZoneInfo(current_app.config["TIMEZONE"])).date()


def date_filter(value: date | datetime | None, format: str = "medium") -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return format_datetime(value, format)
    return format_date(value, format)


def due_in_words(due_on: date | None, today: date) -> str:
    """Say when something is due ("in 3 days", "due today", "2 days overdue") in the reader's language."""
    if due_on is None:
        return ""
    days = (due_on - today).days
    if days == 0:
        return _("due today")
    if days > 0:
        return ngettext("in %(num)d day", "in %(num)d days", days)
    return ngettext("%(num)d day overdue", "%(num)d days overdue", -days)


def in_english(command):
    """Run a command with English messages: admin consoles, logs and scripts read one language."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        with force_locale("en"):
            return command(*args, **kwargs)

    return wrapper
