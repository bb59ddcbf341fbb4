"""The organisers' side: create and change events and their sessions, cancel them; audited.

A change of a session's time or place raises its SEQUENCE and sends everyone with a seat an
updated invitation; a cancelled session sends a cancellation; a larger capacity offers the new
seats to the waiting list. A capacity below the seats already taken is refused: a session is
never overbooked, not even by its organiser.

Who organises: the project group (and admins) every event; course authors create events for the
courses they edit and organise those (they are made organisers of what they create); anyone named
as an organiser the events naming them. Cancelling a whole event cancels each session still to
come. Consultation hours are planned as a series of one-seat slots (``plan_slots``, ``add_slots``);
a person may book several slots of the same consultation hours (a longer matter takes two), as
booking is per session.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import format_datetime, ngettext
from flask_babel import gettext as _
from sqlalchemy import false, func, select

from learning.audit.services import record
from learning.db import db, utcnow
from learning.errors import NotAllowed, NotFound, ServiceError
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
from learning.roles import Role
from learning.training.authoring.models import CourseDraft, CourseEditor
from learning.training.models import Course

MAX_TITLE, MAX_DESCRIPTION, MAX_NAME, MAX_PLACE, MAX_URL = 200, 20_000, 200, 200, 500
MAX_CAPACITY = 10_000
MAX_DAYS = 14  # a session lasts at most this long (a multi-day training)
AUDIENCE_KINDS = tuple(audience.AudienceKind)
MAX_REASON = 500
# Who may open the organisers' desk and create events (authors only for the courses they edit).
ORGANISING_ROLES = (Role.PROJECT_GROUP, Role.ADMIN, Role.AUTHOR)
# A series of consultation slots: slot length, pause, how many at once, how many days.
MIN_SLOT, MAX_SLOT, MAX_PAUSE, MAX_SLOTS, MAX_SERIES_DAYS = 5, 240, 240, 200, 366
SHOWN_CLASHES = 5  # clashes listed in the message when slots overlap sessions


def may_organise(user: User) -> bool:
    """May open the organisers' desk and create events."""
    return user.has_role(*ORGANISING_ROLES)


def links_every_course(user: User) -> bool:
    return user.has_role(Role.PROJECT_GROUP, Role.ADMIN)


def linkable_courses(user: User, keep: int | None = None):
    """SELECT the courses an event of this person may be linked to: every course for the project group,
    for authors the published courses they edit (as the course editor's ``may_edit``); ``keep``: the event's own."""
    if links_every_course(user):
        allowed = Course.archived_at.is_(None)
    elif user.has_role(Role.AUTHOR):
        edited = select(CourseDraft.course_id).join(CourseEditor, CourseEditor.draft_id == CourseDraft.id).where(
            CourseEditor.user_id == user.id, CourseDraft.course_id.is_not(None))
        allowed = Course.id.in_(edited) & Course.archived_at.is_(None)
    else:
        allowed = false()
    if keep is not None:
        allowed = allowed | (Course.id == keep)
    return select(Course).where(allowed).order_by(Course.title, Course.id)


def _check_course(data: EventData, actor: User, event: Event | None) -> None:
    """An author links an event only to a course they edit, and must link one (unless they change an event
    without a course someone else named them on); the project group links any course."""
    if links_every_course(actor):
        return
    current = event.course_id if event is not None else None
    if data.course_id is None:
        if actor.has_role(Role.AUTHOR) and (event is None or current is not None):
            raise ServiceError(_("Please choose one of the courses you edit."), "course_id")
        return
    if data.course_id == current:
        return
    allowed = db.session.scalar(linkable_courses(actor).where(Course.id == data.course_id)
                                .with_only_columns(Course.id))
    if allowed is None:
        raise ServiceError(_("You may link an event only to a course you edit."), "course_id")


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


def _keep_organiser(data: EventData, actor: User) -> None:
    """Someone who organises only their own events stays an organiser of what they save (else it is lost to them)."""
    if not links_every_course(actor) and actor.id not in (data.organiser_ids or []):
        data.organiser_ids = [*(data.organiser_ids or []), actor.id]


def create_event(data: EventData, actor: User) -> Event:
    if not may_organise(actor):
        raise NotAllowed(_("You may not create events."))
    _check_course(data, actor, None)
    kind, values = _check_event(data)
    _keep_organiser(data, actor)
    event = Event(created_by_id=actor.id)
    _apply(event, data, kind, values)
    db.session.add(event)
    db.session.flush()
    record(actor, "event.created", event, event.title)
    return event


def update_event(event: Event, data: EventData, actor: User) -> Event:
    if not is_organiser(actor, event):
        raise NotFound(_("This event does not exist."))
    if event.cancelled_at is not None:
        raise ServiceError(_("This event has been cancelled."))
    _check_course(data, actor, event)
    kind, values = _check_event(data)
    _keep_organiser(data, actor)
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


