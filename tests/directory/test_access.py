"""Who reaches the directory pages: administrators only (tests/test_access.py walks them too, with ``link_id``)."""

from __future__ import annotations

import pytest

from tests.directory.access_samples import samples

ROUTES = [("GET", "/admin/directory/"), ("POST", "/admin/directory/test"),
          ("POST", "/admin/directory/links/{link_id}/confirm"), ("POST", "/admin/directory/links/{link_id}/refuse"),
          ("GET", "/admin/directory/sync"), ("POST", "/admin/directory/oidc/test")]


@pytest.mark.parametrize("role", ["anonymous", "employee", "manager", "project_group", "admin"])
@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_only_admins_reach_the_directory_pages(app, people, login, role, method, path):
    url = path.format(**samples(app, people))
    client = app.test_client()
    if role != "anonymous":
        login(client, people[role].username)
    response = client.get(url) if method == "GET" else client.submit(url)
    if role == "anonymous":
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    elif role == "admin":
        assert response.status_code == (200 if method == "GET" else 302)
    else:
        assert response.status_code == 403


def test_the_access_matrix_knows_the_directory_routes(app):
    from learning.security import audience_of

    endpoints = {rule.endpoint for rule in app.url_map.iter_rules() if rule.endpoint.startswith("directory.")}
    assert endpoints == {"directory.index", "directory.test", "directory.confirm", "directory.refuse",
                         "directory.sync_preview", "directory.sync_apply", "directory.oidc_test"}
    assert all(audience_of(app, endpoint) for endpoint in endpoints)
