"""A person's rendered page kept for a short while, reused only while nothing it shows has changed.

The home page is what everybody opens, many times a day; rendering it runs a dozen queries and a
large template. ``@per_person_page`` keeps the rendered page per person in the worker's memory and
serves it again, after one query, as long as its key still matches:

- the person, the session's CSRF token (the page holds forms), the language and today's date;
- two change counters read in that one query: the person's own and everyone's (``ChangeCounter``).

A third counter read with them, the settings' own (a model with ``__page_cache_scope__`` bumps that
scope too), lets every page reuse the runtime settings the worker read before
(``learning/settings/services.py``).

The counters are read with the signed-in person, in the one statement ``auth.services.load_user``
runs outside any transaction, so a kept page costs no further statement.

The counters are bumped in the transaction that changes the data, so a page rendered after a
change never hides it. Every model says where its rows show with ``__page_cache__`` (a ``Shown``;
a table without a model says it in ``Table(..., info={"page_cache": ...})``):

- a flush of rows that belong to one person and that other people's cached pages never show
  (``Shown.PERSON``: their progress, acknowledgements, notifications, ...) bumps that person's counter;
- a flush of anything else (``Shown.EVERYONE``), and any bulk statement through the session, bumps
  everyone's counter;
- tables no cached page shows (``Shown.NOWHERE``: the outbox, the audit log, ...) bump nothing;
- a plain SQL statement through the session other than a SELECT bumps everyone's.

A table that says nothing counts as ``EVERYONE``: never stale, only kept less long
(``tests/test_pagecache.py`` checks that every table says it).

Writes that bypass the session (a separate engine connection) are not seen; entries also expire
after ``PAGE_CACHE_SECONDS`` for them and for what changes with time alone (an announcement
published at a set time). Pages with flashed messages or a query string are never cached.
"""

from __future__ import annotations

import enum
import threading
from collections import OrderedDict
from functools import wraps
from time import monotonic
from typing import NamedTuple

from flask import current_app, g, request, session
from flask_babel import get_locale
from flask_login import current_user
from sqlalchemy import BigInteger, String, cast, event, func, literal, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, mapped_column
from sqlalchemy.sql.elements import TextClause

from learning.db import db, read_outside_transaction
from learning.i18n import local_today

EVERYONE = "all"
SETTINGS_SCOPE = "settings"  # the runtime settings' own counter: learning/settings/services.py keeps them under it
PENDING = "page_cache_scopes"  # in Session.info: the counters this transaction bumps

class Shown(enum.StrEnum):
    """Where a table's rows show on kept pages: each model declares it as ``__page_cache__``."""

    EVERYONE = "everyone"  # anywhere: a change is news for every kept page
    # Rows of one person (``user_id``) that other people's kept pages do not show, not even as a name.
    # Survey participation is not one on purpose: answering an anonymous survey must not touch a row
    # named after the person in the transaction that stores the answers (see test_anonymity.py).
    PERSON = "person"
    NOWHERE = "nowhere"  # on no kept page (the outbox, the audit log, ...)


def shown(table) -> Shown:
    """Where the rows of ``table`` (a Table) show, as its model or its ``info`` declares (else everywhere)."""
    declared = table.info.get("page_cache")
    if declared is None:
        declared = getattr(_model_of(table.name), "__page_cache__", None)
    return Shown(declared or Shown.EVERYONE)


_MODELS: dict[str, type] = {}  # table name -> model, filled on first use (and when a model came later)


def _model_of(table_name: str) -> type | None:
    if table_name not in _MODELS:
        _MODELS.update({mapper.local_table.name: mapper.class_ for mapper in db.Model.registry.mappers})
    return _MODELS.get(table_name)


class ChangeCounter(db.Model):
    """How often the data behind a scope's cached pages changed (``all`` or ``user:<id>``)."""

    __page_cache__ = Shown.NOWHERE

    scope: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


def person_scope(user_id: int) -> str:
    return f"user:{user_id}"


# Bumping the counters -----------------------------------------------------------------------------------------

def _pending(session: Session) -> set[str]:
    return session.info.setdefault(PENDING, set())


@event.listens_for(Session, "after_flush")
def _note_flushed(session: Session, _context) -> None:
    pending = _pending(session)
    for instance in (*session.new, *session.dirty, *session.deleted):
        scope = getattr(type(instance), "__page_cache_scope__", None)  # a counter of its own besides (settings)
        if scope is not None:
            pending.add(scope)
        where = getattr(type(instance), "__page_cache__", Shown.EVERYONE)
        if where == Shown.NOWHERE:
            continue
        user_id = getattr(instance, "user_id", None) if where == Shown.PERSON else None
        pending.add(person_scope(user_id) if user_id is not None else EVERYONE)


