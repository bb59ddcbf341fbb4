"""Event pages: upcoming events and booking, the managers' team page, the organisers' desk and attendance."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from learning.audit.services import record_view
from learning.db import db, unit_of_work, utcnow
from learning.errors import NotFound, ServiceError, show_on_form
from learning.events import booking as booking_service
from learning.events import bp
from learning.events.attendance import add_walk_in, attendance_list, record_attendance
from learning.events.certificates import set_issues_certificate
from learning.events.forms import (
    ActionForm,
    BookForForm,
    CancelEventForm,
    DecisionForm,
    DeputyForm,
    EventForm,
    InviteForm,
    SessionForm,
    SlotSeriesForm,
    WalkInForm,
)
from learning.events.listing import (
    bookings_of_event,
    event_view,
    managed_events,
    may_see,
    open_sessions,
    team_attendance,
    team_bookings,
    upcoming_for,
)
from learning.events.models import (
    ATTENDANCE_STATES,
    KIND_LABELS,
    STATE_LABELS,
    BookingState,
    Event,
    EventKind,
    EventSession,
)
from learning.events.planning import (
    ORGANISING_ROLES,
    EventData,
    SessionData,
    SlotSeries,
    add_session,
    add_slots,
    cancel_event,
    cancel_session,
    cancellation_preview,
    create_event,
    event_for_organiser,
    linkable_courses,
    links_every_course,
    plan_slots,
    session_for_organiser,
    update_event,
    update_session,
)
from learning.guards import int_arg
from learning.org.audience import AudienceNames
from learning.org.models import Department, Team, User
from learning.org.picker import fill_picker, picker_answer
from learning.phases.models import RolloutPhase
from learning.roles import Role
from learning.security import AUTHENTICATED, allow
from learning.settings.services import setting
from learning.training.models import Course

PROJECT = (Role.PROJECT_GROUP, Role.ADMIN)


def _locale() -> str:
    return str(get_locale() or current_app.config["DEFAULT_LOCALE"])


@bp.context_processor
def helpers() -> dict:
    return {"State": BookingState, "STATE_LABELS": STATE_LABELS, "KIND_LABELS": KIND_LABELS,
            "EventKind": EventKind, "ATTENDANCE_STATES": ATTENDANCE_STATES}


# Employees ----------------------------------------------------------------------------------

@bp.route("/", endpoint="index")
@allow(AUTHENTICATED)
def index_page():
    kind = request.args.get("kind", "")
    kind = kind if kind in {k.value for k in EventKind} else ""
    phase_id = int_arg("phase")
    booked_only = request.args.get("mine") == "1"
    views = upcoming_for(current_user, utcnow(), kind=kind, phase_id=phase_id, booked_only=booked_only)
    phases = db.session.scalars(select(RolloutPhase).order_by(RolloutPhase.period, RolloutPhase.title)).all()
    return render_template("events/index.html", views=views, kind=kind, phase_id=phase_id, booked_only=booked_only,
                           phases=phases, locale=_locale(),
                           may_manage=current_user.has_role(*ORGANISING_ROLES),
                           is_manager=current_user.has_role(Role.MANAGER)
                           or booking_service.is_approver(current_user))


@bp.route("/<int:event_id>", endpoint="event")
@allow(AUTHENTICATED)
def event_page(event_id: int):
    view = event_view(event_id, current_user)
    if view is None or not may_see(current_user, view):
        abort(404)
    event = view.event
    return render_template("events/event.html", view=view, event=event, now=utcnow(),
                           description=Markup(event.description_html), form=ActionForm(),
                           organiser=booking_service.is_organiser(current_user, event),
                           audience=AudienceNames.load().describe(event.audience, event.audience_values),
                           locale=_locale())


def _action(redirect_to: str, service, success: str):
    if not ActionForm().validate_on_submit():
        flash(_("Your form has expired. Please try again."), "warning")
        return redirect(redirect_to)
    try:
        with unit_of_work():
            result = service()
    except NotFound:
        abort(404)
    except ServiceError as error:
        flash(str(error), "warning")
    else:
        flash(success if not callable(success) else success(result), "success")
    return redirect(redirect_to)


def _booked_message(booking) -> str:
    return {
        BookingState.CONFIRMED: _("Your seat is booked. You will get an invitation for your calendar by mail."),
        BookingState.WAITING: _("The session is full: you are on the waiting list."),
        BookingState.REQUESTED: _("Your booking has been requested; a manager of your team decides on it."),
    }.get(BookingState(booking.state), _("Saved."))


def _session_event_id(session_id: int) -> int:
    from learning.events.models import EventSession

    session = db.session.get(EventSession, session_id)
    if session is None:
        abort(404)
    return session.event_id


@bp.route("/sessions/<int:session_id>/book", endpoint="book", methods=["POST"])
@allow(AUTHENTICATED)
def book_action(session_id: int):
    target = url_for("events.event", event_id=_session_event_id(session_id))
    return _action(target, lambda: booking_service.book(current_user, session_id), _booked_message)


def _booking_event_id(booking_id: int) -> int:
    from learning.events.models import Booking

    booking = db.session.get(Booking, booking_id)
    if booking is None:
        abort(404)
    return booking.session.event_id


@bp.route("/bookings/<int:booking_id>/cancel", endpoint="cancel", methods=["POST"])
@allow(AUTHENTICATED)
def cancel_action(booking_id: int):
    target = request.form.get("next") == "team" and url_for("events.team") or \
        url_for("events.event", event_id=_booking_event_id(booking_id))
    return _action(target, lambda: booking_service.cancel(current_user, booking_id),
                   _("The booking has been cancelled."))


@bp.route("/bookings/<int:booking_id>/accept", endpoint="accept", methods=["POST"])
@allow(AUTHENTICATED)
def accept_action(booking_id: int):
    target = url_for("events.event", event_id=_booking_event_id(booking_id))
    return _action(target, lambda: booking_service.accept_offer(current_user, booking_id),
                   _("Your seat is booked. You will get an invitation for your calendar by mail."))


# Managers -----------------------------------------------------------------------------------

def _team_page(deputy_form: DeputyForm | None = None):
    """Managers: requests, their team's bookings, booking for them and their deputies; deputies: the requests only."""
    now = utcnow()
    manager = current_user.has_role(Role.MANAGER)
    attendance_shown = manager and setting("managers.training_individuals")
    if attendance_shown:
        # Recorded first: the commit expires loaded rows, which the page would then reload one by one.
        record_view(current_user, "events.team_attendance")
    context = {"approvals": booking_service.approvals_for(current_user), "manager": manager,
               "decision": DecisionForm(formdata=None), "form": ActionForm()}
    if manager:
        form = BookForForm()
        form.person_id.choices = [("", _("Please choose"))] + [
            (p.id, p.full_name) for p in booking_service.managed_people(current_user)]
        if deputy_form is None:
            deputy_form = DeputyForm(formdata=None)
            fill_picker(deputy_form.deputy)
        attendance = team_attendance(current_user, now) if attendance_shown else None
        context.update(bookings=team_bookings(current_user, now), sessions=open_sessions(now), book_form=form,
                       deputy_form=deputy_form, deputies=booking_service.deputies_of(current_user),
                       attendance=attendance)
    return render_template("events/team.html", **context)


