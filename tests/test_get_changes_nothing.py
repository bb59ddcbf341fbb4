"""Walk every GET route as every role: a GET changes no row except audit entries of what was opened.

A GET can be sent by anyone's browser without their doing (an image in a post, a link preview),
so it must not enrol, start, mark or create anything; only the audit log may note that a person
opened individual data.
"""

from __future__ import annotations

import pytest
from flask import url_for

from tests.test_access import ROLES, _sample_args, ids  # noqa: F401  (ids is a fixture)
from tests.walk import changed_tables, row_counts

MAY_CHANGE = {"audit_log"}  # "who opened what" is recorded on purpose


@pytest.mark.parametrize("role", ROLES)
def test_no_get_route_changes_data(app, people, ids, login, role):  # noqa: F811
    client = app.test_client()
    if role != "anonymous":
        login(client, people[role].username)
    changes, walked = [], 0
    before = row_counts(app)
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        with app.test_request_context():
            url = url_for(rule.endpoint, **_sample_args(rule, ids))
        response = client.get(url)
        walked += 1
        assert response.status_code < 500, f"GET {url} as {role}"
        after = row_counts(app)
        changed, before = changed_tables(before, after, ignore=MAY_CHANGE), after
        if changed:
            changes.append(f"GET {url} ({rule.endpoint}) changed {changed}")
    assert walked > 50
    assert changes == [], f"as {role}:\n" + "\n".join(changes)