@event.listens_for(Session, "do_orm_execute")
def _note_bulk_statement(state) -> None:
    if isinstance(state.statement, TextClause):  # plain SQL: which tables it writes is unknown
        if state.statement.text.lstrip()[:6].upper() != "SELECT":
            _pending(state.session).add(EVERYONE)
        return
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)
    if table is None or not hasattr(table, "info") or shown(table) != Shown.NOWHERE:
        _pending(state.session).add(EVERYONE)


@event.listens_for(Session, "before_commit")
def _bump(session: Session) -> None:
    session.flush()  # the last flush happens after this hook; its rows must be noted first
    scopes = session.info.pop(PENDING, None)
    if not scopes:
        return
    table = ChangeCounter.__table__
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(table).values([{"scope": scope, "value": 1} for scope in sorted(scopes)])
    session.execute(statement.on_conflict_do_update(index_elements=["scope"],
                                                    set_={"value": table.c.value + 1}))


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction) -> None:
    if transaction.parent is None:  # the whole transaction ended (a savepoint's end leaves the outer one's changes)
        session.info.pop(PENDING, None)


# The cache ----------------------------------------------------------------------------------------------------

class PageCache:
    """A bounded, thread-safe LRU map of key → (expiry, page) in this process."""

    def __init__(self, entries: int, seconds: float):
        self.entries, self.seconds = entries, seconds
        self._pages: OrderedDict[tuple, tuple[float, str]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple) -> str | None:
        with self._lock:
            found = self._pages.get(key)
            if found is None:
                return None
            if found[0] < monotonic():
                del self._pages[key]
                return None
            self._pages.move_to_end(key)
            return found[1]

    def put(self, key: tuple, page: str) -> None:
        with self._lock:
            self._pages[key] = (monotonic() + self.seconds, page)
            self._pages.move_to_end(key)
            while len(self._pages) > self.entries:
                self._pages.popitem(last=False)


def _cache() -> PageCache | None:
    seconds = current_app.config["PAGE_CACHE_SECONDS"]
    if not seconds:
        return None
    cache = current_app.extensions.get("page_cache")
    if cache is None:
        cache = current_app.extensions["page_cache"] = PageCache(current_app.config["PAGE_CACHE_ENTRIES"], seconds)
    return cache


# Reading the counters ---------------------------------------------------------------------------------------

class Counters(NamedTuple):
    everyone: int
    person: int
    settings: int = 0


def counter_value(scope):
    """A counter's value as a column (0 before its first change)."""
    return func.coalesce(select(ChangeCounter.value).where(ChangeCounter.scope == scope).scalar_subquery(), 0)


def counter_columns(person_id) -> list:
    """The counters of the person whose id is ``person_id`` (``Counters``), as columns to read beside that person."""
    return [counter_value(literal(EVERYONE)), counter_value(literal("user:") + cast(person_id, String)),
            counter_value(literal(SETTINGS_SCOPE))]


def note_counters(user_id: int, counters: Counters) -> None:
    """The counters read with this request's person, before anything the page shows."""
    g.page_counters = (user_id, counters)


def _counters(user_id: int) -> Counters:
    noted = g.get("page_counters")
    if noted is not None and noted[0] == user_id:
        return noted[1]
    # a person signed in some other way than load_user
    return Counters(*read_outside_transaction(select(*counter_columns(literal(user_id))))[0])


def _key() -> tuple | None:
    """The page's key, or None when this request must be rendered afresh and not kept.

    The page is named by its endpoint and URL arguments (``home.index``, ``phases.detail`` with
    ``phase_id=3``), never by the view function's name, which two blueprints may share.
    """
    token = session.get("csrf_token")
    if token is None or "_flashes" in session or request.query_string or request.method != "GET":
        return None
    counters = _counters(current_user.id)
    page = (request.endpoint, tuple(sorted((request.view_args or {}).items())))
    return (page, current_user.id, token, str(get_locale()), local_today(), counters.everyone, counters.person)


def per_person_page(when=lambda: True):
    """Keep the view's page per person while its key matches (see the module); ``when()`` may refuse."""

    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            cache = _cache() if when() else None
            key = _key() if cache is not None else None
            if key is not None:
                page = cache.get(key)
                if page is not None:
                    return page
            page = view(*args, **kwargs)
            if key is not None and isinstance(page, str) and "_flashes" not in session:
                cache.put(key, page)
            return page

        return wrapper

    return decorate
