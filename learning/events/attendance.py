"""Attendance: the organiser ticks who came (on a phone at the door or from a signed sheet), adds walk-ins.

Attending a session of an event that completes its linked course completes the course (blended
learning), with the course's certificate and its public verification; an event that issues
certificates of attendance gives one to each person who attended (``learning.events.certificates``),
and a correction that leaves the person with no attended session withdraws it.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from learning.audit.services import record
from learning.db import db, utcnow
from learning.errors import NotFound, ServiceError
from learning.events.booking import is_organiser, lock_session
from learning.events.certificates import sync_certificates
from learning.events.models import ATTENDANCE_STATES, SEAT_STATES, Booking, BookingState, EventSession
from learning.org.models import User
from learning.training.certificates import new_verification_code
from learning.training.models import Assignment, CourseCompletion


def attendance_list(session: EventSession) -> list[Booking]:
    """The people with a seat (and those who came or did not), by name (one query)."""
    return list(db.session.scalars(
        select(Booking).join(User, User.id == Booking.user_id)
        .where(Booking.session_id == session.id, Booking.state.in_(SEAT_STATES))
        .options(joinedload(Booking.user)).order_by(User.last_name, User.first_name, User.id)))


def record_attendance(session_id: int, states: dict[int, str], actor: User, now: datetime | None = None) -> int:
    """Set attended / no-show / excused for bookings of the session; ``states`` maps booking ids to states."""
    now = now or utcnow()
    session = lock_session(session_id)
    if not is_organiser(actor, session.event):
        raise NotFound(_("This session does not exist."))
    if now < session.starts_at:
        raise ServiceError(_("Attendance can be recorded once the session has started."))
    if any(state not in ATTENDANCE_STATES for state in states.values()):
        raise ServiceError(_("Please choose attended, not attended or excused."))
    bookings = {b.id: b for b in attendance_list(session)}
    changed = 0
    people: set[int] = set()
    for booking_id, state in states.items():
        booking = bookings.get(booking_id)
        if booking is None:
            raise ServiceError(_("This person has no seat in this session."))
        if booking.state != state:
            booking.state, booking.attendance_by_id, booking.attendance_at = state, actor.id, now
            changed += 1
            people.add(booking.user_id)
            if state == BookingState.ATTENDED:
                complete_linked_course(booking, now)
    db.session.flush()
    sync_certificates(session.event, people, now)
    if changed:
        record(actor, "event.attendance", session.event, session.event.title, session=session.id, changed=changed)
    return changed


def add_walk_in(session_id: int, person: User | None, actor: User, now: datetime | None = None) -> Booking:
    """Someone came without a seat: they attended (a walk-in may exceed the capacity; they are there)."""
    now = now or utcnow()
    session = lock_session(session_id)
    if not is_organiser(actor, session.event):
        raise NotFound(_("This session does not exist."))
    if person is None:
        raise ServiceError(_("Please choose a person from the list."), "person")
    if now < session.starts_at:
        raise ServiceError(_("Attendance can be recorded once the session has started."))
    booking = db.session.scalar(select(Booking).where(Booking.session_id == session.id,
                                                      Booking.user_id == person.id))
    if booking is None:
        booking = Booking(session_id=session.id, user_id=person.id, state=BookingState.ATTENDED.value,
                          created_at=now, approved=True)
        db.session.add(booking)
    elif booking.state == BookingState.ATTENDED:
        raise ServiceError(_("This person is already on the list."), "person")
    booking.state, booking.walk_in = BookingState.ATTENDED.value, True
    booking.attendance_by_id, booking.attendance_at = actor.id, now
    db.session.flush()
    complete_linked_course(booking, now)
    sync_certificates(session.event, {person.id}, now)
    record(actor, "event.walk_in", session.event, session.event.title, session=session.id)
    return booking


def complete_linked_course(booking: Booking, now: datetime) -> CourseCompletion | None:
    """Complete the event's linked course for the person, if attendance completes it (idempotent)."""
    event = booking.session.event
    if not event.completes_course or event.course_id is None:
        return None
    completion = db.session.scalar(select(CourseCompletion).where(
        CourseCompletion.user_id == booking.user_id, CourseCompletion.course_id == event.course_id))
    if completion is not None:
        return completion
    completion = CourseCompletion(user_id=booking.user_id, course_id=event.course_id, completed_at=now,
                                  verification_code=new_verification_code())
    db.session.add(completion)
    assignment = db.session.scalar(select(Assignment).where(Assignment.user_id == booking.user_id,
                                                            Assignment.course_id == event.course_id))
    if assignment is not None and assignment.completed_at is None:
        assignment.completed_at = now
    db.session.flush()
    return completion
