"""Directory sync against the real slapd: creation, changes, groups to roles, nesting, OUs, managers, paging,
the grace period, deactivation, reactivation, the safety stop and the audit log."""

from __future__ import annotations

from datetime import date, timedelta

import ldap3
import pytest
import time_machine
from sqlalchemy import func, select

from learning.audit.models import AuditEntry
from learning.db import db, unit_of_work
from learning.directory.models import LDAP, ExternalIdentity, PendingLink
from learning.directory.sync import plan_directory_sync, run_directory_sync
from learning.directory.sync_models import DirectorySyncState
from learning.org.models import Department, Team, User
from learning.org.signals import people_changed
from learning.roles import Role
from tests.directory.slapd import (
    BASE_DN,
    FORMER_DN,
    SERVICE_DN,
    SERVICE_PASSWORD,
    STAFF,
    STAFF_DN,
    USER_FILTER,
    group_dn,
    staff_dn,
)

MAPPING = f"""
# The test directory's mapping (the README's *Directory sync* section describes every key).
[people]
employee_number = "employeeNumber"
start_date = "learningStartDate"
username = "uid"

[disabled]
user_account_control = true
attribute = "employeeType"
values = ["disabled"]

[groups]
base = "ou=groups,{BASE_DN}"
filter = "(objectClass=groupOfNames)"
nested = "walk"

[department]
from = "ou"
ou_level = 1

[team]
from = "ou"
ou_level = 2

[managers]
attribute = "manager"
groups = ["{group_dn('fuehrungskraefte')}"]

[roles]
admin = ["{group_dn('learning-admins')}"]
project_group = ["{group_dn('projektgruppe')}"]
author = ["{group_dn('autoren')}"]

[sync]
page_size = 3
"""

DISABLED = {"employeeType", "userAccountControl"}
ENABLED = sorted(uid for uid, (*_rest, extra) in STAFF.items() if not DISABLED & set(extra))


@pytest.fixture
def mapping_file(tmp_path):
    def write(text: str = MAPPING):
        path = tmp_path / "directory-mapping.toml"
        path.write_text(text, encoding="utf-8")
        return str(path)

    return write


@pytest.fixture
def sync_app(make_app, staff, mapping_file):
    """An app that syncs ou=staff of the test directory with the mapping above; keywords change settings."""

    def factory(mapping: str = MAPPING, **overrides):
        settings = {"LDAP_BASE_DN": STAFF_DN, "DIRECTORY_MAPPING": mapping_file(mapping), "DIRECTORY_GRACE_DAYS": 7,
                    "DIRECTORY_MAX_DEACTIVATE_SHARE": 0.5, **overrides}
        return make_app(**staff.app_config(**settings))

    return factory


def sync(app, dry_run: bool = False):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        with unit_of_work():
            plan = run_directory_sync(dry_run=dry_run)
        plan.messages = [p.describe() for p in plan.problems]
        plan.stop_reason = str(plan.stopped) if plan.stopped is not None else None
        plan.rows = [(c.outcome, c.email, " ".join(str(r) for r in c.reasons)) for c in plan.changes]
        return plan


def people(app) -> dict[str, User]:
    """Everyone on the platform by e-mail, with roles, team and managed teams loaded, detached."""
    with app.app_context():
        users = db.session.scalars(select(User)).all()
        for user in users:
            user.roles  # noqa: B018
            user.team_name = user.team.name if user.team else None
            user.department_name = user.team.department.name if user.team else None
            user.manages = sorted(t.name for t in user.managed_teams)
        db.session.expunge_all()
        return {user.email: user for user in users}


