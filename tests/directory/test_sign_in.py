"""Sign-in with a real OpenLDAP directory: new people, identities, refusals, TLS, outages, pending links."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import func, select

from learning.audit.models import AuditEntry
from learning.db import db
from learning.directory.models import LDAP, DirectoryStatus, ExternalIdentity, PendingLink
from learning.org.models import Role, User
from tests.conftest import PASSWORD
from tests.directory.slapd import PEOPLE, free_port

WRONG = "User name or password is not correct"
UNAVAILABLE = "Sign-in is temporarily not possible"


def password_of(uid: str) -> str:
    return PEOPLE[uid][3]


def sign_in(client, login: str, password: str | None = None, language: str = "en"):
    return client.submit("/login", {"username": login, "password": password or password_of(login)},
                         headers={"Accept-Language": language})


def person(app, email: str) -> User | None:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        if user is not None:
            user.roles  # noqa: B018
            db.session.expunge(user)
        return user


def identities(app) -> list[tuple[str, str, int]]:
    with app.app_context():
        return [tuple(row) for row in db.session.execute(
            select(ExternalIdentity.source, ExternalIdentity.subject, ExternalIdentity.user_id))]


def actions(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def test_first_sign_in_creates_the_person_and_records_the_identity(ldap_app, caplog):
    app = ldap_app()
    client = app.test_client()
    caplog.set_level(logging.DEBUG)
    response = sign_in(client, "jdoe")
    assert response.status_code == 302, response.get_data(as_text=True)
    user = person(app, "jana.doe@example.org")
    assert (user.username, user.first_name, user.last_name) == ("jdoe", "Jana", "Doe")
    assert user.roles == {Role.EMPLOYEE} and user.password_hash is None and user.last_login_at is not None
    [(source, subject, user_id)] = identities(app)
    assert source == LDAP and user_id == user.id and len(subject) == 36  # entryUUID, not the e-mail address
    assert {"user.created", "directory.identity_linked"} <= set(actions(app))
    assert password_of("jdoe") not in caplog.text  # the password is never logged
    assert client.get("/").status_code == 200

    # The next sign-in finds the same person by the identifier.
    again = app.test_client()
    assert sign_in(again, "jdoe").status_code == 302
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 1
    assert len(identities(app)) == 1


@pytest.mark.parametrize(("login", "password"), [
    ("jdoe", "not-the-password"),
    ("jdoe", "JANA-DIRECTORY-PW"),
    ("nobody-here", "whatever-it-is"),
])
def test_wrong_password_and_unknown_user_are_refused(directory_client, login, password):
    response = sign_in(directory_client, login, password)
    assert response.status_code == 200
    assert WRONG in response.get_data(as_text=True)
    assert identities(directory_client.application) == []


@pytest.mark.parametrize("login", ["*", ")(uid=*", "jdoe)(uid=*", "*)(|(uid=*", "j*", "jdoe\\", "(uid=jdoe)"])
@pytest.mark.parametrize("password", ["jana-directory-pw", "max-directory-pw"])
def test_ldap_injection_in_the_user_name_signs_nobody_in(directory_client, login, password):
    response = sign_in(directory_client, login, password)
    assert response.status_code == 200
    assert WRONG in response.get_data(as_text=True)
    with directory_client.application.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_the_search_escapes_the_user_name(ldap_app):
    from learning.directory.ldap import DirectorySettings, find_person, person_filter, service_connection

    app = ldap_app()
    settings = DirectorySettings.from_config(app.config)
    assert person_filter(settings, ")(uid=*") == r"(&(objectClass=inetOrgPerson)(uid=\29\28uid=\2a))"
    with service_connection(settings) as connection:
        assert find_person(connection, settings, "*") is None
        assert find_person(connection, settings, "jdoe").email == "jana.doe@example.org"


def test_an_empty_password_never_counts_as_a_bind(ldap_app):
    from learning.directory.ldap import DirectorySettings, password_is_right

    settings = DirectorySettings.from_config(ldap_app().config)
    assert password_is_right(settings, "uid=jdoe,ou=people,dc=example,dc=org", "") is False
    assert password_is_right(settings, "uid=jdoe,ou=people,dc=example,dc=org", "jana-directory-pw") is True


def test_directory_down_says_temporarily_not_possible_and_counts_no_failure(ldap_app, make_user):
    app = ldap_app(LDAP_URL=f"ldap://127.0.0.1:{free_port()}", LOGIN_LIMIT="2 per 15 minutes")
    client = app.test_client()
    for _ in range(4):  # more than the limit: none of them counts as a wrong password
        response = sign_in(client, "jdoe")
        assert response.status_code == 200
        text = response.get_data(as_text=True)
        assert UNAVAILABLE in text and WRONG not in text
    german = sign_in(client, "jdoe", language="de")
    assert "Die Anmeldung ist vorübergehend nicht möglich" in german.get_data(as_text=True)
    with app.app_context():
        status = db.session.get(DirectoryStatus, LDAP)
        assert status.ok is False and "cannot be reached" in status.message and status.failed_at is not None

    # The administrator sees it on the directory page (and signs in locally meanwhile).
    make_user("admin", roles={Role.ADMIN})
    admin = app.test_client()
    assert admin.submit("/login", {"username": "admin", "password": PASSWORD}).status_code == 302
    page = admin.get("/admin/directory/").get_data(as_text=True)
    assert "The directory cannot be reached" in page and "cannot be reached" in page


def test_local_wrong_passwords_still_count_while_the_directory_is_up(ldap_app):
    app = ldap_app(LOGIN_LIMIT="2 per 15 minutes")
    client = app.test_client()
    codes = [sign_in(client, "jdoe", "wrong-password").status_code for _ in range(3)]
    assert codes == [200, 200, 429]


def test_a_wrong_service_account_password_is_an_outage_for_the_admin(ldap_app):
    app = ldap_app(LDAP_BIND_PASSWORD="not-the-reader-password")
    response = sign_in(app.test_client(), "jdoe")
    assert UNAVAILABLE in response.get_data(as_text=True)
    with app.app_context():
        assert "service account" in db.session.get(DirectoryStatus, LDAP).message


def test_ldaps_with_the_right_ca(ldap_app, slapd):
    app = ldap_app(LDAP_URL=slapd.ldaps_url, LDAP_CA_FILE=str(slapd.ca_file))
    assert sign_in(app.test_client(), "tls").status_code == 302


@pytest.mark.parametrize("ldaps", [True, False], ids=["ldaps", "starttls"])
def test_tls_with_a_wrong_ca_fails_closed(ldap_app, slapd, ldaps):
    url = slapd.ldaps_url if ldaps else slapd.ldap_url
    app = ldap_app(LDAP_URL=url, LDAP_STARTTLS=not ldaps, LDAP_CA_FILE=str(slapd.other_ca_file))
    response = sign_in(app.test_client(), "tls")
    assert response.status_code == 200 and UNAVAILABLE in response.get_data(as_text=True)
    assert identities(app) == []
    with app.app_context():
        assert "certificate" in db.session.get(DirectoryStatus, LDAP).message.lower()


def test_starttls_with_the_right_ca(ldap_app, slapd):
    app = ldap_app(LDAP_STARTTLS=True, LDAP_CA_FILE=str(slapd.ca_file))
    assert sign_in(app.test_client(), "tls").status_code == 302


def test_an_entry_without_e_mail_cannot_create_a_person(directory_client):
    response = sign_in(directory_client, "nomail")
    assert "has no e-mail address" in response.get_data(as_text=True)
    assert identities(directory_client.application) == []


def test_a_deactivated_person_cannot_sign_in_through_the_directory(ldap_app):
    app = ldap_app()
    assert sign_in(app.test_client(), "ddeact").status_code == 302
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "ddeact"))
        user.deactivate()
        db.session.commit()
    response = sign_in(app.test_client(), "ddeact")
    assert response.status_code == 200 and WRONG in response.get_data(as_text=True)


def _admin_client(app, make_user):
    make_user("chef", roles={Role.ADMIN})
    client = app.test_client()
    assert client.submit("/login", {"username": "chef", "password": PASSWORD}).status_code == 302
    return client


def test_same_e_mail_waits_for_an_admin_who_confirms(ldap_app, make_user):
    app = ldap_app(LOGIN_LIMIT="1 per 15 minutes")
    karla = make_user("karla", email="karla@example.org", first_name="Karla")
    response = sign_in(app.test_client(), "kkollision")
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and "An administrator must confirm" in text and WRONG not in text
    assert identities(app) == []  # never linked by e-mail alone
    assert sign_in(app.test_client(), "kkollision").status_code == 200  # asking again: one link, no lockout
    with app.app_context():
        [link] = db.session.scalars(select(PendingLink)).all()
        assert (link.user_id, link.login, link.email) == (karla.id, "kkollision", "karla@example.org")
        link_id = link.id
    assert actions(app).count("directory.link_requested") == 1

    admin = _admin_client(app, make_user)
    page = admin.get("/admin/people").get_data(as_text=True)
    assert "Directory accounts waiting for confirmation" in page and "kkollision" in page
    assert admin.post(f"/admin/directory/links/{link_id}/confirm").status_code in {302, 400}  # no CSRF token
    assert identities(app) == []
    response = admin.submit(f"/admin/directory/links/{link_id}/confirm")
    assert response.status_code == 302
    assert [(s, u) for s, _, u in identities(app)] == [(LDAP, karla.id)]
    assert "directory.link_confirmed" in actions(app)

    client = app.test_client()
    assert sign_in(client, "kkollision").status_code == 302  # lands in the existing account
    assert person(app, "karla@example.org").last_login_at is not None
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User).where(User.first_name == "Karla")) == 1
        assert db.session.scalar(select(func.count()).select_from(PendingLink)) == 0


def test_an_admin_refuses_a_link(ldap_app, make_user):
    app = ldap_app()
    make_user("rolf", email="rolf@example.org")
    sign_in(app.test_client(), "rrefused")
    with app.app_context():
        link_id = db.session.scalar(select(PendingLink.id))
    admin = _admin_client(app, make_user)
    assert admin.submit(f"/admin/directory/links/{link_id}/refuse").status_code == 302
    assert "directory.link_refused" in actions(app)
    assert identities(app) == []
    assert admin.submit(f"/admin/directory/links/{link_id}/refuse").status_code == 404
    response = sign_in(app.test_client(), "rrefused")
    assert "An administrator must confirm" in response.get_data(as_text=True)  # asked again, still not linked


def _with_identity(app, user, subject: str) -> None:
    with app.app_context():
        db.session.add(ExternalIdentity(source=LDAP, subject=subject, user_id=user.id))
        db.session.commit()


def test_hiding_local_sign_in(ldap_app, make_user):
    app = ldap_app()
    staff = make_user("staff")  # a local password and a directory identity
    _with_identity(app, staff, "subject-of-staff")
    glass = make_user("glass", roles={Role.ADMIN})  # the break-glass admin, also in the directory
    _with_identity(app, glass, "subject-of-glass")
    outsider = make_user("outsider")  # no directory account

    def local(login):
        return app.test_client().submit("/login", {"username": login, "password": PASSWORD}).status_code

    assert [local(u.username) for u in (staff, glass, outsider)] == [302, 302, 302]
    admin = _admin_client(app, make_user)
    settings = admin.get("/admin/settings/").get_data(as_text=True)
    assert "Hide local sign-in when a directory is configured" in settings and "break-glass" in settings
    assert "A directory is configured" in settings
    form = {"sign_in__hide_local_passwords": "y", "managers__training_individuals": "y",
            "managers__onboarding_individuals": "y", "surveys__min_responses": 5, "surveys__min_comments": 10,
            "retention__survey_answers_days": 730, "retention__individual_logs_days": 365,
            "retention__audit_days": 1095}
    assert admin.submit("/admin/settings/", form).status_code == 302
    assert [local(u.username) for u in (staff, glass, outsider)] == [200, 302, 302]
    assert "settings.changed" in actions(app)


def test_the_setting_has_no_effect_without_a_directory(app, make_user, ctx):
    from learning.directory.services import local_password_allowed
    from learning.settings.services import save_settings

    staff = make_user("staff")
    _with_identity(app, staff, "subject-of-staff")
    admin = make_user("boss", roles={Role.ADMIN})
    save_settings({"sign_in.hide_local_passwords": True}, db.session.get(User, admin.id))
    db.session.commit()
    assert local_password_allowed(db.session.get(User, staff.id)) is True


def test_directory_page_shows_the_configuration_without_secrets_and_tests_it(ldap_app, make_user, slapd):
    app = ldap_app()
    admin = _admin_client(app, make_user)
    page = admin.get("/admin/directory/").get_data(as_text=True)
    assert slapd.ldap_url in page and "reader-secret" not in page and "not encrypted" in page
    assert "No directory account is waiting for confirmation" in page
    assert "Directory accounts waiting" not in admin.get("/admin/people").get_data(as_text=True)  # only when some wait
    response = admin.submit("/admin/directory/test", follow_redirects=True)
    assert "The connection works" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(DirectoryStatus, LDAP).ok is True

    down = ldap_app(LDAP_URL=f"ldap://127.0.0.1:{free_port()}")
    admin = _admin_client(down, lambda *a, **k: None)
    response = admin.submit("/admin/directory/test", follow_redirects=True)
    assert "The directory cannot be reached" in response.get_data(as_text=True)


def test_without_a_directory_the_page_says_how_to_configure_it(client, make_user):
    make_user("boss", roles={Role.ADMIN})
    client.submit("/login", {"username": "boss", "password": PASSWORD})
    page = client.get("/admin/directory/").get_data(as_text=True)
    assert "No directory is configured" in page
    assert "Directory accounts waiting" not in client.get("/admin/people").get_data(as_text=True)


def test_hiding_local_sign_in_also_holds_with_single_sign_on_alone(make_app, make_user):
    """No LDAP, only OpenID Connect: people with a provider identity sign in there; admins keep break-glass."""
    from learning.directory.services import local_password_allowed
    from learning.settings.services import save_settings

    app = make_app(OIDC_ISSUER="https://sso.example.org/realms/verwaltung", OIDC_CLIENT_ID="lernen",
                   OIDC_CLIENT_SECRET="geheim")
    staff = make_user("staff")
    glass = make_user("glass", roles={Role.ADMIN})
    with app.app_context():
        for person, subject in ((staff, "sub-staff"), (glass, "sub-glass")):
            db.session.add(ExternalIdentity(user_id=person.id, source="oidc", subject=subject))
        admin = make_user("boss", roles={Role.ADMIN})
        save_settings({"sign_in.hide_local_passwords": True}, db.session.get(User, admin.id))
        db.session.commit()
        assert local_password_allowed(db.session.get(User, staff.id)) is False
        assert local_password_allowed(db.session.get(User, glass.id)) is True
