"""Shared fixtures: one app per configuration for the run, a database emptied after each test, factories,
a login helper, real SMTP.

The database is SQLite by default; set LEARNING_TEST_DATABASE_URL (e.g.
postgresql+psycopg://postgres@127.0.0.1:5432/test) to run the same suite on PostgreSQL.
The schema is built once per run by the Alembic migrations, so the migrations are tested too.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import shutil
import socket
import uuid
from datetime import date
from pathlib import Path

import pytest
import werkzeug.security
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, settings
from itsdangerous import URLSafeTimedSerializer
from jinja2 import BytecodeCache
from sqlalchemy import create_engine, event, make_url, text
from sqlalchemy.engine import Engine
from werkzeug.routing.rules import Rule
from werkzeug.security import generate_password_hash

from learning import create_app
from learning.db import db
from learning.extensions import limiter
from learning.org.models import Department, Team, User
from learning.roles import Role

# Course, assignment and phase factories; the browser fixtures (live server, Chromium, watched pages).
pytest_plugins = ["tests.training.factories", "tests.browser"]

# Property tests: no per-example deadline and no "data generation too slow" check (timed assertions that fail
# when the machine is busy, not when the code is wrong), and the same examples on every run, so CI's result does
# not depend on chance.
settings.register_profile("suite", deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("suite")

PASSWORD = "correct-horse-battery"
_PASSWORD_HASH = generate_password_hash(PASSWORD, method="scrypt")  # hashed once: scrypt is slow on purpose
CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


# Speed without changing what is tested (issue 15 §5). Tests share an app per configuration
# (``kept_app``); tests that need an app of their own (``make_app``, ``fresh_app``) still build one,
# and three things it recomputes each time are pure functions of their input, so the suite
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


@event.listens_for(Engine, "connect")
def _sqlite_without_fsync(dbapi_connection, connection_record):
    """Commits of the tests need not survive a power cut: SQLite stops waiting for the disk at each one
    (PostgreSQL: ``synchronous_commit = off`` on the test database, see ``_schema``)."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        dbapi_connection.execute("PRAGMA synchronous=OFF")


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
    """Build the schema once per run with the migrations, from an empty database.

    On PostgreSQL the test database's commits stop waiting for the disk (``synchronous_commit``).
    """
    if database_url.startswith("postgresql"):
        engine = create_engine(database_url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
            conn.execute(text(f'ALTER DATABASE "{engine.url.database}" SET synchronous_commit = off'))
        engine.dispose()
    app = create_app(_test_config(database_url, tmp_path_factory.mktemp("instance")))
    from flask_migrate import upgrade

    with app.app_context():
        upgrade()
        db.engine.dispose()
    return database_url


class _Cleaner:
    """Empties the tables a test wrote to, children first, and restarts their ids (PostgreSQL).

    One statement finds the tables that hold rows, so a test that wrote to three tables costs three
    DELETEs, not one per table of the schema. A sequence a failed insert moved on is restarted too,
    as ``TRUNCATE ... RESTART IDENTITY`` of every table did.
    """

    def __init__(self, url: str):
        self.engine = create_engine(url)
        self.postgresql = self.engine.dialect.name == "postgresql"
        self.tables = [table.name for table in reversed(db.metadata.sorted_tables)]
        self.with_rows = text(" UNION ALL ".join(f"SELECT '{name}' WHERE EXISTS (SELECT 1 FROM \"{name}\")"
                                                 for name in self.tables))

    def clean(self) -> None:
        with self.engine.begin() as conn:
            filled = set(conn.scalars(self.with_rows))
            deletes = [f'DELETE FROM "{name}"' for name in self.tables if name in filled]
            if self.postgresql:  # one round trip; setval is what RESTART IDENTITY does
                conn.connection.cursor().execute("; ".join([*deletes, _RESTART_MOVED_SEQUENCES]))
            else:
                for delete in deletes:
                    conn.exec_driver_sql(delete)


_RESTART_MOVED_SEQUENCES = ("SELECT setval(format('%I.%I', schemaname, sequencename)::regclass, start_value, false)"
                            " FROM pg_sequences WHERE last_value IS NOT NULL")


@pytest.fixture(scope="session")
def _cleaner(_schema):
    cleaner = _Cleaner(_schema)
    yield cleaner
    cleaner.engine.dispose()


@pytest.fixture
def _clean_database(_cleaner):
    """Empty the database after a test that had an app."""
    yield
    _cleaner.clean()


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


def _new_app(database_url: str, instance_path, **overrides) -> Flask:
    application = create_app(_test_config(database_url, instance_path, **overrides))
    application.jinja_env.bytecode_cache = _TEMPLATE_CODE
    application.test_client_class = FormClient
    return application


class _KeptApp:
    """An app kept for the whole run (per worker), handed to one test after another as if it were new.

    When a test ends, its settings (``app.config``) are put back, its page cache is dropped and its
    instance folder emptied (media, the organisation's logo: files a test wrote must not reach the next). The
    rate limiter is one object for all apps of the process: when a test takes the app, the storage
    this app was built with is put back in place and emptied.
    """

    def __init__(self, application: Flask):
        self.app = application
        self.config = dict(application.config)
        self.limiter = {name: vars(limiter)[name] for name in _LIMITER_STATE}

    def take(self) -> Flask:
        vars(limiter).update(self.limiter)
        if limiter.enabled:
            limiter.reset()
        return self.app

    def give_back(self) -> None:
        self.app.config.clear()
        self.app.config.update(self.config)
        self.app.extensions.pop("page_cache", None)
        self.app.extensions.pop("settings_cache", None)  # kept under a change counter the next test starts again
        for written in Path(self.app.instance_path).iterdir():
            shutil.rmtree(written) if written.is_dir() and not written.is_symlink() else written.unlink()


_LIMITER_STATE = ("_storage", "_limiter", "enabled")


@pytest.fixture(scope="session")
def _kept_apps(_schema, tmp_path_factory):
    kept: dict[tuple, _KeptApp] = {}
    yield kept
    for entry in kept.values():
        with entry.app.app_context():
            db.engine.dispose()


@pytest.fixture
def kept_app(_kept_apps, _clean_database, _schema, tmp_path_factory):
    """The app of a configuration (extra settings as keyword arguments), built once per run.

    A new app compiles its routes and templates again, and its new engine every SQL statement: that
    was half of an ordinary test's time. The tests of one configuration share one app; its commits
    are real, and after each test its settings are put back and the database is emptied. A test
    that changes the app itself (a route, a hook, its pool of connections) is marked ``fresh_app``
    or uses ``make_app``.
    """
    taken: list[_KeptApp] = []

    def get(**overrides) -> Flask:
        key = tuple(sorted((name, repr(value)) for name, value in overrides.items()))
        if key not in _kept_apps:
            _kept_apps[key] = _KeptApp(_new_app(_schema, tmp_path_factory.mktemp("instance"), **overrides))
        entry = _kept_apps[key]
        if entry not in taken:
            taken.append(entry)
            entry.take()
        return entry.app

    yield get
    for entry in taken:
        entry.give_back()


@pytest.fixture
def make_app(_clean_database, _schema, tmp_path):
    """Create a new app on the test database; extra settings as keyword arguments."""
    apps = []

    def factory(**overrides):
        application = _new_app(_schema, tmp_path / "instance", **overrides)
        apps.append(application)
        return application

    yield factory
    for application in apps:
        with application.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def app(request, kept_app, make_app):
    """The app of the test: the run's default one, or a new one for a test marked ``fresh_app``."""
    if request.node.get_closest_marker("fresh_app"):
        return make_app()
    return kept_app()


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
