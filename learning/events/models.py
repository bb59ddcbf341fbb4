"""Events and workshops: an event for an audience, its sessions, and one booking per person and session.

A booking moves through ``BookingState``: requested (awaiting a manager's approval) → confirmed,
or waiting (the session is full) → offered a freed seat until ``offered_until`` → confirmed; after
the session: attended, no-show or excused. Declined (by a manager or organiser) and cancelled
(by the person, a manager or an organiser) keep who and when. The seats a session has are taken
by confirmed bookings and by open offers (``SEAT_STATES``); ``learning.events.booking`` counts
them under a lock on the session's row, so a session is never overbooked.

Every mail about a booking is an ``EventMail`` row written in the same transaction and sent after
the commit (``learning.events.invitations``): confirmations, changes and cancellations carry an
iCalendar invitation (RFC 5546) whose UID stays the same for a booking and whose SEQUENCE grows.
"""

from __future__ import annotations

import enum
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, Column, ForeignKey, Index, String, Table, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from learning.content import Profile, Rendering
from learning.db import TimestampMixin, db, utcnow
from learning.org.audience import AudienceKind
from learning.org.models import User
from learning.pagecache import Shown
from learning.phases.models import RolloutPhase
from learning.training.models import Course


class EventKind(enum.StrEnum):
    INFORMATION = "information"
    WORKSHOP = "workshop"
    TRAINING = "training"
    CONSULTATION = "consultation"


KIND_LABELS = {
    EventKind.INFORMATION: _l("Information event"),
    EventKind.WORKSHOP: _l("Workshop"),
    EventKind.TRAINING: _l("Training"),
    EventKind.CONSULTATION: _l("Consultation hours"),
}


class Registration(enum.StrEnum):
    OPEN = "open"              # everyone in the audience books for themselves
    INVITATION = "invitation"  # organisers (and managers for their team) book people in


class WaitingList(enum.StrEnum):
    AUTOMATIC = "automatic"  # a freed seat is offered to the first person waiting at once
    MANUAL = "manual"        # the organiser admits people from the waiting list


class BookingState(enum.StrEnum):
    REQUESTED = "requested"
    CONFIRMED = "confirmed"
    WAITING = "waiting"
    OFFERED = "offered"
    ATTENDED = "attended"
    NO_SHOW = "no_show"
    EXCUSED = "excused"
    DECLINED = "declined"
    CANCELLED = "cancelled"


STATE_LABELS = {
    BookingState.REQUESTED: _l("Awaiting approval"),
    BookingState.CONFIRMED: _l("Booked"),
    BookingState.WAITING: _l("On the waiting list"),
    BookingState.OFFERED: _l("Seat offered"),
    BookingState.ATTENDED: _l("Attended"),
    BookingState.NO_SHOW: _l("Did not attend"),
    BookingState.EXCUSED: _l("Excused"),
    BookingState.DECLINED: _l("Declined"),
    BookingState.CANCELLED: _l("Cancelled"),
}

# States that hold a seat of the session (an offer holds it until it is accepted or runs out).
SEAT_STATES = (BookingState.CONFIRMED.value, BookingState.OFFERED.value, BookingState.ATTENDED.value,
               BookingState.NO_SHOW.value, BookingState.EXCUSED.value)
# States of a person who is still "in" (no new booking of the same session).
ACTIVE_STATES = (BookingState.REQUESTED.value, BookingState.WAITING.value, *SEAT_STATES)
# States the attendance list sets.
ATTENDANCE_STATES = (BookingState.ATTENDED.value, BookingState.NO_SHOW.value, BookingState.EXCUSED.value)


event_organiser = Table(
    "event_organiser",
    db.metadata,
    Column("event_id", ForeignKey("event.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
    info={"page_cache": Shown.EVERYONE},
)


class Event(TimestampMixin, db.Model):
    __page_cache__ = Shown.EVERYONE

    __tablename__ = "event"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), default=EventKind.INFORMATION.value)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    description_html: Mapped[str] = mapped_column(Text, default="", server_default="")
    html_version: Mapped[int] = mapped_column(default=0, server_default="0")  # see learning.content
    phase_id: Mapped[int | None] = mapped_column(ForeignKey("rollout_phase.id"), index=True)  # None: programme
    audience: Mapped[str] = mapped_column(String(20), default=AudienceKind.EVERYONE.value)
    audience_values: Mapped[list] = mapped_column(JSON, default=list)
    registration: Mapped[str] = mapped_column(String(12), default=Registration.OPEN.value)
    approval_required: Mapped[bool] = mapped_column(default=False)
    waiting_list: Mapped[str] = mapped_column(String(12), default=WaitingList.AUTOMATIC.value)
    trainer_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    trainer_name: Mapped[str] = mapped_column(String(200), default="")  # an external trainer
    course_id: Mapped[int | None] = mapped_column(ForeignKey("course.id", ondelete="SET NULL"))
    # Attending a session of the event completes the linked course (blended learning).
    completes_course: Mapped[bool] = mapped_column(default=False)
    # Attending a session issues a certificate of attendance (``learning.events.certificates``).
    issues_certificate: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    cancelled_at: Mapped[datetime | None]

    phase: Mapped[RolloutPhase | None] = relationship()
    course: Mapped[Course | None] = relationship()
    trainer: Mapped[User | None] = relationship(foreign_keys=[trainer_id])
    organisers: Mapped[list[User]] = relationship(secondary=event_organiser,
                                                  order_by=lambda: [User.last_name, User.first_name])
    sessions: Mapped[list[EventSession]] = relationship(
        back_populates="event", order_by="EventSession.starts_at", cascade="all, delete-orphan")

    __rendered__ = {"description": Rendering(Profile.EDITORIAL, top_heading=2)}

    def __str__(self) -> str:
        return self.title

    @property
    def kind_label(self) -> str:
        try:
            return str(KIND_LABELS[EventKind(self.kind)])
        except ValueError:
            return self.kind

    @property
    def trainer_display(self) -> str:
        if self.trainer is not None:
            return self.trainer.full_name
        return self.trainer_name


