"""Shared fixtures: an app per test on a clean database, factories, a login helper, real SMTP.

The database is SQLite by default; set LEARNING_TEST_DATABASE_URL (e.g.
postgresql+psycopg://postgres@127.0.0.1:5432/test) to run the same suite on PostgreSQL.
The schema is built once per run by the Alembic migrations, so the migrations are tested too.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import socket
import uuid
from datetime import date

import pytest
import werkzeug.security
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer
from jinja2 import BytecodeCache
from sqlalchemy import create_engine, make_url, text
from werkzeug.routing.rules import Rule
from werkzeug.security import generate_password_hash

from learning import create_app
from learning.db import db
from learning.org.models import Department, Team, User
from learning.roles import Role

# Course, assignment and phase factories; the browser fixtures (live server, Chromium, watched pages).
pytest_plugins = ["tests.training.factories", "tests.browser"]

PASSWORD = "correct-horse-battery"
_PASSWORD_HASH = generate_password_hash(PASSWORD, method="scrypt")  # hashed once: scrypt is slow on purpose
CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


# Speed without changing what is tested (issue 15 §5). The app is still created anew for every
# test; three things it recomputes each time are pure functions of their input, so the suite
# computes each of them once and remembers the result:

class _RememberedScrypt:
    """werkzeug's view of hashlib with scrypt remembered: the same password, salt and cost give the
    same key, so a login with the fixtures' password costs one real scrypt per run, not 0.14 s each.
    A new password or a new salt (every ``set_password``) is still hashed for real, at full cost."""

    def __getattr__(self, name):
        return getattr(hashlib, name)

    @staticmethod
    @functools.lru_cache(maxsize=4096)
    def _scrypt(password, salt, n, r, p, maxmem, dklen):
        return hashlib.scrypt(password, salt=salt, n=n, r=r, p=p, maxmem=maxmem, dklen=dklen)

    def scrypt(self, password, *, salt, n, r, p, maxmem=0, dklen=64):
        return self._scrypt(bytes(password), bytes(salt), n, r, p, maxmem, dklen)


werkzeug.security.hashlib = _RememberedScrypt()

_real_compile_builder = Rule._compile_builder
_BUILDERS: dict = {}


def _remembered_builder(self, append_unknown=True):
    """werkzeug compiles two URL builders per route and app (0.1 s an app); the code depends only
    on the rule's text, its parsed parts and its defaults, so one compilation serves every app."""
    defaults = self.defaults or {}
    key = (append_unknown, self.rule, self.subdomain, self.host, self.map.host_matching, self.merge_slashes,
           tuple(self._trace), tuple(sorted((k, repr(v)) for k, v in defaults.items())),
           tuple(sorted((k, type(c).__qualname__, self._converters[k].to_url(defaults[k]))
                        for k, c in self._converters.items() if k in defaults)))
    if key not in _BUILDERS:
        _BUILDERS[key] = _real_compile_builder(self, append_unknown)
    return _BUILDERS[key]


Rule._compile_builder = _remembered_builder


class _TemplateCode(BytecodeCache):
    """Jinja's compiled templates, shared by the apps of a run (keyed by name and source checksum)."""

    def __init__(self):
        self.code: dict[str, bytes] = {}

    def load_bytecode(self, bucket):
        if bucket.key in self.code:
            bucket.bytecode_from_string(self.code[bucket.key])

    def dump_bytecode(self, bucket):
        self.code[bucket.key] = bucket.bytecode_to_string()


_TEMPLATE_CODE = _TemplateCode()


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
        """The token a page of this session would carry, without fetching a page for it.

        Flask-WTF keeps a random value in the session and puts it, signed, into every form; this
        does the same through the client's session cookie (as ``generate_csrf`` does).
        """
        app = self.application
        field = app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
        with self.session_transaction() as session:
            if field not in session:
                session[field] = hashlib.sha1(os.urandom(64)).hexdigest()
            raw = session[field]
        secret = app.config.get("WTF_CSRF_SECRET_KEY") or app.secret_key
        return URLSafeTimedSerializer(secret, salt="wtf-csrf-token").dumps(raw)

    def submit(self, url: str, data: dict | None = None, **kwargs):
        data = dict(data or {})
        data.setdefault("csrf_token", self.csrf_token())
        return self.post(url, data=data, **kwargs)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    """SQLite in a temporary file, or the PostgreSQL database named by LEARNING_TEST_DATABASE_URL.

    Under pytest-xdist (``-n 2``) each worker gets a database of its own: its own temporary
    directory on SQLite, ``<name>_gw0``, ``<name>_gw1`` … on PostgreSQL, created when missing.
    """
    url = os.environ.get("LEARNING_TEST_DATABASE_URL")
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if url and worker:
        parsed = make_url(url)
        name = f"{parsed.database}_{worker}"
        admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            if not conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}):
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        return parsed.set(database=name).render_as_string(hide_password=False)
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
        application.jinja_env.bytecode_cache = _TEMPLATE_CODE
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
