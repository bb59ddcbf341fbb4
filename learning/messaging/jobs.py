"""Scheduled jobs of the reminders: plan what is due, send what is due."""

from __future__ import annotations

from datetime import timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from learning.messaging.outbox import send_due
from learning.messaging.reminders import kind_named, plan_reminders
from learning.scheduler.registry import scheduled_job


def planned_in_words(counts: dict) -> list[str]:
    """E.g. "128 mögliche Erinnerungen geprüft, 2 neu geplant (2 × Pflichtschulung bald fällig)"."""
    considered, queued = counts.pop("considered", 0), counts.pop("queued", 0)
    words = [ngettext("%(num)d possible reminder checked", "%(num)d possible reminders checked", considered),
             ngettext("%(num)d newly planned", "%(num)d newly planned", queued)]
    kinds = [f"{number} × {kind_named(name).label}" for name, number in counts.items() if kind_named(name)]
    if kinds:
        words[-1] += f" ({', '.join(kinds)})"
    return words


SENT_WORDS = {
    "sent": lambda n: ngettext("%(num)d reminder delivered by mail", "%(num)d reminders delivered by mail", n),
    "mails": lambda n: ngettext("%(num)d mail sent", "%(num)d mails sent", n),
    "notified": lambda n: ngettext("%(num)d notice shown in the platform", "%(num)d notices shown in the platform",
                                   n),
    "dropped": lambda n: ngettext("%(num)d not sent (work done, switched off or replaced)",
                                  "%(num)d not sent (work done, switched off or replaced)", n),
    "waiting": lambda n: ngettext("%(num)d waiting for the digest, the mail hours or the daily limit",
                                  "%(num)d waiting for the digest, the mail hours or the daily limit", n),
    "retrying": lambda n: ngettext("%(num)d to be tried again", "%(num)d to be tried again", n),
    "failed": lambda n: ngettext("%(num)d failed", "%(num)d failed", n),
    "unconfirmed": lambda n: ngettext("%(num)d handed over without confirmation",
                                      "%(num)d handed over without confirmation", n),
}


def sent_in_words(counts: dict) -> list[str]:
    """E.g. "3 Erinnerungen per E-Mail zugestellt, 1 nicht gesendet"; "Nichts war fällig." when idle."""
    words = [say(counts[key]) for key, say in SENT_WORDS.items() if counts.get(key)]
    if counts.get("smtp_unavailable"):
        words.append(_("the mail server could not be reached"))
    return words or [_("nothing was due")]


@scheduled_job("reminders.plan", every=lambda config: timedelta(minutes=config["REMINDER_PLAN_MINUTES"]),
               misfire_grace_time=300, run_at_start=True,
               description=_l("Plans due reminders into the outbox (each at most once)."),
               title=_l("Plan reminders"), explain=planned_in_words)
def plan_job() -> dict[str, int]:
    return plan_reminders().counts()


@scheduled_job("outbox.send", every=lambda config: timedelta(seconds=config["OUTBOX_SEND_SECONDS"]),
               misfire_grace_time=60, run_at_start=True,
               description=_l("Re-checks, notifies and mails what is due, within each person's budget."),
               title=_l("Send reminders"), explain=sent_in_words)
def send_job() -> dict[str, int]:
    return send_due().counts()
