"""The one audience module: kinds, population, matching in Python and in SQL agree, words, form checks."""

from __future__ import annotations

import pytest

from learning.db import db
from learning.errors import ServiceError
from learning.org import audience
from learning.org.audience import AudienceKind, AudienceNames, Person
from learning.org.models import UserRole
from learning.roles import Role


def test_kinds_are_the_values_stored_by_the_features():
    assert [k.value for k in AudienceKind] == ["everyone", "departments", "teams", "roles", "phase"]
    assert audience.kind_of("teams") is AudienceKind.TEAMS
    assert audience.kind_of("nonsense") is None


@pytest.fixture
def org(make_department, make_team, make_user, make_phase):
    """Two departments with a team each, a phase affecting the first, and four people."""
    north, south = make_department("North"), make_department("South")
    north_team, south_team = make_team("Desk", department=north), make_team("Counter", department=south)
    phase = make_phase(departments=[north])
    empty_phase = make_phase()
    return {
        "north": north, "south": south, "north_team": north_team, "south_team": south_team,
        "phase": phase, "empty_phase": empty_phase,
        "ann": make_user("ann", team=north_team),
        "bob": make_user("bob", team=south_team, roles={Role.MANAGER}),
        "cid": make_user("cid", roles={Role.PROJECT_GROUP}),  # no team
        "gone": make_user("gone", team=north_team, active=False),
    }


def _cases(org) -> list[tuple[str, list, set[str]]]:
    """(kind, values, usernames reached) for every kind."""
    return [
        ("everyone", [], {"ann", "bob", "cid"}),
        ("departments", [org["north"].id], {"ann"}),
        ("departments", [str(org["south"].id)], {"bob"}),  # ids stored as text still count
        ("departments", [], set()),
        ("teams", [org["north_team"].id, org["south_team"].id], {"ann", "bob"}),
        ("roles", ["manager"], {"bob"}),
        ("roles", ["employee"], {"ann", "bob", "cid"}),  # everybody is an employee
        ("roles", ["project_group", "manager"], {"bob", "cid"}),
        ("phase", [org["phase"].id], {"ann"}),
        ("phase", [org["empty_phase"].id], set()),
        ("phase", [], set()),
        ("unknown", [1], set()),
    ]


def test_population_is_the_active_people_with_units_and_roles(ctx, org):
    people = {p.user_id: p for p in audience.population()}
    assert set(people) == {org[n].id for n in ("ann", "bob", "cid")}
    ann = people[org["ann"].id]
    assert (ann.team_id, ann.department_id, ann.team_name, ann.department_name) == (
        org["north_team"].id, org["north"].id, "Desk", "North")
    assert ann.roles == {"employee"}
    assert people[org["bob"].id].roles == {"employee", "manager"}
    cid = people[org["cid"].id]
    assert (cid.team_id, cid.department_id, cid.department_name) == (None, None, None)


def test_everybody_is_an_employee_even_without_the_role_row(ctx, org):
    db.session.execute(UserRole.__table__.delete().where(UserRole.user_id == org["cid"].id))
    (cid,) = audience.population([org["cid"].id])
    assert cid.roles == {"employee"}
    assert audience.person_for(db.session.get(type(org["cid"]), org["cid"].id)).roles == {"employee"}
    assert set(db.session.scalars(audience.audience_select("roles", ["employee"]))) >= {org["cid"].id}


def test_population_of_some_people_leaves_out_the_inactive(ctx, org):
    ids = [org["ann"].id, org["gone"].id]
    assert [p.user_id for p in audience.population(ids)] == [org["ann"].id]


def test_person_for_matches_the_population(ctx, org):
    from learning.org.models import User

    by_id = {p.user_id: p for p in audience.population()}
    for name in ("ann", "bob", "cid"):
        person = audience.person_for(db.session.get(User, org[name].id))
        population_person = by_id[org[name].id]
        assert (person.user_id, person.team_id, person.department_id, person.roles) == (
            population_person.user_id, population_person.team_id, population_person.department_id,
            population_person.roles)


def test_python_and_sql_matching_agree(ctx, org):
    people = audience.population()
    names = {org[n].id: n for n in ("ann", "bob", "cid", "gone")}
    departments = audience.phase_departments([org["phase"].id, org["empty_phase"].id])
    for kind, values, expected in _cases(org):
        in_python = {names[p.user_id] for p in people if audience.matches(kind, values, p, departments)}
        in_sql = {names[i] for i in db.session.scalars(audience.audience_select(kind, values))}
        assert in_python == expected, (kind, values)
        assert in_sql == expected, (kind, values)


