"""Walk the whole URL map as every role: each route declares its audience and honours it."""

from __future__ import annotations

import pytest

from learning.security import AUTHENTICATED, PUBLIC, audience_of

ROLES = ["anonymous", "employee", "manager", "project_group", "admin"]
ROLE_OF = {"employee": "employee", "manager": "manager", "project_group": "project_group", "admin": "admin"}


def _sample_args(rule, ids) -> dict:
    """Values for a rule's URL arguments that point at existing records where possible."""
    values = {}
    for name in rule.arguments:
        if name in (rule.defaults or {}):
            continue
        values[name] = {
            "user_id": ids["user"], "department_id": ids["department"], "team_id": ids["team"],
            "unit_id": ids["team"], "kind": "team", "token": "not-a-valid-token", "filename": "css/app.css",
            "slug": ids["course"], "lesson": ids["lesson"], "rule_id": ids["rule"], "code": "NOTAVALIDCODE",
            **ids["features"],
        }[name]
    if rule.endpoint == "training.media":
        values["filename"] = "bild.png"
    return values


@pytest.fixture
def ids(app, people, make_course, tmp_path):
    """Existing records for every kind of URL argument, so allowed roles get real pages."""
    from learning.db import db
    from learning.training.models import AssignmentRule

    course = make_course("zugang")
    media = tmp_path / "courses" / "zugang"
    media.mkdir(parents=True)
    (media / "bild.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    app.config["COURSES_DIR"] = str(tmp_path / "courses")
    with app.app_context():
        rule = AssignmentRule(course_id=course.id, audience="everyone", audience_values=[], due_rule="assigned+30")
        db.session.add(rule)
        db.session.commit()
        rule_id = rule.id
    return {"user": people["employee"].id, "team": people["team"].id, "department": people["team"].department_id,
            "course": course.slug, "lesson": course.lessons[0].slug, "rule": rule_id,
            "features": _feature_samples(app, people)}


def _feature_samples(app, people) -> dict:
    """URL argument values that features provide in ``tests/<feature>/access_samples.py``.

    Each such module has ``samples(app, people) -> dict`` that creates a record per argument
    name it introduces (e.g. ``post_id``) and returns the values.
    """
    import importlib
    import pkgutil
    from pathlib import Path

    values = {}
    for package in pkgutil.iter_modules([str(Path(__file__).parent)]):
        if package.ispkg and (Path(__file__).parent / package.name / "access_samples.py").exists():
            module = importlib.import_module(f"tests.{package.name}.access_samples")
            values.update(module.samples(app, people))
    return values


def test_every_route_declares_its_audience(app):
    undeclared = [
        rule.endpoint for rule in app.url_map.iter_rules() if audience_of(app, rule.endpoint) is None
    ]
    assert undeclared == []


@pytest.mark.parametrize("role", ROLES)
def test_access_matrix(app, people, ids, login, role):
    client = app.test_client()
    if role != "anonymous":
        login(client, people[role].username)
    token = client.csrf_token()
    checked = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint in {"auth.logout", "auth.sign_out_everywhere_view"}:
            continue  # would end the session mid-walk; covered by its own test
        audience = audience_of(app, rule.endpoint)
        with app.test_request_context():
            from flask import url_for

            url = url_for(rule.endpoint, **_sample_args(rule, ids))
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if method == "GET":
                response = client.get(url)
            else:
                response = client.post(url, data={"csrf_token": token})
            checked += 1
            where = f"{method} {url} as {role}"
            assert response.status_code < 500, where
            if PUBLIC in audience:
                assert response.status_code != 403, where
            elif role == "anonymous":
                assert response.status_code == 302 and "/login" in response.headers["Location"], where
            elif AUTHENTICATED in audience or ROLE_OF[role] in audience:
                assert response.status_code in {200, 302, 404}, where
                # Tokens and certificate codes are secrets: a made-up one leads to an error page.
                if method == "GET" and rule.endpoint != "home.favicon" and not {"token", "code"} & rule.arguments:
                    assert response.status_code == 200, where
            else:
                assert response.status_code == 403, where
    assert checked > 10


def test_roles_only_reach_their_pages(client, people, login):
    login(client, "employee")
    assert client.get("/admin/people").status_code == 403
    assert client.get("/admin/audit/").status_code == 403
    assert client.get("/").status_code == 200
