"""Anonymity that holds: who took part and what was answered cannot be put together again."""

from __future__ import annotations

import json
import logging
import re

import pytest
from sqlalchemy import inspect, select, text

from learning.audit.models import AuditEntry
from learning.db import db
from learning.pagecache import EVERYONE, ChangeCounter
from learning.surveys.models import SurveyNamedResponse, SurveyParticipation, SurveyResponse
from tests.surveys.conftest import TODAY

ANSWER_SIDE = ("survey_response", "survey_answer")
PERSON_TABLES = ("user", "user_role", "team_manager")
TIME_TYPES = ("DATE", "DATETIME", "TIMESTAMP")


def test_no_column_links_responses_to_people(app):
    """The schema itself: the answer side has no user, no time, no counter and no key into participation."""
    with app.app_context():
        inspector = inspect(db.engine)
        for table in ANSWER_SIDE:
            columns = {c["name"]: c for c in inspector.get_columns(table)}
            foreign = inspector.get_foreign_keys(table)
            assert not [fk for fk in foreign if fk["referred_table"] in (*PERSON_TABLES, "survey_participation")], table
            assert not [n for n in columns if re.search(r"user|author|person|actor|by_id|created|updated|_at$|_on$",
                                                        n)], table
            assert not [n for n, c in columns.items() if any(t in str(c["type"]).upper() for t in TIME_TYPES)], table
        response_pk = inspector.get_pk_constraint("survey_response")["constrained_columns"]
        assert response_pk == ["id"]
        assert "INT" not in str({c["name"]: c for c in inspector.get_columns("survey_response")}["id"]["type"]).upper()
        assert sorted(inspector.get_pk_constraint("survey_answer")["constrained_columns"]) == ["question_id",
                                                                                             "response_id"]
        # Participation: no id of its own, nothing pointing at the answers.
        participation = [c["name"] for c in inspector.get_columns("survey_participation")]
        assert sorted(participation) == ["survey_id", "taken_on", "user_id", "wave_id"]
        assert not [fk for fk in inspector.get_foreign_keys("survey_participation")
                    if fk["referred_table"] in ANSWER_SIDE]
        # Only the named-survey table joins the two sides, and it is written for named surveys only.
        linking = [name for name in inspector.get_table_names()
                   if {fk["referred_table"] for fk in inspector.get_foreign_keys(name)} >= {"user", "survey_response"}]
        assert linking == ["survey_named_response"]
        if db.engine.dialect.name == "sqlite":
            # No hidden row numbers that would give the order of arrival.
            for table in (*ANSWER_SIDE, "survey_participation"):
                with pytest.raises(Exception, match="rowid"):
                    db.session.execute(text(f"SELECT rowid FROM {table}"))
                db.session.rollback()


def _snapshot() -> dict[str, set]:
    tables = {}
    for table in db.metadata.sorted_tables:
        tables[table.name] = {tuple(json.dumps(v, sort_keys=True, default=str) if isinstance(v, dict | list) else v
                                    for v in row) for row in db.session.execute(select(table))}
    return tables


@pytest.fixture
def all_logs(caplog):
    loggers = [logging.getLogger(name) for name in list(logging.root.manager.loggerDict)]
    disabled = [lg for lg in loggers if lg.disabled]
    for lg in disabled:
        lg.disabled = False
    caplog.set_level(logging.DEBUG)
    logging.getLogger("sqlalchemy").setLevel(logging.WARNING)
    yield caplog
    for lg in disabled:
        lg.disabled = True


