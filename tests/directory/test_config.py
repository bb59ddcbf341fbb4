"""The LEARNING_LDAP_* settings: defaults for Active Directory, and one clear line for each mistake."""

from __future__ import annotations

import pytest

from learning.config import ConfigError, load_config


def _load(tmp_path, **env):
    environ = {"LEARNING_INSTANCE_PATH": str(tmp_path), "LEARNING_SECRET_KEY": "x", **env}
    return load_config(environ=environ)


def test_defaults_fit_active_directory_and_no_directory_is_configured(tmp_path):
    config = _load(tmp_path)
    assert config["LDAP_URL"] == ""
    assert config["LDAP_USER_FILTER"] == "(&(objectCategory=person)(objectClass=user))"
    assert (config["LDAP_LOGIN_ATTRIBUTE"], config["LDAP_ID_ATTRIBUTE"]) == ("sAMAccountName", "objectGUID")
    assert config["LDAP_STARTTLS"] is False and config["LDAP_TIMEOUT"] == 10


def test_a_complete_active_directory_over_ldaps(tmp_path):
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    config = _load(tmp_path, LEARNING_LDAP_URL="ldaps://dc1.example.local:636",
                   LEARNING_LDAP_BIND_DN="CN=svc-learning,OU=Service,DC=example,DC=local",
                   LEARNING_LDAP_BIND_PASSWORD="secret", LEARNING_LDAP_BASE_DN="OU=Staff,DC=example,DC=local",
                   LEARNING_LDAP_CA_FILE=str(ca), LEARNING_LDAP_TIMEOUT="5")
    assert config["LDAP_URL"] == "ldaps://dc1.example.local:636" and config["LDAP_TIMEOUT"] == 5


@pytest.mark.parametrize(("env", "message"), [
    ({"LEARNING_LDAP_URL": "http://dc1"}, "LEARNING_LDAP_URL must look like"),
    ({"LEARNING_LDAP_URL": "ldap://"}, "LEARNING_LDAP_URL must look like"),
    ({"LEARNING_LDAP_URL": "ldap://dc1/dc=x"}, "LEARNING_LDAP_URL must look like"),
    ({"LEARNING_LDAP_URL": "ldaps://dc1", "LEARNING_LDAP_STARTTLS": "1", "LEARNING_LDAP_BASE_DN": "dc=x"},
     "LEARNING_LDAP_STARTTLS applies to ldap:// URLs only"),
    ({"LEARNING_LDAP_URL": "ldap://dc1"}, "LEARNING_LDAP_BASE_DN is missing"),
    ({"LEARNING_LDAP_URL": "ldap://dc1", "LEARNING_LDAP_BASE_DN": "dc=x", "LEARNING_LDAP_BIND_DN": "cn=svc"},
     "LEARNING_LDAP_BIND_DN and LEARNING_LDAP_BIND_PASSWORD go together"),
    ({"LEARNING_LDAP_URL": "ldap://dc1", "LEARNING_LDAP_BASE_DN": "dc=x", "LEARNING_LDAP_CA_FILE": "/nowhere.pem"},
     "LEARNING_LDAP_CA_FILE is not a readable file"),
    ({"LEARNING_LDAP_USER_FILTER": "objectClass=user"}, "LEARNING_LDAP_USER_FILTER must be an LDAP filter"),
    ({"LEARNING_LDAP_USER_FILTER": "(&(objectClass=user)"}, "LEARNING_LDAP_USER_FILTER must be an LDAP filter"),
    ({"LEARNING_LDAP_USER_FILTER": ")(("}, "LEARNING_LDAP_USER_FILTER must be an LDAP filter"),
    ({"LEARNING_LDAP_LOGIN_ATTRIBUTE": "uid=*"}, "LEARNING_LDAP_LOGIN_ATTRIBUTE must be an attribute name"),
    ({"LEARNING_LDAP_ID_ATTRIBUTE": "entry UUID"}, "LEARNING_LDAP_ID_ATTRIBUTE must be an attribute name"),
    ({"LEARNING_LDAP_TIMEOUT": "0"}, "LEARNING_LDAP_TIMEOUT must be a whole number from 1 to 120"),
])
def test_a_wrong_setting_stops_the_start_with_one_line(tmp_path, env, message):
    with pytest.raises(ConfigError, match=message.replace("*", r"\*").replace("(", r"\(")) as error:
        _load(tmp_path, **env)
    assert "\n" not in str(error.value)
