"""The one paginator: every list page of the platform is cut into pages here.

:func:`paginate` takes a SQL ``select`` (two statements: the count and the page; rows of
several columns with ``rows=True``) or a list already in memory, and returns a :class:`Page`,
which the ``ui.pagination`` macro shows. The page number comes from
:func:`learning.guards.page_arg` unless the caller passes one (bounded there: 1 … ``MAX_PAGE``,
so page × page size stays an OFFSET the database can hold). A number past the last page shows
the last page, so a list that shrank under the reader (the last entry of a page marked as read)
never comes back empty.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select

from learning.db import db
from learning.guards import page_arg


@dataclass
class Page:
    """One page of a list: its items, its number (from 1), the page size and the number of all entries."""

    items: list[Any]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int:
        return self.page - 1

    @property
    def next_num(self) -> int:
        return self.page + 1


def _last_page(total: int, per_page: int) -> int:
    return max(1, -(-total // per_page))


def paginate(source: Select | Sequence, *, per_page: int, page: int | None = None, rows: bool = False,
             counted: Select | None = None) -> Page:
    """Page ``page`` (default: the request's ``page`` parameter) of ``source``, ``per_page`` entries each.

    ``source`` is an ordered ``select`` of one entity (its items are the entities) or, with
    ``rows=True``, of several columns (its items are the rows); or a list already in memory.
    ``counted`` is a cheaper statement with the same number of rows to count instead (without
    the computed columns of ``source``).
    """
    if per_page < 1:
        raise ValueError("per_page must be at least 1")
    number = max(1, page_arg() if page is None else page)
    if isinstance(source, Select):
        total = db.session.scalar(
            select(func.count()).select_from((source if counted is None else counted).order_by(None).subquery())) or 0
        number = min(number, _last_page(total, per_page))
        result = db.session.execute(source.limit(per_page).offset((number - 1) * per_page))
        items = list(result.all() if rows else result.unique().scalars())
        return Page(items, number, per_page, total)
    total = len(source)
    number = min(number, _last_page(total, per_page))
    return Page(list(source[(number - 1) * per_page:number * per_page]), number, per_page, total)
