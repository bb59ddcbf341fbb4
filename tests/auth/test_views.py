"""Sign-in, throttling, password reset by mail, first password, password change."""

from __future__ import annotations

import os
import re
import uuid
from datetime import timedelta

import pytest
import time_machine

from learning.db import db, utcnow
from learning.org.models import User
from tests.conftest import PASSWORD

NEW_PASSWORD = "a-new-password-42"
LINK_RE = re.compile(r"http://localhost(/password/reset/\S+)")
CSRF_VALUE_RE = re.compile(r'name="csrf_token" type="hidden" value="[^"]+"|name="csrf_token" value="[^"]+"')


def test_sign_in_with_user_name_or_email(client, people):
    assert client.submit("/login", {"username": "Employee", "password": PASSWORD}).status_code == 302
    other = client.application.test_client()
    assert other.submit("/login", {"username": "employee@example.org", "password": PASSWORD}).status_code == 302


def test_wrong_password_is_explained_on_the_form(client, people):
    response = client.submit("/login", {"username": "employee", "password": "wrong"})
    assert response.status_code == 200
    assert "User name or password is not correct." in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_deactivated_person_cannot_sign_in(client, make_user):
    make_user("gone", active=False)
    response = client.submit("/login", {"username": "gone", "password": PASSWORD})
    assert response.status_code == 200
    assert "User name or password is not correct." in response.get_data(as_text=True)
    with client.session_transaction() as signed:
        assert "_user_id" not in signed
    assert client.get("/").status_code == 302


def test_logout_ends_the_session(client, people, login):
    login(client, "employee")
    assert client.submit("/logout").status_code == 302
    assert client.get("/").status_code == 302


def _fail(client, username="employee"):
    return client.submit("/login", {"username": username, "password": "wrong"})


def test_login_is_throttled_after_the_limit(make_app, people):
    app = make_app(LOGIN_LIMIT="3 per 15 minutes")
    client = app.test_client()
    assert [_fail(client).status_code for _ in range(3)] == [200, 200, 200]
    refused = _fail(client)
    assert refused.status_code == 429
    assert "Too many attempts" in refused.get_data(as_text=True)
    # Even the right password is refused while the limit holds.
    assert client.submit("/login", {"username": "employee", "password": PASSWORD}).status_code == 429
    # Another account from the same address is not locked out.
    assert _fail(client, "manager").status_code == 200


def test_successful_logins_do_not_count(make_app, people):
    app = make_app(LOGIN_LIMIT="2 per 15 minutes")
    for _ in range(4):
        client = app.test_client()
        assert client.submit("/login", {"username": "employee", "password": PASSWORD}).status_code == 302


