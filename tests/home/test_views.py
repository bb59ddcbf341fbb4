"""Home page per role, own account, health check, error pages, the demo municipality."""

from __future__ import annotations

from sqlalchemy import func, select

from learning.db import db
from learning.org.models import User
from learning.roles import Role


def test_employee_home_shows_team_and_managers(client, people, login):
    login(client, "employee")
    page = client.get("/").get_data(as_text=True)
    assert "Bürgerbüro" in page and people["manager"].full_name in page
    assert "Teams I lead" not in page and "Organisation at a glance" not in page
    nav = page.split('class="site-nav"')[1].split("</nav>")[0]
    assert "/admin/" not in nav and "/account" in nav


def test_manager_home_lists_the_team(client, people, login, make_user):
    make_user("left", team=people["team"], active=False, first_name="Left", last_name="Behind")
    login(client, "manager")
    page = client.get("/").get_data(as_text=True)
    assert "Teams I lead" in page and people["employee"].full_name in page
    assert "Left Behind" not in page


def test_project_group_and_admin_see_organisation_figures(client, people, login, make_user):
    make_user("pending", password=None)
    login(client, "projectgroup")
    page = client.get("/").get_data(as_text=True)
    assert "Organisation at a glance" in page and "Without a password yet" not in page
    admin = client.application.test_client()
    login(admin, "admin")
    page = admin.get("/").get_data(as_text=True)
    assert "Without a password yet" in page and "Recent administrative changes" in page
    nav = page.split('class="site-nav"')[1].split("</nav>")[0]
    assert 'href="/admin/"' in nav
    admin_page = admin.get("/admin/").get_data(as_text=True)
    assert "/admin/people" in admin_page and "/admin/audit/" in admin_page and "/admin/mail/" in admin_page


def test_account_page_shows_own_data(client, people, login):
    login(client, "employee")
    page = client.get("/account").get_data(as_text=True)
    assert "employee@example.org" in page and "Bürgerbüro" in page


def test_healthz_reports_app_and_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "app": "ok", "database": "ok"}


def test_healthz_reports_a_broken_database(make_app, tmp_path):
    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/missing/dir/db.sqlite")
    response = app.test_client().get("/healthz")
    assert response.status_code == 503 and response.json["database"] == "unavailable"


def test_error_pages_are_localised(client, people, login):
    german = client.get("/no-such-page", headers={"Accept-Language": "de"})
    assert german.status_code == 404 and '<html lang="de">' in german.get_data(as_text=True)
    assert "Seite nicht gefunden" in german.get_data(as_text=True)
    login(client, "employee")
    forbidden = client.get("/admin/people")
    assert forbidden.status_code == 403 and "Access denied" in forbidden.get_data(as_text=True)


def test_unexpected_error_renders_the_500_page(app, client, people, login, monkeypatch):
    import learning.home.views as views

    def broken(user):
        raise RuntimeError("boom")

    monkeypatch.setattr(views, "my_colleagues", broken)
    login(client, "employee")
    response = client.get("/account")
    assert response.status_code == 500
    assert "An unexpected error occurred" in response.get_data(as_text=True)


def test_pages_run_a_fixed_number_of_queries(client, people, login, make_user, count_queries):
    login(client, "admin")
    counts = []
    for extra in (0, 30):
        for n in range(extra):
            make_user(f"bulk{len(counts)}x{n}", team=people["team"], roles={Role.EMPLOYEE, Role.MANAGER})
        row = {}
        for url in ["/", "/admin/people", "/admin/units", "/admin/audit/"]:
            with count_queries() as statements:
                assert client.get(url).status_code == 200
            row[url] = len(statements)
        counts.append(row)
    assert counts[0] == counts[1]


def test_demo_load_creates_the_municipality(app, runner):
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    assert "Gemeinde Musterhausen" in result.output
    with app.app_context():
        people = db.session.scalar(select(func.count()).select_from(User))
        assert 50 <= people <= 80
        anna = db.session.scalar(select(User).where(User.username == "anna"))
        mara = db.session.scalar(select(User).where(User.username == "mara"))
        assert mara in anna.team.managers and anna.check_password("demo")
        assert db.session.scalar(select(User).where(User.username == "paul")).has_role(Role.PROJECT_GROUP)
        assert db.session.scalar(select(User).where(User.username == "admin")).has_role(Role.ADMIN)
    again = runner.invoke(args=["demo", "load", "--if-empty"])
    assert again.exit_code == 0 and "nothing loaded" in again.output
    refused = runner.invoke(args=["demo", "load"])
    assert refused.exit_code != 0


def test_demo_logins_are_shown_only_in_demo_mode(make_app):
    plain = make_app().test_client().get("/login").get_data(as_text=True)
    assert "Demo accounts" not in plain
    demo = make_app(DEMO=True).test_client().get("/login").get_data(as_text=True)
    assert "Demo accounts" in demo and "mara" in demo


def test_the_glossary_explains_the_jargon_where_it_appears(client, people, login):
    login(client, "employee")
    page = client.get("/glossary").get_data(as_text=True)
    for anchor in ("n", "adkar", "barrier-point", "readiness", "enps", "cronbach-alpha", "favourable"):
        assert f'id="{anchor}"' in page
    client.submit("/language", {"language": "de", "next": "/glossary"})
    page = client.get("/glossary").get_data(as_text=True)
    assert "Begriffe erklärt" in page and "Cronbachs Alpha" in page and "Barrierepunkt" in page
