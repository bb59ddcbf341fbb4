"""Single sign-on through a real OpenID Connect provider (oidc-provider on Node): sign-in and deep links,
state, PKCE, identities by ``sub``, pending links, refused ID tokens, an unreachable provider, RP logout."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from joserfc.jwk import RSAKey
from sqlalchemy import func, select

from learning.audit.models import AuditEntry
from learning.db import db
from learning.directory.models import DirectoryStatus, ExternalIdentity, PendingLink
from learning.directory.oidc import OIDC
from learning.org.models import Role, User
from tests.conftest import PASSWORD
from tests.directory.oidc import CLIENT_ID, SUBJECTS, path_of
from tests.directory.slapd import free_port

NOT_VERIFIED = "The sign-in could not be verified"
UNAVAILABLE = "is temporarily not possible"


def start(client, next_page: str | None = None):
    response = client.get("/login/oidc" + (f"?next={next_page}" if next_page else ""))
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.headers["Location"]


def sign_in(client, provider, login: str, next_page: str | None = None, browser=None):
    """The whole flow: our start, the provider's login page, our callback. The callback's response."""
    back = provider.sign_in(start(client, next_page), login, browser)
    assert back.startswith("http://localhost/login/oidc/callback?"), back
    return client.get(path_of(back))


def signed_in(client) -> bool:
    return client.get("/account").status_code == 200


def login_page(client, language: str = "en") -> str:
    return client.get("/login", headers={"Accept-Language": language}).get_data(as_text=True)


def identities(app) -> list[tuple[str, str, int]]:
    with app.app_context():
        return [tuple(row) for row in db.session.execute(
            select(ExternalIdentity.source, ExternalIdentity.subject, ExternalIdentity.user_id))]


def actions(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def test_the_login_page_offers_the_provider_in_both_languages(oidc_app):
    client = oidc_app().test_client()
    assert "Sign in with Dienstkonto" in login_page(client)
    assert "Anmelden mit Dienstkonto" in login_page(client, "de")
    page = client.get("/login?next=/learning").get_data(as_text=True)
    assert 'href="/login/oidc?next=/learning"' in page  # the deep link travels with the button


def test_without_a_provider_there_is_no_button_and_no_flow(make_app):
    client = make_app().test_client()
    assert "/login/oidc" not in login_page(client)
    response = client.get("/login/oidc")
    assert response.status_code == 302 and urlsplit(response.headers["Location"]).path == "/login"
    assert "Single sign-on is not configured" in login_page(client)


def test_the_authorization_request_uses_pkce_state_and_nonce(oidc_app, oidc_provider):
    client = oidc_app().test_client()
    url = start(client)
    assert url.startswith(oidc_provider.issuer + "/auth?")
    query = query_of(url)
    assert query["response_type"] == "code" and query["client_id"] == CLIENT_ID
    assert query["redirect_uri"] == "http://localhost/login/oidc/callback"
    assert set(query["scope"].split()) == {"openid", "email", "profile"}
    assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) == 43
    assert len(query["state"]) >= 20 and len(query["nonce"]) >= 20
    assert query["state"] != start(client).split("state=")[1]  # a fresh state for every start


def test_first_sign_in_creates_the_person_and_returns_to_the_deep_link(oidc_app, oidc_provider):
    app = oidc_app()
    client = app.test_client()
    assert client.get("/learning/").status_code == 302  # the page the person wanted
    response = sign_in(client, oidc_provider, "jana", next_page="/learning/")
    assert response.status_code == 302 and response.headers["Location"] == "/learning/"
    assert signed_in(client)
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "jana.sso@example.org"))
        assert (user.first_name, user.last_name, user.username) == ("Jana", "Sonne", "jsonne")
        assert user.roles == {Role.EMPLOYEE} and user.password_hash is None and user.last_login_at is not None
    assert identities(app) == [(OIDC, SUBJECTS["jana"], user.id)]  # the provider's sub, not the e-mail
    assert {"user.created", "directory.identity_linked"} <= set(actions(app))

    # The next sign-in (another browser, another provider session) finds the same person by ``sub``.
    again = app.test_client()
    assert sign_in(again, oidc_provider, "jana").status_code == 302 and signed_in(again)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 1
    assert len(identities(app)) == 1


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:x"])
def test_a_foreign_next_page_is_never_followed(oidc_app, oidc_provider, target):
    client = oidc_app().test_client()
    response = sign_in(client, oidc_provider, "jana", next_page=target)
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_a_wrong_state_signs_nobody_in(oidc_app, oidc_provider):
    app = oidc_app()
    client = app.test_client()
    back = oidc_provider.sign_in(start(client), "jana")
    query = query_of(back)
    response = client.get(f"/login/oidc/callback?code={query['code']}&state=not-the-state-we-sent")
    assert response.status_code == 302 and urlsplit(response.headers["Location"]).path == "/login"
    assert "started in another window" in login_page(client) and not signed_in(client)
    assert identities(app) == []


def test_a_callback_from_another_browser_is_refused(oidc_app, oidc_provider):
    app = oidc_app()
    back = oidc_provider.sign_in(start(app.test_client()), "jana")  # an attacker's own sign-in...
    victim = app.test_client()
    response = victim.get(path_of(back))  # ...handed to someone else (login CSRF): no state in this session
    assert response.status_code == 302 and not signed_in(victim)
    assert identities(app) == []


def test_a_used_callback_cannot_be_replayed(oidc_app, oidc_provider):
    app = oidc_app()
    client = app.test_client()
    back = oidc_provider.sign_in(start(client), "jana")
    assert client.get(path_of(back)).status_code == 302 and signed_in(client)
    client.post("/logout", data={"csrf_token": client.csrf_token()})
    response = client.get(path_of(back))
    assert response.status_code == 302 and not signed_in(client)


def test_the_provider_refusing_is_a_message(oidc_app):
    client = oidc_app().test_client()
    state = query_of(start(client))["state"]
    response = client.get(f"/login/oidc/callback?error=access_denied&state={state}")
    assert response.status_code == 302
    assert "Dienstkonto did not sign you in" in login_page(client) and not signed_in(client)


def test_an_unreachable_provider_says_so_on_the_login_page_and_to_the_admin(oidc_app, make_user):
    app = oidc_app(OIDC_ISSUER=f"http://127.0.0.1:{free_port()}")
    client = app.test_client()
    response = client.get("/login/oidc?next=/learning")
    assert response.status_code == 302 and response.headers["Location"] == "/login?next=/learning"
    page = login_page(client)
    assert "Sign-in with Dienstkonto is temporarily not possible" in page
    german = client.get("/login/oidc", headers={"Accept-Language": "de"})
    assert german.status_code == 302
    assert "Die Anmeldung mit Dienstkonto ist vorübergehend nicht möglich" in login_page(client, "de")
    with app.app_context():
        status = db.session.get(DirectoryStatus, OIDC)
        assert status.ok is False and "discovery document" in status.message and status.failed_at is not None

    make_user("chef", roles={Role.ADMIN})
    admin = app.test_client()
    assert admin.submit("/login", {"username": "chef", "password": PASSWORD}).status_code == 302
    page = admin.get("/admin/directory/").get_data(as_text=True)
    assert "The provider cannot be reached" in page and "discovery document" in page


def test_a_provider_announcing_another_issuer_is_refused(oidc_app, oidc_provider):
    app = oidc_app(OIDC_ISSUER=oidc_provider.issuer.replace("127.0.0.1", "localhost"))
    client = app.test_client()
    assert client.get("/login/oidc").status_code == 302
    assert UNAVAILABLE in login_page(client)
    with app.app_context():
        assert "announces the issuer" in db.session.get(DirectoryStatus, OIDC).message


def test_an_http_issuer_needs_the_test_setting(oidc_app):
    client = oidc_app(OIDC_ALLOW_HTTP=False).test_client()
    response = client.get("/login/oidc")
    assert response.status_code == 302 and UNAVAILABLE in login_page(client)


def test_same_e_mail_waits_for_an_admin_who_confirms(oidc_app, oidc_provider, make_user):
    app = oidc_app()
    karla = make_user("karla", email="karla@example.org", first_name="Karla")
    client = app.test_client()
    response = sign_in(client, oidc_provider, "karla")
    assert response.status_code == 302 and not signed_in(client)
    assert "An administrator must confirm" in login_page(client)
    assert identities(app) == []  # never linked by e-mail alone
    with app.app_context():
        [link] = db.session.scalars(select(PendingLink)).all()
        assert (link.source, link.subject, link.user_id) == (OIDC, SUBJECTS["karla"], karla.id)
        assert (link.login, link.email, link.name) == ("kkollision", "karla@example.org", "Karla Kollision")
        link_id = link.id

    make_user("chef", roles={Role.ADMIN})
    admin = app.test_client()
    assert admin.submit("/login", {"username": "chef", "password": PASSWORD}).status_code == 302
    assert admin.submit(f"/admin/directory/links/{link_id}/confirm").status_code == 302
    assert [(s, u) for s, _, u in identities(app)] == [(OIDC, karla.id)]

    again = app.test_client()
    assert sign_in(again, oidc_provider, "karla").status_code == 302 and signed_in(again)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User).where(User.first_name == "Karla")) == 1


@pytest.mark.parametrize("login", ["nomail", "unverified"])
def test_no_or_an_unverified_e_mail_creates_nobody(oidc_app, oidc_provider, login):
    app = oidc_app()
    client = app.test_client()
    assert sign_in(client, oidc_provider, login).status_code == 302 and not signed_in(client)
    assert "has no e-mail address" in login_page(client)
    assert identities(app) == []
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_only_known_people_when_creating_people_is_off(oidc_app, oidc_provider, make_user):
    app = oidc_app(OIDC_CREATE_PEOPLE=False)
    client = app.test_client()
    assert sign_in(client, oidc_provider, "jana").status_code == 302 and not signed_in(client)
    assert "You have no account on the learning platform yet" in login_page(client)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 0
    jana = make_user("jana", email="jana@rathaus.example")
    with app.app_context():
        db.session.add(ExternalIdentity(source=OIDC, subject=SUBJECTS["jana"], user_id=jana.id))
        db.session.commit()
    again = app.test_client()
    assert sign_in(again, oidc_provider, "jana").status_code == 302 and signed_in(again)


def test_a_deactivated_person_cannot_sign_in_through_the_provider(oidc_app, oidc_provider):
    app = oidc_app()
    assert sign_in(app.test_client(), oidc_provider, "jana").status_code == 302
    with app.app_context():
        db.session.scalar(select(User).where(User.username == "jsonne")).deactivate()
        db.session.commit()
    client = app.test_client()
    assert sign_in(client, oidc_provider, "jana").status_code == 302 and not signed_in(client)
    assert "deactivated" in login_page(client)


def test_sign_out_also_ends_the_provider_session(oidc_app, oidc_provider):
    app = oidc_app()
    client = app.test_client()
    browser = requests.Session()  # the person's browser at the provider
    assert sign_in(client, oidc_provider, "jana", browser=browser).status_code == 302
    # While the provider's session lasts, a new start comes straight back without its login page.
    response = browser.get(start(app.test_client()), allow_redirects=False, timeout=10)
    assert response.status_code in {302, 303} and "/login/oidc/callback" in response.headers["Location"]

    response = client.post("/logout", data={"csrf_token": client.csrf_token()})
    assert response.status_code == 200 and not signed_in(client)
    refresh = response.headers["Refresh"]
    assert refresh.startswith("0; url=" + oidc_provider.issuer + "/session/end?")
    end_session = refresh.split("url=", 1)[1]
    query = query_of(end_session)
    assert query["post_logout_redirect_uri"] == "http://localhost/login" and query["client_id"] == CLIENT_ID
    assert query["id_token_hint"].count(".") == 2
    page = response.get_data(as_text=True)
    assert "You have been signed out" in page and end_session.replace("&", "&amp;") in page

    confirm = browser.get(end_session, timeout=10)  # the provider asks, the person confirms
    assert confirm.status_code == 200 and "Yes, sign me out" in confirm.text
    action = confirm.text.split('action="', 1)[1].split('"', 1)[0]
    xsrf = confirm.text.split('name="xsrf" value="', 1)[1].split('"', 1)[0]
    done = browser.post(requests.compat.urljoin(end_session, action), data={"xsrf": xsrf, "logout": "yes"},
                        allow_redirects=False, timeout=10)
    assert done.status_code in {302, 303} and done.headers["Location"].startswith("http://localhost/login")

    # The provider's session is over: the next start shows its login page again.
    response = browser.get(start(app.test_client()), allow_redirects=True, timeout=10)
    assert 'name="login"' in response.text


def test_a_local_sign_out_goes_straight_to_the_login_page(oidc_app, make_user):
    app = oidc_app()
    make_user("lokal")
    client = app.test_client()
    assert client.submit("/login", {"username": "lokal", "password": PASSWORD}).status_code == 302
    response = client.post("/logout", data={"csrf_token": client.csrf_token()})
    assert response.status_code == 302 and urlsplit(response.headers["Location"]).path == "/login"


# ID tokens written by the test ---------------------------------------------------------------------
@pytest.fixture
def forged(make_app, forged_provider):
    """A client that started a sign-in at the forged provider: (app, client, provider, nonce, state)."""
    forged_provider.id_token = None
    app = make_app(OIDC_ISSUER=forged_provider.issuer, OIDC_CLIENT_ID=CLIENT_ID, OIDC_CLIENT_SECRET="s",
                   OIDC_LABEL="Test", OIDC_ALLOW_HTTP=True)
    client = app.test_client()
    query = query_of(start(client))
    return app, client, forged_provider, query["nonce"], query["state"]


def _callback(client, state: str):
    return client.get(f"/login/oidc/callback?code=some-code&state={state}")


def test_a_correct_forged_provider_token_signs_in(forged):
    app, client, provider, nonce, state = forged
    provider.id_token = provider.sign(provider.claims(nonce))
    assert _callback(client, state).status_code == 302 and signed_in(client)
    assert identities(app)[0][:2] == (OIDC, "forged-subject-1")
    exchange = provider.token_requests[-1]
    assert exchange["grant_type"] == "authorization_code" and len(exchange["code_verifier"]) >= 43  # PKCE


@pytest.mark.parametrize("case", ["wrong nonce", "no nonce", "expired", "wrong audience", "wrong issuer",
                                  "other key", "other key, same kid", "no id token", "not a token", "alg none"])
def test_a_refused_id_token_signs_nobody_in(forged, case):
    app, client, provider, nonce, state = forged
    other = RSAKey.generate_key(2048, parameters={"kid": "forged-provider-key"})
    tokens = {
        "wrong nonce": lambda: provider.sign(provider.claims("another-nonce")),
        "no nonce": lambda: provider.sign(provider.claims(None)),
        "expired": lambda: provider.sign(provider.claims(nonce, iat=1_600_000_000, exp=1_600_000_300)),
        "wrong audience": lambda: provider.sign(provider.claims(nonce, aud="another-client")),
        "wrong issuer": lambda: provider.sign(provider.claims(nonce, iss="https://evil.example")),
        "other key": lambda: provider.sign(provider.claims(nonce), key=RSAKey.generate_key(2048), kid="k2"),
        "other key, same kid": lambda: provider.sign(provider.claims(nonce), key=other),
        "no id token": lambda: None,
        "not a token": lambda: "not.a.token",
        "alg none": lambda: _unsigned(provider.claims(nonce)),
    }
    provider.id_token = tokens[case]()
    response = _callback(client, state)
    assert response.status_code == 302 and urlsplit(response.headers["Location"]).path == "/login"
    assert NOT_VERIFIED in login_page(client) and not signed_in(client)
    assert identities(app) == []
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 0


def _unsigned(claims: dict) -> str:
    import base64
    import json

    def part(value: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'kid': 'forged-provider-key'})}.{part(claims)}."


def test_only_the_latest_start_counts_and_the_session_stays_small(oidc_app, oidc_provider):
    app = oidc_app()
    client = app.test_client()
    first = oidc_provider.sign_in(start(client), "jana")
    for _ in range(20):  # abandoned starts do not pile up in the session cookie
        latest = start(client)
    cookie = client.get_cookie("session")
    assert cookie is not None and len(cookie.value) < 2000
    assert client.get(path_of(first)).status_code == 302 and not signed_in(client)  # superseded
    back = oidc_provider.sign_in(latest, "jana")
    assert client.get(path_of(back)).status_code == 302 and signed_in(client)


@pytest.mark.parametrize(("claims", "expected"), [
    ({"sub": "a", "email": "Jana@Example.org", "given_name": "Jana", "family_name": "Sonne"},
     ("Jana", "Sonne", "jana@example.org", "jana")),
    ({"sub": "a", "email": "x@example.org", "name": "Anna Maria  Beispiel", "preferred_username": "ambe"},
     ("Anna Maria", "Beispiel", "x@example.org", "ambe")),
    ({"sub": 7, "email": "x@example.org", "email_verified": False, "name": ["no"], "given_name": 3},
     ("", "", None, "")),
    ({"sub": "a", "email": "a" * 250 + "@example.org", "name": "N" * 300}, ("", "N" * 100, None, "")),
    ({"sub": "a", "email": "not an address"}, ("", "", None, "")),
])
def test_claims_become_a_person_s_data_defensively(claims, expected):
    from learning.directory.oidc import entry_from_claims

    entry = entry_from_claims(claims)
    assert (entry.first_name, entry.last_name, entry.email, entry.login) == expected
    assert entry.subject == str(claims["sub"])


def test_the_forged_provider_s_unusual_claims_create_nobody_and_cause_no_error(forged):
    app, client, provider, nonce, state = forged
    provider.id_token = provider.sign(provider.claims(nonce, email="x" * 300 + "@example.org", name="Z" * 400,
                                                      preferred_username="p" * 300))
    response = _callback(client, state)
    assert response.status_code == 302 and not signed_in(client)
    assert "has no e-mail address" in login_page(client)
