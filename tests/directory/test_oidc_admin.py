"""The LEARNING_OIDC_* settings (one clear line for each mistake) and the directory page's OpenID Connect part:
what is configured without the secret, and the connection test (POST, CSRF, noted state)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from learning.config import ConfigError, load_config
from learning.db import db
from learning.directory.models import DirectoryStatus
from learning.directory.oidc import OIDC
from learning.org.models import Role
from tests.conftest import PASSWORD
from tests.directory.oidc import CLIENT_SECRET
from tests.directory.slapd import free_port


def _load(tmp_path, **env):
    environ = {"LEARNING_INSTANCE_PATH": str(tmp_path), "LEARNING_SECRET_KEY": "x", **env}
    return load_config(environ=environ)


def test_no_provider_by_default(tmp_path):
    config = _load(tmp_path)
    assert config["OIDC_ISSUER"] == "" and config["OIDC_LABEL"] == "Single Sign-On"
    assert config["OIDC_CREATE_PEOPLE"] is True and config["OIDC_ALLOW_HTTP"] is False


def test_a_complete_keycloak_realm(tmp_path):
    config = _load(tmp_path, LEARNING_OIDC_ISSUER="https://sso.example.de/realms/verwaltung/",
                   LEARNING_OIDC_CLIENT_ID="lernplattform", LEARNING_OIDC_CLIENT_SECRET="s3cret",
                   LEARNING_OIDC_LABEL="Dienstkonto", LEARNING_OIDC_CREATE_PEOPLE="0")
    assert config["OIDC_ISSUER"] == "https://sso.example.de/realms/verwaltung"  # without the trailing slash
    assert (config["OIDC_LABEL"], config["OIDC_CREATE_PEOPLE"]) == ("Dienstkonto", False)


def test_the_environment_cannot_allow_http(tmp_path):
    config = _load(tmp_path, LEARNING_OIDC_ALLOW_HTTP="1")
    assert config["OIDC_ALLOW_HTTP"] is False


@pytest.mark.parametrize(("env", "message"), [
    ({"LEARNING_OIDC_ISSUER": "http://sso.example.de/realms/x"}, "LEARNING_OIDC_ISSUER must be the provider's https"),
    ({"LEARNING_OIDC_ISSUER": "sso.example.de"}, "LEARNING_OIDC_ISSUER must be the provider's https"),
    ({"LEARNING_OIDC_ISSUER": "https://sso.example.de/x?y=1"}, "LEARNING_OIDC_ISSUER must be the provider's https"),
    ({"LEARNING_OIDC_ISSUER": "https://sso.example.de"}, "LEARNING_OIDC_ISSUER needs LEARNING_OIDC_CLIENT_ID"),
    ({"LEARNING_OIDC_ISSUER": "https://sso.example.de", "LEARNING_OIDC_CLIENT_ID": "x"},
     "LEARNING_OIDC_ISSUER needs LEARNING_OIDC_CLIENT_ID and LEARNING_OIDC_CLIENT_SECRET"),
    ({"LEARNING_OIDC_LABEL": "x" * 61}, "LEARNING_OIDC_LABEL is the button text"),
    ({"LEARNING_OIDC_LABEL": "Dienst\nkonto"}, "LEARNING_OIDC_LABEL is the button text"),
    ({"LEARNING_OIDC_TIMEOUT": "0"}, "LEARNING_OIDC_TIMEOUT must be a whole number from 1 to 120"),
])
def test_a_wrong_setting_stops_the_start_with_one_line(tmp_path, env, message):
    with pytest.raises(ConfigError, match=message.replace("?", r"\?")) as error:
        _load(tmp_path, **env)
    assert "\n" not in str(error.value)


def _admin(app, make_user):
    make_user("chef", roles={Role.ADMIN})
    client = app.test_client()
    assert client.submit("/login", {"username": "chef", "password": PASSWORD}).status_code == 302
    return client


def test_the_directory_page_shows_the_provider_without_its_secret(oidc_app, oidc_provider, make_user):
    app = oidc_app()
    admin = _admin(app, make_user)
    page = admin.get("/admin/directory/").get_data(as_text=True)
    assert "Single sign-on (OpenID Connect)" in page and oidc_provider.issuer in page
    assert "http://localhost/login/oidc/callback" in page and "Dienstkonto" in page
    assert CLIENT_SECRET not in page and "••••••" in page
    assert "Not checked yet" in page


def test_the_connection_test_reads_discovery_and_keys(oidc_app, oidc_provider, make_user):
    app = oidc_app()
    admin = _admin(app, make_user)
    assert admin.get("/admin/directory/oidc/test").status_code == 405  # a GET changes nothing
    assert admin.post("/admin/directory/oidc/test").status_code in {302, 400}  # no CSRF token: nothing tested
    with app.app_context():
        assert db.session.get(DirectoryStatus, OIDC) is None
    response = admin.submit("/admin/directory/oidc/test")
    assert response.status_code == 302 and response.headers["Location"].endswith("#oidc-heading")
    page = admin.get("/admin/directory/").get_data(as_text=True)
    assert "The connection works" in page and "publishes 1 signing key." in page
    assert "also ends the session at the provider" in page
    assert "The provider can be reached" in page


def test_a_failed_connection_test_is_noted(oidc_app, make_user):
    app = oidc_app(OIDC_ISSUER=f"http://127.0.0.1:{free_port()}")
    admin = _admin(app, make_user)
    admin.submit("/admin/directory/oidc/test")
    page = admin.get("/admin/directory/", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert "Der Anbieter ist nicht erreichbar" in page
    with app.app_context():
        assert db.session.scalar(select(DirectoryStatus.ok).where(DirectoryStatus.source == OIDC)) is False


def test_without_a_provider_the_test_says_so(make_app, make_user):
    app = make_app()
    admin = _admin(app, make_user)
    page = admin.get("/admin/directory/").get_data(as_text=True)
    assert "No OpenID Connect provider is configured" in page
    admin.submit("/admin/directory/oidc/test")
    assert "No OpenID Connect provider is configured (LEARNING_OIDC_ISSUER)" in admin.get(
        "/admin/directory/").get_data(as_text=True)


@pytest.mark.parametrize("role", [Role.EMPLOYEE, Role.MANAGER, Role.PROJECT_GROUP])
def test_only_administrators_test_the_connection(oidc_app, make_user, role):
    app = oidc_app()
    make_user("someone", roles={role})
    client = app.test_client()
    assert client.submit("/login", {"username": "someone", "password": PASSWORD}).status_code == 302
    assert client.submit("/admin/directory/oidc/test").status_code == 403


def _statements(app, client, path: str) -> int:
    from sqlalchemy import event

    with app.app_context():
        engine = db.engine
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        assert client.get(path).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return len(statements)


def test_the_login_and_directory_pages_run_a_fixed_number_of_statements(oidc_app, make_user):
    from learning.directory.models import ExternalIdentity, PendingLink

    app = oidc_app()
    admin = _admin(app, make_user)
    anonymous = app.test_client()

    def add_people(first: int, count: int) -> None:
        for n in range(first, first + count):
            person = make_user(f"sso{n}", email=f"sso{n}@example.org")
            with app.app_context():
                db.session.add(ExternalIdentity(source=OIDC, subject=f"subject-{n}", user_id=person.id))
                db.session.add(PendingLink(source=OIDC, subject=f"pending-{n}", user_id=person.id, login=f"p{n}",
                                           name=f"P {n}", email=f"p{n}@example.org"))
                db.session.commit()

    add_people(0, 1)
    admin.submit("/admin/directory/oidc/test")
    _statements(app, admin, "/admin/directory/")
    few = (_statements(app, admin, "/admin/directory/"), _statements(app, anonymous, "/login"))
    add_people(1, 15)
    many = (_statements(app, admin, "/admin/directory/"), _statements(app, anonymous, "/login"))
    assert many == few


@pytest.mark.parametrize("query", [
    "", "?code=x", "?state=x", "?code=x&state=" + "s" * 5000, "?error=%00%ff&state=x", "?error=" + "e" * 3000,
    "?code=x&state=x&iss=https://evil.example", "?code[]=1&state[]=2", "?code=%F0%9F%92%A5&state=%00",
])
def test_hostile_callbacks_are_refused_without_an_error_page(oidc_app, query):
    client = oidc_app().test_client()
    client.get("/login/oidc")  # a sign-in was started: the callback's checks run
    response = client.get("/login/oidc/callback" + query)
    assert response.status_code in {302, 400}  # 400: the guard against control characters in addresses
    assert client.get("/account").status_code != 200


@pytest.mark.parametrize("next_page", ["%00", "/" + "a" * 5000, "//evil.example", "%E2%80%AE", "/login/oidc"])
def test_hostile_next_pages_start_cleanly(oidc_app, next_page):
    client = oidc_app().test_client()
    response = client.get(f"/login/oidc?next={next_page}")
    assert response.status_code in {302, 400}  # 400: the guard against control characters in addresses
    if response.status_code == 302:
        assert not response.headers["Location"].startswith("//evil")


@pytest.mark.parametrize("role", ["anonymous", "employee", "admin"])
@pytest.mark.parametrize("path", ["/login/oidc", "/login/oidc/callback"])
def test_everyone_reaches_the_sign_in_routes(app, people, login, role, path):
    from learning.security import PUBLIC, audience_of

    assert audience_of(app, "auth.oidc_login") == audience_of(app, "auth.oidc_callback") == frozenset({PUBLIC})
    client = app.test_client()
    if role != "anonymous":
        login(client, people[role].username)
    response = client.get(path)  # no provider configured: back to the login page (or on, when signed in)
    assert response.status_code == 302