def test_phase_matching_loads_the_departments_when_not_given(ctx, org):
    ann = audience.person_for(db.session.get(type(org["ann"]), org["ann"].id))
    assert audience.matches(AudienceKind.PHASE, [org["phase"].id], ann)
    assert not audience.matches(AudienceKind.PHASE, [org["empty_phase"].id], ann)


def test_matcher_needs_no_database_for_plain_kinds():
    person = Person(user_id=1, team_id=7, department_id=3, roles=frozenset({"employee", "manager"}))
    assert audience.matcher("teams", [7])(person)
    assert audience.matcher("departments", ["3"])(person)
    assert not audience.matcher("departments", [4])(person)
    assert audience.matcher("roles", ["manager"])(person)
    assert audience.matcher("phase", [9], {9: {3}})(person)
    assert not audience.matcher("phase", [9], {9: {4}})(person)
    nobody = Person(user_id=2, team_id=None, department_id=None, roles=frozenset({"employee"}))
    assert not audience.matcher("teams", [7])(nobody)
    assert not audience.matcher("phase", [9], {9: {3}})(nobody)


def test_audience_filter_combines_with_other_conditions(ctx, org):
    from sqlalchemy import select

    from learning.org.models import User

    query = select(User.username).where(audience.audience_filter("departments", [org["north"].id]))
    assert set(db.session.scalars(query)) == {"ann", "gone"}  # activity is the caller's choice here


@pytest.mark.parametrize(("kind", "values", "expected"), [
    ("everyone", [1, 2], ("everyone", [])),
    ("departments", ["3", 1, 3, ""], ("departments", [1, 3])),
    ("teams", [5], ("teams", [5])),
    ("roles", ["manager", "admin", "manager"], ("roles", ["admin", "manager"])),
    ("phase", ["4", "5"], ("phase", [4])),
    ("phase", [None], ("phase", [])),
])
def test_normalise_keeps_what_the_kind_needs(ctx, kind, values, expected):
    assert audience.normalise(kind, values) == expected


@pytest.mark.parametrize(("kind", "values"), [("nonsense", []), ("roles", ["king"]), ("teams", ["x"]),
                                              ("phase", [1])])
def test_normalise_refuses_on_the_audience_field(ctx, kind, values):
    with pytest.raises(ServiceError) as refused:
        audience.normalise(kind, values, kinds=[k for k in AudienceKind if k != AudienceKind.PHASE],
                           message="Please choose who gets it.")
    assert (refused.value.field, str(refused.value)) == ("audience", "Please choose who gets it.")


def test_check_refuses_missing_and_unknown_values_on_their_field(ctx, org):
    audience.check("everyone", [])
    audience.check("phase", [])  # a feature may fall back on a phase of its own
    audience.check("departments", [org["north"].id])
    for kind, values, field, message in [
        ("departments", [], "department_ids", "Please choose at least one department."),
        ("teams", [], "team_ids", "Please choose at least one team."),
        ("roles", [], "roles", "Please choose at least one role."),
        ("departments", [org["north"].id, 999_999], "department_ids", "Please choose at least one department."),
        ("teams", [999_999], "team_ids", "Please choose at least one team."),
        ("phase", [999_999], "phase_id", "Please choose a rollout phase."),
    ]:
        with pytest.raises(ServiceError) as refused:
            audience.check(kind, values)
        assert (refused.value.field, str(refused.value)) == (field, message), (kind, values)


def test_description_in_words(ctx, org):
    names = AudienceNames.load()
    assert names.describe("everyone", []) == "Everyone"
    assert names.describe("departments", [org["south"].id, org["north"].id]) == "Departments: North, South"
    assert names.describe("teams", [org["north_team"].id, 999_999]) == "Teams: (deleted), North / Desk"
    assert names.describe("roles", ["manager", "employee"]) == "Roles: Employee, Manager"
    assert names.describe("phase", [org["phase"].id]) == "Departments affected by the rollout phase E-Akte"
    assert names.describe("phase", []) == "The departments affected by the rollout phase"
    assert audience.describe("teams", [org["south_team"].id]) == "Teams: South / Counter"


def test_description_in_german(app, org):
    with app.test_request_context(headers={"Accept-Language": "de"}):
        names = AudienceNames.load()
        assert names.describe("everyone", []) == "Alle Beschäftigten"
        assert names.describe("departments", [org["north"].id]) == "Fachbereiche: North"
        assert names.describe("roles", ["manager"]) == "Rollen: Führungskraft"
