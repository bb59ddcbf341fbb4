"""A database that is down or restarting gives a 503 with Retry-After, not a 500."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import OperationalError

from learning.db import db
from learning.security import PUBLIC, allow


def test_database_unavailable_is_a_503_with_retry_after(make_app):
    app = make_app()

    @allow(PUBLIC)
    def lost_connection():
        raise OperationalError("SELECT 1", {}, Exception("server closed the connection unexpectedly"))

    app.add_url_rule("/lost-connection", "lost_connection", lost_connection)
    response = app.test_client().get("/lost-connection", headers={"Accept-Language": "en"})
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    assert "Temporarily unavailable" in response.get_data(as_text=True)


@pytest.mark.parametrize(("page", "connections_left", "status"), [
    ("/", 0, 503), ("/learning/", 0, 503),
    ("/learning/", 1, 503),  # the person was read, then the database went
    ("/", 1, 200),  # the kept start page needs nothing after the person
])
def test_a_signed_in_person_gets_the_503_when_the_database_is_gone(app, client, login, people, monkeypatch, page,
                                                                   connections_left, status):
    login(client, "employee")
    assert client.get(page).status_code == 200
    with app.app_context():
        engine = db.engine
    connect, left = type(engine).connect, [connections_left]

    def refused(self, *args, **kwargs):
        if left[0]:
            left[0] -= 1
            return connect(self, *args, **kwargs)
        raise OperationalError("connect", {}, Exception("connection refused"))

    monkeypatch.setattr(type(engine), "connect", refused)  # the person's connection, the page's, the bell's
    response = client.get(page, headers={"Accept-Language": "en"})
    assert response.status_code == status
    assert ("Temporarily unavailable" in response.get_data(as_text=True)) == (status == 503)
    monkeypatch.undo()
    assert client.get(page).status_code == 200  # back: still signed in


def test_a_database_gone_while_the_request_ends_keeps_the_answer(app, client, login, people, monkeypatch):
    with app.app_context():
        dialect = db.engine.dialect
    armed = []

    rollback = type(dialect).do_rollback

    def shutting_down(self, connection):
        rollback(self, connection)  # the server ends the transaction as it goes away ...
        raise dialect.loaded_dbapi.OperationalError("terminating connection due to administrator command")

    @app.after_request
    def database_goes_away(response):  # once the answer is made: the rollback that ends the request fails
        if armed:
            monkeypatch.setattr(type(dialect), "do_rollback", shutting_down)
        return response

    login(client, "employee")
    armed.append(True)
    response = client.get("/learning/")
    monkeypatch.undo()
    assert response.status_code == 200
    assert "<h1" in response.get_data(as_text=True)
