"""Send mail over SMTP, or capture it in the database when no SMTP server is configured.

``LEARNING_SMTP_URL`` chooses the transport: ``smtp://host:25`` (plain), ``smtp+starttls://user:pass@host:587``
(STARTTLS, then login) or ``smtps://user:pass@host:465`` (TLS from the start). A ``Mailer`` keeps one
connection open for a whole batch of messages; ``send_mail`` delivers a single one.
"""

from __future__ import annotations

import logging
import smtplib
import socket
import ssl
from collections.abc import Callable
from datetime import UTC, datetime
from email.header import Header, decode_header, make_header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, formataddr, make_msgid, parseaddr
from urllib.parse import unquote, urlsplit

from flask import current_app
from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from learning.db import db, utcnow
from learning.pagecache import Shown

logger = logging.getLogger(__name__)


class CapturedMail(db.Model):
    """A mail stored instead of sent (no SMTP server configured); admins read them under "Sent mail"."""

    __page_cache__ = Shown.NOWHERE

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    message_id: Mapped[str] = mapped_column(String(200))

SMTP_TIMEOUT = 20


class MailError(Exception):
    """The SMTP server could not be reached or refused the message."""


class MailUnavailable(MailError):
    """The SMTP server could not be reached, refused the connection or the login: no message's fault."""


class MailUnconfirmed(MailError):
    """The whole message went to the server, but its answer never came: it may have been delivered.

    Sending it again could deliver it twice, so it is not sent again (see the outbox).
    """


class MailRejected(MailError):
    """The SMTP server refused this message (e.g. an unknown recipient); ``code`` is its reply code."""

    def __init__(self, message: str, code: int | None = None):
        super().__init__(message)
        self.code = code


def absolute_url(endpoint: str, **values) -> str:
    """A link for a mail: the configured base URL plus the route, with or without a request."""
    path = current_app.url_map.bind("localhost").build(endpoint, values)
    return current_app.config["BASE_URL"] + path


def sender_domain(sender: str) -> str:
    return sender.rsplit("@", 1)[-1].strip("> ") or "localhost"


def _header(value: str) -> str | Header:
    return value if value.isascii() else Header(value, "utf-8")


def _address(value: str) -> str:
    """``Name <addr>`` with the name encoded for mail headers when it is not plain ASCII."""
    name, address = parseaddr(value)
    return formataddr((name, address), charset="utf-8") if name else address


def build_message(recipient: str, subject: str, body: str, *, sender: str, message_id: str | None = None,
                  html: str | None = None, headers: dict[str, str] | None = None) -> Message:
    """A plain-text mail, with an HTML alternative when ``html`` is given (UTF-8, RFC 2047 headers).

    Built with the classic MIME classes: a reminder run builds thousands, and these cost a
    twentieth of what the parsing header registry of ``email.message.EmailMessage`` costs.
    """
    text_part = MIMEText(body, "plain", "utf-8")
    if html is None:
        message = text_part
    else:
        message = MIMEMultipart("alternative")
        message.attach(text_part)
        message.attach(MIMEText(html, "html", "utf-8"))
    message["From"] = _address(sender)
    message["To"] = _address(recipient)
    message["Subject"] = _header(subject)
    message["Date"] = format_datetime(datetime.now(UTC))  # RFC 5322: "+0000", not the obsolete "GMT" (nor "-0000")
    message["Message-ID"] = message_id or make_msgid(domain=sender_domain(sender))
    message["Auto-Submitted"] = "auto-generated"
    message["X-Auto-Response-Suppress"] = "All"  # no out-of-office replies to the platform
    for name, value in (headers or {}).items():
        message[name] = _header(value)
    return message


def _decoded(value) -> str:
    """A header as people read it (RFC 2047 encoded words decoded)."""
    return str(make_header(decode_header(str(value))))


def _text_of(message: Message) -> str:
    part = message.get_payload(0) if message.is_multipart() else message
    return part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")


