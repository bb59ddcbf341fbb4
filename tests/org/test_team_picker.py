"""A team's managers are chosen with the person picker, not from a list of everyone."""

from __future__ import annotations

from sqlalchemy import select

from learning.db import db
from learning.org.models import Team, User
from learning.roles import Role


def test_the_team_form_offers_the_person_picker_instead_of_everyone(client, people, login, make_user):
    make_user("mmustermann", first_name="Max", last_name="Mustermann")
    login(client, "admin")
    page = client.get(f"/admin/units/teams/{people['team'].id}").get_data(as_text=True)
    assert "data-person-picker" in page and 'data-search-url="/admin/people/search"' in page
    assert '<script src="/static/js/person-picker.js" defer></script>' in page
    assert "Mustermann" not in page  # nobody is listed who is not chosen
    chosen = page.split("data-picker-people")[1].split("</div>\n  <div")[0]
    assert f'value="{people["manager"].id}" checked' in chosen  # the team's manager is ticked


def test_without_javascript_the_search_offers_matches_and_saves_nothing(app, client, people, login, make_user):
    max_ = make_user("mmustermann", first_name="Max", last_name="Mustermann")
    team = people["team"]
    login(client, "admin")
    form = {"name": team.name, "department_id": str(team.department_id),
            "manager_ids": [str(people["manager"].id)], "manager_ids-q": "Muster", "manager_ids-search": "1"}
    response = client.submit(f"/admin/units/teams/{team.id}", form)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert f'value="{max_.id}"' in page and "1 person found: tick to choose." in page
    del form["manager_ids-search"]
    form["manager_ids"].append(str(max_.id))
    assert client.submit(f"/admin/units/teams/{team.id}", form).status_code == 302
    with app.app_context():
        saved = db.session.get(Team, team.id)
        assert {m.username for m in saved.managers} == {"manager", "mmustermann"}
        assert db.session.scalar(select(User).where(User.username == "mmustermann")).has_role(Role.MANAGER)


def test_a_made_up_manager_is_refused_on_the_field(app, client, people, login):
    team = people["team"]
    login(client, "admin")
    response = client.submit(f"/admin/units/teams/{team.id}", {
        "name": team.name, "department_id": str(team.department_id), "manager_ids": ["999999", "x"]})
    assert response.status_code == 200
    assert "Please choose a person from the list." in response.get_data(as_text=True)


def test_the_team_page_runs_a_fixed_number_of_queries(app, client, people, login, make_user, count_queries):
    login(client, "admin")
    url = f"/admin/units/teams/{people['team'].id}"
    counts = []
    for extra in (1, 30):
        for _ in range(extra):
            make_user()
        client.get(url)
        with count_queries() as statements:
            assert client.get(url).status_code == 200
        counts.append(len(statements))
    assert counts[0] == counts[1]
