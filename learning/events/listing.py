"""What the event pages show: upcoming events for a person, one event with its seats, the organisers' lists.

Each function runs a fixed number of queries whatever the number of events, sessions and bookings.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from learning.db import db
from learning.events.booking import is_organiser, team_member_ids
from learning.events.models import (
    ACTIVE_STATES,
    SEAT_STATES,
    Booking,
    BookingState,
    Event,
    EventSession,
    event_organiser,
)
from learning.org.audience import AudienceKind, ints, matcher, person_for, phase_departments
from learning.org.models import User
from learning.training.models import Course


@dataclass
class SessionView:
    session: EventSession
    taken: int
    waiting: int
    booking: Booking | None = None  # the reader's own

    @property
    def free(self) -> int:
        return max(self.session.capacity - self.taken, 0)

    @property
    def full(self) -> bool:
        return self.free == 0


@dataclass
class EventView:
    event: Event
    sessions: list[SessionView] = field(default_factory=list)

    @property
    def booked(self) -> bool:
        return any(s.booking is not None and s.booking.state in ACTIVE_STATES for s in self.sessions)


def _counts(session_ids: list[int]) -> tuple[dict[int, int], dict[int, int]]:
    taken: dict[int, int] = defaultdict(int)
    waiting: dict[int, int] = defaultdict(int)
    if session_ids:
        for session_id, state, count in db.session.execute(
            select(Booking.session_id, Booking.state, func.count(Booking.id))
            .where(Booking.session_id.in_(session_ids)).group_by(Booking.session_id, Booking.state)
        ):
            if state in SEAT_STATES:
                taken[session_id] += count
            elif state == BookingState.WAITING:
                waiting[session_id] += count
    return taken, waiting


def _mine(user: User, session_ids: list[int]) -> dict[int, Booking]:
    if not session_ids:
        return {}
    return {b.session_id: b for b in db.session.scalars(
        select(Booking).where(Booking.user_id == user.id, Booking.session_id.in_(session_ids)))}


def _views(events: list[Event], user: User, now: datetime | None, upcoming_only: bool) -> list[EventView]:
    sessions = [s for e in events for s in e.sessions if not upcoming_only or s.ends_at > now]
    ids = [s.id for s in sessions]
    taken, waiting = _counts(ids)
    mine = _mine(user, ids)
    views = []
    for event in events:
        view = EventView(event)
        for s in event.sessions:
            if upcoming_only and s.ends_at <= now:
                continue
            view.sessions.append(SessionView(s, taken[s.id], waiting[s.id], mine.get(s.id)))
        views.append(view)
    return views


def upcoming_for(user: User, now: datetime, *, kind: str = "", phase_id: int | None = None,
                 booked_only: bool = False) -> list[EventView]:
    """Events with sessions still to come that are for the person (or that they booked), soonest first."""
    query = (select(Event).join(EventSession, EventSession.event_id == Event.id)
             .where(Event.cancelled_at.is_(None), EventSession.ends_at > now, EventSession.cancelled_at.is_(None))
             .options(selectinload(Event.sessions), selectinload(Event.organisers))
             .group_by(Event.id).order_by(func.min(EventSession.starts_at), Event.id))
    if kind:
        query = query.where(Event.kind == kind)
    if phase_id is not None:
        query = query.where(Event.phase_id == phase_id)
    events = list(db.session.scalars(query).unique())
    person = person_for(user)
    views = _views(events, user, now, upcoming_only=True)
    # The departments of the phases that phase audiences name, for all events at once (one query, none if none).
    phases = phase_departments(p for e in events if e.audience == AudienceKind.PHASE for p in ints(e.audience_values))
    shown = []
    for view in views:
        event = view.event
        addressed = matcher(event.audience, event.audience_values, phases)(person)
        if booked_only and not view.booked:
            continue
        if view.booked or (addressed and event.registration == "open") or is_organiser(user, event):
            view.sessions = [s for s in view.sessions if s.session.cancelled_at is None or s.booking is not None]
            shown.append(view)
    return shown


def event_view(event_id: int, user: User) -> EventView | None:
    event = db.session.scalar(select(Event).where(Event.id == event_id)
                              .options(selectinload(Event.sessions), selectinload(Event.organisers),
                                       joinedload(Event.phase), joinedload(Event.course), joinedload(Event.trainer)))
    if event is None:
        return None
    return _views([event], user, None, upcoming_only=False)[0]


def may_see(user: User, view: EventView) -> bool:
    event = view.event
    if is_organiser(user, event) or any(s.booking is not None for s in view.sessions):
        return True
    return event.registration == "open" and matcher(event.audience, event.audience_values)(person_for(user))


def bookings_of_event(event: Event) -> dict[int, list[Booking]]:
    """Every booking per session of the event, with the person (one query)."""
    result: dict[int, list[Booking]] = defaultdict(list)
    for booking in db.session.scalars(
        select(Booking).join(EventSession, EventSession.id == Booking.session_id).join(User, User.id == Booking.user_id)
        .where(EventSession.event_id == event.id).options(joinedload(Booking.user))
        .order_by(Booking.session_id, Booking.queued_at.is_(None), Booking.queued_at, User.last_name, User.id)
    ):
        result[booking.session_id].append(booking)
    return result


def managed_events(organiser: User | None = None, course_id: int | None = None) -> list[EventView]:
    """The events of the organisers' list, newest first, with seat counts (three queries): every event for the
    project group, only those naming ``organiser`` for others; ``course_id``: only the events of that course."""
    query = select(Event).options(selectinload(Event.sessions), joinedload(Event.phase))
    if organiser is not None:
        query = query.where(Event.id.in_(select(event_organiser.c.event_id)
                                         .where(event_organiser.c.user_id == organiser.id)))
    if course_id is not None:
        query = query.where(Event.course_id == course_id)
    events = list(db.session.scalars(query.order_by(Event.created_at.desc(), Event.id.desc())).unique())
    ids = [s.id for e in events for s in e.sessions]
    taken, waiting = _counts(ids)
    return [EventView(e, [SessionView(s, taken[s.id], waiting[s.id]) for s in e.sessions]) for e in events]


def team_bookings(manager: User, now: datetime) -> list[Booking]:
    """Bookings of the manager's team members for sessions to come (one query)."""
    return list(db.session.scalars(
        select(Booking).join(EventSession, EventSession.id == Booking.session_id)
        .join(User, User.id == Booking.user_id)
        .where(Booking.user_id.in_(team_member_ids(manager)), EventSession.ends_at > now,
               Booking.state.in_(ACTIVE_STATES))
        .options(joinedload(Booking.user), joinedload(Booking.session).joinedload(EventSession.event))
        .order_by(EventSession.starts_at, User.last_name, User.id)))


