"""CSV import of people: the CLI and the admin upload form share one importer."""

from __future__ import annotations

import io
from datetime import date

import pytest
from sqlalchemy import event, func, select

from learning.audit.models import AuditEntry
from learning.db import db, unit_of_work
from learning.org.importer import ImportFailed, apply_import, plan_import
from learning.org.models import Department, Team, User
from learning.org.signals import people_changed
from learning.roles import Role

ENGLISH = (
    "Email,First name,Last name,Username,Employee number,Department,Team,Roles,Start date,Language,Manages,Active\n"
    "anna.schmidt@example.org,Anna,Schmidt,,1001,Ordnungsamt,Standesamt,employee,2025-03-01,de,,yes\n"
    "ben@example.org,Ben,Becker,bbecker,1002,Ordnungsamt,Bürgerbüro,manager|project_group,01.04.2025,en,"
    "Standesamt,\n"
)


def write(tmp_path, text: str | bytes, name: str = "people.csv"):
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return path


def run(runner, path, *options):
    return runner.invoke(args=["users", "import", str(path), *options])


def snapshot(app) -> dict:
    """Everything an import could write, to prove that nothing was."""
    with app.app_context():
        users = db.session.scalars(select(User).order_by(User.id)).all()
        return {
            "users": [(u.email, u.first_name, u.last_name, u.username, u.employee_number, u.team_id, u.active,
                       u.start_date, u.locale, sorted(u.roles), sorted(t.id for t in u.managed_teams))
                      for u in users],
            "departments": db.session.scalars(select(Department.name).order_by(Department.id)).all(),
            "teams": db.session.scalars(select(Team.name).order_by(Team.id)).all(),
            "audit": db.session.scalar(select(func.count()).select_from(AuditEntry)),
        }


def user(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


def team_named(department: str, name: str) -> Team | None:
    return db.session.scalar(select(Team).join(Team.department).where(Department.name == department,
                                                                         Team.name == name))


# Good files ------------------------------------------------------------------------------------

def test_english_file_creates_people_departments_and_teams(app, runner, tmp_path, people):
    path = write(tmp_path, ENGLISH)
    result = run(runner, path)
    assert result.exit_code == 0, result.output
    assert "created: 2, updated: 0, unchanged: 0, deactivated: 0" in result.stdout
    assert "(UTF-8, separator ,)" in result.stdout
    assert "line 2: created anna.schmidt@example.org" in result.stdout
    with app.app_context():
        anna, ben = user("anna.schmidt@example.org"), user("ben@example.org")
        assert anna.username == "anna.schmidt" and anna.employee_number == "1001"
        assert anna.start_date == date(2025, 3, 1) and anna.locale == "de" and anna.active
        assert anna.roles == {Role.EMPLOYEE} and anna.password_hash is None
        standesamt = team_named("Ordnungsamt", "Standesamt")
        assert anna.team_id == standesamt.id
        assert ben.username == "bbecker" and ben.start_date == date(2025, 4, 1) and ben.locale == "en"
        assert ben.roles == {Role.EMPLOYEE, Role.MANAGER, Role.PROJECT_GROUP}
        # A new "Bürgerbüro" in Ordnungsamt, not the one of the fixture's department.
        assert ben.team_id == team_named("Ordnungsamt", "Bürgerbüro").id != people["team"].id
        assert [t.id for t in ben.managed_teams] == [standesamt.id]
        assert db.session.scalar(select(func.count()).select_from(Department).where(
            Department.name == "Ordnungsamt")) == 1
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "user.import"))
        assert entry.actor_id is None and "2 created" in entry.summary
        assert entry.details["created"] == 2


def test_second_import_of_the_same_file_changes_nothing(app, runner, tmp_path, people):
    path = write(tmp_path, ENGLISH)
    assert run(runner, path).exit_code == 0
    before = snapshot(app)
    result = run(runner, path)
    assert result.exit_code == 0, result.output
    assert "created: 0, updated: 0, unchanged: 2, deactivated: 0" in result.stdout
    after = snapshot(app)
    assert after["users"] == before["users"] and after["audit"] == before["audit"] + 1


