"""Booking a session: book, cancel, approve or decline, the waiting list and its offers; never overbooked.

Every change of a session's bookings starts with ``lock_session``: on PostgreSQL the session's
row is locked (``SELECT … FOR UPDATE``) until the commit, on SQLite a write to it takes the
database's one write lock (SQLite's writers take turns). The seats taken are counted only after
that, so two people asking for the last seat at the same moment are served one after the other:
one gets the seat, the other the waiting list. Services flush; the caller's unit of work commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import aliased, joinedload

from learning.audit.services import record
from learning.db import db, utcnow
from learning.errors import NotAllowed, NotFound, ServiceError
from learning.events.invitations import MailKind, queue_mail
from learning.events.models import (
    ACTIVE_STATES,
    SEAT_STATES,
    ApprovalDeputy,
    Booking,
    BookingState,
    Event,
    EventSession,
    Registration,
    WaitingList,
)
from learning.org.audience import matches, person_for
from learning.org.models import Team, User, team_manager
from learning.roles import Role

OFFER_HOURS = 48  # how long a freed seat is kept for the first person on the waiting list
MAX_REASON = 500


# Who may do what ----------------------------------------------------------------------------

def is_organiser(user: User, event: Event) -> bool:
    """Project group and admins organise every event; organisers named on the event theirs."""
    return user.has_role(Role.PROJECT_GROUP, Role.ADMIN) or any(o.id == user.id for o in event.organisers)


def manages(manager: User, person: User) -> bool:
    """Whether ``manager`` is a manager of the person's team (one query)."""
    if person.team_id is None or manager.id == person.id:
        return False
    return db.session.scalar(
        select(team_manager.c.team_id).where(team_manager.c.team_id == person.team_id,
                                             team_manager.c.user_id == manager.id)) is not None


def team_member_ids(manager: User) -> select:
    """SELECT the ids of the people in the teams the manager leads."""
    return select(User.id).join(team_manager, team_manager.c.team_id == User.team_id).where(
        team_manager.c.user_id == manager.id, User.id != manager.id)


def in_audience(event: Event, person: User) -> bool:
    return matches(event.audience, event.audience_values, person_for(person))


# The lock and the seats ---------------------------------------------------------------------

def lock_session(session_id: int) -> EventSession:
    """The session, locked against every other change of its bookings until the commit; NotFound if none."""
    if db.session.get_bind().dialect.name == "postgresql":
        session = db.session.scalar(select(EventSession).where(EventSession.id == session_id)
                                    .with_for_update().execution_options(populate_existing=True))
    else:
        changed = db.session.execute(update(EventSession).where(EventSession.id == session_id)
                                     .values(bookings_version=EventSession.bookings_version + 1)).rowcount
        session = db.session.scalar(select(EventSession).where(EventSession.id == session_id)
                                    .execution_options(populate_existing=True)) if changed else None
    if session is None:
        raise NotFound(_("This session does not exist."))
    return session


def seats_taken(session_id: int) -> int:
    return db.session.scalar(select(func.count(Booking.id)).where(Booking.session_id == session_id,
                                                                  Booking.state.in_(SEAT_STATES))) or 0


def seats_free(session: EventSession) -> int:
    return max(session.capacity - seats_taken(session.id), 0)


def _booking(booking_id: int) -> Booking:
    booking = db.session.get(Booking, booking_id) if isinstance(booking_id, int) else None
    if booking is None:
        raise NotFound(_("This booking does not exist."))
    return booking


def _locked_booking(booking_id: int) -> tuple[Booking, EventSession]:
    """The booking and its session, locked; the booking read again after the lock."""
    booking = _booking(booking_id)
    session = lock_session(booking.session_id)
    db.session.refresh(booking)
    return booking, session


# Booking ------------------------------------------------------------------------------------

