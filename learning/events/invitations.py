"""Mails about bookings, with invitations calendars understand (iCalendar, RFC 5546 iTIP).

A service that changes a booking calls ``queue_mail``: an ``EventMail`` row is added in the same
transaction and sent once it has committed (``after_commit``), so nobody is told of a change that
did not happen. What the mail says is composed when it is sent, from the booking as it is then,
in the recipient's language. A mail the server could not take stays queued; the job
``events.send_mail`` tries it again (``send_queued``).

Confirmations and changes carry ``METHOD:REQUEST``, cancellations ``METHOD:CANCEL``. The UID is
the same for every mail about one booking of one session, and the SEQUENCE grows with each
invitation (``Booking.ical_sequence``), so a calendar moves or removes the appointment it already
has instead of adding a second one.
"""

from __future__ import annotations

import enum
import logging
from datetime import timedelta
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formataddr
from urllib.parse import urlsplit

import icalendar
from flask import current_app
from flask_babel import force_locale, format_datetime
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from learning.db import after_commit, db, unit_of_work, utcnow
from learning.events.models import Booking, EventMail, EventSession, MailStatus
from learning.mail import Mailer, MailError, MailUnconfirmed, absolute_url, build_message
from learning.messaging.compose import language_of

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
_SENDING = "learning.events.mail_after_commit"


class MailKind(enum.StrEnum):
    REQUESTED = "requested"        # awaiting approval
    CONFIRMED = "confirmed"        # REQUEST
    CHANGED = "changed"            # REQUEST, higher SEQUENCE
    WAITING = "waiting"
    OFFERED = "offered"
    OFFER_LAPSED = "offer_lapsed"
    DECLINED = "declined"
    CANCELLED = "cancelled"        # CANCEL: the booking
    SESSION_CANCELLED = "session_cancelled"  # CANCEL: the whole session
    LEFT = "left"                  # left the waiting list or withdrew a request
    REMINDER = "reminder"


METHODS = {MailKind.CONFIRMED: "REQUEST", MailKind.CHANGED: "REQUEST",
           MailKind.CANCELLED: "CANCEL", MailKind.SESSION_CANCELLED: "CANCEL"}


def queue_mail(booking: Booking, kind: MailKind) -> EventMail:
    """Queue a mail about the booking to its person; an invitation raises the booking's SEQUENCE."""
    method = METHODS.get(kind)
    sequence = 0
    if method is not None:
        booking.ical_sequence = max(booking.ical_sequence + 1, booking.session.sequence if booking.session else 0)
        sequence = booking.ical_sequence
    mail = EventMail(booking_id=booking.id, user_id=booking.user_id, kind=kind.value, method=method,
                     sequence=sequence)
    db.session.add(mail)
    db.session.flush()
    session = db.session()
    if not session.info.get(_SENDING):
        session.info[_SENDING] = True

        def send_now():
            db.session().info.pop(_SENDING, None)
            send_queued()

        after_commit(send_now)
    return mail


# The invitation -----------------------------------------------------------------------------

def uid_of(booking: Booking) -> str:
    host = urlsplit(current_app.config["BASE_URL"]).hostname or "localhost"
    return f"event-session-{booking.session_id}-booking-{booking.id}@{host}"


def calendar_of(mail: EventMail, booking: Booking) -> bytes:
    """The iTIP object of one mail: the session as the booking's person should have it."""
    session: EventSession = booking.session
    event = session.event
    config = current_app.config
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//learning platform//events//DE")
    calendar.add("version", "2.0")
    calendar.add("method", mail.method)
    entry = icalendar.Event()
    entry.add("uid", uid_of(booking))
    entry.add("sequence", mail.sequence)
    entry.add("dtstamp", utcnow())
    entry.add("dtstart", session.starts_at)
    entry.add("dtend", session.ends_at)
    entry.add("summary", event.title)
    location = ", ".join(p for p in (session.place, session.online_url if mail.method == "REQUEST" else "") if p)
    if location:
        entry.add("location", location)
    entry.add("description", absolute_url("events.event", event_id=event.id))
    entry.add("url", absolute_url("events.event", event_id=event.id))
    organiser = icalendar.vCalAddress(f"mailto:{config['MAIL_FROM'].split('<')[-1].rstrip('>').strip()}")
    organiser.params["cn"] = icalendar.vText(_("Project group"))
    entry.add("organizer", organiser)
    attendee = icalendar.vCalAddress(f"mailto:{booking.user.email}")
    attendee.params["cn"] = icalendar.vText(booking.user.full_name)
    attendee.params["role"] = icalendar.vText("REQ-PARTICIPANT")
    attendee.params["partstat"] = icalendar.vText("ACCEPTED" if mail.method == "REQUEST" else "DECLINED")
    entry.add("attendee", attendee)
    cancelled = mail.method == "CANCEL"
    entry.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    calendar.add_component(entry)
    return calendar.to_ical()


# Composing ----------------------------------------------------------------------------------

def _when(session: EventSession) -> str:
    start, end = session.starts_at, session.ends_at
    if start.date() == end.date() and end - start < timedelta(days=1):
        return f"{format_datetime(start, 'EEEE, dd.MM.yyyy, HH:mm')}–{format_datetime(end, 'HH:mm')}"
    return f"{format_datetime(start, 'dd.MM.yyyy HH:mm')} – {format_datetime(end, 'dd.MM.yyyy HH:mm')}"


