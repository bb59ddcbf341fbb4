"""The anonymity guarantee: after an anonymous post, no table, no log line and no page names its author."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from learning.db import db
from learning.feedback.models import FeedbackPost

AUTHOR_ID = 987_653
USERNAME = "zz-anonym-autorin-x7q"
EMAIL = "verborgen.x7q@anonym.example"
LAST_NAME = "Geheimnisvoll-X7q"
# Columns that say who did something; an id there may never be the anonymous author's.
AUTHOR_LIKE = ("author_id", "user_id", "actor_id", "changed_by_id", "created_by_id", "owner_id", "target_id")


def _snapshot(app) -> dict[str, dict[tuple, dict]]:
    """Every row of every table, keyed by table name and primary key."""
    rows: dict[str, dict[tuple, dict]] = {}
    with app.app_context():
        with db.engine.connect() as connection:
            for table in db.metadata.sorted_tables:
                key = [c.name for c in table.primary_key.columns] or [c.name for c in table.columns]
                rows[table.name] = {
                    tuple(row[k] for k in key): dict(row)
                    for row in connection.execute(select(table)).mappings()
                }
    return rows


def _new_or_changed(before, after) -> list[tuple[str, dict]]:
    return [(name, row) for name, table in after.items() for key, row in table.items()
            if before.get(name, {}).get(key) != row]


@pytest.fixture
def all_logs(caplog):
    """Capture every log record of the application and its libraries at DEBUG.

    The Alembic env's ``fileConfig`` disables every logger that existed when the test schema was
    migrated (``disable_existing_loggers``); they are switched back on here so that nothing escapes.
    SQLAlchemy's statement echo stays off: at DEBUG it prints every row it loads, including the
    signed-in person's own user row for the session; it is a database trace, off in production.
    """
    loggers = [logging.getLogger(name) for name in list(logging.root.manager.loggerDict)]
    disabled = [lg for lg in loggers if lg.disabled]
    for lg in disabled:
        lg.disabled = False
    sqlalchemy_logger = logging.getLogger("sqlalchemy")
    sqlalchemy_level = sqlalchemy_logger.level
    caplog.set_level(logging.DEBUG)
    sqlalchemy_logger.setLevel(logging.WARNING)  # not caplog.set_level: that would raise the handler's level too
    yield caplog
    sqlalchemy_logger.setLevel(sqlalchemy_level)
    for lg in disabled:
        lg.disabled = True


@pytest.fixture
def author(make_user, people):
    return make_user(USERNAME, email=EMAIL, id=AUTHOR_ID, first_name="Anonyma", last_name=LAST_NAME,
                     team=people["team"])


def test_an_anonymous_post_leaves_no_trace_of_its_author(app, client, people, login, author, channel, make_post,
                                                         all_logs):
    login(client, USERNAME)
    other = make_post(channel, people["manager"], title="Ein anderer Beitrag")
    client.get(f"/feedback/{channel.slug}")  # the person browses first; that is not the post
    before = _snapshot(app)

    all_logs.clear()
    response = client.submit(f"/feedback/{channel.slug}/new", {
        "kind": "concern", "title": "Sorge um die Vertretung beim Scannen",
        "body": "Wenn die Kollegin krank ist, bleibt die Post liegen.", "anonymous": "y",
    })
    assert response.status_code == 302
    # Back to the channel, not to the new post: a request for its page right after posting would
    # tie the post to this browser in an access log.
    assert response.headers["Location"].endswith(f"/feedback/{channel.slug}")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "published anonymously" in page
    log_records = list(all_logs.records)
    # What the anonymous author may still do, like anyone, with their name: vote for another post.
    client.submit(f"/feedback/{channel.slug}/{other.id}/vote")
    after_post = _snapshot(app)

    with app.app_context():
        post = db.session.scalar(select(FeedbackPost).where(FeedbackPost.title.like("Sorge um%")))
        assert post.author_id is None and post.anonymous and post.created_at is None
        post_id = post.id

    # 1. No table: every row of every table written or changed since just before posting is free of
    #    the author (except the named vote for the other post); so is everything about the post.
    changed = _new_or_changed(before, after_post)
    assert any(name == "feedback_post" for name, _row in changed)
    vote_rows = {("feedback_vote", other.id), ("feedback_subscription", other.id)}  # the vote for the other post
    for name, row in changed:
        if (name, row.get("post_id")) in vote_rows:
            continue
        text = repr(row)
        for column in AUTHOR_LIKE:
            assert row.get(column) != AUTHOR_ID, f"{name}.{column} names the author: {row}"
        for secret in (USERNAME, EMAIL, LAST_NAME, str(AUTHOR_ID)):
            assert secret not in text, f"{name} holds {secret!r}: {row}"
    for table in db.metadata.sorted_tables:
        if not table.name.startswith("feedback_"):
            continue
        for row in after_post[table.name].values():
            if row.get("post_id") == post_id or (table.name == "feedback_post" and row["id"] == post_id):
                assert AUTHOR_ID not in row.values(), f"{table.name} names the author: {row}"
                assert not any(s in repr(row) for s in (USERNAME, EMAIL, LAST_NAME))

    # 2. No log line while posting and showing the channel afterwards.
    services_logger = logging.getLogger("learning.feedback.services")
    assert not services_logger.disabled and services_logger.isEnabledFor(logging.DEBUG)  # really listened
    for record in log_records:
        line = record.getMessage() + repr(record.args) + repr(getattr(record, "__dict__", {}))
        for secret in (USERNAME, EMAIL, LAST_NAME, str(AUTHOR_ID)):
            assert secret not in line, f"log line of {record.name} names the author: {line}"

    # 3. No page: neither the post, nor the channel, nor the project group's view of them.
    for viewer in (USERNAME, "projectgroup"):
        viewer_client = app.test_client()
        login(viewer_client, viewer)
        for url in (f"/feedback/{channel.slug}/{post_id}", f"/feedback/{channel.slug}", "/feedback/"):
            text = viewer_client.get(url).get_data(as_text=True)
            assert "Sorge um die Vertretung" in text or url == "/feedback/"
            assert LAST_NAME not in text.replace(f"Signed in as Anonyma {LAST_NAME}", ""), (viewer, url)
            assert "Anonymous" in text or url == "/feedback/"


def test_the_project_groups_work_on_an_anonymous_post_names_nobody(app, client, people, login, author, channel,
                                                                   all_logs):
    login(client, USERNAME)
    client.submit(f"/feedback/{channel.slug}/new", {"kind": "question", "title": "Anonyme Frage", "body": "Text",
                                                     "anonymous": "y"})
    with app.app_context():
        post_id = db.session.scalar(select(FeedbackPost.id))
    all_logs.clear()
    paul = app.test_client()
    login(paul, "projectgroup")
    base = f"/feedback/{channel.slug}/{post_id}"
    paul.submit(f"{base}/comments", {"body": "Unsere Antwort"})
    paul.submit(f"{base}/status", {"status-status": "answered", "status-reply": "Beantwortet"})
    paul.submit(f"{base}/hide", {"hide-reason": "Test"})
    paul.submit(f"{base}/unhide")
    after = _snapshot(app)
    for name, table in after.items():
        for row in table.values():
            if name in ("user", "user_role", "device_session") or (  # the author's own account and sign-in
                    name == "audit_log" and row["action"].startswith("auth")):
                continue
            for column in AUTHOR_LIKE:
                assert row.get(column) != AUTHOR_ID, f"{name}.{column} names the author: {row}"
            assert USERNAME not in repr(row) and EMAIL not in repr(row)
    assert any("hidden" in record.getMessage() for record in all_logs.records)  # the log is really captured
    for record in all_logs.records:
        assert USERNAME not in record.getMessage() and str(AUTHOR_ID) not in record.getMessage()