class _HandOver:
    """An SMTP client that calls ``handing_over`` when it has sent the whole message but its final dot.

    A server throws away a message whose final dot never came; after the dot, it may deliver the
    message even if its answer never comes back. ``dot_sent`` tells which of the two happened.
    """

    handing_over: Callable[[], None] | None = None
    dot_sent = False

    def _get_socket(self, host, port, timeout):
        # The message goes out in two writes around the hand-over; with Nagle's algorithm the final
        # dot waited for the server's delayed ACK, about 40 ms on every mail (20 mails/s at most).
        sock = super()._get_socket(host, port, timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock

    def send(self, s):
        if self.handing_over is not None and isinstance(s, bytes) and s.endswith(b"\r\n.\r\n"):
            super().send(s[:-3])  # the message data (smtplib sends commands as str, the data as bytes)
            self.handing_over()
            super().send(b".\r\n")
            self.dot_sent = True
            return
        super().send(s)


class _SMTP(_HandOver, smtplib.SMTP):
    pass


class _SMTPS(_HandOver, smtplib.SMTP_SSL):
    pass


class Mailer:
    """Deliver messages over one SMTP connection, opened on the first message and closed on exit.

    Without an SMTP URL every message is stored as CapturedMail (the caller commits). A connection
    the server closed in between (idle timeout) is opened again once before giving up.
    """

    def __init__(self, smtp_url: str | None = None, timeout: float = SMTP_TIMEOUT):
        self.url = smtp_url if smtp_url is not None else current_app.config["SMTP_URL"]
        self.timeout = timeout
        self.client: _SMTP | _SMTPS | None = None
        self.connections = 0  # how many connections were opened (tests check the reuse)

    @property
    def capturing(self) -> bool:
        return not self.url

    def __enter__(self) -> Mailer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _connect(self) -> _SMTP | _SMTPS:
        url = urlsplit(self.url)
        context = ssl.create_default_context()
        try:
            if url.scheme == "smtps":
                client = _SMTPS(url.hostname, url.port or 465, timeout=self.timeout, context=context)
            else:
                client = _SMTP(url.hostname, url.port or 25, timeout=self.timeout)
            try:
                if url.scheme == "smtp+starttls":
                    client.starttls(context=context)
                if url.username:
                    client.login(unquote(url.username), unquote(url.password or ""))
            except BaseException:
                client.close()
                raise
        except (OSError, smtplib.SMTPException) as exc:
            raise MailUnavailable(f"cannot reach the SMTP server {url.hostname}:{url.port or ''}: {exc}") from exc
        self.connections += 1
        return client

    def send(self, message: Message, handing_over: Callable[[], None] | None = None) -> None:
        """Deliver one message; raise MailUnavailable (server), MailRejected (this message) or MailUnconfirmed.

        ``handing_over`` is called when the server has the whole message but its final dot, the
        last moment at which the message is certainly not delivered yet (the outbox records there
        that it hands the message over). Once the dot is sent, the message is never sent again.
        """
        if self.capturing:
            db.session.add(CapturedMail(recipient=_decoded(message["To"]), subject=_decoded(message["Subject"]),
                                        body=_text_of(message), message_id=str(message["Message-ID"])))
            return
        while True:
            reused = self.client is not None
            if self.client is None:
                self.client = self._connect()
            client = self.client
            client.handing_over, client.dot_sent = handing_over, False
            try:
                client.send_message(message)
                return
            except smtplib.SMTPRecipientsRefused as exc:
                code, reply = next(iter(exc.recipients.values()), (None, b""))
                raise MailRejected(f"recipient refused: {code} {_reply(reply)}", code) from exc
            except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
                raise MailRejected(f"message refused: {exc.smtp_code} {_reply(exc.smtp_error)}",
                                   exc.smtp_code) from exc
            except (OSError, smtplib.SMTPException) as exc:
                self.close_quietly()
                if client.dot_sent:
                    raise MailUnconfirmed(f"no answer after the message was sent: {exc}") from exc
                if not reused:  # a connection kept from an earlier message may have timed out: one more try
                    raise MailUnavailable(f"SMTP delivery failed: {exc}") from exc
                logger.info("SMTP connection lost (%s); connecting again", exc)
            except BaseException:  # e.g. the hand-over could not be recorded: the dot was not sent
                self.close_quietly()
                raise
            finally:
                client.handing_over = None

    def close_quietly(self) -> None:
        """Drop the connection without a goodbye (in the middle of a message the server discards it)."""
        if self.client is not None:
            self.client.close()
            self.client = None

    def close(self) -> None:
        if self.client is not None:
            try:
                self.client.quit()
            except (OSError, smtplib.SMTPException):
                self.client.close()
            self.client = None


def _reply(value) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


def send_mail(recipient: str, subject: str, body: str, *, name: str | None = None) -> str:
    """Deliver a plain-text mail and return its Message-ID; raise MailError if SMTP fails.

    Without ``LEARNING_SMTP_URL`` the mail is stored as CapturedMail and shown to admins;
    the caller commits the session.
    """
    config = current_app.config
    to = formataddr((name, recipient)) if name else recipient
    message = build_message(to, subject, body, sender=config["MAIL_FROM"])
    with Mailer() as mailer:
        try:
            mailer.send(message)
        except MailError as exc:
            logger.warning("Mail %r to %s failed: %s", subject, recipient, exc)
            raise
    if mailer.capturing:
        logger.info("Mail %r to %s captured (no SMTP server configured)", subject, recipient)
    else:
        logger.info("Mail %r sent to %s", subject, recipient)
    return message["Message-ID"]
