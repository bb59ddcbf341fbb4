"""Scheduled jobs of the reminders: plan what is due, send what is due."""

from __future__ import annotations

from datetime import timedelta

from flask_babel import lazy_gettext as _l

from learning.messaging.outbox import send_due
from learning.messaging.reminders import plan_reminders
from learning.scheduler.registry import scheduled_job


@scheduled_job("reminders.plan", every=lambda config: timedelta(minutes=config["REMINDER_PLAN_MINUTES"]),
               misfire_grace_time=300, run_at_start=True,
               description=_l("Plans due reminders into the outbox (each at most once)."))
def plan_job() -> dict[str, int]:
    return plan_reminders().counts()


@scheduled_job("outbox.send", every=lambda config: timedelta(seconds=config["OUTBOX_SEND_SECONDS"]),
               misfire_grace_time=60, run_at_start=True,
               description=_l("Re-checks, notifies and mails what is due, within each person's budget."))
def send_job() -> dict[str, int]:
    return send_due().counts()
