"""Scheduler tests borrow the SMTP server of the reminder tests."""

from tests.messaging.conftest import mail_server  # noqa: F401  (a fixture)
