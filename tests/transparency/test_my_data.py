"""“What is stored about me”: every row that refers to the person, nothing of anybody else."""

from __future__ import annotations

import json
from datetime import date

from sqlalchemy import select

from learning.db import db, unit_of_work
from learning.transparency.services import HIDDEN_VALUE, TABLE_LABELS, personal_data, personal_tables


def test_every_table_that_refers_to_people_has_a_name_for_people(app):
    with app.app_context():
        unnamed = [table.name for table, _ in personal_tables() if table.name not in TABLE_LABELS]
    assert unnamed == []


def _activity(app, people, make_course, make_assignment, make_phase):
    """Both the employee and the manager learn, vote and post; the employee also posts anonymously."""
    from learning.feedback.services import create_post, vote
    from learning.org.models import User

    course = make_course("daten-kurs")
    phase = make_phase("daten-phase")
    for person in (people["employee"], people["manager"]):
        make_assignment(person, course, due_on=date(2026, 12, 1))
    with app.app_context():
        from learning.phases.models import RolloutPhase

        phase = db.session.get(RolloutPhase, phase.id)
        employee = db.session.get(User, people["employee"].id)
        manager = db.session.get(User, people["manager"].id)
        with unit_of_work():
            named = create_post(employee, phase, kind="idea", title="Benannte Idee", body="Text", anonymous=False)
            anonymous = create_post(employee, phase, kind="concern", title="Anonyme Sorge", body="Geheim",
                                    anonymous=True)
            other = create_post(manager, phase, kind="idea", title="Idee der Leitung", body="Text", anonymous=False)
            vote(employee, other)
            vote(manager, named)
        return named.id, anonymous.id, other.id


def test_lists_the_persons_rows_and_nothing_of_others(app, people, make_course, make_assignment, make_phase):
    from learning.org.models import User
    from learning.training.models import Assignment

    named_id, anonymous_id, other_id = _activity(app, people, make_course, make_assignment, make_phase)
    employee_id, manager_id = people["employee"].id, people["manager"].id
    with app.test_request_context():
        employee = db.session.get(User, employee_id)
        sections = {s.table: s for s in personal_data(employee)}
        own_assignments = db.session.scalars(select(Assignment.id).where(Assignment.user_id == employee_id)).all()

    assert [row["id"] for row in sections["user"].rows] == [employee_id]
    assert sorted(row["id"] for row in sections["assignment"].rows) == sorted(own_assignments)
    assert [row["id"] for row in sections["feedback_post"].rows] == [named_id]  # not the anonymous one
    assert [row["post_id"] for row in sections["feedback_vote"].rows] == [other_id]
    for section in sections.values():
        for row in section.rows:
            refs = {row[c] for c in row if c in ("user_id", "author_id")}
            assert manager_id not in refs, (section.table, row)
    # credentials are shown as stored, never their value
    account = sections["user"].rows[0]
    assert account["password_hash"] == HIDDEN_VALUE and account["session_token"] == HIDDEN_VALUE


def test_download_is_json_with_every_table(app, client, people, login, make_course, make_assignment, make_phase):
    _activity(app, people, make_course, make_assignment, make_phase)
    login(client, people["employee"].username)
    response = client.get("/my-data.json")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    document = json.loads(response.data)
    assert document["person"]["username"] == people["employee"].username
    assert len(document["tables"]["assignment"]["rows"]) == 1
    assert "Anonyme Sorge" not in response.get_data(as_text=True)
    assert "Idee der Leitung" not in response.get_data(as_text=True)

    page = client.get("/my-data")
    assert page.status_code == 200
    assert "Benannte Idee" in page.get_data(as_text=True)
    assert "Anonyme Sorge" not in page.get_data(as_text=True)