def actions(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def modify(slapd, uid: str, **changes) -> None:
    connection = slapd.admin_connection()
    path = STAFF[uid][0]
    connection.modify(staff_dn(uid, *path), {name: [(ldap3.MODIFY_REPLACE, [value] if value else [])]
                                             for name, value in changes.items()})
    connection.unbind()


def move_out(slapd, uid: str) -> None:
    """Out of the sync's scope (ou=former), keeping the entry and its entryUUID."""
    connection = slapd.admin_connection()
    connection.modify_dn(staff_dn(uid, *STAFF[uid][0]), f"uid={uid}", new_superior=FORMER_DN)
    connection.unbind()


def move_back(slapd, uid: str) -> None:
    connection = slapd.admin_connection()
    path = STAFF[uid][0]
    connection.modify_dn(f"uid={uid},{FORMER_DN}", f"uid={uid}", new_superior=staff_dn(uid, *path).split(",", 1)[1])
    connection.unbind()


def test_the_first_sync_creates_everyone_with_departments_teams_managers_and_roles(sync_app):
    app = sync_app()
    received = []

    def receiver(sender, user_ids=(), **extra):
        received.append(set(user_ids))

    people_changed.connect(receiver)
    try:
        plan = sync(app)
    finally:
        people_changed.disconnect(receiver)
    assert plan.messages == [] and plan.applied, plan.messages
    assert plan.counts["created"] == len(ENABLED) and plan.skipped == 2  # the two disabled accounts
    found = people(app)
    assert sorted(u.username for u in found.values()) == ENABLED
    anna = found["anna.bau@example.org"]
    assert (anna.first_name, anna.last_name, anna.employee_number) == ("Anna", "Bau", "1001")
    assert anna.start_date == date(2024, 3, 1)  # GeneralizedTime
    assert found["clara.ordnung@example.org"].start_date == date(2023, 4, 1)  # DD.MM.YYYY
    assert (anna.department_name, anna.team_name) == ("Bauamt", "Hochbau")  # from the OUs
    assert found["clara.ordnung@example.org"].team_name == "Bürgerbüro"
    # Roles from groups: admin through a nested group, project group, author only where the platform has it.
    assert anna.roles == {Role.EMPLOYEE, Role.ADMIN}
    assert found["bernd.bau@example.org"].roles == {Role.EMPLOYEE, Role.PROJECT_GROUP}
    author = {Role(value) for value in ["author"] if value in {r.value for r in Role}}
    assert found["clara.ordnung@example.org"].roles == {Role.EMPLOYEE, Role.MANAGER, *author}
    # Managers: Lena from Anna's manager attribute, Clara from the managers' group (her own team).
    assert found["lena.leiter@example.org"].manages == ["Hochbau"]
    assert Role.MANAGER in found["lena.leiter@example.org"].roles
    assert found["clara.ordnung@example.org"].manages == ["Bürgerbüro"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ExternalIdentity)
                                 .where(ExternalIdentity.source == LDAP)) == len(ENABLED)
        assert sorted(db.session.scalars(select(Department.name))) == ["Bauamt", "Ordnungsamt"]
        assert sorted(db.session.scalars(select(Team.name))) == ["Bürgerbüro", "Hochbau", "Tiefbau"]
    assert received == [{u.id for u in found.values()}]  # assignment rules, journeys and team views follow
    assert "directory.sync" in actions(app)

    again = sync(app)  # nothing changed in the directory: nothing to do
    assert again.counts["unchanged"] == len(ENABLED) and not again.has_changes


def test_the_directory_is_read_in_pages_beyond_the_servers_size_limit(staff):
    connection = ldap3.Connection(ldap3.Server("127.0.0.1", port=staff.ldap_port), user=SERVICE_DN,
                                  password=SERVICE_PASSWORD, auto_bind=True)
    connection.search(STAFF_DN, USER_FILTER, attributes=["uid"])
    assert connection.result["description"] == "sizeLimitExceeded"  # more than one answer may hold
    connection.unbind()
    assert len(STAFF) > 5  # SERVICE_SIZE_LIMIT; the page size of the mapping is 3


def test_dry_run_changes_nothing(sync_app):
    app = sync_app()
    plan = sync(app, dry_run=True)
    assert plan.counts["created"] == len(ENABLED) and not plan.applied
    assert people(app) == {} and actions(app) == []


def test_changes_in_the_directory_update_the_person(sync_app, staff):
    app = sync_app()
    sync(app)
    modify(staff, "bbau", sn="Baumann", mail="bernd.baumann@example.org", employeeNumber="2002")
    connection = staff.admin_connection()  # Bernd leaves the project group, Anna's nested admin group
    connection.modify(group_dn("projektgruppe"), {"member": [(ldap3.MODIFY_REPLACE, [staff_dn("cord", "Ordnungsamt",
                                                                                                "Bürgerbüro")])]})
    connection.modify(group_dn("learning-admins"), {"member": [(ldap3.MODIFY_REPLACE, [
        staff_dn("lleiter", "Bauamt", "Hochbau")])]})
    connection.unbind()
    plan = sync(app)
    assert plan.messages == []
    outcomes = {email: outcome for outcome, email, _reason in plan.rows}
    assert outcomes["bernd.baumann@example.org"] == "updated"
    reason = next(r for o, e, r in plan.rows if e == "bernd.baumann@example.org")
    assert "email address" in reason and "roles" in reason
    found = people(app)
    bernd = found["bernd.baumann@example.org"]
    assert (bernd.last_name, bernd.employee_number, bernd.roles) == ("Baumann", "2002", {Role.EMPLOYEE})
    assert found["anna.bau@example.org"].roles == {Role.EMPLOYEE}
    assert Role.ADMIN in found["lena.leiter@example.org"].roles