def test_german_headers_semicolons_bom_and_crlf_as_excel_writes_them(app, runner, tmp_path, people):
    text = (
        "\ufeffE-Mail;Vorname;Nachname;Benutzername;Personalnummer;Fachbereich;Sachgebiet;Rollen;"
        "Eintrittsdatum;Sprache;Leitet;Aktiv\r\n"
        "erika.muster@example.org;Erika;Muster;;2001;Bauamt;Hochbau;Führungskraft;15.01.2026;Deutsch;"
        "Hochbau|Bauamt/Tiefbau;ja\r\n"
        "max@example.org;Max;Mustermann;;2002;Bauamt;Tiefbau;Mitarbeitende, Projektgruppe;2026-02-01;en;;\r\n"
        "lea@example.org;Lea;Laut;;;Bauamt;Tiefbau;Administration;;;;nein\r\n"
    )
    result = run(runner, write(tmp_path, text))
    assert result.exit_code == 0, result.output
    assert "(UTF-8, separator ;)" in result.stdout
    assert "created: 3, updated: 0, unchanged: 0" in result.stdout
    with app.app_context():
        erika, max_, lea = user("erika.muster@example.org"), user("max@example.org"), user("lea@example.org")
        hochbau, tiefbau = team_named("Bauamt", "Hochbau"), team_named("Bauamt", "Tiefbau")
        assert erika.first_name == "Erika" and erika.start_date == date(2026, 1, 15) and erika.locale == "de"
        assert erika.roles == {Role.EMPLOYEE, Role.MANAGER}
        assert sorted(t.name for t in erika.managed_teams) == ["Hochbau", "Tiefbau"]
        assert {m.id for m in tiefbau.managers} == {erika.id} and erika.team_id == hochbau.id
        assert max_.roles == {Role.EMPLOYEE, Role.PROJECT_GROUP} and max_.team_id == tiefbau.id
        assert lea.roles == {Role.EMPLOYEE, Role.ADMIN} and not lea.active and lea.deactivated_at is not None


def test_windows_1252_file_from_old_excel(app, runner, tmp_path, people):
    text = ("E-Mail;Vorname;Nachname;Abteilung;Team\r\n"
            "juergen@example.org;Jürgen;Müßig;Straßenverkehr;Zulassung Süd\r\n")
    result = run(runner, write(tmp_path, text.encode("cp1252")))
    assert result.exit_code == 0, result.output
    assert "(Windows-1252, separator ;)" in result.stdout
    with app.app_context():
        juergen = user("juergen@example.org")
        assert (juergen.first_name, juergen.last_name) == ("Jürgen", "Müßig")
        assert team_named("Straßenverkehr", "Zulassung Süd").id == juergen.team_id


def test_upsert_by_email_ignores_case_and_updates_names_and_team(app, runner, tmp_path, people):
    text = ("Email,First name,Last name,Department,Team\n"
            "EMPLOYEE@Example.org,Emma,Neumann,Ordnungsamt,Standesamt\n"
            "manager@example.org,Test,Person 1,,\n")
    before = snapshot(app)
    result = run(runner, write(tmp_path, text))
    assert result.exit_code == 0, result.output
    assert "created: 0, updated: 1, unchanged: 1" in result.stdout
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == len(before["users"])
        emma = db.session.get(User, people["employee"].id)
        assert (emma.first_name, emma.last_name, emma.username) == ("Emma", "Neumann", "employee")
        assert emma.team_id == team_named("Ordnungsamt", "Standesamt").id
        manager = db.session.get(User, people["manager"].id)
        assert manager.roles == {Role.EMPLOYEE, Role.MANAGER}  # no roles column: roles untouched
        assert [t.id for t in manager.managed_teams] == [people["team"].id]


