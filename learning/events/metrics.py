"""Metric sources of events: registrations, attendance, no-shows and waiting lists per phase and unit.

The dashboards show them next to training completion, with the usual small-group suppression (each
value carries its ``n``); ``phase_table`` puts them side by side per rollout phase for the
programme dashboard. Who attended is never a metric of its own: only counts and rates per unit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from learning.db import db
from learning.events.models import SEAT_STATES, Booking, BookingState, Event, EventSession
from learning.metrics.dashboards import MIN_UNIT_SIZE, Cell
from learning.metrics.models import ALL_PHASES, MetricSnapshot
from learning.metrics.services import METRICS, Metric, Tally, Units, Value, end_of_day, metric_source
from learning.privacy import groups_to_hide

REGISTRATIONS = Metric("events.registrations", _l("Event registrations"), "count", True,
                       _l("Seats booked in sessions of events (confirmed, offered or taken part)."))
ATTENDANCE = Metric("events.attendance", _l("Event attendance"), "percent", True,
                    _l("People who came out of those with a seat in sessions that have taken place and whose "
                       "attendance was recorded (excused absences not counted)."))
NO_SHOW = Metric("events.no_show", _l("Event no-shows"), "percent", False,
                 _l("People who neither came nor excused themselves, out of everyone whose attendance at a past "
                    "session was recorded (the excused included). Unlike the attendance rate, excused absences "
                    "lower it."))
WAITING = Metric("events.waiting", _l("Waiting for a seat"), "count", False,
                 _l("People on the waiting lists of sessions still to come."))


@metric_source(REGISTRATIONS, ATTENDANCE, NO_SHOW, WAITING, order=60)
def event_figures(day: date) -> list[Value]:
    """Three queries: the bookings made by the end of the day with their session and phase, and the units."""
    end = end_of_day(day)
    rows = db.session.execute(
        select(Booking.user_id, Booking.state, EventSession.starts_at, Event.phase_id)
        .join(EventSession, EventSession.id == Booking.session_id).join(Event, Event.id == EventSession.event_id)
        .where(Booking.created_at < end, EventSession.cancelled_at.is_(None))
    ).all()
    units = Units.load()
    tally = Tally()
    for user_id, state, starts_at, phase_id in rows:
        where = units.of_person(user_id)
        if where is None:
            continue
        past = starts_at < end
        recorded = past and state in (BookingState.ATTENDED, BookingState.NO_SHOW)
        tally.count(phase_id, where, seats=int(state in SEAT_STATES), recorded=int(recorded),
                    attended=int(recorded and state == BookingState.ATTENDED),
                    no_show=int(recorded and state == BookingState.NO_SHOW),
                    recorded_all=int(past and state in (BookingState.ATTENDED, BookingState.NO_SHOW,
                                                         BookingState.EXCUSED)),
                    waiting=int(state == BookingState.WAITING and not past))
    return (tally.totals(REGISTRATIONS.key, "seats", "seats") + tally.rates(ATTENDANCE.key, "attended", "recorded")
            + tally.rates(NO_SHOW.key, "no_show", "recorded_all") + tally.totals(WAITING.key, "waiting", "seats"))


# The programme dashboard's table per phase ----------------------------------------------------

# Training completion first: attendance is read next to it.
PHASE_TABLE_METRICS = ("training.completion", REGISTRATIONS.key, ATTENDANCE.key, NO_SHOW.key, WAITING.key)


@dataclass
class PhaseRow:
    phase: object  # a RolloutPhase
    cells: dict[str, Cell] = field(default_factory=dict)


def phase_table(day: date, phases: list, unit: tuple[str, int]) -> tuple[list[Metric], list[PhaseRow]]:
    """Training completion and the event figures of one unit per rollout phase, as of ``day`` (one query).

    A phase's figure resting on fewer than ``MIN_UNIT_SIZE`` people is hidden, and so is the
    next-smallest sibling (the events and courses of no phase count as one more sibling), so no
    hidden figure can be worked out from the programme's total.
    """
    metrics = [METRICS[key] for key in PHASE_TABLE_METRICS if key in METRICS]
    rows = {phase.id: PhaseRow(phase) for phase in phases}
    total: dict[str, int] = {}
    for metric, phase_key, value, n in db.session.execute(
        select(MetricSnapshot.metric, MetricSnapshot.phase_key, MetricSnapshot.value, MetricSnapshot.n)
        .where(MetricSnapshot.day == day, MetricSnapshot.unit_kind == unit[0], MetricSnapshot.unit_id == unit[1],
               MetricSnapshot.metric.in_([m.key for m in metrics]))
    ):
        if phase_key == ALL_PHASES:
            total[metric] = n
        elif phase_key in rows:
            rows[phase_key].cells[metric] = Cell(value, n)
    for metric in metrics:
        cells = [row.cells[metric.key] for row in rows.values() if metric.key in row.cells]
        rest = max(0, total.get(metric.key, 0) - sum(cell.n for cell in cells))
        for index in groups_to_hide([cell.n for cell in cells] + [rest], MIN_UNIT_SIZE):
            if index < len(cells):
                cells[index].hidden = True
    return metrics, list(rows.values())
