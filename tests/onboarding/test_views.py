"""Onboarding pages: what each person sees, ticking and buddies through the forms, bad input, fixed query counts."""

from __future__ import annotations

import re
from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from learning.db import db
from learning.onboarding.models import Journey, JourneyTask, JourneyTemplate
from learning.org.models import User
from tests.onboarding.conftest import journey_of

SOON = date.today() + timedelta(days=7)


@pytest.fixture
def journey(app, people, make_template, new_hire, make_user):
    make_template("Standard")
    user = new_hire(SOON, username="neu")
    buddy = make_user("pate", team=people["team"], first_name="Paula", last_name="Pate")
    with app.app_context():
        journey = journey_of(user)
        tasks = {t.title: t.id for t in journey.tasks}
        return SimpleNamespace(id=journey.id, new_hire=user, buddy=buddy, tasks=tasks)


def _text(response) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def test_the_new_hire_sees_my_first_weeks(client, login, journey):
    login(client, "neu")
    page = _text(client.get("/onboarding/my-journey"))
    assert "My first weeks" in page and "Your first working day is" in page
    for stage in ("Before day one", "First day", "First month"):
        assert f">{stage}</h2>" in page
    assert "Arbeitsplatz und Zugänge bereitstellen" in page  # what others do for them, too
    assert "Who: you" in page and "Who: IT and administration" in page
    assert "Manager" in page and "manager@example.org" in page  # contacts
    assert "not chosen yet" in page  # no buddy yet
    assert "<strong>An der Lernplattform anmelden</strong>" in page  # Markdown description, rendered
    buttons = re.findall(r'action="/onboarding/tasks/(\d+)/done"', page)
    assert {int(b) for b in buttons} == {journey.tasks["An der Lernplattform anmelden"],
                                         journey.tasks["Dienstvereinbarungen lesen"]}  # only their own
    home = _text(client.get("/"))
    assert "My first weeks" in home and "Open my first weeks" in home
    assert ">Onboarding</a>" in home  # the navigation item


