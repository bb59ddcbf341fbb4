"""The per-person page cache of the home page: reused while nothing shown changed, never stale."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, text, update

from learning.announcements.models import Announcement, AnnouncementVersion
from learning.db import db, utcnow
from learning.org.models import User, UserRole
from learning.pagecache import EVERYONE, ChangeCounter, PageCache, person_scope
from learning.roles import Role
from tests.conftest import CSRF_RE, PASSWORD


def _home(client, count_queries) -> tuple[str, int]:
    with count_queries() as statements:
        page = client.get("/").get_data(as_text=True)
    return page, len(statements)


def _counters(app) -> dict[str, int]:
    with app.app_context():
        return dict(db.session.execute(select(ChangeCounter.scope, ChangeCounter.value)).all())


@pytest.fixture
def employee_home(client, login, people, make_course, make_assignment, count_queries):
    """The employee signed in with one open course; the home page seen once (so it is kept)."""
    course = make_course(lessons=1, quiz=False, title="Kurs Datenschutz")
    make_assignment(people["employee"], course)
    login(client, "employee")
    first, rendered = _home(client, count_queries)
    assert "You have 1 open course." in first
    return course, rendered


def test_an_employees_home_is_served_again_after_one_lookup(client, count_queries, employee_home):
    _course, rendered = employee_home
    page, cached = _home(client, count_queries)
    assert "You have 1 open course." in page
    assert cached == 1 < rendered  # the person with their counters
    assert _home(client, count_queries)[1] == cached


def test_the_persons_own_progress_shows_at_once(app, client, count_queries, employee_home):
    course, _ = employee_home
    assert client.submit(f"/learning/courses/{course.slug}/lessons/{course.lessons[0].slug}/done").status_code == 302
    page, _ = _home(client, count_queries)
    assert "You have no open courses. Well done!" in page


def test_a_change_for_everyone_shows_at_once(app, client, count_queries, employee_home):
    with app.app_context():
        title = "Neue E-Akte ab Montag"
        published = utcnow() - timedelta(hours=1)
        announcement = Announcement(title=title, body="Text.", audience="everyone", audience_values=[],
                                    publish_at=published)
        announcement.versions.append(AnnouncementVersion(version=1, title=title, body="Text.", substantive=True,
                                                         changed_at=published))
        db.session.add(announcement)
        db.session.commit()
    page, _ = _home(client, count_queries)
    assert "Neue E-Akte ab Montag" in page


def test_another_persons_progress_keeps_the_page(app, client, count_queries, employee_home, people, make_user,
                                                 make_course, make_assignment):
    _course, rendered = employee_home
    other_course = make_course("other")
    assert _home(client, count_queries)[1] == rendered  # a new course is news for everyone
    cached = _home(client, count_queries)[1]
    before = _counters(app)
    colleague = make_user("colleague", team=people["team"])  # a new person is news for everyone
    after_new_person = _counters(app)
    assert after_new_person[EVERYONE] == before[EVERYONE] + 1
    assert _home(client, count_queries)[1] == rendered  # rendered afresh ...
    assert _home(client, count_queries)[1] == cached  # ... and kept again
    make_assignment(colleague, other_course)  # the colleague's own assignment is theirs alone
    counters = _counters(app)
    assert counters[person_scope(colleague.id)] >= 1
    assert _home(client, count_queries)[1] == cached


def test_a_rolled_back_change_bumps_nothing(app, employee_home):
    before = _counters(app)
    with app.app_context():
        db.session.scalars(select(User)).first().first_name = "Geändert"
        db.session.flush()
        db.session.rollback()
        db.session.commit()
    assert _counters(app) == before


def test_a_savepoint_rolled_back_keeps_the_outer_changes_noted(app, employee_home):
    before = _counters(app)
    with app.app_context():
        db.session.scalars(select(User)).first().first_name = "Geändert"
        db.session.flush()
        savepoint = db.session.begin_nested()
        savepoint.rollback()
        db.session.commit()
    assert _counters(app)[EVERYONE] == before[EVERYONE] + 1


def test_other_sessions_and_languages_have_their_own_page(app, client, count_queries, employee_home, login):
    german = app.test_client()
    login(german, "employee")
    page = german.get("/", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert 'lang="de"' in page and "Hello," not in page
    for session_client in (client, german):  # each page's forms carry a token valid in its own session
        cached = session_client.get("/").get_data(as_text=True)
        token = CSRF_RE.search(cached)
        response = session_client.post("/language", data={"csrf_token": token.group(1) or token.group(2),
                                                           "language": "en", "next": "/"})
        assert response.status_code == 302


def test_managers_home_is_always_rendered_afresh(app, client, login, people, count_queries):
    login(client, "manager")
    first = _home(client, count_queries)[1]
    assert _home(client, count_queries)[1] == first


def test_a_page_with_a_message_is_not_kept(app, client, count_queries, employee_home):
    response = client.submit("/language", {"language": "en", "next": "/"})
    assert response.status_code == 302
    with client.session_transaction() as session:
        session["_flashes"] = [("success", "Gespeichert.")]
    assert "Gespeichert." in client.get("/").get_data(as_text=True)
    assert "Gespeichert." not in client.get("/").get_data(as_text=True)


def test_switched_off_the_page_is_rendered_every_time(app, client, count_queries, employee_home):
    _course, rendered = employee_home
    app.config["PAGE_CACHE_SECONDS"] = 0
    statements = _home(client, count_queries)[1]
    assert statements == _home(client, count_queries)[1] == rendered  # the person is loaded every time


def test_the_cache_forgets_expired_and_least_recently_used_pages(monkeypatch):
    from learning import pagecache

    clock = [100.0]
    monkeypatch.setattr(pagecache, "monotonic", lambda: clock[0])
    cache = PageCache(entries=2, seconds=60)
    cache.put(("a",), "A")
    cache.put(("b",), "B")
    assert cache.get(("a",)) == "A"
    cache.put(("c",), "C")  # "b" was used least recently
    assert (cache.get(("a",)), cache.get(("b",)), cache.get(("c",))) == ("A", None, "C")
    clock[0] += 61
    assert cache.get(("a",)) is None and cache.get(("c",)) is None


# Whatever changes the signed-in person counts at once, though their page is kept --------------------------

@pytest.fixture
def kept_employee(client, count_queries, employee_home):
    """The employee's home served once more, from the kept page."""
    assert _home(client, count_queries)[1] == 1
    return client