def test_manages_sets_team_managers_and_the_manager_role(app, runner, tmp_path, people):
    department = people["team"].department_id
    with app.app_context():
        department_name = db.session.get(Department, department).name
    text = ("Email;First name;Last name;Department;Team;Manages\n"
            f"projectgroup@example.org;Pia;Gruppe;{department_name};;Bürgerbüro|Ordnungsamt/Standesamt\n"
            "neu@example.org;Nora;Neu;Ordnungsamt;Standesamt;\n")
    result = run(runner, write(tmp_path, text))
    assert result.exit_code == 0, result.output
    with app.app_context():
        pia = db.session.get(User, people["project_group"].id)
        assert pia.roles == {Role.EMPLOYEE, Role.MANAGER, Role.PROJECT_GROUP}
        assert {t.id for t in pia.managed_teams} == {people["team"].id, team_named("Ordnungsamt", "Standesamt").id}
        buergerbuero = db.session.get(Team, people["team"].id)
        assert {m.username for m in buergerbuero.managers} == {"manager", "projectgroup"}


# Bad files: every problem reported as FILE:LINE:, nothing written --------------------------------

HEADER = "Email,First name,Last name,Username,Department,Team,Roles,Start date,Language,Manages,Active\n"
GOOD_ROW = "good@example.org,Gina,Gut,,Ordnungsamt,Standesamt,,,,,\n"


@pytest.mark.parametrize(("text", "line", "reason"), [
    (HEADER + GOOD_ROW + "not-an-email,Bad,Mail,,,,,,,,\n", 3, "not a valid email address"),
    (HEADER + GOOD_ROW + "r@example.org,Rolf,Rolle,,,,manager|chef,,,,\n", 3, "Unknown role “chef”"),
    (HEADER + GOOD_ROW + "x@example.org,X,Y,,,,,,,,\n" + "GOOD@example.org,Gina,Doppelt,,,,,,,,\n", 4,
     "already appears on line 2"),
    (HEADER + GOOD_ROW + "d@example.org,Dora,Datum,,,,,31.02.2025,,,\n", 3, "“31.02.2025” is not a valid date"),
    (HEADER.replace("Roles", "Hobbies") + GOOD_ROW, 1, "Unknown column “Hobbies”"),
    ("Email,First name,Team\n" + "a@example.org,Anna,\n", 1, "required column “Nachname / Last name” is missing"),
    (HEADER + GOOD_ROW + "t@example.org,Tim,Team,,,Standesamt,,,,,\n", 3, "needs a department"),
    (HEADER + GOOD_ROW + "l@example.org,Lu,Sprache,,,,,,fr,,\n", 3, "Unknown language “fr”"),
    (HEADER + GOOD_ROW + "e@example.org,Eva,,,,,,,,,\n", 3, "The last name is missing"),
    (HEADER + GOOD_ROW + "u@example.org,Udo,Name,admin,,,,,,,\n", 3, "already belongs to another person"),
    (HEADER + GOOD_ROW + "m@example.org,Mia,Leitung,,Ordnungsamt,,,,,Kämmerei,\n", 3, "does not exist"),
    (HEADER + GOOD_ROW + "a@example.org,Ari,Aktiv,,,,,,,,vielleicht\n", 3, "neither yes nor no"),
    (HEADER + GOOD_ROW + "q@example.org,Quentin,Quo,,,,,,,,,extra\n", 3, "fields but the header has 11"),
    (HEADER + GOOD_ROW + "c@example.org,Con\x07trol,Zeichen,,,,,,,,\n", 3, "characters that cannot be accepted"),
    (HEADER + GOOD_ROW + "b@example.org,Bidi,\u202eRechts,,,,,,,,\n", 3, "characters that cannot be accepted"),
])
def test_bad_line_is_reported_with_its_line_and_nothing_is_written(app, runner, tmp_path, people, text, line,
                                                                   reason):
    path = write(tmp_path, text)
    before = snapshot(app)
    result = run(runner, path)
    assert result.exit_code != 0
    assert f"{path}:{line}: " in result.stderr and reason in result.stderr, result.stderr
    assert "nothing was written" in result.stderr
    assert snapshot(app) == before


