"""Reminder mails: one person's reminders as one message, plain text and HTML, in the person's language."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import current_app
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _

from learning.config import SUPPORTED_LOCALES
from learning.mail import absolute_url
from learning.messaging.reminders import Entry, ReminderKind
from learning.settings.services import organisation_name


@dataclass(frozen=True)
class ComposedMail:
    subject: str
    text: str
    html: str
    language: str


def language_of(user) -> str:
    return user.locale if user.locale in SUPPORTED_LOCALES else current_app.config["DEFAULT_LOCALE"]


def describe_all(items: list[tuple[ReminderKind, dict]], today: date) -> list[tuple[str, list[tuple[Entry, str]]]]:
    """(kind label, [(entry, absolute link)]) in the kinds' order; call under the reader's locale."""
    groups: dict[str, tuple[ReminderKind, list]] = {}
    for kind, details in items:
        entry = kind.describe(details, today)
        url = absolute_url(entry.endpoint, **entry.values) if entry.endpoint else ""
        groups.setdefault(kind.name, (kind, []))[1].append((entry, url))
    ordered = sorted(groups.values(), key=lambda pair: (pair[0].order, pair[0].name))
    return [(str(kind.label), entries) for kind, entries in ordered]


def compose_reminders(user, items: list[tuple[ReminderKind, dict]], today: date) -> ComposedMail:
    """The mail for one person: a single reminder, or a digest of several."""
    language = language_of(user)
    env = current_app.jinja_env
    with force_locale(language):
        groups = describe_all(items, today)
        count = sum(len(entries) for _label, entries in groups)
        if count == 1:
            entry = groups[0][1][0][0]
            subject = _("Reminder: %(title)s", title=entry.title)
        else:
            subject = ngettext("%(num)d reminder from the learning platform",
                               "%(num)d reminders from the learning platform", count)
        hours = current_app.config["MAIL_HOURS"]
        context = {
            "user": user, "groups": groups, "count": count, "subject": subject, "language": language,
            "preferences_url": absolute_url("notifications.preferences"),
            "notifications_url": absolute_url("notifications.index"),
            "home_url": absolute_url("home.index"), "start_hour": hours[0], "end_hour": hours[1],
            "organisation_name": organisation_name(),  # Administration → Organisation, signs the mail
        }
        text = env.get_template("messaging/mail/reminders.txt").render(context)
        html = env.get_template("messaging/mail/reminders.html").render(context)
    return ComposedMail(subject=subject[:250], text=text, html=html, language=language)
