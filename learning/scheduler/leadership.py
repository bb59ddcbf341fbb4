"""Who of several scheduler processes acts: a PostgreSQL advisory lock, or a lease row on SQLite.

PostgreSQL: a session-level advisory lock held on a dedicated connection (not from the pool). When
the process dies, its connection ends and PostgreSQL releases the lock at once; a standby polling
with ``pg_try_advisory_lock`` takes over at its next try. The lease row is written as well, but only
to show the leader on the admin page.

SQLite: the lease row is the lock. Acquiring is one conditional UPDATE (or the first INSERT) that
succeeds only when the lease is free, expired or already ours; the leader renews it every third of
its lifetime, and a standby takes it over once it has expired. A leader that cannot renew stops
acting when its lease runs out, before anyone else may take it over.
"""

from __future__ import annotations

import logging
import os
import socket
from datetime import datetime, timedelta

from flask import Flask
from sqlalchemy import create_engine, or_, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from learning.db import db, utcnow
from learning.scheduler.models import SchedulerLease

logger = logging.getLogger(__name__)

LEASE_NAME = "scheduler"
ADVISORY_LOCK_KEY = 0x4C52_5343_4844  # "LRSCHD": one lock for the platform's scheduler
SAFETY_SHARE = 5  # stop acting a fifth of the lease before it could be taken over (renewal: every third)

lease_table = SchedulerLease.__table__


def instance_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class Leadership:
    """Base: lease bookkeeping shared by both kinds of lock."""

    def __init__(self, app: Flask, *, holder: str | None = None, lease_seconds: int | None = None):
        self.app = app
        self.holder = holder or instance_name()
        self.ttl = timedelta(seconds=lease_seconds or app.config["SCHEDULER_LEASE_SECONDS"])
        with app.app_context():
            self.engine = db.engine
        self._valid_until: datetime | None = None

    def is_leader(self) -> bool:
        """Whether this process may act now (no query: decided by its last successful renewal)."""
        return self._valid_until is not None and utcnow() < self._valid_until - self.ttl / SAFETY_SHARE

    def acquire(self) -> bool:
        raise NotImplementedError

    def renew(self) -> bool:
        raise NotImplementedError

    def release(self) -> None:
        raise NotImplementedError

    def _insert(self):
        return pg_insert(lease_table) if self.engine.dialect.name == "postgresql" else sqlite_insert(lease_table)


class LeaseLeadership(Leadership):
    """The lease row as the lock (SQLite; it would work on any database)."""

    def acquire(self) -> bool:
        now = utcnow()
        values = {"holder": self.holder, "acquired_at": now, "renewed_at": now, "expires_at": now + self.ttl}
        try:
            with self.engine.begin() as conn:
                got = conn.execute(self._insert().values(name=LEASE_NAME, **values)
                                   .on_conflict_do_nothing(index_elements=["name"])).rowcount == 1
                if not got:
                    got = conn.execute(
                        update(lease_table).where(
                            lease_table.c.name == LEASE_NAME,
                            or_(lease_table.c.holder == self.holder, lease_table.c.expires_at < now))
                        .values(**values)).rowcount == 1
        except SQLAlchemyError as exc:
            logger.warning("Scheduler lease could not be taken: %s", exc)
            return False
        if got:
            self._valid_until = now + self.ttl
        return got

    def renew(self) -> bool:
        now = utcnow()
        try:
            with self.engine.begin() as conn:
                kept = conn.execute(
                    update(lease_table).where(lease_table.c.name == LEASE_NAME, lease_table.c.holder == self.holder)
                    .values(renewed_at=now, expires_at=now + self.ttl)).rowcount == 1
        except SQLAlchemyError as exc:  # e.g. the database is busy: keep going while the lease lasts
            logger.warning("Scheduler lease not renewed: %s", exc)
            return self.is_leader()
        if kept:
            self._valid_until = now + self.ttl
        else:
            logger.warning("Scheduler lease lost to another instance")
            self._valid_until = None
        return kept

    def release(self) -> None:
        self._valid_until = None
        try:
            with self.engine.begin() as conn:
                conn.execute(update(lease_table).where(lease_table.c.name == LEASE_NAME,
                                                       lease_table.c.holder == self.holder)
                             .values(expires_at=utcnow()))
        except SQLAlchemyError as exc:
            logger.warning("Scheduler lease not released (it expires by itself): %s", exc)


class AdvisoryLockLeadership(Leadership):
    """A PostgreSQL session-level advisory lock on a connection of its own."""

    def __init__(self, app: Flask, **kwargs):
        super().__init__(app, **kwargs)
        self.lock_engine = create_engine(self.engine.url, poolclass=NullPool)
        self.connection = None

    def acquire(self) -> bool:
        try:
            if self.connection is None:
                self.connection = self.lock_engine.connect()
            got = bool(self.connection.execute(text("SELECT pg_try_advisory_lock(:key)"),
                                               {"key": ADVISORY_LOCK_KEY}).scalar())
            self.connection.commit()  # the lock belongs to the session, not to this transaction
        except SQLAlchemyError as exc:
            logger.warning("Scheduler lock could not be taken: %s", exc)
            self._drop_connection()
            return False
        if got:
            self._valid_until = utcnow() + self.ttl
            self._show_leader(new=True)
        return got

    def renew(self) -> bool:
        """The lock lasts while its connection does: check the connection."""
        try:
            self.connection.execute(text("SELECT 1")).scalar()
            self.connection.commit()
        except (SQLAlchemyError, AttributeError) as exc:
            logger.warning("Scheduler lock connection lost: %s", exc)
            self._drop_connection()
            self._valid_until = None
            return False
        self._valid_until = utcnow() + self.ttl
        self._show_leader(new=False)
        return True

    def release(self) -> None:
        self._valid_until = None
        if self.connection is not None:
            try:
                self.connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_LOCK_KEY})
                self.connection.commit()
                with self.engine.begin() as conn:
                    conn.execute(update(lease_table).where(lease_table.c.holder == self.holder)
                                 .values(expires_at=utcnow()))
            except SQLAlchemyError as exc:
                logger.warning("Scheduler lock not released cleanly: %s", exc)
            self._drop_connection()
        self.lock_engine.dispose()

    def _drop_connection(self) -> None:
        if self.connection is not None:
            try:
                self.connection.close()
            except SQLAlchemyError:
                pass
            self.connection = None

    def _show_leader(self, new: bool) -> None:
        """Write the informational lease row (the lock itself is the advisory lock)."""
        now = utcnow()
        values = {"holder": self.holder, "renewed_at": now, "expires_at": now + self.ttl}
        if new:
            values["acquired_at"] = now
        try:
            with self.engine.begin() as conn:
                conn.execute(self._insert().values(name=LEASE_NAME, **{"acquired_at": now, **values})
                             .on_conflict_do_update(index_elements=["name"], set_=values))
        except SQLAlchemyError as exc:
            logger.warning("Scheduler lease row not written: %s", exc)


def leadership_for(app: Flask, **kwargs) -> Leadership:
    with app.app_context():
        dialect = db.engine.dialect.name
    return AdvisoryLockLeadership(app, **kwargs) if dialect == "postgresql" else LeaseLeadership(app, **kwargs)
