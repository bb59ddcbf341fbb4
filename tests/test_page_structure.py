"""Every page as every role: ids unique on the page, headings in order and none empty.

Independent checkers (the W3C Nu HTML checker, HTML_CodeSniffer) flagged a repeated
``id="csrf_token"`` on pages with several forms and lessons whose headings jump from h1 to h3
(issue 18). Walks the same URLs as the GET-safety walk.
"""

from __future__ import annotations

import pytest

from tests import test_access
from tests.test_access import ROLES
from tests.test_safe_get import get_urls
from tests.walk import duplicate_ids, heading_problems

ids = test_access.ids  # the fixture of existing records for every URL argument


@pytest.mark.parametrize("role", ROLES)
def test_every_page_has_unique_ids_and_ordered_headings(app, people, ids, login, role):
    client = app.test_client()
    if role != "anonymous":
        login(client, people[role].username)
    urls = get_urls(app, ids)
    assert len(urls) > 50
    problems = {}
    for url in urls:
        response = client.get(url)
        if response.status_code != 200 or not response.mimetype == "text/html":
            continue
        html = response.get_data(as_text=True)
        if found := [f"duplicate id {i!r}" for i in duplicate_ids(html)] + heading_problems(html):
            problems[url] = found
    assert problems == {}


def test_a_page_with_several_forms_has_no_csrf_token_id(app, people, login):
    client = app.test_client()
    login(client, people["admin"].username)
    html = client.get("/admin/users").get_data(as_text=True)
    assert 'name="csrf_token"' in html and 'id="csrf_token"' not in html


def test_the_structure_checks_find_what_they_look_for():
    assert duplicate_ids('<p id="a"></p><p id="b"></p><input id="a">') == ["a"]
    assert heading_problems("<h1>T</h1><h2>A</h2><h3>B</h3><h2>C</h2>") == []
    assert heading_problems("<h1>T</h1><h3>B</h3><h2></h2>") == ["h3 'B' after h1", "empty h2"]
