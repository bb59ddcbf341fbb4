"""Events on other features' pages: the phase hub, the course page (blended learning), the certificate lists.

Each is a template global for a template of this feature that the other page includes
(``{% include "events/_phase_section.html" ignore missing %}``), so phases and training know
nothing of events; each runs a fixed number of queries whatever the number of events.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask_login import current_user
from sqlalchemy import case, func, select
from sqlalchemy.orm import selectinload

from learning.db import db, utcnow
from learning.events import bp
from learning.events.booking import is_organiser
from learning.events.certificates import certificates_of
from learning.events.listing import EventView, upcoming_for
from learning.events.models import ACTIVE_STATES, AttendanceCertificate, Booking, BookingState, Event, EventSession
from learning.org.audience import AudienceKind, ints, matcher, person_for, phase_departments

PHASE_EVENTS_SHOWN = 5


@dataclass
class PhaseEvents:
    views: list[EventView]
    more: bool  # there are further events than those shown


@bp.app_template_global("events_of_phase")
def events_of_phase(phase) -> PhaseEvents:
    """The phase's upcoming events meant for the reader (or booked by them), soonest first, at most five."""
    views = upcoming_for(current_user, utcnow(), phase_id=phase.id)
    return PhaseEvents(views[:PHASE_EVENTS_SHOWN], len(views) > PHASE_EVENTS_SHOWN)


@dataclass
class CourseEvent:
    event: Event
    attended_at: datetime | None  # the first session the person attended
    may_book: bool  # the person may open the event's page (and book there)


@dataclass
class CourseEvents:
    events: list[CourseEvent] = field(default_factory=list)

    @property
    def attended(self) -> CourseEvent | None:
        return next((item for item in self.events if item.attended_at is not None), None)


@bp.app_template_global("course_events")
def course_events(course) -> CourseEvents:
    """Events whose attendance completes the course, with the reader's attendance (one query, three more if any).

    An event the reader may not see (by invitation only, another audience) is named without a link.
    """
    attended = func.min(case((Booking.state == BookingState.ATTENDED.value, EventSession.starts_at)))
    booked = func.count(case((Booking.state.in_(ACTIVE_STATES), Booking.id)))
    mine = (select(EventSession.event_id.label("event_id"), attended.label("attended_at"), booked.label("booked"))
            .join(Booking, Booking.session_id == EventSession.id)
            .where(Booking.user_id == current_user.id).group_by(EventSession.event_id).subquery())
    rows = db.session.execute(
        select(Event, mine.c.attended_at, mine.c.booked).outerjoin(mine, mine.c.event_id == Event.id)
        .where(Event.course_id == course.id, Event.completes_course.is_(True), Event.cancelled_at.is_(None))
        .options(selectinload(Event.organisers)).order_by(Event.id)).all()
    if not rows:
        return CourseEvents()
    person = person_for(current_user)
    phases = phase_departments(p for event, _a, _b in rows if event.audience == AudienceKind.PHASE
                               for p in ints(event.audience_values))
    result = CourseEvents()
    for event, attended_at, booked_count in rows:
        addressed = event.registration == "open" and matcher(event.audience, event.audience_values, phases)(person)
        may_book = bool(booked_count) or attended_at is not None or addressed or is_organiser(current_user, event)
        result.events.append(CourseEvent(event, attended_at, may_book))
    return result


@bp.app_template_global("attendance_certificates")
def attendance_certificates() -> list[AttendanceCertificate]:
    """The reader's certificates of attendance, for the lists of certificates (one query)."""
    return certificates_of(current_user)


@bp.app_template_global("event_phase_table")
def event_phase_table(day, phases: list, department=None):
    """For the programme dashboard: training completion and event figures per phase of the shown unit (one query)."""
    from learning.events.metrics import phase_table
    from learning.metrics.models import ORGANISATION

    return phase_table(day, phases, ("department", department.id) if department is not None else ORGANISATION)
