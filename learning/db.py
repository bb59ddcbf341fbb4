"""Database access: the declarative base, naming convention, session and shared mixins."""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from time import monotonic

import click
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import DateTime, MetaData, event, text
from sqlalchemy.engine import Engine, Row
from sqlalchemy.exc import DBAPIError, InvalidatePoolError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, registry
from sqlalchemy.types import TypeDecorator

logger = logging.getLogger(__name__)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """Return the current time as an aware UTC datetime (the only kind stored)."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Store aware datetimes as UTC and hand them back aware, on SQLite and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def render_migration_type(type_, obj, autogen_context):
    """Write our column types into migrations as plain SQLAlchemy types (no app imports there)."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


class Base(DeclarativeBase):
    registry = registry(
        metadata=MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={datetime: UTCDateTime},
    )


db = SQLAlchemy(model_class=Base)


def read_outside_transaction(statement, params: dict | None = None) -> list[Row]:
    """The rows of a read that needs no transaction, on a connection of its own (on PostgreSQL no BEGIN,
    no ROLLBACK: two round trips fewer). Every signed-in request reads the person this way.

    A pooled connection that died without being noticed (see ``ping_when_idle``) is replaced and the
    read tried once more: a read changes nothing, so trying again is safe.
    """
    try:
        return _read(statement, params)
    except DBAPIError as exc:
        if not exc.connection_invalidated:
            raise
        logger.warning("Database connection lost; reading again on a new one: %s", exc.orig)
    return _read(statement, params)


def _read(statement, params: dict | None) -> list[Row]:
    with db.engine.connect() as connection:
        if connection.dialect.name == "postgresql":  # SQLite begins no transaction for a SELECT anyway
            connection.execution_options(isolation_level="AUTOCOMMIT")
        return connection.execute(statement, params or {}).all()


PING_AFTER_IDLE_SECONDS = 1.0


def ping_when_idle(engine: Engine) -> None:
    """Check a pooled connection before use only when it lay idle for a while.

    ``pool_pre_ping`` pings on every checkout: one round trip more for every request, which is a
    third of a kept page's cost on PostgreSQL. A connection in steady use needs no ping. One that lay
    idle across a database restart or a firewall's timeout is pinged. If it is dead, it is replaced,
    with every other connection as old, before a request sees it. A connection that dies while in
    use fails its statement: the read of the person is tried again (``read_outside_transaction``),
    anything else answers 503, and the pool drops every connection older than the failure.
    """
    @event.listens_for(engine, "checkin")
    def _idle_from_now(_dbapi_connection, record) -> None:
        record.info["idle_since"] = monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection, record, _proxy) -> None:
        idle_since = record.info.get("idle_since")  # None for a new connection: nothing to check
        if idle_since is None or monotonic() - idle_since < PING_AFTER_IDLE_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:
            raise InvalidatePoolError(f"connection lost while idle: {exc}") from exc


AFTER_COMMIT = "learning.after_commit"


@contextmanager
def unit_of_work() -> Iterator[None]:
    """The one transaction boundary: views, CLI commands and jobs wrap a change in it; services only ``flush()``.

    On leaving the block the session commits once; an exception rolls everything back and is raised
    again. Outside effects a service queued with ``after_commit`` (mail, notices to other systems) run
    only after the commit succeeded, and are dropped on a rollback, so nobody is told of a change that
    did not happen. Nested blocks join the outer one: only the outermost commits.
    """
    session = db.session()
    if session.info.get(_DEPTH, 0):
        session.info[_DEPTH] += 1
        try:
            yield
        finally:
            session.info[_DEPTH] -= 1
        return
    session.info[_DEPTH] = 1
    try:
        yield
        session.commit()
    except BaseException:
        session.rollback()
        session.info.pop(AFTER_COMMIT, None)
        raise
    finally:
        session.info[_DEPTH] = 0
    for effect in session.info.pop(AFTER_COMMIT, []):
        effect()


_DEPTH = "learning.unit_of_work_depth"


def after_commit(effect: Callable[[], None]) -> None:
    """Run ``effect`` once the current unit of work has committed; it is dropped if the unit rolls back.

    Outside a unit of work (a shell, a test driving a service directly) there is no commit to wait
    for: the caller owns the transaction, and the effect runs at once.
    """
    session = db.session()
    if session.info.get(_DEPTH, 0):
        session.info.setdefault(AFTER_COMMIT, []).append(effect)
    else:
        effect()


def end_session_quietly(_error=None) -> None:
    """End the request's session; a database that went away meanwhile must not turn the answer into a 500.

    The answer is already made when the session's transaction is rolled back at the end. If the
    database is shutting down, that rollback fails; the connection is then discarded by the pool.
    """
    # CPython 3.11 runs the cyclic collector inside allocations: a collection in the middle of
    # Session.close() (InstanceState._detach_states, while the loaded objects are cyclic garbage
    # whose weakref callbacks store into the same states) leaves a freed instance dict tracked,
    # and the next collection crashes the process. Not needed on Python 3.12+ (collector runs
    # only between bytecodes there).
    collecting = gc.isenabled()
    gc.disable()
    try:
        db.session.remove()
    except OperationalError as exc:
        logger.warning("Database connection lost while ending a request: %s", exc)
    finally:
        if collecting:
            gc.enable()


# SQLSTATEs of PostgreSQL for a table or column that does not exist: the schema is missing or old.
MISSING_SCHEMA_SQLSTATES = {"42P01", "42703"}
MISSING_SCHEMA_MESSAGE = "The database has no schema yet (or an older one): run `flask db upgrade` first."


def is_missing_schema(exc: DBAPIError) -> bool:
    """Whether a database error says that a table or column is missing (SQLite and PostgreSQL)."""
    orig = exc.orig
    code = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if code in MISSING_SCHEMA_SQLSTATES:
        return True
    message = str(orig).lower()
    return message.startswith(("no such table", "no such column"))


def require_schema() -> None:
    """Fail now, with the hint of ``schema_guarded``, when the database has no schema.

    For commands that would otherwise wait and retry (the scheduler logs and waits for a lease).
    """
    db.session.execute(text("SELECT version_num FROM alembic_version")).all()
    db.session.rollback()


def schema_guarded(command: click.Command) -> click.Command:
    """Let a CLI command (a group: all its commands) end with a hint instead of a traceback on a missing schema."""
    if getattr(command, "_schema_guarded", False):
        return command
    invoke = command.invoke

    def guarded_invoke(ctx: click.Context):
        try:
            return invoke(ctx)
        except DBAPIError as exc:
            if not is_missing_schema(exc):
                raise
            raise click.ClickException(MISSING_SCHEMA_MESSAGE) from None

    command.invoke = guarded_invoke
    command._schema_guarded = True
    return command


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):
    """Make SQLite fit for a web server and a scheduler at once: WAL, a busy timeout, foreign keys."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()
