"""Calendar source of training: the due dates of a person's open assignments."""

from __future__ import annotations

from datetime import date, timedelta

from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import exists, select

from learning.db import db
from learning.notifications.calendar import FEED_DAYS_BACK, CalendarEvent, calendar_source
from learning.training.models import Assignment, Course, CourseCompletion


@calendar_source("training.assignments", order=10)
def assignment_events(user, today: date) -> list[CalendarEvent]:
    """Open assignments with a due date (one query); done ones leave the calendar."""
    rows = db.session.execute(
        select(Assignment.id, Assignment.due_on, Assignment.mandatory, Course.slug, Course.title, Course.title_en)
        .join(Course, Course.id == Assignment.course_id)
        .where(Assignment.user_id == user.id, Assignment.due_on.is_not(None),
               Assignment.due_on >= today - timedelta(days=FEED_DAYS_BACK), Assignment.completed_at.is_(None),
               Assignment.unmatched_since.is_(None), Course.archived_at.is_(None),
               ~exists().where(CourseCompletion.user_id == Assignment.user_id,
                               CourseCompletion.course_id == Assignment.course_id))
        .order_by(Assignment.due_on)
    ).all()
    english = str(get_locale()) == "en"
    events = []
    for row in rows:
        title = row.title_en if english and row.title_en else row.title
        description = _("Mandatory training.") if row.mandatory else _("Training assigned to you.")
        events.append(CalendarEvent(
            uid=f"assignment-{row.id}", start=row.due_on, summary=_("Due: %(course)s", course=title),
            description=description, endpoint="training.course", values={"slug": row.slug},
            categories=(_("Training"),)))
    return events