def test_the_new_hire_ticks_a_task_and_comes_back_to_it(app, client, login, journey):
    login(client, "neu")
    task_id = journey.tasks["An der Lernplattform anmelden"]
    response = client.submit(f"/onboarding/tasks/{task_id}/done", {"next": "/onboarding/my-journey"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/onboarding/my-journey#task-{task_id}")
    with app.app_context():
        assert db.session.get(JourneyTask, task_id).done_at is not None
    page = _text(client.get("/onboarding/my-journey"))
    assert "is done. Thank you!" in page and "Open again" in page
    client.submit(f"/onboarding/tasks/{task_id}/reopen", {"next": "https://evil.example/"})
    with app.app_context():
        assert db.session.get(JourneyTask, task_id).done_at is None


def test_ticking_someone_elses_task_is_refused_and_changes_nothing(app, client, login, journey, people):
    login(client, "neu")
    buddy_task = journey.tasks["Gemeinsam zu Mittag essen"]
    response = client.submit(f"/onboarding/tasks/{buddy_task}/done", {"next": "/onboarding/my-journey"},
                             follow_redirects=True)
    assert response.status_code == 200
    assert "Only the person responsible for this task or a manager" in _text(response)
    outsider = app.test_client()
    login(outsider, "employee")  # not taking part at all
    assert outsider.submit(f"/onboarding/tasks/{buddy_task}/done").status_code == 404
    assert outsider.get(f"/onboarding/journeys/{journey.id}").status_code == 404
    assert outsider.submit("/onboarding/tasks/999999/done").status_code == 404
    with app.app_context():
        assert db.session.get(JourneyTask, buddy_task).done_at is None
    # Without a CSRF token nothing happens either.
    assert client.post(f"/onboarding/tasks/{journey.tasks['An der Lernplattform anmelden']}/done").status_code in {
        302, 400}
    with app.app_context():
        assert db.session.get(JourneyTask, journey.tasks["An der Lernplattform anmelden"]).done_at is None


def test_the_manager_sees_the_whole_journey_and_chooses_the_buddy(app, client, login, journey, people):
    login(client, "manager")
    index = _text(client.get("/onboarding/"))
    assert "New colleagues in my teams" in index and "Missing" in index
    page = _text(client.get(f"/onboarding/journeys/{journey.id}"))
    assert "Onboarding of Neue Kollegin" in page and "has no buddy yet" in page
    assert "Dienstvereinbarungen lesen" in page and "Gemeinsam zu Mittag essen" in page
    # the buddy picker offers the same team without a search (name and unit, never an address)
    assert re.search(r'type="radio" id="buddy_id-\d+" name="buddy_id" value="\d+"> <label[^>]*>Paula Pate', page)
    response = client.submit(f"/onboarding/journeys/{journey.id}/buddy", {"buddy_id": str(journey.buddy.id)})
    assert response.status_code == 302 and response.headers["Location"].endswith("#buddy")
    with app.app_context():
        assert db.session.get(Journey, journey.id).buddy_id == journey.buddy.id
    assert "is now the buddy of" in _text(client.get(f"/onboarding/journeys/{journey.id}"))
    # the buddy now has a task on their list, and sees only theirs
    buddy = app.test_client()
    login(buddy, "pate")
    tasks = _text(buddy.get("/onboarding/tasks"))
    assert "Gemeinsam zu Mittag essen" in tasks and "Willkommensmail senden" not in tasks
    journey_page = _text(buddy.get(f"/onboarding/journeys/{journey.id}"))
    assert "Gemeinsam zu Mittag essen" in journey_page and "Dienstvereinbarungen lesen" not in journey_page
    assert 'name="buddy_id"' not in journey_page


@pytest.mark.parametrize("value", ["", "abc", "999999", "self"])
def test_a_bad_buddy_is_refused_on_the_form(app, client, login, journey, value):
    login(client, "manager")
    value = str(journey.new_hire.id) if value == "self" else value
    with app.app_context():
        db.session.get(Journey, journey.id).buddy_id = journey.buddy.id
        db.session.commit()
    if value == "":  # "no buddy" is a valid choice: it removes the buddy
        client.submit(f"/onboarding/journeys/{journey.id}/buddy", {"buddy_id": ""})
        with app.app_context():
            assert db.session.get(Journey, journey.id).buddy_id is None
        return
    response = client.submit(f"/onboarding/journeys/{journey.id}/buddy", {"buddy_id": value})
    assert response.status_code == 200
    page = _text(response)
    assert 'aria-invalid="true"' in page and "Please check your entries" in page
    with app.app_context():
        assert db.session.get(Journey, journey.id).buddy_id == journey.buddy.id


def test_others_cannot_choose_the_buddy(app, client, login, journey):
    login(client, "neu")
    response = client.submit(f"/onboarding/journeys/{journey.id}/buddy", {"buddy_id": str(journey.buddy.id)},
                             follow_redirects=True)
    assert "Only a manager of the new hire can choose the buddy." in _text(response)
    with app.app_context():
        assert db.session.get(Journey, journey.id).buddy_id is None


def test_people_without_a_journey_see_an_explanation(client, login, journey):
    login(client, "employee")
    assert "Nothing here concerns you" in _text(client.get("/onboarding/"))
    assert "You have no onboarding journey" in _text(client.get("/onboarding/my-journey"))
    assert "You have no open onboarding tasks" in _text(client.get("/onboarding/tasks"))
    assert ">Onboarding</a>" not in _text(client.get("/"))  # not in the navigation
    assert "My onboarding tasks" not in _text(client.get("/"))  # no home card


def test_task_owners_get_a_home_card(client, login, journey):
    login(client, "manager")
    home = _text(client.get("/"))
    assert "My onboarding tasks" in home and "1 new colleague without a buddy" in home


def test_german_pages(client, login, journey):
    login(client, "neu")
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "de"
    page = client.get("/onboarding/my-journey").get_data(as_text=True)
    assert '<html lang="de">' in page
    assert 'lang="de"' not in page.split("<body", 1)[1]  # German content on a German page needs no marking
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    page = client.get("/onboarding/my-journey").get_data(as_text=True)
    assert '<p class="kern-body kern-body--bold onboarding-task__title" lang="de">' in page


# Templates ----------------------------------------------------------------------------------------------


def _offset(days: str, direction: str = "after") -> dict:
    """The due-day component as a browser sends it: "[days] days [after|before] the first working day"."""
    return {"offset_days-days": days, "offset_days-direction": direction, "offset_days-anchor": "start"}


def test_the_project_group_edits_a_template_and_applies_the_new_version(app, client, login, journey):
    login(client, "projectgroup")
    with app.app_context():
        template_id = db.session.scalar(select(JourneyTemplate.id))
    listing = _text(client.get("/onboarding/templates"))
    assert "Standard" in listing
    response = client.submit(f"/onboarding/templates/{template_id}/tasks/new", {
        "title": "Schlüssel ausgeben", "owner_role": "it", **_offset("1", "before"), "course_id": "",
        "description": "Beim **Hausmeister**."})
    assert response.status_code == 302
    page = _text(client.get(f"/onboarding/templates/{template_id}"))
    assert "Schlüssel ausgeben" in page and "1 day before the start date" in page
    assert "Running journeys use an older version" in page
    preview = _text(client.get(f"/onboarding/templates/{template_id}/apply"))
    assert "Tasks added</dt><dd>1" in preview.replace(" </dt>", "</dt>").replace("<dd> ", "<dd>")
    client.submit(f"/onboarding/templates/{template_id}/apply")
    with app.app_context():
        j = db.session.get(Journey, journey.id)
        assert j.template_version == 2
        assert "Schlüssel ausgeben" in {t.title for t in j.tasks}


@pytest.mark.parametrize(("data", "message"), [
    ({"title": "", "owner_role": "it", **_offset("0")}, "Please enter a title."),
    ({"title": "X", "owner_role": "", **_offset("0")}, "Please choose who does this task."),
    ({"title": "X", "owner_role": "chef", **_offset("0")}, "Not a valid choice"),
    ({"title": "X", "owner_role": "it", **_offset("91", "before")}, "Enter at most 90 days before or 365 days after."),
    ({"title": "X", "owner_role": "it", **_offset("400")}, "Enter a whole number of days from 0 to 365."),
    ({"title": "X", "owner_role": "it", **_offset("fünf")}, "Enter a whole number of days from 0 to 365."),
    ({"title": "X", "owner_role": "it", **_offset("-5")}, "Enter a whole number of days from 0 to 365."),
    ({"title": "X", "owner_role": "it", **_offset("")}, "Please enter on which day the task is due."),
    ({"title": "X", "owner_role": "it", **_offset("2"), "course_id": "12345"}, "Not a valid choice"),
])
def test_bad_task_input_shows_a_message_and_changes_nothing(app, client, login, journey, data, message):
    login(client, "admin")
    with app.app_context():
        template_id = db.session.scalar(select(JourneyTemplate.id))
    response = client.submit(f"/onboarding/templates/{template_id}/tasks/new", {"course_id": "", **data})
    assert response.status_code == 200
    page = _text(response)
    assert message in page and "Please check your entries" in page
    with app.app_context():
        assert db.session.get(JourneyTemplate, template_id).version == 1


def test_a_course_for_someone_elses_task_is_explained_on_the_form(app, client, login, journey, make_course):
    course = make_course("kurs")
    login(client, "admin")
    with app.app_context():
        template_id = db.session.scalar(select(JourneyTemplate.id))
    response = client.submit(f"/onboarding/templates/{template_id}/tasks/new", {
        "title": "Kurs", "owner_role": "manager", **_offset("3"), "course_id": str(course.id)})
    assert response.status_code == 200 and "Only a task of the new hire" in _text(response)


def test_template_settings_and_a_second_default_are_refused(app, client, login, journey):
    login(client, "admin")
    response = client.submit("/onboarding/templates/new", {"name": "Noch ein Standard", "department_id": "",
                                                          "it_contact_id": "", "copy_from": ""})
    assert response.status_code == 200 and "There is already a default template" in _text(response)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(JourneyTemplate)) == 1


def test_employees_and_managers_cannot_open_templates(client, login, journey):
    for username in ("neu", "manager"):
        login(client, username)
        assert client.get("/onboarding/templates").status_code == 403
        assert client.get("/onboarding/overview").status_code == 403


# The start date on the admin form ---------------------------------------------------------------------------


def test_a_start_date_in_the_past_is_saved_with_a_warning(app, client, login, people, make_template):
    make_template()
    login(client, "admin")
    past = date.today() - timedelta(days=10)
    response = client.submit("/admin/people/new", {
        "first_name": "Vera", "last_name": "Vergangen", "email": "vera@example.org", "username": "",
        "employee_number": "", "start_date": past.isoformat(), "team_id": str(people["team"].id), "locale": "",
        "roles": "employee"}, follow_redirects=True)
    page = _text(response)
    assert "lies in the past" in page and "show as overdue" in page
    assert "Open the onboarding journey" in page  # the journey started; linked from the person's page
    with app.app_context():
        vera = db.session.scalar(select(User).where(User.email == "vera@example.org"))
        assert vera.start_date == past and journey_of(vera) is not None
    # Saving again without changing the date does not warn again.
    again = client.submit(f"/admin/people/{vera.id}", {
        "first_name": "Vera", "last_name": "Vergangen", "email": "vera@example.org", "username": "vera",
        "employee_number": "", "start_date": past.isoformat(), "team_id": str(people["team"].id), "locale": "",
        "roles": "employee"}, follow_redirects=True)
    assert "lies in the past" not in _text(again)
    future = client.submit(f"/admin/people/{vera.id}", {
        "first_name": "Vera", "last_name": "Vergangen", "email": "vera@example.org", "username": "vera",
        "employee_number": "", "start_date": (date.today() + timedelta(days=3)).isoformat(),
        "team_id": str(people["team"].id), "locale": "", "roles": "employee"}, follow_redirects=True)
    assert "lies in the past" not in _text(future)


# Query counts ---------------------------------------------------------------------------------------------


def _count(client, count_queries, url: str) -> int:
    with count_queries() as statements:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(statements)


def _more_new_hires(app, new_hire, make_user, people, n: int, offset: int):
    from learning.onboarding.tasks import set_buddy

    for i in range(n):
        user = new_hire(SOON + timedelta(days=offset + i))
        with app.test_request_context():
            journey = journey_of(user)
            set_buddy(db.session.get(User, people["manager"].id), journey.id, people["employee"].id)
            for task in journey.tasks[: i % 4]:
                task.done_at = db.func.now()
            db.session.commit()


@pytest.mark.parametrize("username", ["manager", "admin", "employee", "projectgroup"])
def test_list_pages_run_a_fixed_number_of_queries(app, client, login, journey, new_hire, make_user, people,
                                                  count_queries, username):
    app.config["PAGE_CACHE_SECONDS"] = 0  # the rendering is counted here, not the page cache (tests/test_pagecache.py)
    _more_new_hires(app, new_hire, make_user, people, 2, 10)
    login(client, username)
    urls = ["/", "/onboarding/", "/onboarding/tasks", "/onboarding/tasks?show=all", "/onboarding/my-journey",
            f"/onboarding/journeys/{journey.id}"]
    if username in ("admin", "projectgroup"):
        urls += ["/onboarding/overview", "/onboarding/templates"]
    if username == "projectgroup":
        urls.remove(f"/onboarding/journeys/{journey.id}")  # takes no part
    if username == "employee":
        urls.remove(f"/onboarding/journeys/{journey.id}")
    for url in urls:
        client.get(url)  # warm up
    few = [_count(client, count_queries, url) for url in urls]
    _more_new_hires(app, new_hire, make_user, people, 8, 40)
    many = [_count(client, count_queries, url) for url in urls]
    assert few == many, list(zip(urls, few, many, strict=True))
    # The admin's start page is the largest: the Als Nächstes list (6) above the cards (issue 18).
    assert max(many) <= 30


def test_journey_and_my_journey_pages_run_a_fixed_number_of_queries(app, client, login, journey, make_course,
                                                                    count_queries):
    def add_tasks(numbers):
        with app.app_context():
            j = db.session.get(Journey, journey.id)
            for n in numbers:
                course = make_course(f"kurs-{n}", lessons=1, quiz=False)
                j.tasks.append(JourneyTask(
                    title=f"Aufgabe {n}", owner_role=["new_hire", "manager", "buddy", "it"][n % 4],
                    offset_days=n * 5 - 20, due_on=j.start_date + timedelta(days=n * 5 - 20), description=f"Text {n}",
                    course_id=course.id if n % 4 == 0 else None))
            db.session.commit()

    add_tasks([0])  # one task linked to a course
    login(client, "neu")
    urls = ["/onboarding/my-journey", f"/onboarding/journeys/{journey.id}"]
    for url in urls:
        client.get(url)
    few = [_count(client, count_queries, url) for url in urls]
    add_tasks(range(1, 21))
    many = [_count(client, count_queries, url) for url in urls]
    assert few == many


def test_the_buddy_picker_finds_candidates_only_for_the_new_hires_manager(app, client, login, journey, make_user):
    make_user("fremd", first_name="Paul", last_name="Pateneu")  # no team: not in the department
    url = f"/onboarding/journeys/{journey.id}/buddy-candidates"
    login(client, "manager")
    found = client.get(url, query_string={"q": "Pat"}).get_json()["people"]
    assert [p["name"] for p in found] == ["Paula Pate"] and set(found[0]) == {"id", "name", "unit"}
    # without JavaScript: the search button shows the matches on the journey page, nothing is saved
    response = client.submit(f"/onboarding/journeys/{journey.id}/buddy",
                             {"buddy_id": "", "buddy_id-q": "Pate", "buddy_id-search": "1"})
    assert response.status_code == 200 and "1 person found: tick to choose." in _text(response)
    with app.app_context():
        assert db.session.get(Journey, journey.id).buddy_id is None
    other = app.test_client()
    login(other, "neu")
    assert other.get(url, query_string={"q": "Pat"}).get_json()["people"] == []