def book(actor: User, session_id: int, person: User | None = None, now: datetime | None = None) -> Booking:
    """Book a seat for ``person`` (the actor, or a team member on whose behalf a manager books).

    The result is confirmed, requested (awaiting a manager's approval) or waiting (the session is
    full). Refused with a message: outside the audience, registration not open, already booked.
    """
    now = now or utcnow()
    person = person or actor
    session = lock_session(session_id)
    event = session.event
    if event.cancelled_at is not None or session.cancelled_at is not None:
        raise ServiceError(_("This session has been cancelled."))
    on_behalf = person.id != actor.id
    organiser = is_organiser(actor, event)
    manager = on_behalf and manages(actor, person)
    if on_behalf and not (organiser or manager):
        raise NotAllowed(_("You may book only for members of your teams."))
    if not person.active:
        raise ServiceError(_("This person's account is not active."))
    if not on_behalf and event.registration == Registration.INVITATION:
        raise ServiceError(_("This event is by invitation only."))
    if not organiser and not in_audience(event, person):
        raise ServiceError(_("This event is not offered to you.") if not on_behalf
                           else _("This event is not offered to this person."))
    if not session.registration_open(now) and not (organiser and now < session.starts_at):
        raise ServiceError(_("Registration for this session is not open."))
    booking = db.session.scalar(select(Booking).where(Booking.session_id == session.id,
                                                      Booking.user_id == person.id))
    if booking is not None and booking.state in ACTIVE_STATES:
        raise ServiceError(_("You have already booked this session.") if not on_behalf
                           else _("This person has already booked this session."))
    if booking is None:
        booking = Booking(session_id=session.id, user_id=person.id, state=BookingState.REQUESTED.value)
        db.session.add(booking)
    booking.created_at, booking.booked_by_id = now, (actor.id if on_behalf else None)
    booking.decided_by_id = booking.decided_at = booking.cancelled_by_id = booking.cancelled_at = None
    booking.offered_until = booking.queued_at = None
    booking.reason, booking.walk_in = "", False
    # A manager booking for their team member approves it by doing so.
    booking.approved = not event.approval_required or manager
    if manager and event.approval_required:
        booking.decided_by_id, booking.decided_at = actor.id, now
    if not booking.approved:
        booking.state = BookingState.REQUESTED.value
        db.session.flush()
        queue_mail(booking, MailKind.REQUESTED)
        announce_request(booking, now)
        return booking
    _seat_or_queue(booking, session, now)
    return booking


def _seat_or_queue(booking: Booking, session: EventSession, now: datetime) -> None:
    """Confirm an approved booking if a seat is free, else put it on the waiting list (session locked)."""
    if seats_free(session) > 0:
        booking.state = BookingState.CONFIRMED.value
        db.session.flush()
        queue_mail(booking, MailKind.CONFIRMED)
    else:
        booking.state, booking.queued_at = BookingState.WAITING.value, now
        db.session.flush()
        queue_mail(booking, MailKind.WAITING)


def cancel(actor: User, booking_id: int, now: datetime | None = None, reason: str = "") -> Booking:
    """Cancel a booking (or leave the waiting list); the person and their managers until the deadline,
    organisers at any time before the session. A freed seat goes to the waiting list."""
    now = now or utcnow()
    booking, session = _locked_booking(booking_id)
    event = session.event
    organiser = is_organiser(actor, event)
    if booking.user_id != actor.id and not organiser and not manages(actor, booking.user):
        raise NotFound(_("This booking does not exist."))
    if booking.state not in (BookingState.REQUESTED, BookingState.CONFIRMED, BookingState.WAITING,
                             BookingState.OFFERED):
        raise ServiceError(_("This booking cannot be cancelled any more."))
    if now >= session.starts_at:
        raise ServiceError(_("The session has already started."))
    if booking.state == BookingState.CONFIRMED and not organiser and not session.cancellable(now):
        raise ServiceError(_("The deadline for cancelling has passed. Please contact the organisers."))
    had_seat = booking.state == BookingState.CONFIRMED
    freed = booking.holds_seat
    booking.state = BookingState.CANCELLED.value
    booking.cancelled_by_id, booking.cancelled_at = actor.id, now
    booking.reason = (reason or "").strip()[:MAX_REASON]
    booking.offered_until = None
    db.session.flush()
    queue_mail(booking, MailKind.CANCELLED if had_seat else MailKind.LEFT)
    if freed:
        promote(session, now)
    return booking


# The waiting list ---------------------------------------------------------------------------

