"""The one paginator: lists in SQL and in memory, page numbers from the request, past the end the last page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select
from werkzeug.exceptions import BadRequest

from learning.org.models import User
from learning.pagination import Page, paginate

LEARNING = Path(__file__).resolve().parents[1] / "learning"


def test_a_list_is_cut_into_pages():
    page = paginate(list(range(1, 46)), per_page=20, page=2)
    assert (page.items, page.page, page.total, page.pages) == (list(range(21, 41)), 2, 45, 3)
    assert (page.has_prev, page.has_next, page.prev_num, page.next_num) == (True, True, 1, 3)
    last = paginate(list(range(1, 46)), per_page=20, page=3)
    assert last.items == [41, 42, 43, 44, 45] and not last.has_next


def test_past_the_end_is_the_last_page_and_an_empty_list_has_one_page():
    assert paginate(list(range(1, 46)), per_page=20, page=99).page == 3
    empty = paginate([], per_page=20, page=5)
    assert (empty.items, empty.page, empty.pages, empty.has_prev, empty.has_next) == ([], 1, 1, False, False)


@pytest.fixture
def eleven(app, make_user):
    for n in range(11):
        make_user(f"paged{n:02d}", last_name=f"Paged {n:02d}")
    return select(User).where(User.username.like("paged%")).order_by(User.username)


def test_a_query_is_cut_into_pages_of_entities_or_rows(app, eleven, count_queries):
    with app.test_request_context("/?page=2"):
        with count_queries() as statements:
            page = paginate(eleven, per_page=5)
        assert statements[0].startswith("SELECT count(*)")  # the count, then the page
        assert "LIMIT" in statements[1] and "OFFSET" in statements[1] and "count(*)" not in statements[1]
        assert (page.page, page.total, page.pages) == (2, 11, 3)
        assert [u.username for u in page.items] == [f"paged{n:02d}" for n in range(5, 10)]
        rows = paginate(eleven.with_only_columns(User.username, User.last_name), per_page=5, page=3, rows=True)
        assert [tuple(r) for r in rows.items] == [("paged10", "Paged 10")]
        counted = paginate(eleven, per_page=5, page=1, counted=select(User.id).where(User.username.like("paged%")))
        assert counted.total == 11 and len(counted.items) == 5


def test_past_the_end_of_a_query_is_its_last_page(app, eleven):
    with app.test_request_context("/?page=40"):
        page = paginate(eleven, per_page=5)
        assert page.page == 3 and [u.username for u in page.items] == ["paged10"]


@pytest.mark.parametrize(("query", "expected"), [("", 1), ("?page=abc", 1), ("?page=2", 2)])
def test_the_page_number_comes_from_the_request(app, query, expected):
    with app.test_request_context(f"/{query}"):
        assert paginate(list(range(50)), per_page=10).page == expected


@pytest.mark.parametrize("query", ["?page=0", "?page=-3", "?page=99999999999999999999"])
def test_an_impossible_page_number_is_refused(app, query):
    with app.test_request_context(f"/{query}"), pytest.raises(BadRequest):
        paginate(list(range(50)), per_page=10)


def test_no_list_is_paginated_by_hand():
    """Every list page goes through learning.pagination: no OFFSET and no db.paginate elsewhere."""
    found = [f"{path.relative_to(LEARNING)}:{n}"
             for path in sorted(LEARNING.rglob("*.py")) if path.name != "pagination.py"
             for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if re.search(r"\.offset\(|\bdb\.paginate\(|math\.ceil\(.*per_page", line, re.I)]
    assert found == []
    assert issubclass(__import__("learning.onboarding.tasks", fromlist=["TaskPage"]).TaskPage, Page)
