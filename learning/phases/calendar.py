"""Calendar source of the rollout phases: their go-lives."""

from __future__ import annotations

from datetime import date, timedelta

from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from learning.db import db
from learning.notifications.calendar import FEED_DAYS_BACK, CalendarEvent, calendar_source
from learning.org.models import Team
from learning.phases.models import RolloutPhase


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