def promote(session: EventSession, now: datetime) -> list[Booking]:
    """Offer freed seats to the people waiting longest (automatic waiting list; session locked).

    Only approved bookings wait (an approval is asked before), so an offer never skips the approval.
    """
    if session.event.waiting_list != WaitingList.AUTOMATIC or session.cancelled_at is not None \
            or now >= session.starts_at:
        return []
    free = seats_free(session)
    if free <= 0:
        return []
    waiting = db.session.scalars(
        select(Booking).where(Booking.session_id == session.id, Booking.state == BookingState.WAITING.value)
        .order_by(Booking.queued_at, Booking.id).limit(free)).all()
    until = min(now + timedelta(hours=OFFER_HOURS), session.starts_at)
    for booking in waiting:
        booking.state, booking.offered_until = BookingState.OFFERED.value, until
        db.session.flush()
        queue_mail(booking, MailKind.OFFERED)
    return list(waiting)


def accept_offer(actor: User, booking_id: int, now: datetime | None = None) -> Booking:
    now = now or utcnow()
    booking, session = _locked_booking(booking_id)
    if booking.user_id != actor.id:
        raise NotFound(_("This booking does not exist."))
    if booking.state != BookingState.OFFERED or booking.offered_until is None or booking.offered_until <= now:
        raise ServiceError(_("This offer is no longer open."))
    booking.state, booking.offered_until = BookingState.CONFIRMED.value, None
    db.session.flush()
    queue_mail(booking, MailKind.CONFIRMED)
    return booking


def admit(actor: User, booking_id: int, now: datetime | None = None) -> Booking:
    """The organiser admits a person from the waiting list to a free seat."""
    now = now or utcnow()
    booking, session = _locked_booking(booking_id)
    if not is_organiser(actor, session.event):
        raise NotFound(_("This booking does not exist."))
    if booking.state != BookingState.WAITING:
        raise ServiceError(_("This person is not on the waiting list."))
    if seats_free(session) <= 0:
        raise ServiceError(_("The session is full. Raise its capacity first."))
    booking.state, booking.decided_by_id, booking.decided_at = BookingState.CONFIRMED.value, actor.id, now
    db.session.flush()
    queue_mail(booking, MailKind.CONFIRMED)
    return booking


def expire_offers(now: datetime | None = None) -> int:
    """Offers not accepted in time lapse; their seats go to the next people waiting (for the job)."""
    now = now or utcnow()
    lapsed = db.session.execute(select(Booking.id, Booking.session_id).where(
        Booking.state == BookingState.OFFERED.value, Booking.offered_until <= now)).all()
    for booking_id, session_id in lapsed:
        session = lock_session(session_id)
        booking = db.session.get(Booking, booking_id)
        db.session.refresh(booking)
        if booking.state != BookingState.OFFERED:
            continue
        booking.state, booking.cancelled_at, booking.offered_until = BookingState.CANCELLED.value, now, None
        booking.reason = "offer expired"
        db.session.flush()
        queue_mail(booking, MailKind.OFFER_LAPSED)
        promote(session, now)
    return len(lapsed)


# Approval -----------------------------------------------------------------------------------
#
# A request is decided by any manager of the person's team, or by a deputy one of them named
# (``ApprovalDeputy``). Nobody decides on their own request: a manager's teams leave the manager
# out, and a deputy stands in only for managers other than the person asking.

APPROVAL_KIND = "events.approval_requested"  # the notice to managers and deputies (learning.events.reminders)
Manager = aliased(User, name="approving_manager")  # the manager a deputy stands in for


@dataclass(frozen=True)
class Approver:
    """May ``actor`` decide on this person's requests, and if as a deputy, for which manager."""

    allowed: bool
    deputy_of: User | None = None


def _deputised(deputy_id: int, *columns):
    """SELECT ``columns`` over the teams whose active managers named ``deputy_id`` (manager as ``Manager``)."""
    return (select(*columns).select_from(ApprovalDeputy)
            .join(Manager, Manager.id == ApprovalDeputy.manager_id)
            .join(team_manager, team_manager.c.user_id == ApprovalDeputy.manager_id)
            .where(ApprovalDeputy.deputy_id == deputy_id, Manager.active.is_(True)))


