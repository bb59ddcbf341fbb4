"""A real OpenLDAP server for the directory tests: one per test run (per xdist worker)."""

from __future__ import annotations

import pytest

from tests.directory.slapd import Slapd, available


@pytest.fixture(scope="session")
def slapd(tmp_path_factory):
    """Debian's slapd with a test CA, on free ports; seeded with the people of ``tests/directory/slapd.py``."""
    if not available():  # `make test` installs them; a missing server is a failure, never a skip
        pytest.fail("Debian's slapd, slapadd and openssl are needed: apt-get install slapd ldap-utils openssl",
                    pytrace=False)
    server = Slapd(tmp_path_factory.mktemp("slapd")).start()
    yield server
    server.stop()


@pytest.fixture
def ldap_app(make_app, slapd):
    """An app that signs people in with the test directory over plain LDAP; keywords change settings."""

    def factory(**overrides):
        return make_app(**slapd.app_config(**overrides))

    return factory


@pytest.fixture
def directory_client(ldap_app):
    return ldap_app().test_client()


@pytest.fixture
def staff(slapd):
    """The directory sync's part of the test directory, written afresh for the test (``slapd.reset_staff``)."""
    slapd.reset_staff()
    return slapd
@pytest.fixture(scope="session")
def oidc_provider():
    """A real OpenID Connect provider (oidc-provider on Node) for apps at http://localhost (the test client)."""
    from tests.directory.oidc import OidcProvider, available

    if not available():  # `make test` installs it (npm ci); a missing provider is a failure, never a skip
        pytest.fail("Node and the npm package oidc-provider are needed: npm ci", pytrace=False)
    server = OidcProvider(["http://localhost"]).start()
    yield server
    server.stop()


@pytest.fixture
def oidc_app(make_app, oidc_provider):
    """An app that signs people in through the test provider; keywords change settings."""

    def factory(**overrides):
        return make_app(**oidc_provider.app_config(**overrides))

    return factory


@pytest.fixture(scope="session")
def forged_provider():
    """A provider whose ID tokens each test writes itself (wrong nonce, expired, wrongly signed ...)."""
    from tests.directory.oidc import ForgedProvider

    server = ForgedProvider().start()
    yield server
    server.stop()
