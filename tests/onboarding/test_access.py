"""The access matrix of the onboarding routes alone, as in tests/test_access.py, plus who sees which journey."""

from __future__ import annotations

import pytest
from flask import url_for

from learning.security import AUTHENTICATED, audience_of
from tests.test_access import ROLE_OF, ROLES, _sample_args, ids  # noqa: F401  (ids is a fixture)


@pytest.mark.parametrize("role", ROLES)
def test_onboarding_access_matrix(app, people, ids, login, role):  # noqa: F811
    client = app.test_client()
    if role != "anonymous":
        login(client, people[role].username)
    token = client.csrf_token()
    checked = 0
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("onboarding."):
            continue
        audience = audience_of(app, rule.endpoint)
        assert audience, rule.endpoint
        with app.test_request_context():
            url = url_for(rule.endpoint, **_sample_args(rule, ids))
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.get(url) if method == "GET" else client.post(url, data={"csrf_token": token})
            checked += 1
            where = f"{method} {url} as {role}"
            assert response.status_code < 500, where
            if role == "anonymous":
                assert response.status_code == 302 and "/login" in response.headers["Location"], where
            elif AUTHENTICATED in audience or ROLE_OF[role] in audience:
                assert response.status_code in {200, 302, 404}, where
                if method == "GET":
                    assert response.status_code == 200, where
            else:
                assert response.status_code == 403, where
    assert checked >= 15
