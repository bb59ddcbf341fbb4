"""Security headers, CSRF, safe redirects, cookie flags and configuration errors."""

from pathlib import Path

import pytest

from learning import ConfigError, create_app
from learning.config import load_config


def test_security_headers_on_every_response(client):
    for url in ["/login", "/healthz", "/static/css/app.css", "/no-such-page"]:
        response = client.get(url)
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp, url
        assert "frame-ancestors 'none'" in csp, url
        assert "img-src 'self' data:" in csp, url
        assert response.headers["X-Content-Type-Options"] == "nosniff", url
        assert response.headers["Referrer-Policy"] == "same-origin", url
        assert "Strict-Transport-Security" not in response.headers, url


def test_hsts_only_over_https(client):
    response = client.get("/login", base_url="https://localhost")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_post_without_csrf_token_is_refused(client, people):
    response = client.post("/login", data={"username": "employee", "password": "correct-horse-battery"})
    assert response.status_code == 400
    assert client.get("/").status_code == 302  # still signed out


def test_post_with_csrf_token_from_another_session_is_refused(app, people):
    token = app.test_client().csrf_token()
    other = app.test_client()
    other.get("/login")
    response = other.post("/login", data={"username": "employee", "password": "correct-horse-battery",
                                          "csrf_token": token})
    assert response.status_code == 400


@pytest.mark.parametrize("target", [
    "//evil.example", "////evil.example", "https://evil.example", "/\\evil.example", "http:/evil.example",
    "/\t/evil.example", "javascript:alert(1)", " //evil.example",
])
def test_open_redirects_after_login_land_on_home(client, people, target):
    response = client.submit("/login", {"username": "employee", "password": "correct-horse-battery",
                                        "next": target})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_relative_next_is_followed(client, people):
    response = client.submit("/login", {"username": "employee", "password": "correct-horse-battery",
                                        "next": "/account?tab=1"})
    assert response.headers["Location"] == "/account?tab=1"


def test_login_redirect_carries_next(client):
    response = client.get("/account")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/login?next=%2Faccount")


def _cookie(response, name):
    return next(h for h in response.headers.getlist("Set-Cookie") if h.startswith(name + "="))


def test_cookie_flags_over_http(client, people):
    response = client.submit("/login", {"username": "employee", "password": "correct-horse-battery",
                                        "remember": "y"})
    session_cookie = _cookie(response, "session")
    assert "HttpOnly" in session_cookie and "SameSite=Lax" in session_cookie
    remember = _cookie(response, "remember_token")
    assert "HttpOnly" in remember and "SameSite=Lax" in remember


def test_cookies_are_secure_when_served_over_https(make_app, people):
    app = make_app(BASE_URL="https://lernen.example.de")
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["REMEMBER_COOKIE_SECURE"]
    client = app.test_client()
    token = client.csrf_token()
    response = client.post("/login", base_url="https://localhost",
                           headers={"Referer": "https://localhost/login"}, data={
        "username": "employee", "password": "correct-horse-battery", "remember": "y", "csrf_token": token})
    assert "Secure" in _cookie(response, "session")
    assert "Secure" in _cookie(response, "remember_token")


def test_passwords_are_hashed_with_scrypt(ctx, make_user):
    from learning.db import db
    from learning.org.models import User

    user = db.session.get(User, make_user(password="a-long-password-1").id)
    assert user.password_hash.startswith("scrypt:")
    assert user.check_password("a-long-password-1") and not user.check_password("wrong")


@pytest.mark.parametrize("variable, value, message", [
    ("LEARNING_DATABASE_URL", "not a url", "LEARNING_DATABASE_URL"),
    ("LEARNING_DATABASE_URL", "mysql://localhost/x", "supported are sqlite and postgresql"),
    ("LEARNING_DEFAULT_LOCALE", "fr", "LEARNING_DEFAULT_LOCALE must be one of de, en"),
    ("LEARNING_TIMEZONE", "Mars/Olympus", "LEARNING_TIMEZONE"),
    ("LEARNING_SMTP_URL", "mail.example.org", "LEARNING_SMTP_URL"),
    ("LEARNING_BASE_URL", "lernen.example.de", "LEARNING_BASE_URL"),
    ("LEARNING_RATELIMIT_STORAGE_URL", "memcache://x", "LEARNING_RATELIMIT_STORAGE_URL"),
    ("LEARNING_LOGIN_LIMIT", "often", "LEARNING_LOGIN_LIMIT"),
])
def test_wrong_setting_fails_with_one_clear_line(tmp_path, variable, value, message):
    with pytest.raises(ConfigError) as error:
        load_config({"INSTANCE_PATH": tmp_path}, environ={variable: value})
    assert message in str(error.value)
    assert "\n" not in str(error.value)


def test_wsgi_entry_point_prints_one_line_on_bad_setting(tmp_path):
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-c", "import wsgi"], capture_output=True, text=True, cwd=Path(__file__).parent.parent,
        env={"LEARNING_DEFAULT_LOCALE": "fr", "LEARNING_INSTANCE_PATH": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "learning: configuration error: LEARNING_DEFAULT_LOCALE must be one of de, en, not 'fr'")


def test_secret_key_is_generated_once_into_the_instance_folder(tmp_path):
    first = load_config({"INSTANCE_PATH": tmp_path}, environ={})["SECRET_KEY"]
    second = load_config({"INSTANCE_PATH": tmp_path}, environ={})["SECRET_KEY"]
    assert first == second and len(first) >= 40
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_default_database_is_sqlite_in_instance(tmp_path):
    config = load_config({"INSTANCE_PATH": tmp_path}, environ={})
    assert config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'learning.db'}"


def test_create_app_applies_overrides(tmp_path):
    app = create_app({"INSTANCE_PATH": tmp_path, "SECRET_KEY": "x", "TESTING": True,
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.db'}"})
    assert app.config["TESTING"] and app.config["SECRET_KEY"] == "x"
