"""No GET changes data: walk the whole URL map as every role; only the audit log may grow.

An image or link in someone's post makes every reader's browser send a GET, so a GET that
enrols, starts a quiz attempt, marks something read or writes anything else would act in the
reader's name (issue 14 §2). Audit entries of what the person really opened are allowed.
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
SKIPPED = {"auth.logout"}  # would end the session mid-walk (and is a POST anyway)


def snapshot(app) -> dict[str, list[str]]:
    """Every row of every table but the audit log, in a comparable form (row counts would miss updates)."""
    with app.app_context():
        return {table.name: sorted(repr(tuple(row)) for row in db.session.execute(select(table)))
                for table in db.metadata.sorted_tables if table.name != AUDIT_TABLE}


def changed_tables(before: dict, after: dict) -> list[str]:
    return sorted(name for name, rows in after.items() if rows != before[name])


def get_urls(app, ids, prefix: str = "") -> list[str]:
    """One URL per GET route (whose endpoint starts with ``prefix``), pointing at existing records."""
    with app.test_request_context():
        return [url_for(rule.endpoint, **_sample_args(rule, ids)) for rule in app.url_map.iter_rules()
                if "GET" in rule.methods and rule.endpoint not in SKIPPED and rule.endpoint.startswith(prefix)]


@pytest.mark.parametrize("role", ROLES)
def test_no_get_changes_data(app, people, ids, login, role):
    client = app.test_client()
    if role != "anonymous":
        login(client, people[role].username)
    urls = get_urls(app, ids)
    assert len(urls) > 50
    culprits = {}
    for url in urls:
        before = snapshot(app)
        assert client.get(url).status_code < 500, url
        if changes := changed_tables(before, snapshot(app)):
            culprits[url] = changes
    assert culprits == {}, "these GETs changed data"