def approver_for(actor: User, person: User) -> Approver:
    """Whether ``actor`` decides on ``person``'s requests: as their manager, or as a manager's deputy (two queries)."""
    if person.team_id is None or actor.id == person.id:
        return Approver(False)
    if manages(actor, person):
        return Approver(True)
    manager = db.session.scalar(
        _deputised(actor.id, Manager).where(team_manager.c.team_id == person.team_id, Manager.id != person.id)
        .order_by(Manager.last_name, Manager.first_name, Manager.id).limit(1))
    return Approver(manager is not None, manager)


def deputised_member_ids(deputy: User):
    """SELECT the ids of the people whose requests ``deputy`` decides as a deputy (not the deputy, not the manager)."""
    return _deputised(deputy.id, User.id).join(User, User.team_id == team_manager.c.team_id).where(
        User.id != deputy.id, User.id != ApprovalDeputy.manager_id)


def approver_ids(person_id: int, team_id: int | None):
    """SELECT the ids of everyone who decides on this person's requests: the team's managers and their deputies."""
    managers = select(team_manager.c.user_id).where(team_manager.c.team_id == team_id,
                                                    team_manager.c.user_id != person_id)
    deputies = (select(ApprovalDeputy.deputy_id).join(User, User.id == ApprovalDeputy.manager_id)
                .where(ApprovalDeputy.manager_id.in_(managers), User.active.is_(True),
                       ApprovalDeputy.deputy_id != person_id))
    return managers.union(deputies)


def announce_request(booking: Booking, now: datetime) -> int:
    """Tell the managers of the person's team and their deputies of a new request: a notice now, mail with
    their next digest (through the outbox, so never twice for one request)."""
    from learning.messaging.reminders import announce_now

    person = booking.user
    if person.team_id is None:
        return 0
    recipients = db.session.scalars(
        select(User.id).where(User.id.in_(approver_ids(person.id, person.team_id)), User.active.is_(True))).all()
    return announce_now(APPROVAL_KIND, [request_notice(booking.id, user_id, booking.created_at)
                                        for user_id in recipients], now)


def request_notice(booking_id: int, user_id: int, requested_at: datetime):
    """The outbox key of the notice about one request (the same whether announced at once or planned later)."""
    from learning.messaging.reminders import Planned

    return Planned(user_id, f"event-request:{booking_id}", f"requested:{requested_at.strftime('%Y%m%dT%H%M%S')}",
                   {"booking_id": booking_id})


def decide(actor: User, booking_id: int, approve: bool, reason: str = "", now: datetime | None = None) -> Booking:
    """A manager of the person's team, or a deputy of one, approves (seat or waiting list) or declines
    (with a reason) a request; the audit log says who decided, and for whom a deputy did."""
    now = now or utcnow()
    booking, session = _locked_booking(booking_id)
    approver = approver_for(actor, booking.user)
    if not approver.allowed:
        raise NotFound(_("This booking does not exist."))
    if booking.state != BookingState.REQUESTED:
        raise ServiceError(_("This request has already been decided."))
    reason = (reason or "").strip()
    if len(reason) > MAX_REASON:
        raise ServiceError(_("The reason may have at most %(max)d characters.", max=MAX_REASON), "reason")
    if not approve and not reason:
        raise ServiceError(_("Please give a reason for declining."), "reason")
    if approve and (session.cancelled_at is not None or now >= session.starts_at):
        raise ServiceError(_("This session can no longer be booked."))
    booking.decided_by_id, booking.decided_at, booking.reason = actor.id, now, reason
    deputy = {"deputy_of": approver.deputy_of.full_name, "deputy_of_id": approver.deputy_of.id} \
        if approver.deputy_of is not None else {}
    record(actor, "event.request_approved" if approve else "event.request_declined", booking,
           f"{booking.user.full_name}: {session.event.title}", person=booking.user_id, session=session.id, **deputy)
    if not approve:
        booking.state = BookingState.DECLINED.value
        db.session.flush()
        queue_mail(booking, MailKind.DECLINED)
        return booking
    booking.approved = True
    _seat_or_queue(booking, session, booking.created_at if booking.created_at else now)
    return booking


@dataclass(frozen=True)
class Approvals:
    """What the team page shows an approver: the requests waiting, and for whom a deputy stands in."""

    pending: list[Booking]
    deputy_of: dict[int, list[str]]  # booking id -> the managers a deputy decides for (empty: as manager)


