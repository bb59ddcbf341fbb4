"""Demo events: the E-Akte kick-off (two sessions, one full with a waiting list), a hands-on workshop that
needs a manager's approval (anna's request waits for mara), and the change agents' consultation hours
next week. Bookings are written as rows: the demo sends no invitations."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select

from learning.db import db, utcnow
from learning.events.models import Booking, Event, EventSession
from learning.org.models import Department, Team, User
from learning.phases.models import RolloutPhase


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    return datetime.combine(day, time(hour, minute), tzinfo=zone).astimezone(UTC)


def _weekday(day: date, offset_days: int) -> date:
    """The first working day from ``day + offset_days`` on."""
    day = day + timedelta(days=offset_days)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def load_events(today: date, phases: dict[str, RolloutPhase]) -> dict[str, int]:
    paul = db.session.scalar(select(User).where(User.username == "paul"))
    anna = db.session.scalar(select(User).where(User.username == "anna"))
    phase = phases.get("e-akte")
    if paul is None or anna is None or phase is None:
        return {"events": 0}
    now = utcnow()
    affected = list(db.session.scalars(
        select(User).join(Team, Team.id == User.team_id).join(Department, Department.id == Team.department_id)
        .where(Department.id.in_([d.id for d in phase.departments]), User.active.is_(True), User.id != anna.id)
        .order_by(User.id)))

    kickoff = Event(kind="information", title="Auftakt E-Akte: Was ändert sich für mich?",
                    description="Die Projektgruppe stellt die **E-Akte** vor: Zeitplan, Posteingang mit Scan, "
                                "Ablage und Fragen aus den Fachbereichen.\n\n- Dauer: 90 Minuten\n"
                                "- Fragen vorab gern über das Feedback der Phase",
                    phase_id=phase.id, audience="phase", audience_values=[phase.id], registration="open",
                    approval_required=False, waiting_list="automatic", created_by_id=paul.id,
                    trainer_name="Projektgruppe Digitalisierung")
    kickoff.organisers = [paul]
    first_day, second_day = _weekday(today, 3), _weekday(today, 8)
    full = EventSession(starts_at=_at(first_day, 9), ends_at=_at(first_day, 10, 30), capacity=8,
                        place="Ratssaal, Rathaus 1. OG", online_url="https://video.musterhausen.example/auftakt",
                        cancellation_deadline=_at(first_day - timedelta(days=1), 12))
    open_session = EventSession(starts_at=_at(second_day, 14), ends_at=_at(second_day, 15, 30), capacity=20,
                                place="Ratssaal, Rathaus 1. OG",
                                online_url="https://video.musterhausen.example/auftakt")
    kickoff.sessions = [full, open_session]

    workshop = Event(kind="workshop", title="E-Akte praktisch: Posteingang und Ablage",
                     description="Üben Sie am Schulungsrechner: Post scannen, zuordnen, ablegen und weiterleiten.",
                     phase_id=phase.id, audience="phase", audience_values=[phase.id], registration="open",
                     approval_required=True, waiting_list="manual", created_by_id=paul.id,
                     trainer_name="Frau Berger (Hersteller der E-Akte)")
    workshop.organisers = [paul]
    workshop_day = _weekday(today, 10)
    workshop_session = EventSession(starts_at=_at(workshop_day, 9), ends_at=_at(workshop_day, 12), capacity=10,
                                    place="Schulungsraum 0.14",
                                    cancellation_deadline=_at(workshop_day - timedelta(days=2), 12))
    workshop.sessions = [workshop_session]

    consultation = Event(kind="consultation", title="Sprechstunde der Change Agents",
                         description="Kurze Fragen zur E-Akte? Buchen Sie ein Zeitfenster von 30 Minuten.",
                         phase_id=phase.id, audience="everyone", audience_values=[], registration="open",
                         approval_required=False, waiting_list="automatic", created_by_id=paul.id)
    consultation.organisers = [paul]
    monday = today + timedelta(days=7 - today.weekday())
    for day in (monday, monday + timedelta(days=2)):
        for hour, minute in ((10, 0), (10, 30), (11, 0), (11, 30)):
            start = _at(day, hour, minute)
            consultation.sessions.append(EventSession(starts_at=start, ends_at=start + timedelta(minutes=30),
                                                      capacity=1, place="Büro 2.07",
                                                      online_url="https://video.musterhausen.example/sprechstunde"))
    db.session.add_all([kickoff, workshop, consultation])
    db.session.flush()

    bookings = []
    for n, person in enumerate(affected[:11]):  # eight seats, three waiting
        waiting = n >= full.capacity
        bookings.append(Booking(session_id=full.id, user_id=person.id, state="waiting" if waiting else "confirmed",
                                created_at=now - timedelta(hours=48 - n), approved=True,
                                queued_at=now - timedelta(hours=48 - n) if waiting else None))
    for person in affected[11:16]:
        bookings.append(Booking(session_id=open_session.id, user_id=person.id, state="confirmed",
                                created_at=now - timedelta(hours=20), approved=True))
    bookings.append(Booking(session_id=open_session.id, user_id=anna.id, state="confirmed",
                            created_at=now - timedelta(hours=30), approved=True))
    bookings.append(Booking(session_id=workshop_session.id, user_id=anna.id, state="requested",
                            created_at=now - timedelta(hours=5)))
    bookings.append(Booking(session_id=consultation.sessions[0].id, user_id=affected[16].id, state="confirmed",
                            created_at=now - timedelta(hours=3), approved=True))
    db.session.add_all(bookings)
    db.session.commit()
    return {"events": 3, "event_sessions": 3 + len(consultation.sessions), "event_bookings": len(bookings)}