def test_every_problem_is_collected_with_physical_line_numbers(app, runner, tmp_path, people):
    text = ("E-Mail;Vorname;Nachname;Rollen\r\n"
            "ok@example.org;Olga;Okay;\r\n"
            "\r\n"  # an empty line still counts
            "bad;Bernd;Böse;\r\n"
            "multi@example.org;\"Zwei\r\nZeilen\";Name;\r\n"  # a quoted value over two lines
            "r@example.org;Rita;Rolle;Chefin\r\n")
    path = write(tmp_path, text)
    before = snapshot(app)
    result = run(runner, path)
    assert result.exit_code != 0
    problems = [line for line in result.stderr.splitlines() if line.startswith(f"{path}:")]
    assert [p.split(":")[1] for p in problems] == ["4", "7"], result.stderr
    assert "2 problem(s)" in result.stderr
    assert snapshot(app) == before


def test_a_utf16_file_with_a_null_byte_in_a_cell_is_refused_on_its_line(app, runner, tmp_path, people):
    """UTF-16 is read as such, so a NUL can arrive inside a cell; PostgreSQL cannot store it."""
    path = write(tmp_path, (HEADER + GOOD_ROW + "n@example.org,Nu\x00ll,Byte,,,,,,,,\n").encode("utf-16"))
    before = snapshot(app)
    result = run(runner, path)
    assert result.exit_code != 0
    assert f"{path}:3: " in result.stderr and "characters that cannot be accepted" in result.stderr, result.stderr
    assert snapshot(app) == before


@pytest.mark.parametrize("content", [b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", b"PK\x03\x04\x14\x00\x06\x00", b""])
def test_a_file_that_is_not_csv_is_refused(app, runner, tmp_path, people, content):
    path = write(tmp_path, content, "people.csv")
    before = snapshot(app)
    result = run(runner, path)
    assert result.exit_code != 0 and f"{path}:1: " in result.stderr
    assert snapshot(app) == before


def test_an_error_while_applying_rolls_everything_back(app, ctx, people, monkeypatch):
    plan = plan_import(ENGLISH.encode(), "people.csv")
    assert plan.ok

    def broken_record(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("learning.org.importer.apply.record", broken_record)
    with pytest.raises(ImportFailed), unit_of_work():  # the caller's unit of work rolls back
        apply_import(plan)
    assert db.session.scalar(select(func.count()).select_from(User)) == 4
    assert db.session.scalar(select(func.count()).select_from(Department).where(
        Department.name == "Ordnungsamt")) == 0


# Dry run and deactivation ----------------------------------------------------------------------

def test_dry_run_shows_the_summary_and_writes_nothing(app, runner, tmp_path, people):
    before = snapshot(app)
    result = run(runner, write(tmp_path, ENGLISH), "--dry-run")
    assert result.exit_code == 0, result.output
    assert "created: 2, updated: 0, unchanged: 0, deactivated: 0" in result.stdout
    assert "dry run: nothing was written" in result.stdout
    assert "new department Ordnungsamt" in result.stdout
    assert snapshot(app) == before


def test_deactivate_missing_deactivates_people_not_in_the_file(app, runner, tmp_path, people):
    text = "Email,First name,Last name\nemployee@example.org,Test,Person 2\nadmin@example.org,Test,Person 4\n"
    result = run(runner, write(tmp_path, text), "--deactivate-missing")
    assert result.exit_code == 0, result.output
    assert "deactivated: 2" in result.stdout
    with app.app_context():
        active = {u.username: u.active for u in db.session.scalars(select(User))}
        assert active == {"employee": True, "admin": True, "manager": False, "projectgroup": False}


def test_deactivate_missing_keeps_the_last_active_admin(app, runner, tmp_path, people):
    text = "Email,First name,Last name\nemployee@example.org,Test,Person 2\n"
    result = run(runner, write(tmp_path, text), "--deactivate-missing")
    assert result.exit_code == 0, result.output
    assert "kept active admin@example.org" in result.stdout
    with app.app_context():
        assert user("admin@example.org").active
        assert not user("manager@example.org").active


def test_without_the_option_nobody_is_deactivated(app, runner, tmp_path, people):
    result = run(runner, write(tmp_path, ENGLISH))
    assert "deactivated: 0" in result.stdout
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User).where(User.active.is_(False))) == 0


def test_lookups_do_not_grow_with_the_number_of_rows(app, ctx, people):
    def selects_for(rows: int) -> int:
        lines = ["Email,First name,Last name,Department,Team,Roles,Manages"]
        lines += [f"p{i}@example.org,P,{i},Amt {i % 3},Team {i % 7},employee|manager,Team {i % 7}"
                  for i in range(rows)]
        statements = []

        def count(conn, cursor, statement, *args):
            if statement.lstrip().upper().startswith("SELECT"):
                statements.append(statement)

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            plan = plan_import("\n".join(lines).encode(), "many.csv")
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        assert plan.ok and len(plan.rows) == rows
        return len(statements)

    assert selects_for(300) == selects_for(20) <= 6


# The upload form -------------------------------------------------------------------------------

def upload(client, content: bytes, name="people.csv", **options):
    data = {"file": (io.BytesIO(content), name)}
    data.update({key: "y" for key, value in options.items() if value})
    return client.submit("/admin/people/import", data, headers={"Accept-Language": "en"})


def test_admin_imports_a_file_and_one_audit_entry_is_recorded(app, client, people, login):
    login(client, "admin")
    response = upload(client, ENGLISH.encode())
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "people.csv has been imported." in page
    assert "anna.schmidt@example.org" in page and "Ordnungsamt" in page
    with app.app_context():
        assert user("ben@example.org").team_id is not None
        entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "user.import")).all()
        assert len(entries) == 1 and entries[0].actor_id == people["admin"].id