def test_deactivation_signs_a_kept_person_out_at_once(app, kept_employee, login, people):
    admin = app.test_client()
    login(admin, "admin")
    assert admin.submit(f"/admin/people/{people['employee'].id}/active", {"active": "0"}).status_code == 302
    assert kept_employee.get("/").status_code == 302


def test_a_password_change_elsewhere_signs_a_kept_person_out_at_once(app, kept_employee, login):
    other_device = app.test_client()
    login(other_device, "employee")
    assert other_device.submit("/account/password", {"current": PASSWORD, "password": "a-new-password-42",
                                                     "confirm": "a-new-password-42"}).status_code == 302
    assert kept_employee.get("/").status_code == 302


@pytest.mark.parametrize("change", ["orm", "bulk", "sql"])
def test_a_new_role_counts_at_once_however_it_is_written(app, kept_employee, people, change):
    assert kept_employee.get("/admin/").status_code == 403
    employee_id = people["employee"].id
    with app.app_context():
        if change == "orm":
            user = db.session.get(User, employee_id)
            user.roles = {*user.roles, Role.ADMIN}
        elif change == "bulk":  # a statement through the session, e.g. an import
            db.session.execute(update(UserRole).where(UserRole.user_id == employee_id).values(role="admin"))
        else:  # plain SQL through the session
            db.session.execute(text("UPDATE user_role SET role = 'admin' WHERE user_id = :id"), {"id": employee_id})
        db.session.commit()
    assert kept_employee.get("/admin/").status_code == 200