@bp.route("/team", endpoint="team")
@allow(AUTHENTICATED)
def team_page():
    return _team_page()


@bp.route("/bookings/<int:booking_id>/decide", endpoint="decide", methods=["POST"])
@allow(AUTHENTICATED)
def decide_action(booking_id: int):
    """A manager of the person's team or a deputy of one decides; anyone else gets 404 (in the service)."""
    form = DecisionForm()
    if not form.validate_on_submit():
        flash(" ".join(str(e) for errors in form.errors.values() for e in errors)
              or _("Your form has expired. Please try again."), "warning")
        return redirect(url_for("events.team"))
    approve = form.decision.data == "approve"
    return _action(url_for("events.team"),
                   lambda: booking_service.decide(current_user, booking_id, approve, form.reason.data or ""),
                   _("The booking has been approved.") if approve else _("The booking has been declined."))


@bp.route("/team/deputies", endpoint="deputy_add", methods=["POST"])
@allow(Role.MANAGER)
def deputy_add_action():
    form = DeputyForm()
    fill_picker(form.deputy)
    if form.deputy.searching:  # the person picker without JavaScript: show the matches, save nothing
        return _team_page(form)
    if form.validate_on_submit():
        if form.deputy.person_id is None:
            form.deputy.errors = [*form.deputy.errors, _("Please choose a person from the list.")]
        else:
            try:
                with unit_of_work():
                    named = booking_service.name_deputy(current_user, form.deputy.person_id)
                    name = named.deputy.full_name
            except ServiceError as error:
                show_on_form(form, error, default="deputy")
            else:
                flash(_("%(name)s is now your deputy for booking requests.", name=name), "success")
                return redirect(url_for("events.team", _anchor="deputies"))
    return _team_page(form)