def test_errors_are_listed_on_the_page_and_nothing_is_written(app, client, people, login):
    login(client, "admin")
    before = snapshot(app)
    text = HEADER + GOOD_ROW + "<b>bold</b>,Bad,Mail,,,,,,,,\n" + "r@example.org,Rolf,Rolle,,,,chef,,,,\n"
    response = upload(client, text.encode())
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'role="alert"' in page and "The file was not imported" in page
    assert "Line 3: “&lt;b&gt;bold&lt;/b&gt;” is not a valid email address." in page
    assert "Line 4: Unknown role “chef”" in page
    assert "<b>bold</b>" not in page
    assert snapshot(app) == before


def test_dry_run_on_the_form_shows_what_would_happen(app, client, people, login):
    login(client, "admin")
    before = snapshot(app)
    response = upload(client, ENGLISH.encode(), dry_run=True)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Dry run" in page and "Nothing has been changed." in page and "What the import would do" in page
    assert "anna.schmidt@example.org" in page
    assert snapshot(app) == before


def test_deactivate_missing_on_the_form_never_deactivates_the_acting_admin(app, client, make_user, people, login):
    make_user("second_admin", roles={Role.ADMIN})
    login(client, "admin")
    response = upload(client, b"Email,First name,Last name\nemployee@example.org,Test,Person 2\n",
                      deactivate_missing=True)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "You are signed in as this person." in page
    with app.app_context():
        active = {u.username: u.active for u in db.session.scalars(select(User))}
    assert active == {"employee": True, "admin": True, "manager": False, "projectgroup": False,
                      "second_admin": False}


def test_admin_cannot_take_away_their_own_admin_role(app, client, people, login):
    login(client, "admin")
    before = snapshot(app)
    response = upload(client, b"Email,First name,Last name,Roles\nadmin@example.org,Test,Person 4,employee\n")
    assert "Line 2: You cannot take the administrator role away from yourself." in response.get_data(as_text=True)
    assert snapshot(app) == before


