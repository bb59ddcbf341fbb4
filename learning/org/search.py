"""The one person search: the people list, the audit log and the outbox find a person the same way.

A person matches when the needle occurs, ignoring case and literally (``_`` and ``%`` match only
themselves, see :mod:`learning.search`), in their full name ("first last"), user name, email
address or employee number.
"""

from __future__ import annotations

from sqlalchemy import Select, or_, select
from sqlalchemy.sql.elements import ColumnElement

from learning.org.models import User
from learning.search import MAX_NEEDLE, contains


def search_text(raw: str | None) -> str:
    """The needle as searched (and shown back in the search field): trimmed and bounded."""
    return (raw or "").strip()[:MAX_NEEDLE]


def person_matches(needle: str) -> ColumnElement[bool]:
    """SQL on ``User``: this person is found by ``needle`` (a non-empty :func:`search_text`)."""
    return or_(
        contains(User.first_name + " " + User.last_name, needle),
        contains(User.username, needle),
        contains(User.email, needle),
        contains(User.employee_number, needle),
    )


def matching_people(needle: str) -> Select:
    """The ids of the people ``needle`` finds, as a subquery for ``column.in_(...)``."""
    return select(User.id).where(person_matches(needle))


def name_matches(needle: str) -> ColumnElement[bool]:
    """SQL on ``User``: the full name ("first last" or "last, first") contains ``needle``.

    The person picker searches names only: a search by address or employee number would tell
    whoever picks whose address or number it is.
    """
    return or_(contains(User.first_name + " " + User.last_name, needle),
               contains(User.last_name + ", " + User.first_name, needle))