def cancel_session(session_id: int, actor: User, now: datetime | None = None,
                   reason: str = "") -> EventSession:
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
        booking.reason = reason
        db.session.flush()
        queue_mail(booking, MailKind.SESSION_CANCELLED if had_seat else MailKind.LEFT)
    db.session.flush()
    record(actor, "event.session_cancelled", session.event, session.event.title, session=session.id,
           bookings=len(bookings))
    return session


def cancel_event(event_id: int, actor: User, reason: str, now: datetime | None = None) -> int | None:
    """Cancel a whole event: each session still to come is cancelled (everyone booked is told, people with a
    seat get a cancellation for their calendar, once per booking) and the event leaves the lists.

    Returns the number of sessions cancelled, or None if the event was cancelled already (nothing changes).
    Sessions that have begun keep their bookings and attendance.
    """
    now = now or utcnow()
    event = db.session.get(Event, event_id)
    if event is None or not is_organiser(actor, event):
        raise NotFound(_("This event does not exist."))
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError(_("Please give a reason for the cancellation."), "reason")
    if len(reason) > MAX_REASON:
        raise ServiceError(_("The reason may have at most %(max)d characters.", max=MAX_REASON), "reason")
    # The first session's lock serialises two organisers cancelling at once; the event is read again after it.
    to_cancel = [s.id for s in event.sessions if s.cancelled_at is None and s.starts_at > now]
    if to_cancel:
        lock_session(to_cancel[0])
    db.session.refresh(event)
    if event.cancelled_at is not None:
        return None
    for session_id in to_cancel:
        session = lock_session(session_id)
        if session.cancelled_at is None:
            cancel_session(session_id, actor, now, reason=reason[:MAX_REASON])
    event.cancelled_at = now
    db.session.flush()
    record(actor, "event.cancelled", event, event.title, reason=reason, sessions=len(to_cancel))
    return len(to_cancel)


def cancellation_preview(event: Event, now: datetime) -> tuple[int, int]:
    """How many sessions a cancellation of the event cancels and how many bookings it ends (one query)."""
    upcoming = [s.id for s in event.sessions if s.cancelled_at is None and s.starts_at > now]
    if not upcoming:
        return 0, 0
    told = db.session.scalar(select(func.count(Booking.id)).where(
        Booking.session_id.in_(upcoming),
        Booking.state.in_((BookingState.REQUESTED.value, BookingState.WAITING.value, BookingState.OFFERED.value,
                           BookingState.CONFIRMED.value)))) or 0
    return len(upcoming), told


# Consultation hours: a series of one-seat slots ----------------------------------------------

@dataclass
class SlotSeries:
    first_day: date | None
    last_day: date | None  # None: the first day only
    weekdays: list[int]  # 0 Monday … 6 Sunday; ignored for a single day
    start: time | None
    end: time | None
    slot_minutes: int | None
    pause_minutes: int | None = 0
    place: str = ""
    online_url: str = ""


@dataclass
class Slot:
    starts_at: datetime
    ends_at: datetime

    @property
    def label(self) -> str:
        return slot_label(self.starts_at, self.ends_at)


def slot_label(starts_at: datetime, ends_at: datetime) -> str:
    """“Mo. 14.12. 14:00–14:15” in the reader's language and the platform's time zone."""
    return f"{format_datetime(starts_at, 'EEE dd.MM.')} {format_datetime(starts_at, 'HH:mm')}–" \
           f"{format_datetime(ends_at, 'HH:mm')}"


def _check_series(series: SlotSeries) -> list[date]:
    """The days of the series, or a refusal with a message on the field concerned."""
    if series.first_day is None:
        raise ServiceError(_("Please enter the day of the consultation hours."), "first_day")
    last = series.last_day or series.first_day
    if last < series.first_day:
        raise ServiceError(_("The last day must not be before the first day."), "last_day")
    if (last - series.first_day).days >= MAX_SERIES_DAYS:
        raise ServiceError(_("A series may span at most %(days)d days.", days=MAX_SERIES_DAYS), "last_day")
    if series.start is None:
        raise ServiceError(_("Please enter when the consultation hours begin."), "start")
    if series.end is None:
        raise ServiceError(_("Please enter when the consultation hours end."), "end")
    if series.end <= series.start:
        raise ServiceError(_("The consultation hours must end after they begin."), "end")
    if series.slot_minutes is None or not MIN_SLOT <= series.slot_minutes <= MAX_SLOT:
        raise ServiceError(_("Enter a slot length from %(min)d to %(max)d minutes.", min=MIN_SLOT, max=MAX_SLOT),
                           "slot_minutes")
    if series.pause_minutes is not None and not 0 <= series.pause_minutes <= MAX_PAUSE:
        raise ServiceError(_("Enter a pause from 0 to %(max)d minutes.", max=MAX_PAUSE), "pause_minutes")
    _check_session(SessionData(starts_at=datetime(2000, 1, 1, 9), ends_at=datetime(2000, 1, 1, 10), capacity=1,
                               place=series.place, online_url=series.online_url))
    if last == series.first_day:
        return [series.first_day]
    weekdays = {d for d in series.weekdays or [] if isinstance(d, int) and 0 <= d <= 6}
    if not weekdays:
        raise ServiceError(_("Please choose at least one weekday."), "weekdays")
    days = [series.first_day + timedelta(days=n) for n in range((last - series.first_day).days + 1)]
    days = [d for d in days if d.weekday() in weekdays]
    if not days:
        raise ServiceError(_("None of the chosen weekdays lies between the first and the last day."), "weekdays")
    return days


