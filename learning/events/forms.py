"""Forms of events: the event, a session, a decision on a request, booking on behalf, attendance."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, Field, IntegerField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import TextInput

from learning.events.models import KIND_LABELS, EventKind, Registration, WaitingList
from learning.events.planning import (
    MAX_CAPACITY,
    MAX_DESCRIPTION,
    MAX_NAME,
    MAX_PAUSE,
    MAX_PLACE,
    MAX_REASON,
    MAX_SLOT,
    MAX_SLOTS,
    MAX_TITLE,
    MAX_URL,
    MIN_SLOT,
)
from learning.forms import ActionForm, CheckboxesField, DayField, RenderableMarkdown  # noqa: F401
from learning.guards import day_in_range
from learning.org.forms import AudienceFields, PersonPickerField, audience_choice

CLOCK = re.compile(r"(\d{1,2})[:.](\d{2})(?::\d{2})?(?:\s*Uhr)?", re.ASCII)
GERMAN = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4}),?\s+(\d{1,2})[:.](\d{2})", re.ASCII)


def _optional_int(value):
    return int(value) if value not in (None, "", "None") else None


def parse_moment(text: str, zone: str) -> datetime:
    """A ``datetime-local`` value (``2027-03-31T09:00``) or a German ``31.03.2027 09:00``, local time, as aware UTC.

    Raise ValueError with a message for the form when it is neither or outside the platform's dates.
    """
    text = (text or "").strip()
    local = None
    if match := GERMAN.fullmatch(text):
        try:
            local = datetime(int(match[3]), int(match[2]), int(match[1]), int(match[4]), int(match[5]))
        except ValueError:
            local = None
    else:
        for fmt in ("%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"):
            try:
                local = datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
    if local is None or not day_in_range(local.date()):
        raise ValueError(_l("Enter a date and time such as 31.03.2027 09:00."))
    return local.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)


class MomentField(Field):
    """A date and time (``type="datetime-local"``) in the organisation's time zone; ``data`` is aware UTC."""

    widget = TextInput()

    def __init__(self, label=None, validators=None, **kwargs):
        render_kw = {"type": "datetime-local", **(kwargs.pop("render_kw", None) or {})}
        super().__init__(label, validators, render_kw=render_kw, **kwargs)

    def process_formdata(self, valuelist):
        text = (valuelist[0] if valuelist else "").strip()
        self.raw_data = [text]
        if not text:
            self.data = None
            return
        try:
            self.data = parse_moment(text, current_app.config["TIMEZONE"])
        except ValueError:
            self.data = None
            raise

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        if isinstance(self.data, datetime):
            return self.data.astimezone(ZoneInfo(current_app.config["TIMEZONE"])).strftime("%Y-%m-%dT%H:%M")
        return ""