ATTENDANCE_LOOKBACK_DAYS = 365


def team_attendance(manager: User, now: datetime) -> list[Booking]:
    """Attendance of the manager's team members at sessions of the past year whose event belongs to a mandatory
    course: the only attendance a manager sees (DESIGN: individuals only for mandatory training), and only while
    the setting ``managers.training_individuals`` allows it; the caller checks that (one query)."""
    return list(db.session.scalars(
        select(Booking).join(EventSession, EventSession.id == Booking.session_id)
        .join(Event, Event.id == EventSession.event_id).join(Course, Course.id == Event.course_id)
        .join(User, User.id == Booking.user_id)
        .where(Booking.user_id.in_(team_member_ids(manager)), Course.mandatory.is_(True),
               EventSession.ends_at <= now, EventSession.ends_at > now - timedelta(days=ATTENDANCE_LOOKBACK_DAYS),
               EventSession.cancelled_at.is_(None), Booking.state.in_(SEAT_STATES))
        .options(joinedload(Booking.user), joinedload(Booking.session).joinedload(EventSession.event))
        .order_by(EventSession.starts_at.desc(), User.last_name, User.id)))


def open_sessions(now: datetime) -> list[EventSession]:
    """Sessions a manager may book team members into (one query)."""
    return list(db.session.scalars(
        select(EventSession).join(Event, Event.id == EventSession.event_id)
        .where(Event.cancelled_at.is_(None), EventSession.cancelled_at.is_(None), EventSession.starts_at > now)
        .options(joinedload(EventSession.event)).order_by(EventSession.starts_at)))