def plan_slots(event: Event, series: SlotSeries, now: datetime | None = None, zone: str | None = None) -> list[Slot]:
    """The slots a series gives, checked: in the future, at most ``MAX_SLOTS``, clear of the event's sessions."""
    now = now or utcnow()
    if event.kind != EventKind.CONSULTATION:
        raise ServiceError(_("Slots can be planned only for consultation hours."))
    if event.cancelled_at is not None:
        raise ServiceError(_("This event has been cancelled."))
    days = _check_series(series)
    tz = ZoneInfo(zone or current_app.config["TIMEZONE"])
    length, step = timedelta(minutes=series.slot_minutes), timedelta(minutes=series.slot_minutes
                                                                      + (series.pause_minutes or 0))
    slots: list[Slot] = []
    for day in days:
        begin, end = datetime.combine(day, series.start), datetime.combine(day, series.end)
        while begin + length <= end:
            slots.append(Slot(begin.replace(tzinfo=tz).astimezone(UTC),
                              (begin + length).replace(tzinfo=tz).astimezone(UTC)))
            if len(slots) > MAX_SLOTS:
                break
            begin += step
        if len(slots) > MAX_SLOTS:
            break
    if not slots:
        raise ServiceError(_("No slot fits between the beginning and the end. Shorten the slots or lengthen the "
                             "consultation hours."), "slot_minutes")
    if len(slots) > MAX_SLOTS:
        raise ServiceError(_("These entries give more than %(max)d slots. Please plan fewer at a time.",
                             max=MAX_SLOTS), "last_day")
    if slots[0].starts_at <= now:
        raise ServiceError(_("The first slot (%(slot)s) lies in the past.", slot=slots[0].label), "first_day")
    existing = db.session.execute(select(EventSession.starts_at, EventSession.ends_at).where(
        EventSession.event_id == event.id, EventSession.cancelled_at.is_(None),
        EventSession.ends_at > slots[0].starts_at, EventSession.starts_at < slots[-1].ends_at)).all()
    clashes = [slot for slot in slots if any(_aware(s) < slot.ends_at and slot.starts_at < _aware(e)
                                             for s, e in existing)]
    if clashes:
        shown = ", ".join(c.label for c in clashes[:SHOWN_CLASHES])
        if len(clashes) > SHOWN_CLASHES:
            shown += " …"
        raise ServiceError(ngettext("%(num)d slot overlaps a session of this event: %(slots)s.",
                                    "%(num)d slots overlap sessions of this event: %(slots)s.",
                                    len(clashes), slots=shown), "start")
    return slots


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def add_slots(event: Event, series: SlotSeries, actor: User, now: datetime | None = None,
              zone: str | None = None) -> list[EventSession]:
    """Create the series' slots as sessions with one seat each (bookable at once, cancellable until they begin)."""
    if not is_organiser(actor, event):
        raise NotFound(_("This event does not exist."))
    slots = plan_slots(event, series, now, zone)
    sessions = [EventSession(event=event, starts_at=slot.starts_at, ends_at=slot.ends_at, capacity=1,
                             place=(series.place or "").strip(), online_url=(series.online_url or "").strip())
                for slot in slots]
    db.session.add_all(sessions)
    db.session.flush()
    record(actor, "event.slots_added", event, event.title, slots=len(sessions),
           first=sessions[0].starts_at.isoformat(), last=sessions[-1].starts_at.isoformat())
    return sessions


def event_for_organiser(event_id: int, actor: User) -> Event:
    """The event for its organiser; 404 if there is none, 403 for someone on the desk who does not organise it."""
    event = db.session.get(Event, event_id)
    if event is None:
        raise NotFound(_("This event does not exist."))
    if not is_organiser(actor, event):
        if may_organise(actor):
            raise NotAllowed(_("You may manage only the events you organise."))
        raise NotFound(_("This event does not exist."))
    return event


def session_for_organiser(session_id: int, actor: User) -> EventSession:
    session = db.session.get(EventSession, session_id)
    if session is None:
        raise NotFound(_("This session does not exist."))
    if not is_organiser(actor, session.event):
        if may_organise(actor):
            raise NotAllowed(_("You may manage only the events you organise."))
        raise NotFound(_("This session does not exist."))
    return session
