"""Signed-in devices: sign-out ends a device for good; revoking ends devices and personal addresses."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from learning.auth.models import DeviceSession
from learning.db import db, unit_of_work, utcnow
from learning.org.models import User
from tests.conftest import PASSWORD

FIREFOX_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
SAFARI_IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
                 "Version/18.1 Mobile/15E148 Safari/604.1")
NEW_PASSWORD = "a-new-password-42"


def _sign_in(app, username="employee", user_agent=FIREFOX_WINDOWS, remember=False):
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = user_agent
    data = {"username": username, "password": PASSWORD}
    if remember:
        data["remember"] = "y"
    assert client.submit("/login", data).status_code == 302
    return client


def _with_cookie(app, name, value, user_agent=FIREFOX_WINDOWS):
    """Another browser that has nothing but a copied cookie."""
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = user_agent
    client.set_cookie(name, value)
    return client


def _signed_in(client) -> bool:
    return client.get("/account").status_code == 200


def _devices(app, user_id) -> list[DeviceSession]:
    with app.app_context():
        return list(db.session.scalars(select(DeviceSession).where(DeviceSession.user_id == user_id)
                                       .order_by(DeviceSession.id)))


def _personal_addresses(app, user_id) -> tuple[str, str]:
    """Give the person a calendar and a feed address; return both paths."""
    from learning.announcements.services import renew_feed_token
    from learning.notifications.services import renew_calendar_token

    with app.test_request_context(), unit_of_work():
        user = db.session.get(User, user_id)
        calendar = renew_calendar_token(user)
        feed = renew_feed_token(user).token
    return f"/notifications/calendar/{calendar}.ics", f"/announcements/feed/{feed}.atom"


def test_sign_out_ends_the_remember_cookie_and_the_session_cookie_everywhere(app, people):
    client = _sign_in(app, remember=True)
    remembered = client.get_cookie("remember_token").value
    session_cookie = client.get_cookie("session").value
    assert _signed_in(_with_cookie(app, "remember_token", remembered))  # a copy works while signed in
    assert client.submit("/logout").status_code == 302
    assert not _signed_in(client)
    assert not _signed_in(_with_cookie(app, "remember_token", remembered))
    assert not _signed_in(_with_cookie(app, "session", session_cookie))
    assert _devices(app, people["employee"].id) == []


def test_signing_in_twice_gives_two_devices_and_sign_out_ends_only_one(app, people):
    first = _sign_in(app)
    second = _sign_in(app, user_agent=SAFARI_IPHONE)
    assert len(_devices(app, people["employee"].id)) == 2
    first.submit("/logout")
    assert not _signed_in(first) and _signed_in(second)


def test_account_page_lists_the_devices_and_marks_this_one(app, people):
    _sign_in(app, user_agent=SAFARI_IPHONE)
    client = _sign_in(app)
    page = client.get("/account").get_data(as_text=True)
    assert "Signed-in devices" in page and "Sign out everywhere" in page
    rows = re.findall(r'<tr class="kern-table__row">(.*?)</tr>', page, re.S)
    labelled = [row for row in rows if "Firefox on Windows" in row or "Safari on iOS" in row]
    assert len(labelled) == 2
    assert [("this device" in row) for row in labelled] == [("Firefox on Windows" in row) for row in labelled]


def test_account_page_in_german_names_the_devices(app, people):
    client = _sign_in(app)
    page = client.get("/account", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert "Angemeldete Geräte" in page and "Firefox unter Windows" in page and "dieses Gerät" in page


def test_another_device_can_be_signed_out_from_the_account_page(app, people, make_user):
    phone = _sign_in(app, user_agent=SAFARI_IPHONE, remember=True)
    remembered = phone.get_cookie("remember_token").value
    desk = _sign_in(app)
    phone_id = _devices(app, people["employee"].id)[0].id
    response = desk.submit(f"/account/devices/{phone_id}/sign-out")
    assert response.status_code == 302 and "/account" in response.headers["Location"]
    assert _signed_in(desk)
    assert not _signed_in(phone)
    assert not _signed_in(_with_cookie(app, "remember_token", remembered, SAFARI_IPHONE))


def test_a_device_of_someone_else_cannot_be_signed_out(app, people):
    manager = _sign_in(app, "manager")
    employee = _sign_in(app)
    manager_device = _devices(app, people["manager"].id)[0].id
    assert employee.submit(f"/account/devices/{manager_device}/sign-out").status_code == 404
    assert _signed_in(manager)


def test_signing_out_this_device_from_the_list_signs_out(app, people):
    client = _sign_in(app)
    device = _devices(app, people["employee"].id)[0].id
    response = client.submit(f"/account/devices/{device}/sign-out")
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    assert not _signed_in(client)


def test_sign_out_everywhere_ends_every_device_and_renews_the_addresses(app, people):
    employee = people["employee"].id
    calendar, feed = _personal_addresses(app, employee)
    other = _sign_in(app, user_agent=SAFARI_IPHONE, remember=True)
    remembered = other.get_cookie("remember_token").value
    client = _sign_in(app)
    assert client.get(calendar).status_code == 200 and client.get(feed).status_code == 200
    response = client.submit("/account/sign-out-everywhere", follow_redirects=True)
    assert "You have been signed out on every device" in response.get_data(as_text=True)
    assert not _signed_in(client) and not _signed_in(other)
    assert not _signed_in(_with_cookie(app, "remember_token", remembered, SAFARI_IPHONE))
    assert _devices(app, employee) == []
    anonymous = app.test_client()
    assert anonymous.get(calendar).status_code == 404 and anonymous.get(feed).status_code == 404
    new_calendar, new_feed = _current_addresses(app, employee)
    assert anonymous.get(new_calendar).status_code == 200 and anonymous.get(new_feed).status_code == 200
    assert (new_calendar, new_feed) != (calendar, feed)


def _current_addresses(app, user_id) -> tuple[str, str]:
    from learning.announcements.models import FeedToken
    from learning.notifications.models import NotificationPreference

    with app.app_context():
        calendar = db.session.get(NotificationPreference, user_id).calendar_token
        feed = db.session.scalar(select(FeedToken.token).where(FeedToken.user_id == user_id))
    return f"/notifications/calendar/{calendar}.ics", f"/announcements/feed/{feed}.atom"


def test_password_change_keeps_this_device_ends_the_others_and_renews_the_addresses(app, people):
    employee = people["employee"].id
    calendar, feed = _personal_addresses(app, employee)
    other = _sign_in(app, user_agent=SAFARI_IPHONE, remember=True)
    remembered = other.get_cookie("remember_token").value
    client = _sign_in(app, remember=True)
    response = client.submit("/account/password", {"current": PASSWORD, "password": NEW_PASSWORD,
                                                   "confirm": NEW_PASSWORD})
    assert response.status_code == 302
    assert _signed_in(client)
    assert _signed_in(_with_cookie(app, "remember_token", client.get_cookie("remember_token").value))
    assert not _signed_in(other)
    assert not _signed_in(_with_cookie(app, "remember_token", remembered, SAFARI_IPHONE))
    assert len(_devices(app, employee)) == 1
    assert client.get(calendar).status_code == 404 and client.get(feed).status_code == 404


def test_deactivation_ends_devices_and_addresses_for_good(app, people, login):
    employee = people["employee"].id
    calendar, feed = _personal_addresses(app, employee)
    client = _sign_in(app, remember=True)
    remembered = client.get_cookie("remember_token").value
    admin = app.test_client()
    login(admin, "admin")
    admin.submit(f"/admin/people/{employee}/active", {"active": "0"})
    admin.submit(f"/admin/people/{employee}/active", {"active": "1"})  # reactivation brings nothing back
    with app.app_context():
        assert db.session.get(User, employee).active
    assert not _signed_in(client)
    assert not _signed_in(_with_cookie(app, "remember_token", remembered))
    assert _devices(app, employee) == []
    assert client.get(calendar).status_code == 404 and client.get(feed).status_code == 404
    from learning.announcements.models import FeedToken
    from learning.notifications.models import NotificationPreference

    with app.app_context():  # the reactivated person creates new addresses when they want them
        assert db.session.get(NotificationPreference, employee).calendar_token is None
        assert db.session.scalar(select(func.count()).select_from(FeedToken)) == 0


def test_a_deactivation_by_any_code_path_ends_the_devices(app, people, make_user):
    """The CSV import calls ``User.deactivate()`` itself: no call to auth is needed."""
    client = _sign_in(app)
    other = _sign_in(app, "manager")
    with app.app_context():
        db.session.get(User, people["employee"].id).deactivate()
        db.session.commit()
    assert not _signed_in(client) and _signed_in(other)
    assert _devices(app, people["employee"].id) == [] and len(_devices(app, people["manager"].id)) == 1


def test_password_reset_by_mail_ends_every_device(make_app, smtp_server, people):
    app = make_app(SMTP_URL=smtp_server.url)
    client = _sign_in(app, remember=True)
    remembered = client.get_cookie("remember_token").value
    visitor = app.test_client()
    visitor.submit("/password/forgot", {"email": "employee@example.org"})
    link = re.search(r"http://localhost(/password/reset/\S+)", smtp_server.messages[-1].get_content()).group(1)
    assert visitor.submit(link, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code == 302
    assert not _signed_in(client)
    assert not _signed_in(_with_cookie(app, "remember_token", remembered))


def test_a_device_unused_longer_than_stay_signed_in_is_signed_out_and_purged(app, people):
    from learning.transparency.retention import apply_retention

    with time_machine.travel(utcnow(), tick=False) as clock:
        client = _sign_in(app, remember=True)
        remembered = client.get_cookie("remember_token").value
        clock.shift(timedelta(days=13))
        assert _signed_in(_with_cookie(app, "remember_token", remembered))  # used on day 13: stays
        clock.shift(timedelta(days=15))
        assert not _signed_in(_with_cookie(app, "remember_token", remembered))
        assert not _signed_in(client)
        with app.test_request_context(), unit_of_work():
            counts = apply_retention()
    assert counts["device_sessions"] == 1
    assert _devices(app, people["employee"].id) == []


def test_last_seen_is_written_at_most_once_a_day(app, people, count_queries):
    with time_machine.travel(utcnow(), tick=False) as clock:
        client = _sign_in(app)
        with count_queries() as statements:
            client.get("/account")
            client.get("/account")
        assert not [s for s in statements if s.lstrip().upper().startswith("UPDATE DEVICE_SESSION")]
        clock.shift(timedelta(days=1))
        with count_queries() as statements:
            client.get("/account")
            client.get("/account")
            client.get("/")
        assert len([s for s in statements if s.lstrip().upper().startswith("UPDATE DEVICE_SESSION")]) == 1
    [device] = _devices(app, people["employee"].id)
    assert device.last_seen_on > device.signed_in_on


def test_a_kept_page_reads_device_and_person_in_one_statement(app, people, count_queries):
    client = _sign_in(app)
    client.get("/")  # the employee's home is kept (learning/pagecache.py)
    with count_queries() as statements:
        assert client.get("/").status_code == 200
    assert len(statements) == 1 and "device_session" in statements[0]


def test_what_is_stored_lists_the_devices_without_their_token(app, people):
    from learning.transparency.services import HIDDEN_VALUE, personal_data_document

    _sign_in(app)
    with app.test_request_context():
        document = personal_data_document(db.session.get(User, people["employee"].id))
    [row] = document["tables"]["device_session"]["rows"]
    assert row["browser"] == "Firefox" and row["system"] == "Windows"
    assert row["token_hash"] == HIDDEN_VALUE


@pytest.mark.parametrize(("user_agent", "label"), [
    (FIREFOX_WINDOWS, ("Firefox", "Windows")),
    (SAFARI_IPHONE, ("Safari", "iOS")),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 "
     "Safari/537.36 Edg/131.0.2903.86", ("Edge", "macOS")),
    ("Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Mobile Safari/537.36",
     ("Chrome", "Android")),
    ("", (None, None)),
    (None, (None, None)),
])
def test_devices_are_named_by_browser_and_system_family_only(user_agent, label):
    from learning.auth.devices import describe_user_agent

    assert describe_user_agent(user_agent) == label


def test_an_old_session_cookie_from_before_devices_signs_in_nobody(app, people):
    with app.app_context():
        old_token = db.session.get(User, people["employee"].id).session_token
        count = db.session.scalar(select(func.count()).select_from(DeviceSession))
    assert count == 0
    with app.test_request_context():
        from learning.auth.services import load_user

        assert load_user(old_token) is None
        assert load_user("") is None and load_user("x" * 1000) is None