class EventForm(AudienceFields, FlaskForm):
    audience_phase_field = "phase_id"

    kind = RadioField(_l("Kind of event"), default=EventKind.INFORMATION.value,
                      choices=[(k.value, KIND_LABELS[k]) for k in EventKind],
                      validators=[DataRequired(message=_l("Please choose the kind of event."))])
    title = StringField(_l("Title"), validators=[
        DataRequired(message=_l("Please enter a title.")),
        Length(max=MAX_TITLE, message=_l("The title may have at most %(max)d characters.", max=MAX_TITLE))])
    description = TextAreaField(
        _l("Description"),
        validators=[Length(max=MAX_DESCRIPTION, message=_l("The text may have at most %(max)d characters.",
                                                           max=MAX_DESCRIPTION)), RenderableMarkdown()],
        description=_l("Markdown: **bold**, *italic*, lists with -, links as [text](https://…)."),
        render_kw={"rows": 8})
    audience = audience_choice(_l("Who the event is for"), message=_l("Please choose who the event is for."))
    phase_id = SelectField(_l("Rollout phase"), coerce=_optional_int,
                           description=_l("The event belongs to this phase; for the audience “The departments "
                                          "affected by a rollout phase”, its departments are invited."))
    registration = RadioField(
        _l("Registration"), default=Registration.OPEN.value,
        choices=[(Registration.OPEN.value, _l("Open: everyone in the audience books for themselves")),
                 (Registration.INVITATION.value, _l("By invitation: organisers and managers book people in"))],
        validators=[DataRequired(message=_l("Please choose how people register."))])
    approval_required = BooleanField(_l("A manager of the person's team must approve each booking"))
    waiting_list = RadioField(
        _l("Waiting list"), default=WaitingList.AUTOMATIC.value,
        choices=[(WaitingList.AUTOMATIC.value, _l("Automatic: a freed seat is offered to the first person "
                                                  "waiting")),
                 (WaitingList.MANUAL.value, _l("Manual: the organisers admit people from the waiting list"))],
        validators=[DataRequired(message=_l("Please choose how the waiting list works."))])
    organiser_ids = PersonPickerField(_l("Organisers"),
                                      description=_l("They see the bookings and take attendance."))
    trainer_id = PersonPickerField(_l("Trainer on the platform"), multiple=False)
    trainer_name = StringField(_l("Or an external trainer"), validators=[
        Length(max=MAX_NAME, message=_l("The name may have at most %(max)d characters.", max=MAX_NAME))])
    # Checked by the service (an author may link only the courses they edit), with a message on the field.
    course_id = SelectField(_l("Linked course"), coerce=_optional_int, validate_choice=False)
    completes_course = BooleanField(_l("Attending a session completes the linked course"))
    issues_certificate = BooleanField(_l("Attending a session earns a certificate of attendance"))

    def set_choices(self, phases, courses, departments, teams, locale: str) -> None:
        english = locale == "en"
        self.phase_id.choices = [("", _l("Whole programme"))] + [
            (p.id, (p.title_en or p.title) if english else p.title) for p in phases]
        self.course_id.choices = [("", _l("No course"))] + [
            (c.id, (c.title_en or c.title) if english else c.title) for c in courses]
        self.set_audience_choices(departments, teams)


class SessionForm(FlaskForm):
    starts_at = MomentField(_l("Starts"), validators=[InputRequired(message=_l("Please enter when the session "
                                                                              "starts."))],
                            description=_l("Local time, e.g. 31.03.2027 09:00."))
    ends_at = MomentField(_l("Ends"), validators=[InputRequired(message=_l("Please enter when the session ends."))],
                          description=_l("A session may last several days."))
    place = StringField(_l("Place (room)"), validators=[
        Length(max=MAX_PLACE, message=_l("The place may have at most %(max)d characters.", max=MAX_PLACE))])
    online_url = StringField(_l("Online link"), validators=[
        Length(max=MAX_URL, message=_l("The link may have at most %(max)d characters.", max=MAX_URL))],
        description=_l("Shown only to people with a booked seat."), render_kw={"inputmode": "url"})
    capacity = IntegerField(_l("Seats"), validators=[
        DataRequired(message=_l("Enter a capacity from 1 to %(max)d.", max=MAX_CAPACITY)),
        NumberRange(min=1, max=MAX_CAPACITY, message=_l("Enter a capacity from 1 to %(max)d.", max=MAX_CAPACITY))],
        description=_l("Consultation hours: one seat per slot."), render_kw={"inputmode": "numeric"})
    registration_opens_at = MomentField(_l("Registration opens"), validators=[Optional()],
                                        description=_l("Empty: at once."))
    registration_closes_at = MomentField(_l("Registration closes"), validators=[Optional()],
                                         description=_l("Empty: when the session starts."))
    cancellation_deadline = MomentField(_l("Cancellation possible until"), validators=[Optional()],
                                        description=_l("Empty: until the session starts."))


class DecisionForm(FlaskForm):
    decision = RadioField(_l("Decision"), choices=[("approve", _l("Approve")), ("decline", _l("Decline"))],
                          validators=[DataRequired(message=_l("Please choose approve or decline."))])
    reason = TextAreaField(_l("Reason"), validators=[Length(max=500)], render_kw={"rows": 2},
                           description=_l("Required when you decline; the person reads it."))


class BookForForm(FlaskForm):
    person_id = SelectField(_l("Team member"), coerce=_optional_int,
                            validators=[DataRequired(message=_l("Please choose a person from the list."))])


class DeputyForm(FlaskForm):
    deputy = PersonPickerField(_l("New deputy"), multiple=False, description=_l(
        "They approve or decline your team's booking requests like you, and see nothing else of your team."))