def test_page_runs_a_fixed_number_of_queries(app, client, people, login, make_course, make_assignment,
                                             count_queries):
    login(client, people["employee"].username)
    make_assignment(people["employee"], make_course("eins"))
    with count_queries() as few:
        assert client.get("/my-data").status_code == 200
    for n in range(5):
        make_assignment(people["employee"], make_course(f"mehr-{n}"))
    with count_queries() as many:
        assert client.get("/my-data").status_code == 200
    assert len(many) == len(few)


def test_the_html_rendered_from_a_text_is_not_listed_again(app, people, make_course, make_assignment, make_phase):
    """A post's text is listed once, as written; its stored HTML rendering is a copy, not another record."""
    from learning.org.models import User

    named_id, _, _ = _activity(app, people, make_course, make_assignment, make_phase)
    with app.test_request_context():
        employee = db.session.get(User, people["employee"].id)
        posts = {s.table: s for s in personal_data(employee)}["feedback_post"]
    assert "body" in posts.columns
    assert not [c for c in posts.columns if c.endswith("_html") or c == "html_version"]
    assert [row["body"] for row in posts.rows if row["id"] == named_id] == ["Text"]


# In plain language --------------------------------------------------------------------------------------------

def test_every_column_of_every_personal_table_has_a_label_and_every_table_a_purpose(app):
    from learning.transparency.plain import COLUMN_LABELS, TABLE_COLUMN_LABELS, TABLE_PURPOSES
    from learning.transparency.services import LINKED

    with app.app_context():
        tables = [table for table, _ in personal_tables()] + [db.metadata.tables[name] for name in LINKED]
        unlabelled = sorted(f"{t.name}.{c.name}" for t in tables for c in t.columns
                            if c.name not in COLUMN_LABELS and (t.name, c.name) not in TABLE_COLUMN_LABELS
                            and not (c.name.endswith("_html") or c.name == "html_version"))  # copies of a text
        without_purpose = sorted(t.name for t in tables if t.name not in TABLE_PURPOSES)
    assert unlabelled == [] and without_purpose == []


def test_the_german_page_speaks_plainly(app, client, people, login, make_course, make_assignment, make_phase):
    """Grouped by purpose with why and how long; labels instead of column names; dates, Ja/Nein, titles."""
    import re

    from learning.transparency.services import personal_tables

    _activity(app, people, make_course, make_assignment, make_phase)
    login(client, people["employee"].username)
    page = client.get("/my-data", headers={"Accept-Language": "de"}).get_data(as_text=True)
    main = page.split('id="main"')[1].split("</main>")[0]
    text = re.sub(r"<[^>]+>", " ", main)
    for heading in ("Ihr Konto", "Schulung", "Feedback"):
        assert f">{heading}</h2>" in main, heading
    assert "Warum:" in text and "Wie lange:" in text and "365 Tage nach der letzten Nutzung gelöscht" in text
    assert "Fällig am" in text and "01.12.2026" in text  # a date, not 2026-12-01
    assert "Benannte Idee" in text and "Anonyme Sorge" not in text
    assert "gespeichert, nicht angezeigt" in text and "********" not in text  # the password
    with app.app_context():
        columns = {c.name for table, _ in personal_tables() for c in table.columns if "_" in c.name}
    shown = sorted(c for c in columns if re.search(rf"\b{c}\b", text))
    assert shown == []  # no user_id, password_hash, completed_at ...
    assert "{" not in text and "True" not in text and "False" not in text and "T00:00" not in text
    assert re.search(r"Kurs\s*</dt>\s*<dd>[^<]*daten-kurs", main, re.I) or "daten-kurs" in text.lower()


def test_the_download_stays_machine_readable(app, client, people, login, make_course, make_assignment, make_phase):
    _activity(app, people, make_course, make_assignment, make_phase)
    login(client, people["employee"].username)
    document = json.loads(client.get("/my-data.json", headers={"Accept-Language": "de"}).data)
    row = document["tables"]["assignment"]["rows"][0]
    assert row["due_on"] == "2026-12-01" and "user_id" in row and row["mandatory"] in (True, False)
    assert document["tables"]["user"]["rows"][0]["password_hash"] == HIDDEN_VALUE