@bp.route("/team/deputies/<int:deputy_id>/remove", endpoint="deputy_remove", methods=["POST"])
@allow(Role.MANAGER)
def deputy_remove_action(deputy_id: int):
    return _action(url_for("events.team", _anchor="deputies"),
                   lambda: booking_service.remove_deputy(current_user, deputy_id),
                   lambda deputy: _("%(name)s is no longer your deputy.", name=deputy.full_name))


@bp.route("/team/deputy-candidates", endpoint="deputy_search")
@allow(Role.MANAGER)
def deputy_search():
    """The deputy picker's search: active people by name and unit; nothing else."""
    return picker_answer(request.args.get("q"))


@bp.route("/team/book", endpoint="book_for", methods=["POST"])
@allow(Role.MANAGER, *PROJECT)
def book_for_action():
    """Book a session for a team member: one form on the team page, the session and the person chosen in it."""
    session_id = int_arg("session_id", source=request.form) or 0
    person = db.session.get(User, int_arg("person_id", source=request.form) or 0)
    target = url_for("events.team")
    if person is None or db.session.get(EventSession, session_id) is None:
        flash(_("Please choose a session and a person from the lists."), "warning")
        return redirect(target)
    return _action(target, lambda: booking_service.book(current_user, session_id, person),
                   _("%(name)s has been booked.", name=person.full_name))


# The organisers' desk -----------------------------------------------------------------------

@bp.route("/manage", endpoint="manage")
@allow(*ORGANISING_ROLES)
def manage_page():
    """Every event for the project group; an author's own events (those naming them as an organiser)."""
    course = db.session.get(Course, int_arg("course") or 0)
    mine_only = not links_every_course(current_user)
    views = managed_events(organiser=current_user if mine_only else None,
                           course_id=course.id if course is not None else None)
    return render_template("events/manage/list.html", views=views, locale=_locale(), course=course,
                           mine_only=mine_only)


def _event_choices(form: EventForm, keep: int | None = None) -> None:
    form.set_choices(
        db.session.scalars(select(RolloutPhase).order_by(RolloutPhase.period, RolloutPhase.title)).all(),
        db.session.scalars(linkable_courses(current_user, keep)).all(),
        db.session.scalars(select(Department).where(Department.active).order_by(Department.name)).all(),
        db.session.scalars(select(Team).join(Team.department).where(Team.active)
                           .order_by(Department.name, Team.name).options(joinedload(Team.department))).all(),
        _locale(),
    )


