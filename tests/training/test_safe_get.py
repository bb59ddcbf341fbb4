"""No GET of a training page changes data; only audit entries of what the person really opened may be written.

An image or link in someone's post can make every reader's browser send a GET, so a GET that
enrols, starts a quiz attempt or marks anything would act in the reader's name.
"""

from __future__ import annotations

import pytest
from flask import url_for
from sqlalchemy import select

from learning.db import db
from tests import test_access
from tests.test_access import ROLES, _sample_args

ids = test_access.ids  # the fixture of existing records for every URL argument

AUDIT_TABLE = "audit_log"


def _snapshot(app) -> dict[str, list[str]]:
    """Every row of every table but the audit log, in a comparable form (row counts miss updates)."""
    with app.app_context():
        return {table.name: sorted(repr(tuple(row)) for row in db.session.execute(select(table)))
                for table in db.metadata.sorted_tables if table.name != AUDIT_TABLE}


def _training_get_urls(app, ids) -> list[str]:
    urls = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if rule.endpoint.startswith("training.") and "GET" in rule.methods:
                urls.append(url_for(rule.endpoint, **_sample_args(rule, ids)))
    return urls


@pytest.mark.parametrize("role", ROLES)
def test_no_training_get_changes_data(app, people, ids, login, make_course, role):
    client = app.test_client()
    if role != "anonymous":
        login(client, people[role].username)
    course = ids["course"]
    urls = [*_training_get_urls(app, ids), f"/learning/courses/{course}/quiz?attempt=1",
            f"/learning/courses/{course}/quiz/start"]  # a GET of the start address is refused, not obeyed
    assert f"/learning/courses/{course}/quiz" in urls
    before = _snapshot(app)
    for url in urls:
        assert client.get(url).status_code < 500, url
    after = _snapshot(app)
    assert {name: len(rows) for name, rows in after.items() if rows != before[name]} == {}


def test_open_attempt_page_changes_nothing(app, client, people, login, make_course):
    """With an attempt open, the quiz page shows its questions again without touching the attempt."""
    course = make_course()
    login(client, "employee")
    client.submit(f"/learning/courses/{course.slug}/quiz/start")
    before = _snapshot(app)
    for _ in range(2):
        assert 'name="attempt_id"' in client.get(f"/learning/courses/{course.slug}/quiz").get_data(as_text=True)
    assert _snapshot(app) == before
