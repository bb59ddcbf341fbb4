"""URL argument values for the access matrix: a notification, a failed outbox row and a calendar token."""

from __future__ import annotations


def samples(app, people) -> dict:
    from learning.db import db
    from learning.messaging.models import Outbox, OutboxStatus
    from learning.notifications.models import Notification, NotificationPreference

    with app.app_context():
        employee = people["employee"].id
        row = Outbox(user_id=employee, kind="training.due_today", subject_key="assignment:0", period_key="today:x",
                     payload={}, status=OutboxStatus.FAILED.value, attempts=5, last_error="550 no such user")
        db.session.add(row)
        db.session.flush()
        notification = Notification(user_id=employee, kind="training.due_today", subject_key="assignment:0",
                                    outbox_id=row.id,
                                    details={"assignment_id": 0, "course_slug": "zugang", "course_title": "Kurs",
                                             "course_title_en": None, "due_on": "2026-01-05", "mandatory": True})
        preference = NotificationPreference(user_id=employee, muted_kinds=[], calendar_token="zugang-kalender-token")
        db.session.add_all([notification, preference])
        db.session.commit()
        return {"outbox_id": row.id, "notification_id": notification.id, "calendar_token": preference.calendar_token}