class EventSession(TimestampMixin, db.Model):
    __page_cache__ = Shown.EVERYONE

    __tablename__ = "event_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    starts_at: Mapped[datetime] = mapped_column(index=True)
    ends_at: Mapped[datetime]
    place: Mapped[str] = mapped_column(String(200), default="")
    online_url: Mapped[str] = mapped_column(String(500), default="")  # shown only to people with a seat
    capacity: Mapped[int]
    registration_opens_at: Mapped[datetime | None]  # None: as soon as the session exists
    registration_closes_at: Mapped[datetime | None]  # None: until it starts
    cancellation_deadline: Mapped[datetime | None]  # None: until it starts
    # Raised by every change people's calendars must follow (time, place); iTIP SEQUENCE counts from it.
    sequence: Mapped[int] = mapped_column(default=0)
    # Raised by every change of the bookings: the write that serialises bookings on SQLite.
    bookings_version: Mapped[int] = mapped_column(default=0)
    cancelled_at: Mapped[datetime | None]

    event: Mapped[Event] = relationship(back_populates="sessions")

    def registration_open(self, now: datetime) -> bool:
        if self.cancelled_at is not None or now >= self.starts_at:
            return False
        if self.registration_opens_at is not None and now < self.registration_opens_at:
            return False
        return self.registration_closes_at is None or now < self.registration_closes_at

    def cancellable(self, now: datetime) -> bool:
        deadline = self.cancellation_deadline or self.starts_at
        return now < deadline


class Booking(db.Model):
    __page_cache__ = Shown.PERSON

    __tablename__ = "event_booking"
    __table_args__ = (
        UniqueConstraint("session_id", "user_id"),
        Index("ix_event_booking_session_id_state", "session_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("event_session.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    state: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The order of the waiting list: when the person joined it (first come, first served).
    queued_at: Mapped[datetime | None]
    booked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))  # on behalf
    approved: Mapped[bool] = mapped_column(default=False)  # a manager approved (kept when waiting)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None]
    reason: Mapped[str] = mapped_column(String(500), default="")  # of a decline or cancellation
    offered_until: Mapped[datetime | None]
    cancelled_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    cancelled_at: Mapped[datetime | None]
    walk_in: Mapped[bool] = mapped_column(default=False)
    attendance_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    attendance_at: Mapped[datetime | None]
    # iTIP SEQUENCE of the last invitation sent for this booking (-1: none yet).
    ical_sequence: Mapped[int] = mapped_column(default=-1)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    session: Mapped[EventSession] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id])

    @property
    def state_label(self) -> str:
        return str(STATE_LABELS.get(BookingState(self.state), self.state))

    @property
    def holds_seat(self) -> bool:
        return self.state in SEAT_STATES


class ApprovalDeputy(db.Model):
    """A person a manager named to approve or decline the booking requests of the manager's teams.

    The deputy decides like the manager (never on their own request) and sees nothing else of the
    teams. Removed with either person; a row of a manager who leads no team any more reaches nobody.
    No kept page shows it (the team page is not kept).
    """

    __page_cache__ = Shown.NOWHERE

    __tablename__ = "event_approval_deputy"
    __table_args__ = (UniqueConstraint("manager_id", "deputy_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    manager_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    deputy_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    manager: Mapped[User] = relationship(foreign_keys=[manager_id])
    deputy: Mapped[User] = relationship(foreign_keys=[deputy_id])


class MailStatus(enum.StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"


class EventMail(db.Model):
    """One mail about a booking, written with the change and sent after the commit (or by the job, on retry)."""

    __page_cache__ = Shown.NOWHERE

    __tablename__ = "event_mail"

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("event_booking.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))  # the recipient
    kind: Mapped[str] = mapped_column(String(20))  # learning.events.invitations.MailKind
    method: Mapped[str | None] = mapped_column(String(10))  # REQUEST, CANCEL, or None: no invitation
    sequence: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(10), default=MailStatus.QUEUED.value, index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    message_id: Mapped[str | None] = mapped_column(String(200))
    last_error: Mapped[str | None] = mapped_column(Text)

    booking: Mapped[Booking] = relationship()
    user: Mapped[User] = relationship()


class AttendanceCertificate(db.Model):
    """A certificate of attendance: one per person and event, verifiable by its code like a course certificate.

    Issued when a session of an event that issues certificates is recorded as attended; withdrawn
    (deleted) when the attendance is corrected and the person attended no session of the event.
    The dates and hours it states are read from the attended bookings whenever it is shown.
    """

    __page_cache__ = Shown.PERSON

    __tablename__ = "event_certificate"
    __table_args__ = (UniqueConstraint("user_id", "event_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    verification_code: Mapped[str] = mapped_column(String(20), unique=True)

    user: Mapped[User] = relationship()
    event: Mapped[Event] = relationship()