def test_roles_the_mapping_does_not_give_are_kept(sync_app, make_user):
    app = sync_app(mapping=MAPPING.replace(f'project_group = ["{group_dn("projektgruppe")}"]\n', ""))
    sync(app)
    with app.app_context():
        bernd = db.session.scalar(select(User).where(User.email == "bernd.bau@example.org"))
        bernd.roles = {Role.PROJECT_GROUP}  # given on the platform
        db.session.commit()
    sync(app)
    assert people(app)["bernd.bau@example.org"].roles == {Role.EMPLOYEE, Role.PROJECT_GROUP}


def test_out_of_scope_waits_for_the_grace_period_then_deactivates_and_returns_with_history(sync_app, staff):
    app = sync_app()
    with time_machine.travel("2026-03-02 03:00Z", tick=False):
        sync(app)
    move_out(staff, "bbau")
    with time_machine.travel("2026-03-03 03:00Z", tick=False):
        plan = sync(app)
    row = next(r for r in plan.rows if r[1] == "bernd.bau@example.org")
    assert row[0] == "missing" and "No longer in the directory's sync scope" in row[2] and "2026-03-10" in row[2]
    bernd = people(app)["bernd.bau@example.org"]
    assert bernd.active
    with app.app_context():
        state = db.session.get(DirectorySyncState, bernd.id)
        assert state.missing_since.date() == date(2026, 3, 3) and state.missing_reason == "out_of_scope"
    with time_machine.travel("2026-03-09 03:00Z", tick=False):
        assert sync(app).counts["deactivated"] == 0  # six days: still within the grace period
    with time_machine.travel("2026-03-10 03:00Z", tick=False):
        plan = sync(app)
    assert plan.counts["deactivated"] == 1
    bernd = people(app)["bernd.bau@example.org"]
    assert not bernd.active and bernd.deactivated_at is not None
    with app.app_context():
        assert db.session.get(User, bernd.id) is not None  # never deleted
        entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "directory.deactivated")).one()
        assert entry.target_id == bernd.id and entry.details["reason"] == "out_of_scope"

    move_back(staff, "bbau")  # same entry (entryUUID): the same person, with their records
    with time_machine.travel("2026-03-20 03:00Z", tick=False):
        plan = sync(app)
    assert ("reactivated", "bernd.bau@example.org") in [(o, e) for o, e, _r in plan.rows]
    back = people(app)["bernd.bau@example.org"]
    assert back.active and back.id == bernd.id and back.team_name == "Tiefbau"
    with app.app_context():
        state = db.session.get(DirectorySyncState, bernd.id)
        assert state.missing_since is None and not state.deactivated_by_sync
    assert "directory.reactivated" in actions(app)


def test_grace_days_zero_deactivates_disabled_accounts_at_once(sync_app, staff):
    app = sync_app(DIRECTORY_GRACE_DAYS=0)
    sync(app)
    modify(staff, "fill01", employeeType="disabled")  # OpenLDAP: the attribute the mapping names
    modify(staff, "cord", userAccountControl="514")  # Active Directory: bit 2 of userAccountControl
    plan = sync(app)
    assert sorted(e for o, e, _r in plan.rows if o == "deactivated") == ["clara.ordnung@example.org",
                                                                         "fill01@example.org"]
    assert all("Disabled in the directory" in r for o, _e, r in plan.rows if o == "deactivated")
    found = people(app)
    assert not found["fill01@example.org"].active and not found["clara.ordnung@example.org"].active
    with app.app_context():
        assert db.session.get(DirectorySyncState, found["fill01@example.org"].id).missing_reason == "disabled"
    modify(staff, "fill01", employeeType="")
    modify(staff, "cord", userAccountControl="512")
    plan = sync(app)
    assert plan.counts["reactivated"] == 2
    assert people(app)["fill01@example.org"].active


