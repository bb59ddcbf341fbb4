"""Manager approval: deputies named by a manager decide like the manager; managers and deputies are told of requests."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import delete, func, select

from learning.audit.models import AuditEntry
from learning.audit.words import describe
from learning.db import db, unit_of_work, utcnow
from learning.events import booking as service
from learning.events.invitations import compose
from learning.events.models import ApprovalDeputy, Booking, EventMail
from learning.messaging.models import Outbox
from learning.messaging.reminders import optional_kinds, plan_reminders
from learning.notifications.models import Notification
from learning.notifications.services import notification_page, unread_count
from learning.org.models import User, team_manager
from learning.roles import Role

EN = {"Accept-Language": "en"}
KIND = service.APPROVAL_KIND


def _user(user_id):
    return db.session.get(User, user_id)


def _book(app, person, session_id):
    with app.test_request_context(headers=EN), unit_of_work():
        booking = service.book(_user(person.id), session_id)
        return booking.id


def _name(app, manager, deputy):
    with app.app_context():
        db.session.add(ApprovalDeputy(manager_id=manager.id, deputy_id=deputy.id))
        db.session.commit()


def _booking(app, booking_id) -> Booking:
    with app.app_context():
        booking = db.session.get(Booking, booking_id)
        db.session.expunge(booking)
        return booking


@pytest.fixture
def unit(make_user, make_team):
    """A team with its manager, a member, and a deputy of the manager from another team (no manager role)."""
    manager = make_user("lead", roles={Role.MANAGER}, first_name="Mara", last_name="Leitung")
    team = make_team(managers=[manager])
    member = make_user("member", team=team, first_name="Anna", last_name="Mitglied")
    deputy = make_user("deputy", team=make_team(), first_name="Dora", last_name="Vertretung")
    return {"manager": manager, "team": team, "member": member, "deputy": deputy}


def test_manager_names_and_removes_a_deputy_on_the_team_page(app, client, login, unit):
    manager, deputy = unit["manager"], unit["deputy"]
    login(client, "lead")
    found = client.submit("/events/team/deputies", {"deputy-q": "Vertret", "deputy-search": "1"})
    assert found.status_code == 200 and "Dora Vertretung" in found.text  # the picker without JavaScript
    with app.app_context():
        assert db.session.scalar(select(func.count(ApprovalDeputy.id))) == 0
    response = client.submit("/events/team/deputies", {"deputy": str(deputy.id)})
    assert response.status_code == 302 and response.headers["Location"].endswith("/events/team#deputies")
    page = client.get("/events/team")
    assert 'id="deputies"' in page.text and "Dora Vertretung" in page.text
    assert client.get("/events/team/deputy-candidates?q=Vertr").json["people"][0]["id"] == deputy.id
    again = client.submit("/events/team/deputies", {"deputy": str(deputy.id)})
    assert again.status_code == 200 and "Dora Vertretung is your deputy already." in again.text
    with app.app_context():
        assert db.session.execute(select(ApprovalDeputy.manager_id, ApprovalDeputy.deputy_id)).all() == [
            (manager.id, deputy.id)]
    assert client.submit(f"/events/team/deputies/{deputy.id}/remove").status_code == 302
    with app.app_context():
        assert db.session.scalar(select(func.count(ApprovalDeputy.id))) == 0
        actions = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert [a for a in actions if a.startswith("event.deputy")] == ["event.deputy_named", "event.deputy_removed"]
    assert client.submit(f"/events/team/deputies/{deputy.id}/remove").status_code == 404


@pytest.mark.parametrize("value, message", [
    ("", "Please choose a person from the list."),
    ("999999", "Please choose a person from the list."),
    ("abc", "Please choose a person from the list."),
    ("self", "You cannot be your own deputy."),
    ("inactive", "Please choose a person from the list."),
])
def test_naming_a_deputy_refuses_bad_choices_on_the_form(app, client, login, unit, make_user, value, message):
    inactive = make_user("gone", active=False)
    value = {"self": str(unit["manager"].id), "inactive": str(inactive.id)}.get(value, value)
    login(client, "lead")
    response = client.submit("/events/team/deputies", {"deputy": value})
    assert response.status_code == 200 and message in response.text and "kern-alert--danger" in response.text
    with app.app_context():
        assert db.session.scalar(select(func.count(ApprovalDeputy.id))) == 0


def test_only_managers_name_deputies(client, login, unit):
    login(client, "deputy")
    assert client.submit("/events/team/deputies", {"deputy": str(unit["member"].id)}).status_code == 403
    assert client.get("/events/team/deputy-candidates?q=Anna").status_code == 403


def test_deputy_approves_like_the_manager_and_the_log_says_for_whom(app, client, login, unit, make_event):
    _name(app, unit["manager"], unit["deputy"])
    _, (session_id,) = make_event(approval=True)
    booking_id = _book(app, unit["member"], session_id)
    login(client, "deputy")
    page = client.get("/events/team")
    assert page.status_code == 200 and "Anna Mitglied: Auftakt E-Akte" in page.text
    assert "You decide as deputy of Mara Leitung." in page.text
    # The deputy sees the requests and nothing else of the team.
    assert 'id="bookings"' not in page.text and 'id="book-for"' not in page.text and 'id="deputies"' not in page.text
    assert client.submit(f"/events/bookings/{booking_id}/decide", {"decision": "approve"}).status_code == 302
    booking = _booking(app, booking_id)
    assert (booking.state, booking.decided_by_id, booking.approved) == ("confirmed", unit["deputy"].id, True)
    with app.test_request_context(headers=EN):
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "event.request_approved"))
        assert describe([entry])[0].sentence == ("Dora Vertretung approved the booking request Anna Mitglied: "
                                                  "Auftakt E-Akte as deputy of Mara Leitung.")
        assert entry.details["deputy_of_id"] == unit["manager"].id


def test_deputy_declines_only_with_a_reason_and_the_person_gets_it_by_mail(app, client, login, unit, make_event):
    _name(app, unit["manager"], unit["deputy"])
    _, (session_id,) = make_event(approval=True)
    booking_id = _book(app, unit["member"], session_id)
    login(client, "deputy")
    client.submit(f"/events/bookings/{booking_id}/decide", {"decision": "decline", "reason": "  "})
    assert "Please give a reason for declining." in client.get("/events/team").text
    assert _booking(app, booking_id).state == "requested"
    client.submit(f"/events/bookings/{booking_id}/decide", {"decision": "decline", "reason": "Dienstbetrieb"})
    booking = _booking(app, booking_id)
    assert (booking.state, booking.reason, booking.decided_by_id) == ("declined", "Dienstbetrieb", unit["deputy"].id)
    with app.test_request_context(headers=EN):
        mail = db.session.scalar(select(EventMail).where(EventMail.booking_id == booking_id,
                                                         EventMail.kind == "declined"))
        assert mail.user_id == unit["member"].id
        subject, text = compose(mail, mail.booking)
        assert subject == "Booking declined: Auftakt E-Akte" and "Reason: Dienstbetrieb" in text
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "event.request_declined"))
        assert describe([entry])[0].sentence.endswith("as deputy of Mara Leitung.")


def test_manager_decision_is_logged_without_a_deputy(app, client, login, unit, make_event):
    _, (session_id,) = make_event(approval=True)
    booking_id = _book(app, unit["member"], session_id)
    login(client, "lead")
    client.submit(f"/events/bookings/{booking_id}/decide", {"decision": "approve"})
    with app.test_request_context(headers=EN):
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "event.request_approved"))
        assert describe([entry])[0].sentence == ("Mara Leitung approved the booking request Anna Mitglied: "
                                                  "Auftakt E-Akte.")


def test_deputy_of_another_manager_or_nobody_gets_404_and_sees_no_other_team(app, client, login, unit, make_event,
                                                                            make_user, make_team):
    other_manager = make_user("otherlead", roles={Role.MANAGER})
    other_team = make_team(managers=[other_manager])
    stranger = make_user("stranger", team=other_team, first_name="Olaf", last_name="Fremd")
    _name(app, other_manager, unit["deputy"])  # the deputy stands in for the other manager only
    _, (session_id,) = make_event(approval=True)
    booking_id = _book(app, unit["member"], session_id)
    other_id = _book(app, stranger, session_id)
    login(client, "deputy")
    page = client.get("/events/team")
    assert "Olaf Fremd" in page.text and "Anna Mitglied" not in page.text
    assert client.submit(f"/events/bookings/{booking_id}/decide", {"decision": "approve"}).status_code == 404
    for username in ("stranger", "otherlead"):
        other = app.test_client()
        login(other, username)
        if username == "stranger":
            assert "Anna Mitglied" not in other.get("/events/team").text
        assert other.submit(f"/events/bookings/{booking_id}/decide", {"decision": "approve"}).status_code == 404
    assert client.submit("/events/bookings/999999/decide", {"decision": "approve"}).status_code == 404
    assert _booking(app, booking_id).state == "requested"
    assert client.submit(f"/events/bookings/{other_id}/decide", {"decision": "approve"}).status_code == 302
    assert _booking(app, other_id).state == "confirmed"
    # A deputy named by a manager who has left decides nothing any more.
    with app.app_context():
        _user(other_manager.id).deactivate()
        db.session.commit()
    third = _book(app, make_user(team=other_team), make_event("Zweiter", approval=True)[1][0])
    assert "Zweiter" not in client.get("/events/team").text
    assert client.submit(f"/events/bookings/{third}/decide", {"decision": "approve"}).status_code == 404


def test_nobody_decides_on_their_own_request(app, client, login, unit, make_event, make_user):
    manager, team = unit["manager"], unit["team"]
    team_deputy = make_user("teamdeputy", team=team, first_name="Tara", last_name="Team")
    _name(app, manager, team_deputy)
    _name(app, manager, unit["deputy"])
    with app.app_context():  # the manager is a member of the team they lead
        _user(manager.id).team_id = team.id
        db.session.commit()
    _, (session_id,) = make_event(approval=True)
    own = _book(app, team_deputy, session_id)
    managers_own = _book(app, manager, session_id)
    login(client, "teamdeputy")
    assert "Tara Team: Auftakt" not in client.get("/events/team").text
    assert client.submit(f"/events/bookings/{own}/decide", {"decision": "approve"}).status_code == 404
    lead = app.test_client()
    login(lead, "lead")
    assert lead.submit(f"/events/bookings/{managers_own}/decide", {"decision": "approve"}).status_code == 404
    # Nor does the deputy decide the manager's own request for the manager.
    assert client.submit(f"/events/bookings/{managers_own}/decide", {"decision": "approve"}).status_code == 404
    assert (_booking(app, own).state, _booking(app, managers_own).state) == ("requested", "requested")
    # The manager and the other deputy decide the deputy's request.
    assert lead.submit(f"/events/bookings/{own}/decide", {"decision": "approve"}).status_code == 302
    assert _booking(app, own).state == "confirmed"
    with app.app_context():
        notified = set(db.session.scalars(select(Notification.user_id).where(
            Notification.kind == KIND, Notification.details["booking_id"].as_integer() == managers_own)))
    assert notified == set()  # the team's only manager asked: nobody else decides, nobody is told


def _notified(app, booking_id) -> list[int]:
    with app.app_context():
        return sorted(db.session.scalars(select(Notification.user_id).where(
            Notification.kind == KIND, Notification.details["booking_id"].as_integer() == booking_id)))


def test_notices_reach_every_manager_and_deputy_once(app, unit, make_event, make_user, make_team):
    second = make_user("secondlead", roles={Role.MANAGER})
    with app.app_context():
        db.session.execute(team_manager.insert().values(team_id=unit["team"].id, user_id=second.id))
        db.session.commit()
    _name(app, unit["manager"], unit["deputy"])
    _, (session_id,) = make_event(approval=True)
    booking_id = _book(app, unit["member"], session_id)
    expected = sorted([unit["manager"].id, second.id, unit["deputy"].id])
    assert _notified(app, booking_id) == expected
    with app.test_request_context(headers=EN), unit_of_work():
        result = plan_reminders(utcnow() + timedelta(minutes=5))
        assert result.counts().get(KIND, 0) == 0  # planned again: nothing new
        items = notification_page(_user(unit["deputy"].id), today=utcnow().date())[1]
        assert [(i.entry.title, i.entry.endpoint) for i in items] == [("Booking request from Anna Mitglied",
                                                                      "events.team")]
    assert _notified(app, booking_id) == expected
    with app.app_context():
        assert db.session.scalar(select(func.count(Outbox.id)).where(Outbox.kind == KIND)) == 3
    with app.test_request_context(headers=EN), unit_of_work():
        service.decide(_user(second.id), booking_id, True)
    with app.test_request_context(headers=EN):
        for user_id in expected:  # decided: no longer shown as open
            assert unread_count(_user(user_id), utcnow().date()) == 0
            assert notification_page(_user(user_id), today=utcnow().date())[1] == []


def test_a_withdrawn_request_is_no_longer_open_and_a_new_one_is_told_again(app, unit, make_event):
    _, (session_id,) = make_event(approval=True)
    booking_id = _book(app, unit["member"], session_id)
    with app.test_request_context(headers=EN), unit_of_work():
        service.cancel(_user(unit["member"].id), booking_id)
    with app.test_request_context(headers=EN):
        assert unread_count(_user(unit["manager"].id), utcnow().date()) == 0
    with app.test_request_context(headers=EN), unit_of_work():  # asked again a moment later
        service.book(_user(unit["member"].id), session_id, now=utcnow() + timedelta(seconds=2))
    with app.test_request_context(headers=EN):
        assert unread_count(_user(unit["manager"].id), utcnow().date()) == 1


def test_planner_tells_of_requests_made_without_a_notice(app, unit, make_event):
    _name(app, unit["manager"], unit["deputy"])
    _, (session_id,) = make_event(approval=True)
    with app.app_context():  # as the demo writes its pending request
        db.session.add(Booking(session_id=session_id, user_id=unit["member"].id, state="requested",
                               created_at=utcnow() - timedelta(hours=1)))
        db.session.commit()
    with app.test_request_context(headers=EN), unit_of_work():
        assert plan_reminders().counts()[KIND] == 2
    with app.test_request_context(headers=EN), unit_of_work():
        assert plan_reminders().counts().get(KIND, 0) == 0


def test_notification_settings_list_the_kind_for_managers_and_deputies_only(app, unit, make_user):
    _name(app, unit["manager"], unit["deputy"])
    with app.app_context():
        shown = {name: KIND in {k.name for k in optional_kinds(_user(unit[name].id))}
                 for name in ("manager", "deputy", "member")}
    assert shown == {"manager": True, "deputy": True, "member": False}


def test_a_deleted_person_takes_their_deputy_rows_along(app, unit, make_user):
    extra = make_user()
    _name(app, unit["manager"], extra)
    _name(app, unit["manager"], unit["deputy"])
    with app.app_context():
        db.session.execute(delete(User).where(User.id == extra.id))
        db.session.commit()
        assert db.session.scalars(select(ApprovalDeputy.deputy_id)).all() == [unit["deputy"].id]


def test_team_page_runs_a_fixed_number_of_queries(app, client, login, unit, make_event, make_user, make_team,
                                                   count_queries):
    """The lead decides for the own team and, as deputy, for another manager's team."""
    other_manager = make_user(roles={Role.MANAGER})
    other_team = make_team(managers=[other_manager])
    _name(app, other_manager, unit["manager"])
    _name(app, unit["manager"], unit["deputy"])
    _, sessions = make_event(approval=True, sessions=4, capacity=10)
    _book(app, unit["member"], sessions[0])
    _book(app, make_user(team=other_team), sessions[0])
    login(client, "lead")
    with count_queries() as few:
        page = client.get("/events/team")
    assert page.status_code == 200 and page.text.count("/decide") == 2
    for session_id in sessions[1:]:
        _book(app, make_user(team=unit["team"]), session_id)
        _book(app, make_user(team=other_team), session_id)
    _name(app, unit["manager"], make_user())
    with count_queries() as many:
        page = client.get("/events/team")
    assert page.status_code == 200 and page.text.count("/decide") == 8
    assert len(many) == len(few)
