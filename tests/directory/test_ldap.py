"""The directory connection code that sign-in uses and directory sync will reuse, against the real slapd."""

from __future__ import annotations

import uuid

from learning.directory.ldap import DirectorySettings, iter_people, service_connection, subject_of
from tests.directory.slapd import PEOPLE


def test_every_person_is_read_in_pages(ldap_app):
    settings = DirectorySettings.from_config(ldap_app().config)
    with service_connection(settings) as connection:
        people = list(iter_people(connection, settings, page_size=2))
    assert sorted(p.login for p in people) == sorted(PEOPLE)
    assert len({p.subject for p in people}) == len(PEOPLE)  # each with its own fixed identifier
    jana = next(p for p in people if p.login == "jdoe")
    assert (jana.first_name, jana.last_name, jana.email) == ("Jana", "Doe", "jana.doe@example.org")
    assert jana.dn == "uid=jdoe,ou=people,dc=example,dc=org"


def test_object_guid_reads_as_the_guid_active_directory_shows():
    guid = uuid.UUID("3f2504e0-4f89-11d3-9a0c-0305e82c3301")
    assert subject_of(guid.bytes_le, "objectGUID") == "3f2504e0-4f89-11d3-9a0c-0305e82c3301"
    assert subject_of(b"C310ADAA-8661-1041-9825-B516163AEBB1", "entryUUID") == "c310adaa-8661-1041-9825-b516163aebb1"


def test_describe_never_shows_the_password(ldap_app):
    settings = DirectorySettings.from_config(ldap_app().config)
    assert settings.bind_password not in str(settings.describe()) and settings.bind_password not in repr(settings)
    assert DirectorySettings.from_config({"LDAP_URL": ""}) is None