def test_an_administrators_deactivation_is_not_undone(sync_app):
    app = sync_app()
    sync(app)
    with app.app_context():
        db.session.scalar(select(User).where(User.email == "bernd.bau@example.org")).deactivate()
        db.session.commit()
    plan = sync(app)
    assert plan.counts["reactivated"] == 0 and not people(app)["bernd.bau@example.org"].active


def test_the_safety_stop_changes_nothing_and_says_why(sync_app, staff):
    app = sync_app(DIRECTORY_GRACE_DAYS=0, DIRECTORY_MAX_DEACTIVATE_SHARE=0.1)
    sync(app)
    for uid in ("fill01", "bbau"):  # 2 of 12 active people: more than 10 %
        move_out(staff, uid)
    before = people(app)
    plan = sync(app)
    assert plan.stop_reason and "would deactivate 2 of 12 active people" in plan.stop_reason
    assert "10 %" in plan.stop_reason and not plan.applied
    assert all(u.active for u in people(app).values()) and len(people(app)) == len(before)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(DirectorySyncState)) == 0
    assert actions(app)[-1] == "directory.sync_stopped"
    # The mapping's share wins over the setting: 0.2 lets the same run through.
    app = sync_app(mapping=MAPPING + "max_deactivate_share = 0.2\n", DIRECTORY_GRACE_DAYS=0,
                   DIRECTORY_MAX_DEACTIVATE_SHARE=0.1)
    assert sync(app).counts["deactivated"] == 2


def test_an_empty_scope_hits_the_safety_stop(sync_app):
    app = sync_app(DIRECTORY_GRACE_DAYS=0, DIRECTORY_MAX_DEACTIVATE_SHARE=0.1)
    sync(app)
    wrong = sync_app(LDAP_BASE_DN=f"ou=former,{BASE_DN}", DIRECTORY_GRACE_DAYS=0, DIRECTORY_MAX_DEACTIVATE_SHARE=0.1)
    plan = sync(wrong)
    assert plan.stop_reason and plan.counts["deactivated"] == len(ENABLED)
    assert all(u.active for u in people(app).values())


def test_bad_data_stops_the_whole_sync(sync_app, staff):
    app = sync_app()
    modify(staff, "abau", mail="not-an-address", learningStartDate="31.02.2024")
    modify(staff, "bbau", employeeNumber="1003")  # Clara's
    plan = sync(app)
    assert not plan.applied and people(app) == {}
    text = "\n".join(plan.messages)
    assert f"{staff_dn('abau', 'Bauamt', 'Hochbau')}: “not-an-address” is not a valid email address." in text
    assert "“31.02.2024” is not a valid date" in text
    assert "The employee number 1003 also belongs to" in text
    assert actions(app) == ["directory.sync_refused"]


def test_a_local_account_with_the_same_email_waits_for_an_administrator(sync_app, make_user):
    app = sync_app()
    local = make_user("anna", email="anna.bau@example.org", first_name="Anna", last_name="Lokal")
    plan = sync(app)
    assert ("waiting", "anna.bau@example.org") in [(o, e) for o, e, _r in plan.rows]
    with app.app_context():
        link = db.session.scalars(select(PendingLink)).one()
        assert link.user_id == local.id and link.login == "abau"
        assert not db.session.scalar(select(ExternalIdentity).where(ExternalIdentity.user_id == local.id))
    assert people(app)["anna.bau@example.org"].last_name == "Lokal"  # never matched by e-mail


def test_the_safety_against_removing_the_last_administrator(sync_app, make_user, staff):
    app = sync_app(DIRECTORY_GRACE_DAYS=0)
    sync(app)
    connection = staff.admin_connection()  # the only admin (Anna, through it-team) loses the role
    bernd = staff_dn("bbau", "Bauamt", "Tiefbau")
    connection.modify(group_dn("it-team"), {"member": [(ldap3.MODIFY_REPLACE, [bernd])]})
    connection.unbind()
    assert sync(app).messages == []  # ... but Bernd becomes one: fine
    assert Role.ADMIN in people(app)["bernd.bau@example.org"].roles
    move_out(staff, "bbau")
    plan = sync(app)
    assert any("no active administrator would remain" in m for m in plan.messages)