def test_throttle_is_shared_by_two_instances_through_redis(make_app, people):
    # The Redis of the project's machines unless told otherwise; a missing server fails the test.
    redis_url = os.environ.get("LEARNING_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    prefix = f"test-{uuid.uuid4().hex}"
    first = make_app(RATELIMIT_STORAGE_URI=redis_url, RATELIMIT_KEY_PREFIX=prefix, LOGIN_LIMIT="3 per 15 minutes")
    client_a = first.test_client()
    assert [_fail(client_a).status_code for _ in range(3)] == [200, 200, 200]
    second = make_app(RATELIMIT_STORAGE_URI=redis_url, RATELIMIT_KEY_PREFIX=prefix, LOGIN_LIMIT="3 per 15 minutes")
    client_b = second.test_client()
    assert _fail(client_b).status_code == 429


@pytest.fixture
def mail_app(make_app, smtp_server):
    return make_app(SMTP_URL=smtp_server.url)


def _reset_link(smtp_server) -> str:
    body = smtp_server.messages[-1].get_content()
    return LINK_RE.search(body).group(1)


def test_password_reset_by_mail(mail_app, smtp_server, people):
    client = mail_app.test_client()
    response = client.submit("/password/forgot", {"email": "employee@example.org"})
    assert response.status_code == 302
    assert len(smtp_server.messages) == 1
    message = smtp_server.messages[0]
    assert message["To"].endswith("<employee@example.org>") and message["Message-ID"]
    link = _reset_link(smtp_server)
    assert client.submit(link, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code == 302
    assert client.submit("/login", {"username": "employee", "password": NEW_PASSWORD}).status_code == 302


def test_reset_link_works_only_once(mail_app, smtp_server, people):
    client = mail_app.test_client()
    client.submit("/password/forgot", {"email": "employee@example.org"})
    link = _reset_link(smtp_server)
    client.submit(link, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    reused = client.submit(link, {"password": "another-password-9", "confirm": "another-password-9"})
    assert reused.status_code == 302 and reused.headers["Location"].endswith("/password/forgot")
    assert client.submit("/login", {"username": "employee", "password": NEW_PASSWORD}).status_code == 302


def test_reset_link_expires(mail_app, smtp_server, people):
    client = mail_app.test_client()
    with time_machine.travel(utcnow(), tick=False) as clock:
        client.submit("/password/forgot", {"email": "employee@example.org"})
        link = _reset_link(smtp_server)
        clock.shift(timedelta(hours=2, minutes=1))
        response = client.get(link, follow_redirects=True)
    assert "This link has expired" in response.get_data(as_text=True)


def test_unknown_address_gets_the_same_answer_and_no_mail(mail_app, smtp_server, people):
    client = mail_app.test_client()
    known = client.submit("/password/forgot", {"email": "employee@example.org"}, follow_redirects=True)
    unknown = client.submit("/password/forgot", {"email": "nobody@example.org"}, follow_redirects=True)
    message = "If an account uses this address, we have sent it a link."
    assert message in known.get_data(as_text=True) and message in unknown.get_data(as_text=True)
    assert len(smtp_server.messages) == 1


def test_smtp_down_is_reported_not_crashed(make_app, people):
    client = make_app(SMTP_URL="smtp://127.0.0.1:1").test_client()
    response = client.submit("/password/forgot", {"email": "employee@example.org"})
    assert response.status_code == 200
    assert "could not be sent right now" in response.get_data(as_text=True)


def test_imported_person_sets_first_password(mail_app, smtp_server, make_user):
    make_user("newbie", password=None, locale="en")
    client = mail_app.test_client()
    refused = client.submit("/login", {"username": "newbie", "password": "anything"})
    assert "If you have not set a password yet" in refused.get_data(as_text=True)
    client.submit("/password/forgot", {"email": "newbie@example.org"})
    body = smtp_server.messages[-1].get_content()
    assert "an account has been set up for you" in body
    link = _reset_link(smtp_server)
    page = client.get(link).get_data(as_text=True)
    assert "Set your password" in page
    short = client.submit(link, {"password": "short", "confirm": "short"})
    assert "at least 10 characters" in short.get_data(as_text=True)
    assert client.submit(link, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code == 302
    assert client.submit("/login", {"username": "newbie", "password": NEW_PASSWORD}).status_code == 302


def test_mail_is_written_in_the_persons_language(mail_app, smtp_server, make_user):
    make_user("deutsch", password=None)
    client = mail_app.test_client()
    client.submit("/password/forgot", {"email": "deutsch@example.org"})
    message = smtp_server.messages[-1]
    assert message["Subject"] == "Ihr Zugang zur Lernplattform"
    assert "14 Tage" in message.get_content()


def test_admin_sends_invitation(mail_app, smtp_server, people, make_user, login):
    newbie = make_user("invited", password=None)
    client = mail_app.test_client()
    login(client, "admin")
    client.submit(f"/admin/people/{newbie.id}/invite")
    assert smtp_server.messages[-1]["To"].endswith("<invited@example.org>")


def test_password_change_needs_a_fresh_login(client, people):
    client.submit("/login", {"username": "employee", "password": PASSWORD, "remember": "y"})
    remembered = client.get_cookie("remember_token").value
    fresh = client.application.test_client()
    fresh.set_cookie("remember_token", remembered)
    assert fresh.get("/").status_code == 200  # signed in by the remember-me cookie
    assert fresh.get("/account").status_code == 200  # and still on the next request
    response = fresh.get("/account/password")
    assert response.status_code == 302 and "/login/confirm" in response.headers["Location"]


def test_password_change_signs_out_other_devices(client, app, people, login):
    login(client, "employee")
    other = app.test_client()
    login(other, "employee")
    wrong = client.submit("/account/password", {"current": "nope", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert "The current password is not correct." in wrong.get_data(as_text=True)
    response = client.submit("/account/password", {"current": PASSWORD, "password": NEW_PASSWORD,
                                                   "confirm": NEW_PASSWORD})
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    assert other.get("/").status_code == 302
    with app.app_context():
        assert db.session.get(User, people["employee"].id).check_password(NEW_PASSWORD)


# Sign-in reveals no accounts ------------------------------------------------------------------------

def _answer(client, username: str, password: str = "wrong-password") -> str:
    response = client.submit("/login", {"username": username, "password": password})
    assert response.status_code == 200
    page = response.get_data(as_text=True).replace(f'value="{username}"', 'value="…"')
    return CSRF_VALUE_RE.sub("csrf", page)  # the signed token carries the second it was signed in


def test_unknown_wrong_and_passwordless_accounts_get_the_same_answer(app, people, make_user):
    make_user("newbie", password=None)
    make_user("gone", active=False)
    client = app.test_client()
    answers = {name: _answer(client, name) for name in ("employee", "nobody-here", "newbie", "gone")}
    assert len(set(answers.values())) == 1
    assert ("User name or password is not correct. If you have not set a password yet, use “First sign-in or "
            "forgotten password” below.") in answers["newbie"]
    german = client.submit("/login", {"username": "newbie", "password": "x"}, headers={"Accept-Language": "de"})
    assert "Wenn Sie noch kein Passwort festgelegt haben" in german.get_data(as_text=True)
    assert "Sie haben noch kein Passwort festgelegt" not in german.get_data(as_text=True)


def test_the_password_hash_is_checked_for_unknown_wrong_and_passwordless_accounts(app, people, make_user,
                                                                                   monkeypatch):
    from learning.auth import services

    checked = []
    real_check = services.check_password_hash

    def spy(password_hash, password):
        checked.append(password_hash.split("$")[0])
        return real_check(password_hash, password)

    monkeypatch.setattr(services, "check_password_hash", spy)
    make_user("newbie", password=None)
    make_user("gone", active=False)
    client = app.test_client()
    for name in ("employee", "nobody-here", "newbie", "gone"):
        _answer(client, name)
    # One scrypt check per attempt, with the same cost parameters as a stored password's.
    assert checked == [services.DUMMY_HASH.split("$")[0]] * 4


def test_the_dummy_hash_costs_what_a_stored_password_costs(app, make_user):
    from werkzeug.security import check_password_hash

    from learning.auth.services import DUMMY_HASH

    user = make_user("fresh", password="a-fresh-password-1")
    assert DUMMY_HASH.split("$")[0] == user.password_hash.split("$")[0] == "scrypt:32768:8:1"
    assert not check_password_hash(DUMMY_HASH, "")


def test_attempts_by_user_name_and_email_share_one_counter(make_app, people):
    client = make_app(LOGIN_LIMIT="5 per 15 minutes").test_client()
    assert [_fail(client, "employee").status_code for _ in range(3)] == [200, 200, 200]
    assert [_fail(client, "Employee@Example.org").status_code for _ in range(2)] == [200, 200]
    assert _fail(client, "employee@example.org").status_code == 429
    assert _fail(client, " EMPLOYEE ").status_code == 429
    assert _fail(client, "manager").status_code == 200  # another account from the same address


def test_unknown_names_are_throttled_like_accounts(make_app, people):
    client = make_app(LOGIN_LIMIT="2 per 15 minutes").test_client()
    assert [_fail(client, "nobody-here").status_code for _ in range(2)] == [200, 200]
    assert _fail(client, "nobody-here").status_code == 429


@pytest.mark.parametrize("username", ["ab\x00cd", "x" * 300, "\u202eevil"])
def test_hostile_user_names_get_the_ordinary_answer(client, people, username):
    response = client.submit("/login", {"username": username, "password": "whatever"})
    assert response.status_code in {200, 400}