def test_form_refuses_content_that_is_not_csv(app, client, people, login):
    login(client, "admin")
    response = upload(client, b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00", name="people.csv")
    assert response.status_code == 200
    assert "This is not a CSV text file." in response.get_data(as_text=True)


def test_form_refuses_other_file_types_and_missing_files(app, client, people, login):
    login(client, "admin")
    page = upload(client, b"%PDF-1.7", name="people.pdf").get_data(as_text=True)
    assert "Please choose a CSV file." in page
    page = client.submit("/admin/people/import", {}, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Please choose a CSV file." in page


def test_form_refuses_a_file_larger_than_the_limit(app, client, people, login):
    login(client, "admin")
    app.config["MAX_CONTENT_LENGTH"] = 4096
    response = upload(client, ENGLISH.encode() * 100)
    assert response.status_code == 413


def test_employee_may_not_open_the_import(client, people, login):
    login(client, "employee")
    assert client.get("/admin/people/import").status_code == 403
    assert upload(client, ENGLISH.encode()).status_code == 403


# Reading the variants spreadsheets produce -----------------------------------------------------

@pytest.mark.parametrize(("text", "delimiter"), [
    ('sep=;\r\n"E-Mail";"Vorname";"Nachname";"Rollen"\r\n"a@example.org";"Ana";"Alt";"manager;admin"\r\n', ";"),
    ("Email\tFirst name\tLast name\tRoles\na@example.org\tAna\tAlt\tManager, Admin\n", "\t"),
    (' e-mail* , FIRST  NAME ,last_name,ROLLEN\na@example.org,Ana,Alt,"manager,ADMIN"\n', ","),
])
def test_separators_quotes_and_header_spellings(ctx, text, delimiter):
    plan = plan_import(text.encode(), "x.csv")
    assert plan.ok, plan.problem_lines()
    assert plan.delimiter == delimiter
    assert plan.rows[0].roles == {Role.EMPLOYEE, Role.MANAGER, Role.ADMIN}


def test_dates_as_excel_exports_them(ctx):
    text = ("Email,First name,Last name,Start date\n"
            "a@example.org,A,A,2025-03-01 00:00:00\nb@example.org,B,B,1.4.2025\n")
    plan = plan_import(text.encode(), "x.csv")
    assert plan.ok, plan.problem_lines()
    assert [row.values["start_date"] for row in plan.rows] == [date(2025, 3, 1), date(2025, 4, 1)]


def test_the_file_may_not_remove_the_last_active_administrator(app, runner, tmp_path, people):
    path = write(tmp_path, "Email,First name,Last name,Active\nadmin@example.org,Test,Person 4,nein\n")
    before = snapshot(app)
    result = run(runner, path)
    assert result.exit_code != 0
    assert f"{path}:1: After this import no active administrator would remain." in result.stderr
    assert snapshot(app) == before


def test_applying_does_not_query_per_row(app, ctx, people):
    def selects_for(rows: int) -> int:
        lines = ["Email,First name,Last name,Department,Team,Manages"]
        lines += [f"p{i}@example.org,P,{i},Amt,Team {i % 5},Team {i % 5}" for i in range(rows)]
        lines += [f"employee@example.org,Emma,Neu {rows},Amt,Team 1,"]  # an update as well
        plan = plan_import("\n".join(lines).encode(), f"{rows}.csv", deactivate_missing=True)
        assert plan.ok
        statements = []

        def count(conn, cursor, statement, *args):
            statements.append(statement.lstrip().split(None, 1)[0].upper())

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            with people_changed.muted():  # what listeners (training rules) query is counted in their tests
                apply_import(plan)
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        assert "INSERT" in statements and "UPDATE" in statements  # the listener sees the writes
        return statements.count("SELECT")

    assert selects_for(10) == selects_for(200) == 0  # everything was loaded while planning