def test_the_mapping_of_an_unknown_key_stops_the_start_with_file_and_line(make_app, staff, mapping_file):
    from learning.config import ConfigError

    path = mapping_file(MAPPING.replace("nested = \"walk\"", "nested = \"deep\""))
    with pytest.raises(ConfigError) as error:
        make_app(**staff.app_config(DIRECTORY_MAPPING=path))
    line = MAPPING.splitlines().index('nested = "walk"') + 1
    assert f"{path}:{line}: 'nested' must be one of" in str(error.value)


def _planning_queries(app) -> int:
    from sqlalchemy import event

    statements = []

    def count(*_args):
        statements.append(1)

    with app.test_request_context():
        event.listen(db.engine, "before_cursor_execute", count)
        try:
            plan_directory_sync(note_state=False)
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
    return len(statements)


def test_the_planning_runs_a_fixed_number_of_queries(sync_app, staff):
    app = sync_app()
    sync(app)
    few = _planning_queries(app)
    connection = staff.admin_connection()
    for n in range(20, 30):  # more people in the directory and on the platform: the same number of queries
        connection.add(staff_dn(f"more{n}", "Bauamt", "Hochbau"), ["inetOrgPerson"],
                       {"uid": f"more{n}", "cn": f"M {n}", "givenName": "M", "sn": f"More{n}",
                        "mail": f"m{n}@example.org"})
    connection.unbind()
    sync(app)
    assert _planning_queries(app) == few and few <= 8, few


def test_after_the_grace_period_days_are_counted_from_the_first_miss(sync_app, staff):
    app = sync_app(DIRECTORY_GRACE_DAYS=1)
    with time_machine.travel("2026-05-04 03:00Z", tick=False):
        sync(app)
    move_out(staff, "fill01")
    with time_machine.travel("2026-05-05 03:00Z", tick=False):
        assert sync(app).counts["missing"] == 1
    move_back(staff, "fill01")
    with time_machine.travel("2026-05-05 04:00Z", tick=False):
        sync(app)  # back before the grace period ended: the clock starts again next time
    move_out(staff, "fill01")
    with time_machine.travel("2026-05-06 03:30Z", tick=False):
        plan = sync(app)
    assert plan.counts["missing"] == 1 and plan.counts["deactivated"] == 0
    assert (date(2026, 5, 6) + timedelta(days=1)).isoformat() in next(r for o, _e, r in plan.rows if o == "missing")


GROUP_MAPPING = f"""
[people]
username = "uid"

[groups]
base = "ou=groups,{BASE_DN}"
filter = "(objectClass=groupOfNames)"
nested = "none"

[department]
from = "groups"

[department.groups]
"{group_dn('it-team')}" = "IT"
"{group_dn('autoren')}" = "Redaktion"

[team]
from = "groups"

[team.groups]
"{group_dn('projektgruppe')}" = "Steuerung / Projekte"
"{group_dn('autoren')}" = "Web"

[roles]
admin = ["{group_dn('learning-admins')}"]
"""


def test_departments_and_teams_from_groups_and_direct_membership_only(sync_app, make_user):
    make_user("local-admin", roles={Role.ADMIN})  # the nested admin group is not followed: keep an admin
    app = sync_app(mapping=GROUP_MAPPING)
    plan = sync(app)
    assert plan.messages == [], plan.messages
    found = people(app)
    anna, bernd, clara = (found[f"{n}@example.org"] for n in ("anna.bau", "bernd.bau", "clara.ordnung"))
    assert (anna.department_name, anna.team_name) == (None, None)  # a department without a team
    assert (bernd.department_name, bernd.team_name) == ("Steuerung", "Projekte")
    assert (clara.department_name, clara.team_name) == ("Redaktion", "Web")
    assert anna.roles == {Role.EMPLOYEE}  # admin only through a nested group: not with nested = "none"
    with app.app_context():
        assert sorted(db.session.scalars(select(Department.name))) == ["IT", "Redaktion", "Steuerung"]


def test_a_person_in_two_department_groups_stops_the_sync(sync_app, staff):
    connection = staff.admin_connection()
    connection.modify(group_dn("it-team"), {"member": [(ldap3.MODIFY_ADD, [staff_dn("cord", "Ordnungsamt",
                                                                                     "Bürgerbüro")])]})
    connection.unbind()
    app = sync_app(mapping=GROUP_MAPPING)
    plan = sync(app)
    assert any("in the groups of several departments: IT, Redaktion" in m for m in plan.messages), plan.messages
    assert people(app) == {}
