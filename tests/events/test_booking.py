"""Booking services: seats, waiting list, offers, approval, cancellation deadlines, never overbooked."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from learning.db import db, unit_of_work, utcnow
from learning.errors import NotAllowed, NotFound, ServiceError
from learning.events import booking as service
from learning.events.models import Booking, EventMail
from learning.org.models import User
from learning.roles import Role

EN = {"Accept-Language": "en"}


def _user(user_id):
    return db.session.get(User, user_id)


def _book(app, user, session_id, person=None, now=None):
    with app.test_request_context(headers=EN), unit_of_work():
        result = service.book(_user(user.id), session_id, _user(person.id) if person else None, now=now)
        return result.id, result.state


def _states(app, session_id):
    with app.app_context():
        return dict(db.session.execute(select(Booking.user_id, Booking.state)
                                       .where(Booking.session_id == session_id)).all())


def test_booking_confirms_while_seats_are_free_then_queues(app, make_event, make_user):
    _, (session_id,) = make_event(capacity=2)
    first, second, third = make_user(), make_user(), make_user()
    assert _book(app, first, session_id)[1] == "confirmed"
    assert _book(app, second, session_id)[1] == "confirmed"
    assert _book(app, third, session_id)[1] == "waiting"


def test_booking_twice_is_refused_with_a_message(app, make_event, make_user):
    _, (session_id,) = make_event()
    person = make_user()
    _book(app, person, session_id)
    with pytest.raises(ServiceError, match="already booked"):
        _book(app, person, session_id)


def test_a_person_outside_the_audience_cannot_book(app, make_event, make_user, make_team):
    team, other = make_team(), make_team()
    _, (session_id,) = make_event(audience="teams", values=[team.id])
    inside, outside = make_user(team=team), make_user(team=other)
    assert _book(app, inside, session_id)[1] == "confirmed"
    with pytest.raises(ServiceError, match="not offered to you"):
        _book(app, outside, session_id)
    assert outside.id not in _states(app, session_id)


def test_registration_window_is_respected(app, make_event, make_user):
    _, (session_id,) = make_event(days=1)
    with app.app_context():
        from learning.events.models import EventSession

        session = db.session.get(EventSession, session_id)
        session.registration_closes_at = utcnow() - timedelta(hours=1)
        db.session.commit()
    with pytest.raises(ServiceError, match="not open"):
        _book(app, make_user(), session_id)


def test_invitation_only_refuses_self_booking_but_organiser_books_people_in(app, make_event, make_user):
    organiser = make_user(roles={Role.PROJECT_GROUP})
    _, (session_id,) = make_event(registration="invitation")
    person = make_user()
    with pytest.raises(ServiceError, match="invitation only"):
        _book(app, person, session_id)
    assert _book(app, organiser, session_id, person=person)[1] == "confirmed"


def test_tampered_session_id_is_not_found(app, make_user):
    with pytest.raises(NotFound):
        _book(app, make_user(), 999_999)


def test_cancelling_frees_the_seat_for_the_first_waiting_person_as_an_offer(app, make_event, make_user):
    _, (session_id,) = make_event(capacity=1)
    first, second, third = make_user(), make_user(), make_user()
    booking_id, _ = _book(app, first, session_id)
    _book(app, second, session_id)
    _book(app, third, session_id)
    with app.test_request_context(headers=EN), unit_of_work():
        service.cancel(_user(first.id), booking_id)
    states = _states(app, session_id)
    assert states == {first.id: "cancelled", second.id: "offered", third.id: "waiting"}
    with app.app_context():
        offer = db.session.scalar(select(Booking).where(Booking.user_id == second.id))
        assert offer.offered_until - utcnow() > timedelta(hours=47)
        assert offer.cancelled_by_id is None
        cancelled = db.session.scalar(select(Booking).where(Booking.user_id == first.id))
        assert cancelled.cancelled_by_id == first.id and cancelled.cancelled_at is not None
    with app.test_request_context(headers=EN), unit_of_work():
        service.accept_offer(_user(second.id), offer.id)
    assert _states(app, session_id)[second.id] == "confirmed"


def test_a_lapsed_offer_goes_to_the_next_person(app, make_event, make_user):
    _, (session_id,) = make_event(capacity=1)
    first, second, third = make_user(), make_user(), make_user()
    booking_id, _ = _book(app, first, session_id)
    _book(app, second, session_id)
    _book(app, third, session_id)
    with app.test_request_context(headers=EN), unit_of_work():
        service.cancel(_user(first.id), booking_id)
    with app.test_request_context(headers=EN), unit_of_work():
        assert service.expire_offers(utcnow() + timedelta(hours=49)) == 1
    states = _states(app, session_id)
    assert states[second.id] == "cancelled" and states[third.id] == "offered"


def test_manual_waiting_list_waits_for_the_organiser(app, make_event, make_user):
    organiser = make_user(roles={Role.PROJECT_GROUP})
    _, (session_id,) = make_event(capacity=1, waiting_list="manual")
    first, second = make_user(), make_user()
    booking_id, _ = _book(app, first, session_id)
    waiting_id, _ = _book(app, second, session_id)
    with app.test_request_context(headers=EN), unit_of_work():
        service.cancel(_user(first.id), booking_id)
    assert _states(app, session_id)[second.id] == "waiting"
    with app.test_request_context(headers=EN), unit_of_work():
        service.admit(_user(organiser.id), waiting_id)
    assert _states(app, session_id)[second.id] == "confirmed"


def test_cancellation_deadline_binds_the_person_not_the_organiser(app, make_event, make_user):
    organiser = make_user(roles={Role.PROJECT_GROUP})
    _, (session_id,) = make_event(days=2, cancellation_days=3)
    person = make_user()
    booking_id, _ = _book(app, person, session_id)
    with pytest.raises(ServiceError, match="deadline"), app.test_request_context(headers=EN), unit_of_work():
        service.cancel(_user(person.id), booking_id)
    with app.test_request_context(headers=EN), unit_of_work():
        service.cancel(_user(organiser.id), booking_id)
    assert _states(app, session_id)[person.id] == "cancelled"


def test_approval_by_a_manager_of_the_team_only(app, make_event, make_user, make_team):
    manager, other_manager = make_user(roles={Role.MANAGER}), make_user(roles={Role.MANAGER})
    team = make_team(managers=[manager])
    make_team(managers=[other_manager])
    _, (session_id,) = make_event(approval=True, capacity=1)
    person, later = make_user(team=team), make_user(team=team)
    booking_id, state = _book(app, person, session_id)
    assert state == "requested"
    with pytest.raises(NotFound), app.test_request_context(headers=EN), unit_of_work():
        service.decide(_user(other_manager.id), booking_id, True)
    with app.test_request_context(headers=EN), unit_of_work():
        assert [b.id for b in service.pending_for_manager(_user(manager.id))] == [booking_id]
        assert service.pending_for_manager(_user(other_manager.id)) == []
    with app.test_request_context(headers=EN), unit_of_work():
        service.decide(_user(manager.id), booking_id, True)
    assert _states(app, session_id)[person.id] == "confirmed"
    later_id, _ = _book(app, later, session_id)
    with pytest.raises(ServiceError, match="reason"), app.test_request_context(headers=EN), unit_of_work():
        service.decide(_user(manager.id), later_id, False, "")
    with app.test_request_context(headers=EN), unit_of_work():
        service.decide(_user(manager.id), later_id, True)
    assert _states(app, session_id)[later.id] == "waiting"  # approved, but the session is full


def test_decline_keeps_reason_and_who(app, make_event, make_user, make_team):
    manager = make_user(roles={Role.MANAGER})
    team = make_team(managers=[manager])
    _, (session_id,) = make_event(approval=True)
    person = make_user(team=team)
    booking_id, _ = _book(app, person, session_id)
    with app.test_request_context(headers=EN), unit_of_work():
        service.decide(_user(manager.id), booking_id, False, "Dienstbetrieb")
    with app.app_context():
        booking = db.session.get(Booking, booking_id)
        assert (booking.state, booking.reason, booking.decided_by_id) == ("declined", "Dienstbetrieb", manager.id)


def test_manager_books_on_behalf_of_team_member_only(app, make_event, make_user, make_team):
    manager = make_user(roles={Role.MANAGER})
    team = make_team(managers=[manager])
    _, (session_id,) = make_event(approval=True)
    member, stranger = make_user(team=team), make_user(team=make_team())
    booking_id, state = _book(app, manager, session_id, person=member)
    assert state == "confirmed"  # booking on behalf approves it
    with app.app_context():
        assert db.session.get(Booking, booking_id).booked_by_id == manager.id
    with pytest.raises(NotAllowed):
        _book(app, manager, session_id, person=stranger)


def test_mails_are_queued_with_growing_sequence(app, make_event, make_user):
    _, (session_id,) = make_event()
    person = make_user()
    booking_id, _ = _book(app, person, session_id)
    with app.test_request_context(headers=EN), unit_of_work():
        service.cancel(_user(person.id), booking_id)
    with app.app_context():
        mails = db.session.execute(select(EventMail.kind, EventMail.method, EventMail.sequence, EventMail.status)
                                   .order_by(EventMail.id)).all()
    assert [(k, m, s) for k, m, s, _ in mails] == [("confirmed", "REQUEST", 0), ("cancelled", "CANCEL", 1)]
    assert all(status == "sent" for *_, status in mails)  # captured: no SMTP server configured


@pytest.mark.parametrize("capacity", [1, 3])
def test_never_overbooked_under_concurrent_bookings(app, make_event, make_user, capacity):
    """Twelve people ask for the seats at the same moment, each in a thread with its own connection."""
    _, (session_id,) = make_event(capacity=capacity)
    people = [make_user() for _ in range(12)]
    start = threading.Barrier(len(people))
    errors = []

    def book(person):
        try:
            with app.app_context():
                start.wait()
                with unit_of_work():
                    service.book(_user(person.id), session_id)
        except Exception as exc:  # noqa: BLE001  (collected and asserted below)
            errors.append(exc)

    threads = [threading.Thread(target=book, args=(p,)) for p in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with app.app_context():
        counts = dict(db.session.execute(select(Booking.state, func.count()).where(Booking.session_id == session_id)
                                         .group_by(Booking.state)).all())
    assert counts == {"confirmed": capacity, "waiting": 12 - capacity}


def test_concurrent_cancel_and_book_never_overbook(app, make_event, make_user):
    _, (session_id,) = make_event(capacity=1)
    holder = make_user()
    booking_id, _ = _book(app, holder, session_id)
    people = [make_user() for _ in range(6)]
    start = threading.Barrier(len(people) + 1)
    errors = []

    def book(person):
        try:
            with app.app_context():
                start.wait()
                with unit_of_work():
                    service.book(_user(person.id), session_id)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    def cancel():
        try:
            with app.test_request_context(headers=EN):
                start.wait()
                with unit_of_work():
                    service.cancel(_user(holder.id), booking_id)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=book, args=(p,)) for p in people] + [threading.Thread(target=cancel)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    states = list(_states(app, session_id).values())
    assert sum(s in ("confirmed", "offered") for s in states) == 1
