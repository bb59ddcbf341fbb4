"""Text search in SQL: a needle matches itself only, on SQLite and PostgreSQL alike.

``LIKE`` treats ``%`` (any run of characters) and ``_`` (any one character) as wildcards, so a
search for ``a_b`` must not find ``axb`` and a search for ``_`` must not find everybody. Every
search of a text column goes through :func:`contains`, which escapes both and the escape
character itself and states the escape character in the statement (SQLite has no default one).
Case is folded with ``ILIKE`` (PostgreSQL: Unicode case folding; SQLite: ``lower()`` on both
sides, which folds ASCII letters only).
"""

from __future__ import annotations

from sqlalchemy.sql.elements import ColumnElement

ESCAPE = "\\"
MAX_NEEDLE = 200  # a search, not a document (SQLite refuses LIKE patterns of 50 kB)


def escape_like(text: str) -> str:
    """``text`` with the escape character, ``%`` and ``_`` escaped for ``LIKE … ESCAPE '\\'``."""
    return text.replace(ESCAPE, ESCAPE * 2).replace("%", ESCAPE + "%").replace("_", ESCAPE + "_")


def contains(column, needle: str) -> ColumnElement[bool]:
    """SQL: ``column`` contains ``needle`` literally, ignoring case."""
    return column.ilike(f"%{escape_like(needle)}%", escape=ESCAPE)
