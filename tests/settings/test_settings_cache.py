"""The runtime settings are kept per worker under everyone's change counter: no statement while nothing changed,
and a change made in one worker is seen by every other worker with its next request."""

from __future__ import annotations

from learning.roles import Role


def _settings_reads(statements: list[str]) -> int:
    return sum("platform_setting" in statement for statement in statements)


def _header(page: str) -> str:
    return page.split("</header>")[0]


def test_a_page_reads_no_settings_while_nothing_changed(client, people, login, make_user, count_queries):
    login(client, "employee")  # signing in reads them once for the worker
    with count_queries() as statements:
        assert client.get("/account").status_code == 200
        make_user("neu")  # news for everyone's pages, but not a change of the settings
        assert client.get("/notifications/").status_code == 200
        assert client.get("/").status_code == 200
    assert _settings_reads(statements) == 0
    assert statements  # the pages did run their own statements (the counter above counts)


def test_a_change_is_seen_at_once_by_every_worker(make_app, make_user, login, count_queries):
    first, second = make_app(), make_app()  # two workers on the same database, each with its own memory
    make_user("admin", roles={Role.ADMIN})
    make_user("reader")
    admin, reader = first.test_client(), second.test_client()
    login(admin, "admin")
    login(reader, "reader")
    assert "Stadt Musterstadt" not in _header(reader.get("/account").get_data(as_text=True))
    response = admin.submit("/admin/settings/organisation", {
        "organisation__name": "Stadt Musterstadt", "organisation__contact": "",
        "organisation__accessibility_contact": ""})
    assert response.status_code == 302
    assert "Stadt Musterstadt" in _header(reader.get("/account").get_data(as_text=True))
    assert "Stadt Musterstadt" in _header(admin.get(response.location).get_data(as_text=True))


def test_a_request_that_changes_the_settings_reads_its_own_change(app, client, people, login):
    from flask import g

    from learning.db import unit_of_work
    from learning.org.models import User
    from learning.pagecache import Counters, note_counters
    from learning.settings.services import current_settings, save_settings

    with app.test_request_context():
        note_counters(people["admin"].id, Counters(7, 0, 3))
        assert current_settings()["surveys.min_responses"] == 5  # read, and kept
        g.pop("settings")
        with unit_of_work():
            save_settings({"surveys.min_responses": 8}, User(id=people["admin"].id))
        assert current_settings()["surveys.min_responses"] == 8