def _event_data(form: EventForm) -> EventData:
    return EventData(kind=form.kind.data, title=form.title.data or "", description=form.description.data or "",
                     phase_id=form.phase_id.data, audience=form.audience.data,
                     audience_values=form.audience_values(), registration=form.registration.data,
                     approval_required=form.approval_required.data, waiting_list=form.waiting_list.data,
                     trainer_id=form.trainer_id.person_id, trainer_name=form.trainer_name.data or "",
                     course_id=form.course_id.data, completes_course=form.completes_course.data,
                     organiser_ids=form.organiser_ids.data or [])


def _edit_event(event: Event | None):
    if request.method == "POST" or event is None:
        form = EventForm()
    else:
        form = EventForm(obj=event, organiser_ids=[o.id for o in event.organisers],
                         trainer_id=event.trainer_id)
        form.show_audience(event.audience, event.audience_values)
        form.phase_id.data = event.phase_id
    _event_choices(form, event.course_id if event is not None else None)
    if event is None and request.method == "GET":  # "an event for this course" from the course editor
        wanted = int_arg("course")
        if wanted is not None and any(value == wanted for value, _label in form.course_id.choices):
            form.course_id.data = wanted
    fill_picker(form.organiser_ids)
    fill_picker(form.trainer_id)
    if form.organiser_ids.searching or form.trainer_id.searching:
        pass
    elif form.validate_on_submit():
        try:
            with unit_of_work():
                saved = create_event(_event_data(form), current_user) if event is None \
                    else update_event(event, _event_data(form), current_user)
                set_issues_certificate(saved, form.issues_certificate.data)
        except ServiceError as error:
            show_on_form(form, error, default="title")
        else:
            flash(_("The event has been saved."), "saved")
            if event is None:
                return redirect(url_for("events.session_new", event_id=saved.id))
            return redirect(url_for("events.manage_event", event_id=saved.id))
    return render_template("events/manage/event_form.html", form=form, event=event,
                           mine_only=not links_every_course(current_user))


@bp.route("/manage/new", endpoint="create", methods=["GET", "POST"])
@allow(*ORGANISING_ROLES)
def create_page():
    return _edit_event(None)


@bp.route("/manage/<int:event_id>/edit", endpoint="edit", methods=["GET", "POST"])
@allow(AUTHENTICATED)
def edit_page(event_id: int):
    try:
        event = event_for_organiser(event_id, current_user)
    except NotFound:
        abort(404)
    return _edit_event(event)


@bp.route("/manage/<int:event_id>", endpoint="manage_event")
@allow(AUTHENTICATED)
def manage_event_page(event_id: int):
    try:
        event = event_for_organiser(event_id, current_user)
    except NotFound:
        abort(404)
    view = event_view(event.id, current_user)
    return render_template("events/manage/event.html", event=event, view=view, bookings=bookings_of_event(event),
                           audience=AudienceNames.load().describe(event.audience, event.audience_values),
                           form=ActionForm(), now=utcnow())


def _session_data(form: SessionForm) -> SessionData:
    return SessionData(starts_at=form.starts_at.data, ends_at=form.ends_at.data, capacity=form.capacity.data,
                       place=form.place.data or "", online_url=form.online_url.data or "",
                       registration_opens_at=form.registration_opens_at.data,
                       registration_closes_at=form.registration_closes_at.data,
                       cancellation_deadline=form.cancellation_deadline.data)


@bp.route("/manage/<int:event_id>/sessions/new", endpoint="session_new", methods=["GET", "POST"])
@allow(AUTHENTICATED)
def session_new_page(event_id: int):
    try:
        event = event_for_organiser(event_id, current_user)
    except NotFound:
        abort(404)
    form = SessionForm()
    if form.validate_on_submit():
        try:
            with unit_of_work():
                add_session(event, _session_data(form), current_user)
        except ServiceError as error:
            show_on_form(form, error, default="starts_at")
        else:
            flash(_("The session has been added."), "saved")
            return redirect(url_for("events.manage_event", event_id=event.id))
    return render_template("events/manage/session_form.html", form=form, event=event, session=None)