def test_an_anonymous_response_leaves_no_trace_of_its_author(app, client, login, make_user, people, make_survey,
                                                             all_logs, time_machine):
    time_machine.move_to("2026-03-10 10:00 +01:00", tick=False)
    author = make_user("zz-anonym-x7", team=people["team"], first_name="Geheim", last_name="Autorin-X7")
    survey_id = make_survey("pulse", today=TODAY)
    login(client, "zz-anonym-x7")
    with app.app_context():
        before = _snapshot()
        before_counter = db.session.scalar(select(ChangeCounter.value).where(ChangeCounter.scope == EVERYONE)) or 0
    all_logs.clear()
    from tests.surveys.conftest import question_ids

    ids = question_ids(app, survey_id)
    response = client.submit(f"/surveys/{survey_id}/answer", {
        "step": "0", "nav": "submit", f"q{ids[0]}": "4", f"q{ids[1]}": "2", f"q{ids[2]}": "5",
        f"q{ids[3]}": "Mehr Schulungen am Nachmittag."})
    assert response.status_code == 302
    with app.app_context():
        after = _snapshot()
        new = {name: rows - before[name] for name, rows in after.items() if rows - before[name]}
        assert set(new) == {"survey_participation", "survey_response", "survey_answer", "change_counter"}
        assert new["change_counter"] == {(EVERYONE, before_counter + 1)}  # the page cache learns nothing personal
        (participation,) = new["survey_participation"]
        assert author.id in participation  # who took part: for the response rate and reminders
        (response_row,) = new["survey_response"]
        # The response: a random key, the survey, the wave and the unit; nothing else, and not the author.
        columns = [c.name for c in SurveyResponse.__table__.columns]
        values = dict(zip(columns, response_row, strict=True))
        assert re.fullmatch(r"[0-9a-f]{32}", values["id"])
        assert set(values) == {"id", "survey_id", "wave_id", "department_id", "team_id"}
        assert author.id not in {v for k, v in values.items() if k != "survey_id"} or values["team_id"] == author.id
        assert db.session.scalar(select(SurveyNamedResponse.response_id)) is None
        assert db.session.scalar(select(AuditEntry).where(AuditEntry.actor_id == author.id)) is None
    logged = "\n".join(record.getMessage() for record in all_logs.records)
    for trace in (str(author.id), "zz-anonym-x7", "Autorin-X7"):
        assert not re.search(rf"\b{re.escape(trace)}\b", logged), f"{trace!r} logged: {logged}"


def test_response_keys_do_not_follow_the_order_of_arrival(app, org, make_survey, answer):
    """Keys are random, so reading the responses in stored order says nothing about who came when."""
    survey_id = make_survey("pulse", min_responses=5)
    arrival = []
    seen: set[str] = set()
    for user in org["members"]["A1"] + org["members"]["A2"]:
        answer(user, survey_id, {0: 3, 1: 3, 2: 3})
        with app.app_context():
            keys = set(db.session.scalars(select(SurveyResponse.id).where(SurveyResponse.survey_id == survey_id)))
        (new,) = keys - seen
        arrival.append(new)
        seen = keys
    with app.app_context():
        stored = list(db.session.scalars(select(SurveyResponse.id).where(SurveyResponse.survey_id == survey_id)))
        participants = list(db.session.scalars(select(SurveyParticipation.user_id)
                                               .where(SurveyParticipation.survey_id == survey_id)))
        dialect = db.engine.dialect.name
    assert len(stored) == len(participants) == 13
    assert all(re.fullmatch(r"[0-9a-f]{32}", key) for key in arrival)
    # 13 random keys come in arrival order with a chance of 1 in 13! (about 1.6e-10).
    assert arrival != sorted(arrival)
    if dialect == "sqlite":  # WITHOUT ROWID: stored and read in key order, not in arrival order
        assert stored == sorted(stored)


def test_a_named_survey_says_so_and_stores_the_name(app, client, login, people, make_survey, answer, time_machine):
    time_machine.move_to("2026-03-10 10:00 +01:00", tick=False)
    survey_id = make_survey("pulse", anonymous=False)
    login(client, "employee")
    page = client.get(f"/surveys/{survey_id}").get_data(as_text=True)
    assert "not anonymous: your answers are stored with your name" in page
    answer(people["employee"], survey_id, {0: 4, 1: 4, 2: 4})
    with app.app_context():
        named = db.session.scalars(select(SurveyNamedResponse)).all()
        assert [n.user_id for n in named] == [people["employee"].id]
    reader = app.test_client()
    login(reader, "projectgroup")
    page = reader.get(f"/surveys/{survey_id}/named").get_data(as_text=True)
    assert people["employee"].full_name in page and "4 – Mostly true" in page
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "survey.named_viewed"))
        assert entry.actor_id == people["project_group"].id and entry.details["people"] == 1


def test_an_anonymous_survey_has_no_page_of_names(app, client, login, people, make_survey, answer):
    survey_id = make_survey("pulse")
    answer(people["employee"], survey_id, {0: 4, 1: 4, 2: 4})
    login(client, "projectgroup")
    assert client.get(f"/surveys/{survey_id}/named").status_code == 404


def test_an_anonymous_survey_says_so_before_the_first_question(client, login, make_survey, time_machine):
    time_machine.move_to("2026-03-10 10:00 +01:00", tick=False)
    survey_id = make_survey("pulse")
    login(client, "employee")
    page = client.get(f"/surveys/{survey_id}").get_data(as_text=True)
    assert "This survey is anonymous" in page and "Start the survey" in page
    step = client.get(f"/surveys/{survey_id}/answer").get_data(as_text=True)
    assert "Anonymous survey: your answers are stored without your name" in step
