"""A database that is down or restarting gives a 503 with Retry-After, not a 500."""

from __future__ import annotations

import logging
import time

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from learning.db import PING_AFTER_IDLE_SECONDS, db
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


@pytest.mark.fresh_app  # adds an after_request hook
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


# Pooled connections -----------------------------------------------------------------------------------------

def _pooled_connections(app) -> list:
    """The raw connections lying idle in the pool, each with its pool entry's ``info`` (they stay pooled)."""
    with app.app_context():
        engine = db.engine
        held = [engine.connect() for _ in range(engine.pool.checkedin())]
        pooled = [(connection.connection.dbapi_connection, connection.connection.info) for connection in held]
        for connection in held:
            connection.close()
    assert pooled
    return pooled


def _die(app, pooled, idle_for: float = 0.0) -> None:
    """The connections die where they lie (a database restart, a firewall), after lying idle ``idle_for`` s.

    PostgreSQL ends their server processes; SQLite has none, so the connections are closed.
    """
    with app.app_context():
        url = db.engine.url
    if url.get_backend_name() == "postgresql":
        pids = [raw.info.backend_pid for raw, _info in pooled]
        engine = create_engine(url, isolation_level="AUTOCOMMIT")  # pg_stat_activity is read afresh per transaction
        with engine.connect() as connection:
            connection.execute(text("SELECT pg_terminate_backend(pid) FROM unnest(:pids) AS pid"), {"pids": pids})
            while connection.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(:pids)"),
                                    {"pids": pids}):
                time.sleep(0.05)
        engine.dispose()
    else:
        for raw, _info in pooled:
            raw.close()
    for _raw, info in pooled:
        info["idle_since"] -= idle_for


def _pings(app, monkeypatch) -> list:
    with app.app_context():
        dialect = db.engine.dialect
    pings, ping = [], type(dialect).do_ping

    def counted(self, dbapi_connection):
        pings.append(dbapi_connection)
        return ping(self, dbapi_connection)

    monkeypatch.setattr(type(dialect), "do_ping", counted)
    return pings


@pytest.mark.fresh_app  # the pool holds only this test's connections
def test_a_connection_in_steady_use_is_not_pinged_one_that_lay_idle_is(app, client, login, people, monkeypatch):
    login(client, "employee")
    pings = _pings(app, monkeypatch)
    for _ in range(3):
        assert client.get("/learning/").status_code == 200
    assert pings == []  # no round trip more per request, as pool_pre_ping would cost
    for _raw, info in _pooled_connections(app):
        info["idle_since"] -= PING_AFTER_IDLE_SECONDS
    assert client.get("/learning/").status_code == 200
    assert pings


@pytest.mark.fresh_app  # the pool holds only this test's connections, and they die
def test_a_connection_that_died_while_idle_is_replaced_before_a_request_uses_it(app, client, login, people,
                                                                              caplog):
    login(client, "employee")
    assert client.get("/learning/").status_code == 200
    _die(app, _pooled_connections(app), idle_for=60)
    with caplog.at_level(logging.WARNING):
        response = client.get("/learning/")
    assert response.status_code == 200
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]  # no statement ever failed


@pytest.mark.fresh_app  # the pool holds only this test's connections, and they die
def test_a_connection_that_died_in_steady_use_costs_the_read_of_the_person_a_second_try(app, client, login,
                                                                                      people, caplog):
    login(client, "employee")
    assert client.get("/learning/").status_code == 200
    _die(app, _pooled_connections(app))  # too recently used to be pinged: the first statement finds out
    with caplog.at_level(logging.WARNING, "learning.db"):
        response = client.get("/learning/")
    assert response.status_code == 200  # the person read again on a new connection; the pool renewed
    assert "reading again on a new one" in caplog.text
    assert client.get("/learning/").status_code == 200