@bp.route("/manage/sessions/<int:session_id>/edit", endpoint="session_edit", methods=["GET", "POST"])
@allow(AUTHENTICATED)
def session_edit_page(session_id: int):
    try:
        session = session_for_organiser(session_id, current_user)
    except NotFound:
        abort(404)
    event = session.event
    form = SessionForm() if request.method == "POST" else SessionForm(obj=session)
    if form.validate_on_submit():
        try:
            with unit_of_work():
                update_session(session.id, _session_data(form), current_user)
        except ServiceError as error:
            show_on_form(form, error, default="starts_at")
        else:
            flash(_("The session has been changed. People with a seat get an updated invitation."), "saved")
            return redirect(url_for("events.manage_event", event_id=event.id))
    return render_template("events/manage/session_form.html", form=form, event=event, session=session)


@bp.route("/manage/sessions/<int:session_id>/cancel", endpoint="session_cancel", methods=["POST"])
@allow(AUTHENTICATED)
def session_cancel_action(session_id: int):
    try:
        event_id = session_for_organiser(session_id, current_user).event_id
    except NotFound:
        abort(404)
    return _action(url_for("events.manage_event", event_id=event_id),
                   lambda: cancel_session(session_id, current_user),
                   _("The session has been cancelled. Everyone booked has been told."))


@bp.route("/manage/<int:event_id>/cancel", endpoint="event_cancel", methods=["GET", "POST"])
@allow(AUTHENTICATED)
def event_cancel_page(event_id: int):
    """Cancel the whole event after a confirmation with a reason; asked again, nothing changes."""
    try:
        event = event_for_organiser(event_id, current_user)
    except NotFound:
        abort(404)
    form = CancelEventForm()
    now = utcnow()
    if event.cancelled_at is None and form.validate_on_submit():
        try:
            with unit_of_work():
                cancelled = cancel_event(event.id, current_user, form.reason.data or "", now)
        except ServiceError as error:
            show_on_form(form, error, default="reason")
        else:
            if cancelled is None:
                flash(_("This event has already been cancelled."), "info")
            else:
                flash(ngettext("The event has been cancelled with %(num)d session. Everyone booked has been told.",
                               "The event has been cancelled with %(num)d sessions. Everyone booked has been told.",
                               cancelled), "success")
            return redirect(url_for("events.manage_event", event_id=event.id))
    elif event.cancelled_at is not None and request.method == "POST":
        flash(_("This event has already been cancelled."), "info")
        return redirect(url_for("events.manage_event", event_id=event.id))
    sessions, told = cancellation_preview(event, now)
    return render_template("events/manage/cancel.html", form=form, event=event, sessions=sessions, told=told)


def _series(form: SlotSeriesForm) -> SlotSeries:
    return SlotSeries(first_day=form.first_day.data, last_day=form.last_day.data, weekdays=form.weekdays.data or [],
                      start=form.start.data, end=form.end.data, slot_minutes=form.slot_minutes.data,
                      pause_minutes=form.pause_minutes.data or 0, place=form.place.data or "",
                      online_url=form.online_url.data or "")


@bp.route("/manage/<int:event_id>/slots", endpoint="slots", methods=["GET", "POST"])
@allow(AUTHENTICATED)
def slots_page(event_id: int):
    """Consultation hours: plan a series of one-seat slots, see them listed, then create them."""
    try:
        event = event_for_organiser(event_id, current_user)
    except NotFound:
        abort(404)
    form = SlotSeriesForm()
    preview = None
    if form.validate_on_submit():
        series = _series(form)
        try:
            if request.form.get("action") == "create":
                with unit_of_work():
                    created = len(add_slots(event, series, current_user))
            else:
                preview = plan_slots(event, series)
        except ServiceError as error:
            show_on_form(form, error, default="first_day")
            preview = None
        else:
            if preview is None:
                flash(ngettext("%(num)d slot has been created.", "%(num)d slots have been created.", created),
                      "saved")
                return redirect(url_for("events.manage_event", event_id=event.id))
    return render_template("events/manage/slots.html", form=form, event=event, preview=preview)


