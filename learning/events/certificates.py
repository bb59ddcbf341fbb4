"""Certificates of attendance: issued and withdrawn with the attendance, shown to the person, checked by anyone.

An event that issues certificates (``Event.issues_certificate``) gives everyone recorded as having
attended one of its sessions an ``AttendanceCertificate``; correcting the attendance so that the
person attended no session withdraws it. Its code comes from the same generator as the course
certificates' (``learning.training.certificates``) and is unique across all certificates, so the
public check (``/events/verify/<code>``) needs nothing but the code and a wrong code reveals nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from learning.db import db, utcnow
from learning.events.models import AttendanceCertificate, Booking, BookingState, Event, EventSession
from learning.org.models import User
from learning.training.certificates import new_verification_code, normalise_code


def new_certificate_code() -> str:
    """A code no course certificate and no certificate of attendance has (the course certificates' generator)."""
    while True:
        code = new_verification_code()
        if db.session.scalar(select(AttendanceCertificate.id)
                             .where(AttendanceCertificate.verification_code == code)) is None:
            return code


def attended_user_ids(event_id: int, user_ids: Iterable[int] | None = None) -> set[int]:
    """The people recorded as having attended a session of the event (one query)."""
    query = (select(Booking.user_id).join(EventSession, EventSession.id == Booking.session_id)
             .where(EventSession.event_id == event_id, Booking.state == BookingState.ATTENDED.value))
    if user_ids is not None:
        query = query.where(Booking.user_id.in_(list(user_ids)))
    return set(db.session.scalars(query))


def sync_certificates(event: Event, user_ids: Iterable[int] | None = None, now: datetime | None = None) -> int:
    """Issue or withdraw the certificates of these people (everyone with attendance: None) after a change.

    Issued only while the event issues certificates; withdrawn whenever the person attended no
    session of the event any more. Returns how many were issued or withdrawn; flushes.
    """
    wanted = None if user_ids is None else set(user_ids)
    if wanted is not None and not wanted:
        return 0
    attended = attended_user_ids(event.id, wanted)
    query = select(AttendanceCertificate).where(AttendanceCertificate.event_id == event.id)
    if wanted is not None:
        query = query.where(AttendanceCertificate.user_id.in_(wanted))
    existing = {c.user_id: c for c in db.session.scalars(query)}
    changed = 0
    withdrawn = [c.id for user_id, c in existing.items() if user_id not in attended]
    if withdrawn:
        for certificate in existing.values():
            if certificate.id in withdrawn:
                db.session.delete(certificate)
        changed += len(withdrawn)
    if event.issues_certificate:
        for user_id in sorted(attended - set(existing)):
            db.session.add(AttendanceCertificate(user_id=user_id, event_id=event.id, issued_at=now or utcnow(),
                                                 verification_code=new_certificate_code()))
            changed += 1
    db.session.flush()
    return changed


def set_issues_certificate(event: Event, issues: bool) -> int:
    """Turn certificates of attendance on or off; turned on, everyone who already attended gets theirs.

    Turning them off issues no new ones; those issued stay valid (they were true when issued). The
    change is part of saving the event (audited there as ``event.updated``).
    """
    issues = bool(issues)
    if event.issues_certificate == issues:
        return 0
    event.issues_certificate = issues
    db.session.flush()
    return sync_certificates(event) if issues else 0


# Showing and checking -----------------------------------------------------------------------

@dataclass
class CertificateView:
    certificate: AttendanceCertificate
    sessions: list[EventSession]  # the sessions the person attended, in order

    @property
    def minutes(self) -> int:
        return sum(max(int((s.ends_at - s.starts_at).total_seconds() // 60), 0) for s in self.sessions)

    @property
    def days(self) -> list:
        """The calendar days of the attended sessions (local time), each once, in order."""
        from flask_babel import to_user_timezone

        seen = []
        for session in self.sessions:
            day = to_user_timezone(session.starts_at).date()
            if day not in seen:
                seen.append(day)
        return seen


def certificate_by_code(code: str) -> CertificateView | None:
    """The certificate with this code, with person, event and the attended sessions (two queries; none if malformed)."""
    code = normalise_code(code or "")
    if not code or len(code) > 20:
        return None
    certificate = db.session.scalar(
        select(AttendanceCertificate).where(AttendanceCertificate.verification_code == code)
        .options(joinedload(AttendanceCertificate.user), joinedload(AttendanceCertificate.event)))
    if certificate is None:
        return None
    sessions = list(db.session.scalars(
        select(EventSession).join(Booking, Booking.session_id == EventSession.id)
        .where(EventSession.event_id == certificate.event_id, Booking.user_id == certificate.user_id,
               Booking.state == BookingState.ATTENDED.value)
        .order_by(EventSession.starts_at)))
    return CertificateView(certificate, sessions)


def certificates_of(user: User) -> list[AttendanceCertificate]:
    """The person's certificates of attendance with their events, newest first (one query)."""
    return list(db.session.scalars(
        select(AttendanceCertificate).where(AttendanceCertificate.user_id == user.id)
        .options(joinedload(AttendanceCertificate.event))
        .order_by(AttendanceCertificate.issued_at.desc(), AttendanceCertificate.id.desc())))
