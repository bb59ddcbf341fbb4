"""Edge cases of directory sign-in: confirming a sensitive action without a local password, and two
simultaneous first sign-ins of the same person (threads on a real database file, or on PostgreSQL)."""

from __future__ import annotations

import logging
import threading

from sqlalchemy import func, select

from learning.db import db
from learning.directory import services
from learning.directory.models import ExternalIdentity
from learning.org.models import User
from tests.directory.slapd import PEOPLE, free_port


def password_of(uid: str) -> str:
    return PEOPLE[uid][3]


def sign_in(client, login: str, password: str | None = None):
    return client.submit("/login", {"username": login, "password": password or password_of(login)})


def counts(app) -> tuple[int, int]:
    with app.app_context():
        people = db.session.scalar(select(func.count()).select_from(User))
        identities = db.session.scalar(select(func.count()).select_from(ExternalIdentity))
        db.session.remove()
        return people, identities


def test_a_directory_person_confirms_with_the_directory_password(ldap_app):
    app = ldap_app()
    client = app.test_client()
    assert sign_in(client, "jdoe").status_code == 302
    page = client.get("/login/confirm?next=/account").get_data(as_text=True)
    assert 'id="directory-hint"' in page and "Sign out and sign in again" in page
    wrong = client.submit("/login/confirm", {"password": "not-the-password", "next": "/account"})
    assert wrong.status_code == 200 and "The password is not correct." in wrong.get_data(as_text=True)
    right = client.submit("/login/confirm", {"password": password_of("jdoe"), "next": "/account"})
    assert right.status_code == 302 and right.headers["Location"].endswith("/account")


def test_a_directory_that_cannot_be_reached_while_confirming_says_so(ldap_app):
    app = ldap_app()
    client = app.test_client()
    assert sign_in(client, "mmuster").status_code == 302
    app.config["LDAP_URL"] = f"ldap://127.0.0.1:{free_port()}"
    app.config["LDAP_TIMEOUT"] = 2
    response = client.submit("/login/confirm", {"password": password_of("mmuster")})
    assert response.status_code == 200
    assert "the directory cannot be reached" in response.get_data(as_text=True)


def test_a_local_person_still_confirms_with_the_local_password(client, people, login):
    login(client, "employee")
    page = client.get("/login/confirm").get_data(as_text=True)
    assert 'id="directory-hint"' not in page and "Sign out and sign in again" not in page
    assert client.submit("/login/confirm", {"password": "not-the-password"}).status_code == 200


def test_two_simultaneous_first_sign_ins_make_one_person(ldap_app, monkeypatch, caplog):
    """Both threads pass the checks before either creates the person; one insert wins, the other signs in to it."""
    caplog.set_level(logging.INFO, logger="learning.directory.services")
    app = ldap_app()
    both_checked = threading.Barrier(2, timeout=20)
    creating = []
    create_person = services.create_person

    def create_after_both_checked(*args, **kwargs):
        creating.append(threading.get_ident())
        both_checked.wait()
        return create_person(*args, **kwargs)

    # Someone signed in before: the directory's state is known (the first sign-in ever notes it, one writer at a time).
    assert sign_in(app.test_client(), "mmuster").status_code == 302
    monkeypatch.setattr(services, "create_person", create_after_both_checked)
    answers: list[int] = []
    errors: list[BaseException] = []

    def first_sign_in():
        try:
            answers.append(sign_in(app.test_client(), "jdoe").status_code)
        except BaseException as error:  # noqa: BLE001  (reported by the assertion below)
            errors.append(error)

    threads = [threading.Thread(target=first_sign_in) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == [] and answers == [302, 302]
    assert len(creating) == 2  # both really tried to create the person at the same moment
    assert counts(app) == (2, 2)
    assert "A simultaneous first sign-in through ldap created the person; trying again" in caplog.text
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "jdoe"))
        assert user.email == "jana.doe@example.org" and user.last_login_at is not None
        db.session.remove()
