"""The organisers' side: create and change events and their sessions, cancel them; audited.

A change of a session's time or place raises its SEQUENCE and sends everyone with a seat an
updated invitation; a cancelled session sends a cancellation; a larger capacity offers the new
seats to the waiting list. A capacity below the seats already taken is refused: a session is
never overbooked, not even by its organiser.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import select

from learning.audit.services import record
from learning.db import db, utcnow
from learning.errors import NotFound, ServiceError
from learning.events.booking import is_organiser, lock_session, promote, seats_taken
from learning.events.invitations import MailKind, queue_mail
from learning.events.models import (
    Booking,
    BookingState,
    Event,
    EventKind,
    EventSession,
    Registration,
    WaitingList,
)
from learning.org import audience
from learning.org.models import User
from learning.phases.models import RolloutPhase
from learning.training.models import Course

MAX_TITLE, MAX_DESCRIPTION, MAX_NAME, MAX_PLACE, MAX_URL = 200, 20_000, 200, 200, 500
MAX_CAPACITY = 10_000
MAX_DAYS = 14  # a session lasts at most this long (a multi-day training)
AUDIENCE_KINDS = tuple(audience.AudienceKind)


@dataclass
class EventData:
    kind: str
    title: str
    description: str = ""
    phase_id: int | None = None
    audience: str = audience.AudienceKind.EVERYONE.value
    audience_values: list = field(default_factory=list)
    registration: str = Registration.OPEN.value
    approval_required: bool = False
    waiting_list: str = WaitingList.AUTOMATIC.value
    trainer_id: int | None = None
    trainer_name: str = ""
    course_id: int | None = None
    completes_course: bool = False
    organiser_ids: list[int] = field(default_factory=list)


@dataclass
class SessionData:
    starts_at: datetime | None
    ends_at: datetime | None
    capacity: int | None
    place: str = ""
    online_url: str = ""
    registration_opens_at: datetime | None = None
    registration_closes_at: datetime | None = None
    cancellation_deadline: datetime | None = None


def _check_event(data: EventData) -> tuple[str, list]:
    title = (data.title or "").strip()
    if not title:
        raise ServiceError(_("Please enter a title."), "title")
    if len(title) > MAX_TITLE:
        raise ServiceError(_("The title may have at most %(max)d characters.", max=MAX_TITLE), "title")
    if len(data.description or "") > MAX_DESCRIPTION:
        raise ServiceError(_("The text may have at most %(max)d characters.", max=MAX_DESCRIPTION), "description")
    if data.kind not in {k.value for k in EventKind}:
        raise ServiceError(_("Please choose the kind of event."), "kind")
    if data.registration not in {r.value for r in Registration}:
        raise ServiceError(_("Please choose how people register."), "registration")
    if data.waiting_list not in {w.value for w in WaitingList}:
        raise ServiceError(_("Please choose how the waiting list works."), "waiting_list")
    if len((data.trainer_name or "").strip()) > MAX_NAME:
        raise ServiceError(_("The name may have at most %(max)d characters.", max=MAX_NAME), "trainer_name")
    if data.phase_id is not None and db.session.get(RolloutPhase, data.phase_id) is None:
        raise ServiceError(_("Please choose a rollout phase."), "phase_id")
    if data.course_id is not None and db.session.get(Course, data.course_id) is None:
        raise ServiceError(_("Please choose a course."), "course_id")
    if data.completes_course and data.course_id is None:
        raise ServiceError(_("Please choose the course that attendance completes."), "course_id")
    for person_id in [data.trainer_id, *data.organiser_ids]:
        if person_id is not None and db.session.get(User, person_id) is None:
            raise ServiceError(_("Please choose a person from the list."),
                               "trainer_id" if person_id == data.trainer_id else "organiser_ids")
    kind, values = audience.normalise(data.audience, data.audience_values, kinds=AUDIENCE_KINDS)
    if kind == audience.AudienceKind.PHASE:
        if data.phase_id is None:
            raise ServiceError(_("Please choose the rollout phase whose departments the event is for."), "phase_id")
        values = [data.phase_id]
    audience.check(kind, values)
    return kind.value, values


def _apply(event: Event, data: EventData, kind: str, values: list) -> None:
    event.kind, event.title, event.description = data.kind, data.title.strip(), data.description or ""
    event.phase_id, event.audience, event.audience_values = data.phase_id, kind, values
    event.registration, event.approval_required = data.registration, bool(data.approval_required)
    event.waiting_list = data.waiting_list
    event.trainer_id, event.trainer_name = data.trainer_id, (data.trainer_name or "").strip()
    event.course_id, event.completes_course = data.course_id, bool(data.completes_course and data.course_id)
    event.organisers = list(db.session.scalars(select(User).where(User.id.in_(data.organiser_ids or [])))) \
        if data.organiser_ids else []


def create_event(data: EventData, actor: User) -> Event:
    kind, values = _check_event(data)
    event = Event(created_by_id=actor.id)
    _apply(event, data, kind, values)
    db.session.add(event)
    db.session.flush()
    record(actor, "event.created", event, event.title)
    return event


def update_event(event: Event, data: EventData, actor: User) -> Event:
    if not is_organiser(actor, event):
        raise NotFound(_("This event does not exist."))
    kind, values = _check_event(data)
    _apply(event, data, kind, values)
    db.session.flush()
    record(actor, "event.updated", event, event.title)
    return event


def _check_session(data: SessionData, taken: int = 0) -> None:
    if data.starts_at is None:
        raise ServiceError(_("Please enter when the session starts."), "starts_at")
    if data.ends_at is None:
        raise ServiceError(_("Please enter when the session ends."), "ends_at")
    if data.ends_at <= data.starts_at:
        raise ServiceError(_("The session must end after it starts."), "ends_at")
    if data.ends_at - data.starts_at > timedelta(days=MAX_DAYS):
        raise ServiceError(_("A session may last at most %(days)d days.", days=MAX_DAYS), "ends_at")
    if data.capacity is None or not 1 <= data.capacity <= MAX_CAPACITY:
        raise ServiceError(_("Enter a capacity from 1 to %(max)d.", max=MAX_CAPACITY), "capacity")
    if data.capacity < taken:
        raise ServiceError(_("%(taken)d seats are already taken; the capacity cannot be lower.", taken=taken),
                           "capacity")
    if len(data.place or "") > MAX_PLACE:
        raise ServiceError(_("The place may have at most %(max)d characters.", max=MAX_PLACE), "place")
    url = (data.online_url or "").strip()
    if url and (len(url) > MAX_URL or not url.lower().startswith(("https://", "http://"))):
        raise ServiceError(_("Enter a web address starting with https://."), "online_url")
    if not (data.place or "").strip() and not url:
        raise ServiceError(_("Please enter a place, an online link or both."), "place")
    if data.registration_opens_at and data.registration_closes_at \
            and data.registration_closes_at <= data.registration_opens_at:
        raise ServiceError(_("Registration must close after it opens."), "registration_closes_at")
    for name in ("registration_opens_at", "registration_closes_at", "cancellation_deadline"):
        value = getattr(data, name)
        if value is not None and value > data.starts_at:
            raise ServiceError(_("This date must not be after the start of the session."), name)


def _apply_session(session: EventSession, data: SessionData) -> None:
    session.starts_at, session.ends_at, session.capacity = data.starts_at, data.ends_at, data.capacity
    session.place, session.online_url = (data.place or "").strip(), (data.online_url or "").strip()
    session.registration_opens_at = data.registration_opens_at
    session.registration_closes_at = data.registration_closes_at
    session.cancellation_deadline = data.cancellation_deadline


def add_session(event: Event, data: SessionData, actor: User) -> EventSession:
    if not is_organiser(actor, event):
        raise NotFound(_("This event does not exist."))
    if event.cancelled_at is not None:
        raise ServiceError(_("This event has been cancelled."))
    _check_session(data)
    session = EventSession(event=event)
    _apply_session(session, data)
    db.session.add(session)
    db.session.flush()
    record(actor, "event.session_added", event, event.title, session=session.id)
    return session


def _seat_holders(session: EventSession) -> list[Booking]:
    return list(db.session.scalars(select(Booking).where(Booking.session_id == session.id,
                                                         Booking.state == BookingState.CONFIRMED.value)))


def update_session(session_id: int, data: SessionData, actor: User, now: datetime | None = None) -> EventSession:
    """Change a session; people with a seat get an updated invitation when time or place changed."""
    now = now or utcnow()
    session = lock_session(session_id)
    if not is_organiser(actor, session.event):
        raise NotFound(_("This session does not exist."))
    if session.cancelled_at is not None:
        raise ServiceError(_("This session has been cancelled."))
    _check_session(data, seats_taken(session.id))
    moved = (session.starts_at, session.ends_at, session.place, session.online_url) != (
        data.starts_at, data.ends_at, (data.place or "").strip(), (data.online_url or "").strip())
    _apply_session(session, data)
    if moved:
        session.sequence += 1
    db.session.flush()
    if moved:
        for booking in _seat_holders(session):
            queue_mail(booking, MailKind.CHANGED)
    promote(session, now)
    record(actor, "event.session_changed", session.event, session.event.title, session=session.id)
    return session


def cancel_session(session_id: int, actor: User, now: datetime | None = None) -> EventSession:
    """Cancel a session: every booking ends, people with a seat get a cancellation for their calendar."""
    now = now or utcnow()
    session = lock_session(session_id)
    if not is_organiser(actor, session.event):
        raise NotFound(_("This session does not exist."))
    if session.cancelled_at is not None:
        raise ServiceError(_("This session has already been cancelled."))
    session.cancelled_at = now
    session.sequence += 1
    bookings = db.session.scalars(select(Booking).where(
        Booking.session_id == session.id,
        Booking.state.in_((BookingState.REQUESTED.value, BookingState.WAITING.value, BookingState.OFFERED.value,
                           BookingState.CONFIRMED.value)))).all()
    for booking in bookings:
        had_seat = booking.state == BookingState.CONFIRMED
        booking.state, booking.cancelled_by_id, booking.cancelled_at = BookingState.CANCELLED.value, actor.id, now
        booking.reason = "session cancelled"
        db.session.flush()
        queue_mail(booking, MailKind.SESSION_CANCELLED if had_seat else MailKind.LEFT)
    db.session.flush()
    record(actor, "event.session_cancelled", session.event, session.event.title, session=session.id,
           bookings=len(bookings))
    return session


def event_for_organiser(event_id: int, actor: User) -> Event:
    event = db.session.get(Event, event_id)
    if event is None or not is_organiser(actor, event):
        raise NotFound(_("This event does not exist."))
    return event


def session_for_organiser(session_id: int, actor: User) -> EventSession:
    session = db.session.get(EventSession, session_id)
    if session is None or not is_organiser(actor, session.event):
        raise NotFound(_("This session does not exist."))
    return session
