"""Demo data of the messaging feature: one planning pass and one sending pass over the demo above.

The demo has no SMTP server, so the mails land on the admin's "Sent mail" page; they are sent at once
(ignoring digests and mail hours), so that the demo shows them whatever the time of day.
"""

from __future__ import annotations

from datetime import date


def load_messaging(today: date, phases) -> dict[str, int]:
    from learning.messaging.outbox import send_due
    from learning.messaging.reminders import plan_reminders

    planned = plan_reminders()
    report = send_due(ignore_schedule=True)
    return {"reminders": planned.new, "notifications": report.notified, "reminder_mails": report.mails}
