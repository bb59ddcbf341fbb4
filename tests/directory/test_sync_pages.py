# ruff: noqa: F811  - the fixtures sync_app and mapping_file come from test_sync
"""Directory sync through its admin page (preview by GET, apply by POST), ``flask directory sync`` and the
nightly job, against the real slapd; the mapping file's problems and the reading of Active Directory."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from learning.audit.models import AuditEntry
from learning.db import db
from learning.directory.ldap import DirectorySettings
from learning.directory.mapping import MappingError, normal_dn, read_mapping
from learning.directory.sync_read import _walk, in_chain_filter, organisational_units
from learning.org.models import User
from learning.roles import Role
from learning.scheduler.models import JobRun
from learning.scheduler.registry import scheduled_jobs
from learning.scheduler.services import run_recorded
from tests.directory.test_sync import ENABLED, mapping_file, move_out, people, sync, sync_app  # noqa: F401

URL = "/admin/directory/sync"


@pytest.fixture
def admin(make_user):
    return make_user("admin", roles={Role.ADMIN})


def count_people(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(User))


def test_the_preview_shows_what_would_change_and_changes_nothing(sync_app, admin, login):
    app = sync_app()
    client = app.test_client()
    login(client, "admin")
    page = client.get(URL, headers={"Accept-Language": "en"})
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "What the sync would do" in text and "Anna Bau" in text and "New in the directory." in text
    assert "Department Bauamt" in text and "Team Bauamt / Hochbau" in text
    assert "Apply the sync" in text and 'action="/admin/directory/sync"' in text
    assert count_people(app) == 1  # only the administrator


def test_apply_syncs_and_shows_the_result(sync_app, admin, login):
    app = sync_app()
    client = app.test_client()
    login(client, "admin")
    response = client.submit(URL, headers={"Accept-Language": "en"})
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and "The directory has been synced." in text and "Result of the sync" in text
    assert count_people(app) == 1 + len(ENABLED)
    with app.app_context():
        entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "directory.sync")).one()
        assert entry.actor_id == admin.id and entry.details["created"] == len(ENABLED)
    again = client.get(URL, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "nothing to change" in again and "Apply the sync" not in again


def test_apply_without_the_form_token_changes_nothing(sync_app, admin, login):
    app = sync_app()
    client = app.test_client()
    login(client, "admin")
    response = client.post(URL, data={})
    assert response.status_code in (302, 400)
    assert count_people(app) == 1


def test_the_page_shows_the_safety_stop(sync_app, admin, login, staff):
    app = sync_app(DIRECTORY_GRACE_DAYS=0, DIRECTORY_MAX_DEACTIVATE_SHARE=0.1)
    sync(app)
    move_out(staff, "fill01")
    move_out(staff, "fill02")
    client = app.test_client()
    login(client, "admin")
    text = client.get(URL, headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert "Sicherheitsstopp" in text and "Abgleich anwenden" not in text
    response = client.submit(URL, headers={"Accept-Language": "en"})
    assert "Safety stop" in response.get_data(as_text=True)
    assert all(u.active for u in people(app).values())


def test_the_page_says_when_no_directory_is_configured_or_reachable(make_app, admin, login, staff):
    app = make_app()
    client = app.test_client()
    login(client, "admin")
    assert "No directory is configured" in client.get(URL, headers={"Accept-Language": "en"}).get_data(as_text=True)
    down = make_app(**staff.app_config(LDAP_URL="ldap://127.0.0.1:9", LDAP_TIMEOUT=1))
    client = down.test_client()
    login(client, "admin")
    assert "The directory cannot be reached" in client.get(URL, headers={"Accept-Language": "en"}).get_data(
        as_text=True)


def test_the_directory_page_links_to_the_sync(sync_app, admin, login):
    client = sync_app().test_client()
    login(client, "admin")
    assert 'href="/admin/directory/sync"' in client.get("/admin/directory/").get_data(as_text=True)


def test_the_command_line_dry_run_and_sync(sync_app, staff):
    app = sync_app()
    runner = app.test_cli_runner()
    dry = runner.invoke(args=["directory", "sync", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert f"Dry run, nothing was written: {staff.ldap_url}: {len(ENABLED)} created" in dry.output
    assert "created: Anna Bau <anna.bau@example.org>: New in the directory." in dry.output
    assert count_people(app) == 0
    real = runner.invoke(args=["directory", "sync"])
    assert real.exit_code == 0 and count_people(app) == len(ENABLED)


def test_the_command_line_lists_problems_and_stops(sync_app, staff):
    from tests.directory.test_sync import modify

    app = sync_app()
    modify(staff, "abau", mail="kaputt")
    result = app.test_cli_runner().invoke(args=["directory", "sync"])
    assert result.exit_code == 1 and "“kaputt” is not a valid email address." in result.output
    assert "1 problem(s) in the directory; nothing was written." in result.output
    assert count_people(app) == 0


def test_the_nightly_job_syncs_and_says_so_in_words(sync_app):
    app = sync_app()
    job = {job.id: job for job in scheduled_jobs()}["directory.sync"]
    assert job.cron == "40 2 * * *"
    with app.app_context():
        run = run_recorded(job.id, job.func, "test")
        assert run.result == "ok", run.message
        assert run.counts["created"] == len(ENABLED)
        assert count_people(app) == len(ENABLED)
        with app.test_request_context(headers={"Accept-Language": "en"}):
            assert job.in_words(run.counts).startswith(f"{len(ENABLED)} people created")


def test_the_job_does_nothing_without_a_directory(make_app):
    app = make_app()
    job = {job.id: job for job in scheduled_jobs()}["directory.sync"]
    with app.app_context():
        run = run_recorded(job.id, job.func, "test")
        assert run.result == "ok" and run.counts == {"not_configured": 1}
        assert db.session.scalar(select(func.count()).select_from(JobRun)) == 1


# The mapping file and the reading helpers ------------------------------------------------------------

@pytest.mark.parametrize(("text", "line", "reason"), [
    ("[people]\nemail = 3\n", 2, "'email' must be an attribute name"),
    ("[people]\nmail = \"mail\"\n", 2, "unknown key 'mail' in [people]"),
    ("[sync]\npage_size = 5000\n", 2, "'page_size' must be a whole number from 1 to 1000"),
    ("[sync]\nmax_deactivate_share = 10\n", 2, "'max_deactivate_share' must be a share from 0 to 1"),
    ("[department]\nfrom = \"groups\"\n", 2, "'from = \"groups\"' needs a table [department.groups]"),
    ("\n[team]\nfrom = \"ou\"\n", 2, "teams need departments"),
    ("[disabled]\nattribute = \"employeeType\"\n", 2, "'attribute' needs 'values'"),
    ("[roles]\nadmin = [\"not a dn\"]\n", 2, "'admin' must be a list of group DNs"),
    ("[people\n", 1, "not valid TOML"),
    ("[unknown]\n", 1, "unknown section 'unknown'"),
])
def test_a_wrong_mapping_is_reported_with_file_and_line(text, line, reason):
    with pytest.raises(MappingError) as error:
        read_mapping(text, "/etc/learning/directory.toml")
    assert str(error.value).startswith(f"/etc/learning/directory.toml:{line}: {reason}"), str(error.value)


def test_a_complete_active_directory_mapping_reads(tmp_path):
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Directory sync (account lifecycle)", 1)[1]
    example = section.split("```toml\n", 1)[1].split("```", 1)[0]
    mapping = read_mapping(example)
    assert mapping.nested == "in_chain" and mapping.user_account_control
    assert Role.ADMIN in mapping.mapped_roles() and mapping.department.source in {"attribute", "ou", "groups"}


def test_author_maps_only_where_the_platform_has_the_role():
    mapping = read_mapping('[roles]\nauthor = ["CN=Autoren,OU=Groups,DC=example,DC=local"]\n')
    has_author = "author" in {role.value for role in Role}
    assert (Role("author") in mapping.mapped_roles()) if has_author else mapping.mapped_roles() == {}


def test_in_chain_filter_and_distinguished_names():
    settings = DirectorySettings(url="ldaps://dc1.example.local", starttls=False, bind_dn="", bind_password="",
                                 base_dn="OU=Staff,DC=example,DC=local",
                                 user_filter="(&(objectCategory=person)(objectClass=user))",
                                 login_attribute="sAMAccountName", id_attribute="objectGUID", ca_file="", timeout=5)
    assert in_chain_filter(settings, "CN=Admins (IT),OU=Groups,DC=example,DC=local") == (
        "(&(&(objectCategory=person)(objectClass=user))"
        "(memberOf:1.2.840.113556.1.4.1941:=CN=Admins \\28IT\\29,OU=Groups,DC=example,DC=local))")
    assert normal_dn("CN=Doe\\, Jana, OU=Staff ,DC=example") == "cn=doe\\, jana,ou=staff,dc=example"
    assert organisational_units("CN=Jana,OU=Hochbau,OU=Bauamt,OU=Staff,DC=example,DC=local",
                                "OU=Staff,DC=example,DC=local") == ["Bauamt", "Hochbau"]
    members = {"a": {"b", "x"}, "b": {"c", "a"}, "c": {"y"}}  # a cycle: a → b → a
    assert _walk(members, "a", nested=True) == {"a", "b", "c", "x", "y"}
    assert _walk(members, "a", nested=False) == {"b", "x"}


# Settings and failures -------------------------------------------------------------------------------

def _config(tmp_path, **env):
    from learning.config import load_config

    return load_config(environ={"LEARNING_INSTANCE_PATH": str(tmp_path), "LEARNING_SECRET_KEY": "x", **env})


def test_sync_settings_have_defaults_and_one_clear_line_for_each_mistake(tmp_path):
    from learning.config import ConfigError

    config = _config(tmp_path)
    assert (config["DIRECTORY_GRACE_DAYS"], config["DIRECTORY_MAX_DEACTIVATE_SHARE"]) == (7, 0.1)
    assert config["DIRECTORY_MAPPING"] == ""
    config = _config(tmp_path, LEARNING_DIRECTORY_GRACE_DAYS="0", LEARNING_DIRECTORY_MAX_DEACTIVATE_SHARE="25%")
    assert (config["DIRECTORY_GRACE_DAYS"], config["DIRECTORY_MAX_DEACTIVATE_SHARE"]) == (0, 0.25)
    for env, message in ((dict(LEARNING_DIRECTORY_GRACE_DAYS="-1"), "LEARNING_DIRECTORY_GRACE_DAYS must be"),
                         (dict(LEARNING_DIRECTORY_MAX_DEACTIVATE_SHARE="2"), "a share from 0 to 1"),
                         (dict(LEARNING_DIRECTORY_MAX_DEACTIVATE_SHARE="viel"), "a share from 0 to 1"),
                         (dict(LEARNING_DIRECTORY_MAPPING=str(tmp_path / "none.toml")), "not a readable file")):
        with pytest.raises(ConfigError, match=message):
            _config(tmp_path, **env)


def test_the_job_records_a_failure_when_the_directory_cannot_be_reached(make_app, staff):
    app = make_app(**staff.app_config(LDAP_URL="ldap://127.0.0.1:9", LDAP_TIMEOUT=1))
    job = {job.id: job for job in scheduled_jobs()}["directory.sync"]
    with app.app_context():
        run = run_recorded(job.id, job.func, "test")
        assert run.result == "error" and "cannot be reached" in run.message
        assert count_people(app) == 0


def test_the_job_stops_safely_and_says_so(sync_app, staff):
    app = sync_app(DIRECTORY_GRACE_DAYS=0, DIRECTORY_MAX_DEACTIVATE_SHARE=0.1)
    sync(app)
    move_out(staff, "fill01")
    move_out(staff, "fill02")
    job = {job.id: job for job in scheduled_jobs()}["directory.sync"]
    with app.app_context():
        run = run_recorded(job.id, job.func, "test")
        assert run.result == "ok" and run.counts["stopped"] == 1
        with app.test_request_context(headers={"Accept-Language": "en"}):
            assert job.in_words(run.counts) == "safety stop, nothing changed"
    assert all(u.active for u in people(app).values())
