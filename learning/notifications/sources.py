"""Built-in calendar sources: due dates of a person's open assignments and the go-lives of rollout phases."""

from __future__ import annotations

from datetime import date, timedelta

from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import exists, select
from sqlalchemy.orm import selectinload

from learning.db import db
from learning.notifications.calendar import FEED_DAYS_BACK, CalendarEvent, calendar_source
from learning.org.models import Team
from learning.phases.models import RolloutPhase
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


@calendar_source("phases.go_live", order=40)
def go_live_events(user, today: date) -> list[CalendarEvent]:
    """Go-lives of the rollout phases (two queries); those affecting the person's department say so."""
    phases = db.session.scalars(
        select(RolloutPhase).where(RolloutPhase.go_live.is_not(None),
                                   RolloutPhase.go_live >= today - timedelta(days=FEED_DAYS_BACK))
        .options(selectinload(RolloutPhase.departments)).order_by(RolloutPhase.go_live)
    ).all()
    department_id = db.session.scalar(select(Team.department_id).where(Team.id == user.team_id)) \
        if user.team_id else None
    locale = str(get_locale())
    events = []
    for phase in phases:
        description = (_("This rollout phase affects your department.") if phase.affects(department_id)
                       else _("A rollout phase of the programme."))
        events.append(CalendarEvent(
            uid=f"phase-go-live-{phase.id}", start=phase.go_live,
            summary=_("Go-live: %(phase)s", phase=phase.localized_title(locale)), description=description,
            endpoint="phases.phase", values={"phase_slug": phase.slug}, categories=(_("Rollout phase"),)))
    return events
