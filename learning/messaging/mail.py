"""Send one mail over SMTP, or capture it in the database when no SMTP server is configured."""

from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from urllib.parse import unquote, urlsplit

from flask import current_app

from learning.db import db
from learning.messaging.models import CapturedMail

logger = logging.getLogger(__name__)


class MailError(Exception):
    """The SMTP server could not be reached or refused the message."""


def absolute_url(endpoint: str, **values) -> str:
    """A link for a mail: the configured base URL plus the route, with or without a request."""
    path = current_app.url_map.bind("localhost").build(endpoint, values)
    return current_app.config["BASE_URL"] + path


def build_message(recipient: str, subject: str, body: str, *, sender: str, message_id: str | None = None):
    message = EmailMessage()
    message["From"] = sender
    message["To"] = recipient
    message["Subject"] = subject
    domain = sender.rsplit("@", 1)[-1].strip("> ") or "localhost"
    message["Message-ID"] = message_id or make_msgid(domain=domain)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(body)
    return message


def send_mail(recipient: str, subject: str, body: str, *, name: str | None = None) -> str:
    """Deliver a plain-text mail and return its Message-ID; raise MailError if SMTP fails.

    Without ``LEARNING_SMTP_URL`` the mail is stored as CapturedMail and shown to admins;
    the caller commits the session.
    """
    config = current_app.config
    to = formataddr((name, recipient)) if name else recipient
    message = build_message(to, subject, body, sender=config["MAIL_FROM"])
    if not config["SMTP_URL"]:
        db.session.add(
            CapturedMail(recipient=to, subject=subject, body=body, message_id=message["Message-ID"])
        )
        logger.info("Mail %r to %s captured (no SMTP server configured)", subject, recipient)
        return message["Message-ID"]
    _deliver(config["SMTP_URL"], message)
    logger.info("Mail %r sent to %s", subject, recipient)
    return message["Message-ID"]


def _deliver(smtp_url: str, message: EmailMessage) -> None:
    url = urlsplit(smtp_url)
    context = ssl.create_default_context()
    try:
        if url.scheme == "smtps":
            client = smtplib.SMTP_SSL(url.hostname, url.port or 465, timeout=20, context=context)
        else:
            client = smtplib.SMTP(url.hostname, url.port or 25, timeout=20)
        with client:
            if url.scheme == "smtp+starttls":
                client.starttls(context=context)
            if url.username:
                client.login(unquote(url.username), unquote(url.password or ""))
            client.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        logger.warning("SMTP delivery to %s failed: %s", message["To"], exc)
        raise MailError(str(exc)) from exc