@bp.route("/manage/bookings/<int:booking_id>/admit", endpoint="admit", methods=["POST"])
@allow(AUTHENTICATED)
def admit_action(booking_id: int):
    event_id = _booking_event_id(booking_id)
    return _action(url_for("events.manage_event", event_id=event_id),
                   lambda: booking_service.admit(current_user, booking_id),
                   _("The person has been admitted from the waiting list."))


# Attendance ---------------------------------------------------------------------------------

def _attendance_session(session_id: int):
    try:
        return session_for_organiser(session_id, current_user)
    except NotFound:
        abort(404)


@bp.route("/sessions/<int:session_id>/attendance", endpoint="attendance", methods=["GET", "POST"])
@allow(AUTHENTICATED)
def attendance_page(session_id: int):
    session = _attendance_session(session_id)
    form = ActionForm()
    walk_in = WalkInForm(prefix="walkin", formdata=request.form if "walkin-person-search" in request.form
                         or "walkin-submit" in request.form else None)
    fill_picker(walk_in.person)
    if request.method == "POST" and "attendance" in request.form and form.validate_on_submit():
        states = {}
        for key, value in request.form.items():
            if key.startswith("booking-") and key[8:].isdigit():
                states[int(key[8:])] = value
        try:
            with unit_of_work():
                changed = record_attendance(session.id, states, current_user)
        except ServiceError as error:
            flash(str(error), "warning")
        else:
            flash(_("Attendance saved (%(num)d changed).", num=changed), "success")
            return redirect(url_for("events.attendance", session_id=session.id))
    elif request.method == "POST" and "walkin-submit" in request.form and walk_in.validate_on_submit():
        person = db.session.get(User, walk_in.person.person_id or 0)
        try:
            with unit_of_work():
                add_walk_in(session.id, person, current_user)
        except ServiceError as error:
            show_on_form(walk_in, error, default="person")
        else:
            flash(_("%(name)s has been added as attended.", name=person.full_name), "success")
            return redirect(url_for("events.attendance", session_id=session.id))
    return render_template("events/attendance.html", session=session, event=session.event,
                           bookings=attendance_list(session), form=form, walk_in=walk_in, now=utcnow())


@bp.route("/sessions/<int:session_id>/sign-in-sheet", endpoint="sign_in_sheet")
@allow(AUTHENTICATED)
def sign_in_sheet_page(session_id: int):
    session = _attendance_session(session_id)
    return render_template("events/sign_in_sheet.html", session=session, event=session.event,
                           bookings=attendance_list(session))


@bp.route("/manage/sessions/<int:session_id>/invite", endpoint="invite", methods=["GET", "POST"])
@allow(AUTHENTICATED)
def invite_page(session_id: int):
    """Organisers book people in (an event by invitation, or anyone on request); each booking as if asked."""
    session = _attendance_session(session_id)
    form = InviteForm()
    fill_picker(form.people)
    if not form.people.searching and form.validate_on_submit():
        people = db.session.scalars(select(User).where(User.id.in_(form.people.data or []))).all()
        if not people:
            form.people.errors = [*form.people.errors, _("Please choose a person from the list.")]
        else:
            try:
                with unit_of_work():
                    for person in people:
                        try:
                            booking_service.book(current_user, session.id, person)
                        except ServiceError as error:  # say whom it concerns
                            raise ServiceError(f"{person.full_name}: {error}", "people") from None
            except ServiceError as error:
                show_on_form(form, error, default="people")
            else:
                flash(ngettext("%(num)d person has been booked in.", "%(num)d people have been booked in.",
                               len(people)), "success")
                return redirect(url_for("events.manage_event", event_id=session.event_id))
    return render_template("events/manage/invite.html", form=form, session=session, event=session.event)


from learning.events import certificate_views, sections  # noqa: E402,F401