class WalkInForm(FlaskForm):
    person = PersonPickerField(_l("Person who came without a booking"), multiple=False)


class InviteForm(FlaskForm):
    people = PersonPickerField(_l("People to book in"),
                               description=_l("They get a confirmation with an invitation for their calendar."))


class ClockField(Field):
    """A time of day (``type="time"``); also as people type it: ``14:00``, ``14.00``, ``14.00 Uhr``."""

    widget = TextInput()

    def __init__(self, label=None, validators=None, **kwargs):
        render_kw = {"type": "time", **(kwargs.pop("render_kw", None) or {})}
        super().__init__(label, validators, render_kw=render_kw, **kwargs)

    def process_formdata(self, valuelist):
        text = (valuelist[0] if valuelist else "").strip()
        self.raw_data = [text]
        self.data = None
        if not text:
            return
        match = CLOCK.fullmatch(text)
        if match is None or int(match[1]) > 23 or int(match[2]) > 59:
            raise ValueError(_l("Enter a time such as 14:00."))
        self.data = time(int(match[1]), int(match[2]))

    def _value(self):
        if self.data is not None:
            return self.data.strftime("%H:%M")
        return self.raw_data[0] if self.raw_data else ""


WEEKDAYS = [(0, _l("Monday")), (1, _l("Tuesday")), (2, _l("Wednesday")), (3, _l("Thursday")),
            (4, _l("Friday")), (5, _l("Saturday")), (6, _l("Sunday"))]


class SlotSeriesForm(FlaskForm):
    """Consultation hours as a series of one-seat slots: days, weekdays, from–to, slot length and pause."""

    first_day = DayField(_l("Day (or first day)"),
                         validators=[InputRequired(message=_l("Please enter the day of the consultation hours."))],
                         description=_l("E.g. 14.12.2026."))
    last_day = DayField(_l("Last day"), validators=[Optional()],
                        description=_l("Empty: the first day only. With a last day, the chosen weekdays "
                                       "in between."))
    weekdays = CheckboxesField(_l("Weekdays"), coerce=int, choices=WEEKDAYS, default=[0, 1, 2, 3, 4],
                               description=_l("Only for a series of several days."))
    start = ClockField(_l("From"), validators=[InputRequired(message=_l("Please enter when the consultation "
                                                                        "hours begin."))],
                       description=_l("Local time, e.g. 14:00."))
    end = ClockField(_l("To"), validators=[InputRequired(message=_l("Please enter when the consultation hours "
                                                                    "end."))],
                     description=_l("The last slot ends by then."))
    slot_minutes = IntegerField(
        _l("Slot length in minutes"), default=15,
        validators=[InputRequired(message=_l("Enter a slot length from %(min)d to %(max)d minutes.",
                                             min=MIN_SLOT, max=MAX_SLOT)),
                    NumberRange(min=MIN_SLOT, max=MAX_SLOT,
                                message=_l("Enter a slot length from %(min)d to %(max)d minutes.",
                                           min=MIN_SLOT, max=MAX_SLOT))],
        render_kw={"inputmode": "numeric"})
    pause_minutes = IntegerField(
        _l("Pause between slots in minutes"), default=0,
        validators=[Optional(), NumberRange(min=0, max=MAX_PAUSE, message=_l("Enter a pause from 0 to %(max)d "
                                                                            "minutes.", max=MAX_PAUSE))],
        render_kw={"inputmode": "numeric"})
    place = StringField(_l("Place (room)"), validators=[
        Length(max=MAX_PLACE, message=_l("The place may have at most %(max)d characters.", max=MAX_PLACE))])
    online_url = StringField(_l("Online link"), validators=[
        Length(max=MAX_URL, message=_l("The link may have at most %(max)d characters.", max=MAX_URL))],
        description=_l("Shown only to people with a booked seat."), render_kw={"inputmode": "url"})

    max_slots = MAX_SLOTS


class CancelEventForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), render_kw={"rows": 3},
                           validators=[DataRequired(message=_l("Please give a reason for the cancellation.")),
                                       Length(max=MAX_REASON, message=_l("The reason may have at most %(max)d "
                                                                         "characters.", max=MAX_REASON))],
                           description=_l("Told to everyone booked in the cancellation mail; kept with the cancelled "
                                          "bookings and in the audit log."))
