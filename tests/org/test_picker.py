"""The person picker: its JSON search (name and unit only, literal, limited) and its form without JavaScript."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from learning.db import db
from learning.org.models import Team
from learning.phases.models import RolloutPhase


@pytest.fixture
def named(make_user, people):
    """People to find: two Schmidts in the team, one without a team, one inactive, one with 50% in the name."""
    return {
        "anna": make_user("aschmidt", first_name="Anna", last_name="Schmidt", team=people["team"],
                          email="anna.geheim@example.org", employee_number="P-4711"),
        "bernd": make_user("bschmidt", first_name="Bernd", last_name="Schmidt"),
        "gone": make_user("cschmidt", first_name="Carla", last_name="Schmidt", active=False),
        "percent": make_user("prozent", first_name="Hundert", last_name="50%Mann"),
    }


def _search(client, url: str, q: str) -> list[dict]:
    response = client.get(url, query_string={"q": q})
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    return response.get_json()["people"]


def test_the_search_finds_active_people_by_name_and_tells_nothing_but_name_and_unit(app, client, login, people,
                                                                                     named):
    login(client, "projectgroup")
    found = _search(client, "/admin/people/search", "schmi")
    assert [p["name"] for p in found] == ["Anna Schmidt", "Bernd Schmidt"]  # by name; not the inactive Carla
    with app.app_context():
        team = db.session.get(Team, people["team"].id)
        unit = f"{team.department.name} / {team.name}"
    assert found[0] == {"id": named["anna"].id, "name": "Anna Schmidt", "unit": unit}
    assert found[1]["unit"] == ""
    assert _search(client, "/admin/people/search", "Schmidt, Anna")[0]["name"] == "Anna Schmidt"
    # neither the address nor the employee number finds anyone: the picker would tell whose they are
    assert _search(client, "/admin/people/search", "geheim") == []
    assert _search(client, "/admin/people/search", "P-4711") == []
    # LIKE's wildcards match only themselves; one letter is no search
    assert _search(client, "/admin/people/search", "%") == []
    assert _search(client, "/admin/people/search", "__") == []
    assert [p["name"] for p in _search(client, "/admin/people/search", "50%")] == ["Hundert 50%Mann"]
    assert _search(client, "/admin/people/search", "S") == []


def test_the_search_gives_at_most_twenty(client, login, people, make_user):
    for n in range(25):
        make_user(f"meier{n}", first_name=f"Max{n:02d}", last_name="Meier")
    login(client, "admin")
    assert len(_search(client, "/admin/people/search", "meier")) == 20


@pytest.mark.parametrize(("role", "status"), [("employee", 403), ("manager", 403), ("projectgroup", 200),
                                              ("admin", 200)])
def test_only_the_roles_that_pick_may_search(client, login, people, role, status):
    login(client, role)
    assert client.get("/admin/people/search?q=Test").status_code == status


def test_without_javascript_the_search_button_offers_the_matches_and_saves_nothing(app, client, login, people,
                                                                                     named):
    login(client, "projectgroup")
    form = client.get("/phases/new").get_data(as_text=True)
    assert 'role="listbox"' in form and 'name="contact_ids-q"' in form and 'name="contact_ids-search"' in form
    assert "Hold Ctrl" not in form and "manager@example.org" not in form  # not a list of everyone
    assert '<script src="/static/js/person-picker.js" defer></script>' in form
    data = {"slug": "e-akte", "title": "Elektronische Akte", "title_en": "", "period": "2026-H2",
            "status": "planned", "go_live": "", "goals": "Ziele", "changes": "",
            "contact_ids": [str(named["bernd"].id)], "contact_ids-q": "Schmidt", "contact_ids-search": "1"}
    response = client.submit("/phases/new", data)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(RolloutPhase.id)) is None
    assert 'value="Elektronische Akte"' in page and re.search(r">\s*Ziele</textarea>", page)  # kept
    assert re.search(rf'type="checkbox" id="contact_ids-{named["bernd"].id}" name="contact_ids" '
                     rf'value="{named["bernd"].id}" checked>', page)
    assert re.search(rf'value="{named["anna"].id}">', page) and "Carla" not in page
    assert "1 person found: tick to choose." in page
    # ticking Anna as well and saving keeps both
    data.pop("contact_ids-search")
    data["contact_ids"] = [str(named["bernd"].id), str(named["anna"].id)]
    assert client.submit("/phases/new", data).status_code == 302
    with app.app_context():
        phase = db.session.scalar(select(RolloutPhase))
        assert sorted(u.id for u in phase.contacts) == sorted([named["anna"].id, named["bernd"].id])


def test_a_person_not_offered_is_refused(app, client, login, people, named):
    login(client, "projectgroup")
    data = {"slug": "e-akte", "title": "E-Akte", "title_en": "", "period": "2026-H2", "status": "planned",
            "go_live": "", "goals": "", "changes": "", "contact_ids": ["99999", "abc"]}
    response = client.submit("/phases/new", data)
    assert response.status_code == 200 and "Please check your entries" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(RolloutPhase.id)) is None