def compose(mail: EventMail, booking: Booking) -> tuple[str, str]:
    """Subject and text of a mail, in the language in force."""
    session = booking.session
    event = session.event
    title = event.title
    subjects = {
        MailKind.REQUESTED: _("Booking requested: %(title)s", title=title),
        MailKind.CONFIRMED: _("Booking confirmed: %(title)s", title=title),
        MailKind.CHANGED: _("Changed: %(title)s", title=title),
        MailKind.WAITING: _("On the waiting list: %(title)s", title=title),
        MailKind.OFFERED: _("A seat is free for you: %(title)s", title=title),
        MailKind.OFFER_LAPSED: _("Offer expired: %(title)s", title=title),
        MailKind.DECLINED: _("Booking declined: %(title)s", title=title),
        MailKind.CANCELLED: _("Booking cancelled: %(title)s", title=title),
        MailKind.SESSION_CANCELLED: _("Cancelled: %(title)s", title=title),
        MailKind.LEFT: _("Booking withdrawn: %(title)s", title=title),
        MailKind.REMINDER: _("Tomorrow: %(title)s", title=title),
    }
    texts = {
        MailKind.REQUESTED: _("Your booking has been requested. A manager of your team decides on it; "
                              "you will get a mail."),
        MailKind.CONFIRMED: _("Your seat is booked. The invitation attached adds the appointment to your calendar."),
        MailKind.CHANGED: _("The session has changed. The invitation attached updates the appointment in your "
                            "calendar."),
        MailKind.WAITING: _("The session is full. You are on the waiting list; if a seat becomes free, "
                            "you will get a mail."),
        MailKind.OFFERED: _("A seat has become free for you. Please accept it by %(until)s, or it goes to the "
                            "next person on the waiting list.",
                            until=format_datetime(booking.offered_until, "dd.MM.yyyy HH:mm")
                            if booking.offered_until else ""),
        MailKind.OFFER_LAPSED: _("The seat offered to you was not accepted in time and has gone to the next "
                                 "person on the waiting list."),
        MailKind.DECLINED: _("Your booking has been declined. Reason: %(reason)s", reason=booking.reason),
        MailKind.CANCELLED: _("Your booking has been cancelled. The attachment removes the appointment from "
                              "your calendar."),
        MailKind.SESSION_CANCELLED: _("The session has been cancelled. The attachment removes the appointment "
                                      "from your calendar."),
        MailKind.LEFT: _("Your booking request or place on the waiting list has been withdrawn."),
        MailKind.REMINDER: _("A reminder: you have booked this session for tomorrow."),
    }
    kind = MailKind(mail.kind)
    lines = [_("Hello %(name)s,", name=booking.user.full_name), "", str(texts[kind])]
    if kind in (MailKind.CANCELLED, MailKind.SESSION_CANCELLED, MailKind.LEFT) and booking.reason:
        lines.append(_("Reason: %(reason)s", reason=booking.reason))  # e.g. why the organisers cancelled the event
    lines += ["", f"{title}", _("When: %(when)s", when=_when(session))]
    if session.place:
        lines.append(_("Where: %(place)s", place=session.place))
    if session.online_url and kind in (MailKind.CONFIRMED, MailKind.CHANGED, MailKind.REMINDER):
        lines.append(_("Online: %(link)s", link=session.online_url))
    lines += ["", _("Details and your booking: %(url)s", url=absolute_url("events.event", event_id=event.id))]
    return str(subjects[kind]), "\n".join(lines)


def message_for(mail: EventMail, booking: Booking):
    user = booking.user
    with force_locale(language_of(user)):
        subject, text = compose(mail, booking)
        plain = build_message(formataddr((user.full_name, user.email)), subject, text,
                              sender=current_app.config["MAIL_FROM"])
        if mail.method is None:
            return plain
        message = MIMEMultipart("mixed")
        for header in ("From", "To", "Subject", "Date", "Message-ID", "Auto-Submitted", "X-Auto-Response-Suppress"):
            message[header] = plain[header]
        message.attach(MIMEText(text, "plain", "utf-8"))
        invitation = MIMEText(calendar_of(mail, booking).decode(), "calendar", "utf-8")
        invitation.set_param("method", mail.method)
        invitation.add_header("Content-Disposition", "attachment", filename="invite.ics")
        message.attach(invitation)
        return message


# Sending ------------------------------------------------------------------------------------

def send_queued(limit: int = 200) -> dict[str, int]:
    """Send the queued mails about bookings (each in its own commit); a failure waits for the next run."""
    counts = {"sent": 0, "failed": 0, "waiting": 0}
    with unit_of_work():
        ids = db.session.scalars(select(EventMail.id).where(EventMail.status == MailStatus.QUEUED.value)
                                 .order_by(EventMail.id).limit(limit)).all()
    if not ids:
        return counts
    with Mailer() as mailer:
        for mail_id in ids:
            with unit_of_work():
                mail = db.session.scalar(
                    select(EventMail).where(EventMail.id == mail_id, EventMail.status == MailStatus.QUEUED.value)
                    .options(joinedload(EventMail.booking).joinedload(Booking.session)
                             .joinedload(EventSession.event), joinedload(EventMail.booking)
                             .joinedload(Booking.user)))
                if mail is None:
                    continue
                message = message_for(mail, mail.booking)
                try:
                    mailer.send(message)
                except MailUnconfirmed as exc:
                    mail.status, mail.sent_at, mail.last_error = MailStatus.SENT.value, utcnow(), str(exc)[:1000]
                    counts["sent"] += 1
                except MailError as exc:
                    mail.attempts += 1
                    mail.last_error = str(exc)[:1000]
                    if mail.attempts >= MAX_ATTEMPTS:
                        mail.status = MailStatus.FAILED.value
                        counts["failed"] += 1
                    else:
                        counts["waiting"] += 1
                    logger.warning("Event mail %s not sent: %s", mail.id, exc)
                else:
                    mail.status, mail.sent_at = MailStatus.SENT.value, utcnow()
                    mail.message_id = str(message["Message-ID"])
                    counts["sent"] += 1
    return counts