def pending_for_manager(approver: User) -> list[Booking]:
    """Requests awaiting a decision by this manager or deputy (their teams' people only; one query)."""
    return list(db.session.scalars(
        select(Booking).where(Booking.state == BookingState.REQUESTED.value,
                              or_(Booking.user_id.in_(team_member_ids(approver)),
                                  Booking.user_id.in_(deputised_member_ids(approver))))
        .options(joinedload(Booking.user), joinedload(Booking.session).joinedload(EventSession.event))
        .order_by(Booking.created_at, Booking.id)).unique().all())


def approvals_for(approver: User) -> Approvals:
    """The requests waiting for this person and, for those they decide as a deputy, whose deputy (two queries)."""
    pending = pending_for_manager(approver)
    own_teams = {row for row in db.session.scalars(
        select(team_manager.c.team_id).where(team_manager.c.user_id == approver.id))}
    standing_in: dict[int, list[str]] = {}
    if any(b.user.team_id not in own_teams for b in pending):
        for team_id, first, last in db.session.execute(
                _deputised(approver.id, team_manager.c.team_id, Manager.first_name, Manager.last_name)
                .order_by(Manager.last_name, Manager.first_name)):
            standing_in.setdefault(team_id, []).append(f"{first} {last}")
    return Approvals(pending, {b.id: standing_in.get(b.user.team_id, []) for b in pending
                               if b.user.team_id not in own_teams})


def is_approver(user: User) -> bool:
    """Whether the person decides on anyone's requests (leads a team, or a manager's deputy; one query)."""
    return db.session.scalar(select(
        select(team_manager.c.team_id).where(team_manager.c.user_id == user.id).exists()
        | _deputised(user.id, ApprovalDeputy.id).exists())) or False


# Deputies -----------------------------------------------------------------------------------

def deputies_of(manager: User) -> list[ApprovalDeputy]:
    """The deputies a manager named, by name (one query)."""
    return list(db.session.scalars(
        select(ApprovalDeputy).join(User, User.id == ApprovalDeputy.deputy_id)
        .where(ApprovalDeputy.manager_id == manager.id)
        .options(joinedload(ApprovalDeputy.deputy)).order_by(User.last_name, User.first_name, User.id)))


def name_deputy(manager: User, deputy_id: int | None) -> ApprovalDeputy:
    """A manager names an active person (not themselves) to decide on the team's booking requests."""
    if not manager.has_role(Role.MANAGER):
        raise NotAllowed(_("Only managers name deputies."))
    deputy = db.session.get(User, deputy_id) if isinstance(deputy_id, int) else None
    if deputy is None or not deputy.active:
        raise ServiceError(_("Please choose a person from the list."), "deputy")
    if deputy.id == manager.id:
        raise ServiceError(_("You cannot be your own deputy."), "deputy")
    if db.session.scalar(select(ApprovalDeputy.id).where(ApprovalDeputy.manager_id == manager.id,
                                                         ApprovalDeputy.deputy_id == deputy.id)) is not None:
        raise ServiceError(_("%(name)s is your deputy already.", name=deputy.full_name), "deputy")
    named = ApprovalDeputy(manager_id=manager.id, deputy_id=deputy.id, created_at=utcnow())
    db.session.add(named)
    db.session.flush()
    record(manager, "event.deputy_named", deputy, deputy.full_name, deputy=deputy.id)
    return named


def remove_deputy(manager: User, deputy_id: int) -> User:
    """A manager takes a deputy off; NotFound for anyone who is not the manager's deputy."""
    named = db.session.scalar(select(ApprovalDeputy).where(ApprovalDeputy.manager_id == manager.id,
                                                           ApprovalDeputy.deputy_id == deputy_id)) \
        if isinstance(deputy_id, int) else None
    if named is None:
        raise NotFound(_("This person is not your deputy."))
    deputy = named.deputy
    db.session.delete(named)
    db.session.flush()
    record(manager, "event.deputy_removed", deputy, deputy.full_name, deputy=deputy.id)
    return deputy


def managed_people(manager: User) -> list[User]:
    return list(db.session.scalars(
        select(User).join(Team, Team.id == User.team_id).join(team_manager, team_manager.c.team_id == Team.id)
        .where(team_manager.c.user_id == manager.id, User.active.is_(True), User.id != manager.id)
        .order_by(User.last_name, User.first_name)).unique().all())
