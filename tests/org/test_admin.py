"""Admin pages for people, departments and teams: create, edit, search, deactivate."""

from __future__ import annotations

from sqlalchemy import func, select

from learning.audit.models import AuditEntry
from learning.db import db
from learning.org.models import Department, Team, User
from learning.roles import Role


def _person_form(**changes) -> dict:
    data = {"first_name": "Erika", "last_name": "Mustermann", "email": "erika@example.org", "username": "",
            "employee_number": "", "start_date": "", "team_id": "", "locale": "", "roles": ["employee"]}
    data.update(changes)
    return data


def test_admin_creates_a_person(app, client, people, login):
    login(client, "admin")
    response = client.submit("/admin/people/new", _person_form(
        team_id=str(people["team"].id), start_date="2026-12-01", roles=["employee", "project_group"]))
    assert response.status_code == 302
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "erika@example.org"))
        assert user.username == "erika" and user.team_id == people["team"].id
        assert user.roles == {Role.EMPLOYEE, Role.PROJECT_GROUP}
        assert user.password_hash is None
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "user.created"))
        assert entry.actor_id == people["admin"].id and entry.target_id == user.id


def test_duplicate_email_is_shown_on_the_form_and_nothing_changes(app, client, people, login):
    login(client, "admin")
    response = client.submit("/admin/people/new", _person_form(email="EMPLOYEE@example.org"))
    assert response.status_code == 200
    assert "Another person already uses this email address." in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 4


def test_bad_input_gets_messages_not_errors(client, people, login):
    login(client, "admin")
    response = client.submit("/admin/people/new", _person_form(
        email="not-an-email", start_date="31.02.2026", username="Bad Name!", team_id="99999", roles=["king"]))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Invalid email address." in page
    assert "Enter a date such as 31.03.2027 (day, month, year)." in page
    assert "Not a valid choice." in page
    assert "Please check your entries" in page


def test_admin_edits_a_person_and_makes_them_a_manager(app, client, people, login, make_team):
    login(client, "admin")
    other_team = make_team("Standesamt")
    employee = people["employee"]
    response = client.submit(f"/admin/people/{employee.id}", _person_form(
        email=employee.email, first_name="Anna", last_name="Schmidt", username="employee",
        managed_team_ids=[str(other_team.id)]))
    assert response.status_code == 302
    with app.app_context():
        user = db.session.get(User, employee.id)
        assert user.full_name == "Anna Schmidt"
        assert Role.MANAGER in user.roles
        assert [t.name for t in user.managed_teams] == ["Standesamt"]


def test_deactivation_keeps_the_record_and_blocks_sign_in(app, client, people, login):
    login(client, "admin")
    employee = people["employee"]
    client.submit(f"/admin/people/{employee.id}/active", {"active": "0"})
    with app.app_context():
        user = db.session.get(User, employee.id)
        assert not user.active and user.deactivated_at is not None
    other = app.test_client()
    assert other.submit("/login", {"username": "employee", "password": "correct-horse-battery"}).status_code == 200
    client.submit(f"/admin/people/{employee.id}/active", {"active": "1"})
    with app.app_context():
        assert db.session.get(User, employee.id).active


def test_deactivated_person_is_signed_out_at_once(app, client, people, login):
    employee_client = app.test_client()
    login(employee_client, "employee")
    login(client, "admin")
    client.submit(f"/admin/people/{people['employee'].id}/active", {"active": "0"})
    assert employee_client.get("/").status_code == 302


def test_admin_cannot_deactivate_themselves(app, client, people, login):
    login(client, "admin")
    response = client.submit(f"/admin/people/{people['admin'].id}/active", {"active": "0"}, follow_redirects=True)
    assert "You cannot deactivate your own account." in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, people["admin"].id).active


def test_search_and_filters(client, people, login, make_user):
    make_user("zeynep", first_name="Zeynep", last_name="Kaya", active=False)
    login(client, "admin")
    page = client.get("/admin/people?q=kaya&status=all").get_data(as_text=True)
    assert "Kaya, Zeynep" in page and "Person 1" not in page.split("<tbody")[1].split("</tbody>")[0]
    assert "Kaya, Zeynep" not in client.get("/admin/people?q=kaya").get_data(as_text=True)
    managers = client.get("/admin/people?role=manager").get_data(as_text=True)
    assert "manager@example.org" in managers and "employee@example.org" not in managers
    by_department = client.get(f"/admin/people?department={people['team'].department_id}").get_data(as_text=True)
    assert "employee@example.org" in by_department and "admin@example.org" not in by_department


def test_departments_and_teams(app, client, people, login):
    login(client, "admin")
    assert client.submit("/admin/units/departments/new", {"name": "Finanzen"}).status_code == 302
    duplicate = client.submit("/admin/units/departments/new", {"name": " finanzen "})
    assert "A department with this name already exists." in duplicate.get_data(as_text=True)
    with app.app_context():
        finanzen = db.session.scalar(select(Department).where(Department.name == "Finanzen"))
    response = client.submit("/admin/units/teams/new", {
        "name": "Kasse", "department_id": str(finanzen.id),
        "manager_ids": [str(people["manager"].id), str(people["project_group"].id)]})
    assert response.status_code == 302
    with app.app_context():
        team = db.session.scalar(select(Team).where(Team.name == "Kasse"))
        assert {m.username for m in team.managers} == {"manager", "projectgroup"}
        assert Role.MANAGER in db.session.get(User, people["project_group"].id).roles
    page = client.get("/admin/units").get_data(as_text=True)
    assert "Kasse" in page and "Finanzen" in page


def test_team_with_members_cannot_be_deactivated(app, client, people, login):
    login(client, "admin")
    team = people["team"]
    response = client.submit(f"/admin/units/team/{team.id}/active", {"active": "0"}, follow_redirects=True)
    assert "still has 1 active members" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Team, team.id).active


def test_department_with_active_teams_cannot_be_deactivated(app, client, people, login):
    login(client, "admin")
    department_id = people["team"].department_id
    response = client.submit(f"/admin/units/department/{department_id}/active", {"active": "0"},
                             follow_redirects=True)
    assert "Deactivate the department&#39;s teams first." in response.get_data(as_text=True)


def test_cli_creates_the_first_admin(app, runner):
    result = runner.invoke(args=["users", "create-admin", "it@example.org", "--first-name", "Ida",
                                 "--last-name", "Tech"], input="short\nshort\nlong-enough-pass\nlong-enough-pass\n")
    assert result.exit_code == 0, result.output
    assert "at least 10 characters" in result.output
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "it@example.org"))
        assert user.username == "it" and user.has_role(Role.ADMIN) and user.check_password("long-enough-pass")
    again = runner.invoke(args=["users", "create-admin", "IT@example.org", "--first-name", "I", "--last-name", "T"],
                          input="x\n")
    assert again.exit_code != 0 and "already uses this email address" in again.output


def test_cli_admin_invitation_is_mailed(make_app, smtp_server):
    app = make_app(SMTP_URL=smtp_server.url)
    result = app.test_cli_runner().invoke(args=["users", "create-admin", "boss@example.org", "--first-name", "B",
                                                "--last-name", "Oss", "--invite"])
    assert result.exit_code == 0, result.output
    assert smtp_server.messages[-1]["To"].endswith("<boss@example.org>")