def test_the_signed_in_person_is_a_full_instance_of_the_session(app, kept_employee, people):
    """The person is read outside the session's transaction and joins the session as if a query had loaded them."""
    assert 'lang="en"' in kept_employee.get("/").get_data(as_text=True)
    # the language view changes current_user: the change is saved
    assert kept_employee.submit("/language", {"language": "de", "next": "/"}).status_code == 302
    with app.app_context():
        assert db.session.get(User, people["employee"].id).locale == "de"
    assert 'lang="de"' in kept_employee.get("/").get_data(as_text=True)
    assert kept_employee.get("/learning/").status_code == 200  # views reach the person's team and roles



def test_plain_sql_through_the_session_is_news_for_everyone(app, client, count_queries, kept_employee):
    assert "Kurs Datenschutz" in client.get("/").get_data(as_text=True)
    with app.app_context():
        db.session.execute(text("UPDATE course SET title = 'Kurs E-Akte' WHERE title = 'Kurs Datenschutz'"))
        db.session.execute(text("SELECT 1"))  # a plain read changes nothing
        db.session.commit()
    assert "Kurs E-Akte" in client.get("/").get_data(as_text=True)


def test_counters_are_read_for_a_person_signed_in_without_load_user(app, employee_home, people):
    from learning.pagecache import Counters
    from learning.pagecache import _counters as read

    stored = _counters(app)
    employee_id = people["employee"].id
    with app.test_request_context():
        assert read(employee_id) == Counters(stored[EVERYONE], stored.get(person_scope(employee_id), 0))
        assert read(employee_id).everyone > 0


def test_two_kept_views_of_the_same_name_keep_their_own_pages(make_app, people, login):
    from flask import Blueprint

    from learning.pagecache import per_person_page
    from learning.security import AUTHENTICATED, allow

    app = make_app()
    for name in ("first_kept", "second_kept"):
        blueprint = Blueprint(name, __name__, url_prefix=f"/{name}")

        @blueprint.route("/", defaults={"number": 0})
        @blueprint.route("/<int:number>")
        @allow(AUTHENTICATED)
        @per_person_page()
        def index(number, name=name):  # the same function name in both blueprints
            return f"page of {name} {number}"

        app.register_blueprint(blueprint)
    client = app.test_client()
    login(client, "employee")
    pages = [client.get(url).get_data(as_text=True)
             for url in ("/first_kept/", "/second_kept/", "/second_kept/7", "/first_kept/", "/second_kept/")]
    assert pages == ["page of first_kept 0", "page of second_kept 0", "page of second_kept 7",
                     "page of first_kept 0", "page of second_kept 0"]
    assert len(app.extensions["page_cache"]._pages) == 3


# Models of branches that rewrite them at the same time (issue 15); they count as Shown.EVERYONE, as
# before, and get their declaration at the merge (the lead empties this).


def test_every_table_says_where_its_rows_show(app):
    """A new table must choose: a forgotten PERSON costs only kept pages, a wrong one would show stale pages."""
    from learning.pagecache import Shown, shown

    models = {mapper.local_table.name: mapper.class_ for mapper in db.Model.registry.mappers}
    undeclared = []
    for table in db.metadata.sorted_tables:
        model = models.get(table.name)
        if model is None:
            declared = "page_cache" in table.info
        else:
            declared = "__page_cache__" in vars(model)
        if not declared:
            undeclared.append(table.name)
    assert undeclared == []
    person = {t.name for t in db.metadata.sorted_tables if shown(t) == Shown.PERSON}
    assert person == {"assignment", "lesson_completion", "quiz_attempt", "course_completion",
                      "announcement_acknowledgement", "announcement_feed_token", "feedback_subscription",
                      "notification", "notification_preference", "event_booking", "earlier_completion",
                      "event_certificate"}
    assert all("user_id" in db.metadata.tables[name].c for name in person)  # the person whose counter moves
    nowhere = {t.name for t in db.metadata.sorted_tables if shown(t) == Shown.NOWHERE}
    assert nowhere == {"change_counter", "outbox", "captured_mail", "audit_log", "job_run", "scheduler_lease",
                       "device_session", "course_draft", "course_editor", "course_version", "draft_review",
                       "directory_sync_state", "event_mail", "event_approval_deputy"}
