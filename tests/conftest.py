"""Shared fixtures: an app per test on a clean database, factories, a login helper, real SMTP.

The database is SQLite by default; set LEARNING_TEST_DATABASE_URL (e.g.
postgresql+psycopg://postgres@127.0.0.1:5432/test) to run the same suite on PostgreSQL.
The schema is built once per run by the Alembic migrations, so the migrations are tested too.
"""

from __future__ import annotations

import os
import re
import socket
import uuid
from datetime import date

import pytest
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from werkzeug.security import generate_password_hash

from learning import create_app
from learning.db import db
from learning.org.models import Department, Role, Team, User

pytest_plugins = ["tests.training.factories"]  # course, assignment and phase factories

PASSWORD = "correct-horse-battery"
_PASSWORD_HASH = generate_password_hash(PASSWORD, method="scrypt")  # hashed once: scrypt is slow on purpose
CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


def pytest_sessionfinish(session, exitstatus):
    """Under CI every test must run: a skipped test fails the run."""
    if os.environ.get("LEARNING_TEST_FORBID_SKIPS") and session.config.pluginmanager.get_plugin("terminalreporter"):
        skipped = session.config.pluginmanager.get_plugin("terminalreporter").stats.get("skipped", [])
        if skipped:
            session.exitstatus = 1
            print(f"\n{len(skipped)} test(s) skipped, which LEARNING_TEST_FORBID_SKIPS does not allow")


class FormClient(FlaskClient):
    """A test client that sends forms with the CSRF token a browser would have.

    It asks for English pages, so assertions can quote the source strings; tests of the
    German interface send ``Accept-Language: de`` themselves.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.environ_base.setdefault("HTTP_ACCEPT_LANGUAGE", "en")

    def csrf_token(self) -> str:
        page = self.get("/accessibility").get_data(as_text=True)
        match = CSRF_RE.search(page)
        assert match, "no CSRF token on the page"
        return match.group(1) or match.group(2)

    def submit(self, url: str, data: dict | None = None, **kwargs):
        data = dict(data or {})
        data.setdefault("csrf_token", self.csrf_token())
        return self.post(url, data=data, **kwargs)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    url = os.environ.get("LEARNING_TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


@pytest.fixture(scope="session")
def _schema(database_url, tmp_path_factory):
    """Build the schema once per run with the migrations, from an empty database."""
    if database_url.startswith("postgresql"):
        engine = create_engine(database_url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    app = create_app(_test_config(database_url, tmp_path_factory.mktemp("instance")))
    from flask_migrate import upgrade

    with app.app_context():
        upgrade()
        db.engine.dispose()
    return database_url


def _test_config(database_url: str, instance_path, **overrides) -> dict:
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "INSTANCE_PATH": str(instance_path),
        "RATELIMIT_STORAGE_URI": "memory://",
        "RATELIMIT_KEY_PREFIX": f"test-{uuid.uuid4().hex}",
        "SMTP_URL": "",
        "DEMO": False,
        "BASE_URL": "http://localhost",
    }
    config.update(overrides)
    return config


@pytest.fixture
def make_app(_schema, tmp_path):
    """Create an app on the test database; extra settings as keyword arguments."""
    apps = []

    def factory(**overrides):
        application = create_app(_test_config(_schema, tmp_path / "instance", **overrides))
        application.test_client_class = FormClient
        apps.append(application)
        return application

    yield factory
    for application in apps:
        with application.app_context():
            db.session.remove()
            db.engine.dispose()
    _truncate(_schema)


def _truncate(url: str) -> None:
    engine = create_engine(url)
    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(text(f'DELETE FROM "{table}"'))
    engine.dispose()


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app) -> FormClient:
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def ctx(app):
    """A context for tests that call services directly; messages come in English, as for the client."""
    with app.test_request_context(headers={"Accept-Language": "en"}):
        yield
        db.session.remove()


@pytest.fixture
def make_department(app):
    def factory(name: str | None = None) -> Department:
        with app.app_context():
            department = Department(name=name or f"Department {uuid.uuid4().hex[:6]}")
            db.session.add(department)
            db.session.commit()
            db.session.refresh(department)
            db.session.expunge(department)
            return department

    return factory


@pytest.fixture
def make_team(app, make_department):
    def factory(name: str | None = None, department: Department | None = None, managers=()) -> Team:
        department = department or make_department()
        with app.app_context():
            team = Team(name=name or f"Team {uuid.uuid4().hex[:6]}", department_id=department.id)
            team.managers = [db.session.get(User, m.id) for m in managers]
            db.session.add(team)
            db.session.commit()
            db.session.refresh(team)
            db.session.expunge(team)
            return team

    return factory


@pytest.fixture
def make_user(app):
    """Create a person; ``roles`` is a set of Role, ``team`` a Team, ``password=None`` for none yet."""
    counter = iter(range(1, 10**6))

    def factory(username: str | None = None, *, roles=(Role.EMPLOYEE,), team: Team | None = None,
                password: str | None = PASSWORD, active: bool = True, start_date: date | None = None,
                locale: str | None = None, email: str | None = None, **fields) -> User:
        n = next(counter)
        username = username or f"user{n}"
        with app.app_context():
            user = User(
                username=username, email=email or f"{username}@example.org",
                first_name=fields.pop("first_name", "Test"),
                last_name=fields.pop("last_name", f"Person {n}"), team_id=team.id if team else None, active=active,
                start_date=start_date, locale=locale, **fields,
            )
            user.roles = set(roles)
            if password == PASSWORD:
                user.password_hash = _PASSWORD_HASH
            elif password is not None:
                user.set_password(password)
            db.session.add(user)
            db.session.commit()
            db.session.refresh(user)
            user.roles  # noqa: B018  (load before detaching)
            db.session.expunge(user)
            return user

    return factory


@pytest.fixture
def login():
    """Sign a client in; returns the response of the login POST."""

    def do_login(client: FormClient, username: str, password: str = PASSWORD, **extra):
        response = client.submit("/login", {"username": username, "password": password, **extra})
        assert response.status_code == 302, f"login of {username} failed"
        return response

    return do_login


@pytest.fixture
def people(make_team, make_user):
    """One person per role: employee in a team led by the manager, and so on."""
    manager = make_user("manager", roles={Role.MANAGER})
    team = make_team("Bürgerbüro", managers=[manager])
    return {
        "employee": make_user("employee", team=team),
        "manager": manager,
        "project_group": make_user("projectgroup", roles={Role.PROJECT_GROUP}),
        "admin": make_user("admin", roles={Role.ADMIN}),
        "team": team,
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_server():
    """A real SMTP server (aiosmtpd) on a free local port; ``.messages`` holds what arrived."""
    from email import message_from_bytes, policy

    from aiosmtpd.controller import Controller

    class Collector:
        def __init__(self):
            self.messages = []

        async def handle_DATA(self, server, session, envelope):
            self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
            return "250 OK"

    handler = Collector()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    handler.url = f"smtp://127.0.0.1:{controller.port}"
    yield handler
    controller.stop()


@pytest.fixture
def count_queries(app):
    """Count the SQL statements run while the returned context manager is open."""
    from contextlib import contextmanager

    from sqlalchemy import event

    @contextmanager
    def counting():
        with app.app_context():
            engine = db.engine
        statements: list[str] = []

        def record(conn, cursor, statement, parameters, context, executemany):
            statements.append(statement)

        event.listen(engine, "before_cursor_execute", record)
        try:
            yield statements
        finally:
            event.remove(engine, "before_cursor_execute", record)

    return counting
