"""Helpers for reminder tests: Berlin wall-clock times, planning and sending under a controlled clock,
the outbox as tuples, and an SMTP server (aiosmtpd) that can refuse, fail and be switched off and on.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from email import message_from_bytes, policy
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import select

from learning.db import db
from learning.messaging.models import Outbox
from tests.conftest import free_port

BERLIN = ZoneInfo("Europe/Berlin")

# A week whose Monday is 2026-03-02; times are office hours unless a test says otherwise.
MONDAY = date(2026, 3, 2)


def berlin(day: date, hour: int = 9, minute: int = 0) -> datetime:
    """An aware UTC instant given as Berlin wall-clock time."""
    return datetime.combine(day, time(hour, minute), tzinfo=BERLIN).astimezone(UTC)


# Reminders everywhere at once unless a test is about the budget: all hours, all days, no digest.
OPEN_BUDGET = {"MAIL_HOURS": (0, 24), "MAIL_WEEKENDS": True, "REMINDER_DIGEST": "immediate", "MAIL_DAILY_CAP": 50}


@pytest.fixture
def at(app):
    """Run a function at a given instant (time-machine), inside an app context; returns its result."""

    def run(moment: datetime, function, *args, **kwargs):
        with time_machine.travel(moment, tick=False), app.app_context():
            try:
                return function(*args, **kwargs)
            finally:
                db.session.remove()

    return run


@pytest.fixture
def plan(at):
    """Plan as the job does: in a unit of work of its own."""
    from learning.db import unit_of_work
    from learning.messaging.reminders import plan_reminders

    def planned(**kwargs):
        with unit_of_work():
            return plan_reminders(**kwargs)

    return lambda moment, **kwargs: at(moment, planned, **kwargs)


@pytest.fixture
def send(at):
    from learning.messaging.outbox import send_due

    return lambda moment, **kwargs: at(moment, send_due, **kwargs)


@pytest.fixture
def outbox(app):
    """The outbox as (user id, kind, subject key, period key, status) tuples, oldest first."""

    def rows(*where):
        with app.app_context():
            result = db.session.execute(
                select(Outbox.user_id, Outbox.kind, Outbox.subject_key, Outbox.period_key, Outbox.status)
                .where(*where).order_by(Outbox.id)).all()
            db.session.remove()
            return [tuple(r) for r in result]

    return rows


@dataclass
class MailServer:
    """What arrived, and knobs to make the server misbehave."""

    url: str = ""
    port: int = 0
    messages: list = field(default_factory=list)
    connections: int = 0
    refuse: set = field(default_factory=set)  # recipient addresses answered with 550
    fail_data: int = 0  # this many DATA commands answered with 451 (temporary) first
    lock: threading.Lock = field(default_factory=threading.Lock)
    controller: object = None

    def recipients(self) -> list[str]:
        return [str(m["To"]) for m in self.messages]

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        self.controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


class _Handler:
    def __init__(self, server: MailServer):
        self.server = server

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        with self.server.lock:
            self.server.connections += 1
        session.host_name = hostname
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.server.refuse:
            return "550 5.1.1 no such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.server.lock:
            if self.server.fail_data > 0:
                self.server.fail_data -= 1
                return "451 4.3.0 try again later"
            self.server.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


@pytest.fixture
def mail_server():
    """A real SMTP server (aiosmtpd) on a free port, started; ``stop()``/``start()`` switch it off and on."""
    port = free_port()
    server = MailServer(url=f"smtp://127.0.0.1:{port}", port=port)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def app(kept_app):
    """The app of these tests: an open budget (any hour, no digest) unless a test sets ``app.config``."""
    return kept_app(MAIL_FROM="Lernplattform <lernplattform@musterhausen.example>", **OPEN_BUDGET)


@pytest.fixture
def smtp(app, mail_server):
    """Mail goes to ``mail_server``; links in mails start with an https base URL."""
    app.config.update(SMTP_URL=mail_server.url, BASE_URL="https://lernen.example.de")
    return mail_server
