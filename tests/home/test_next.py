"""The start page's *What to do next* list: order, the one button, a fixed number of queries."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from learning.db import db
from learning.home import upnext
from learning.home.upnext import NextItem, next_items, next_source
from learning.org.models import User
from learning.plugins import discover


def _user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def test_overdue_mandatory_courses_lead_then_what_is_due_soon(app, ctx, people, make_course, make_assignment):
    today = date.today()
    employee = people["employee"]
    make_assignment(employee, make_course(title="Later"), due_on=today + timedelta(days=60))
    make_assignment(employee, make_course(title="Soon"), due_on=today + timedelta(days=3))
    make_assignment(employee, make_course(title="Late voluntary"), due_on=today - timedelta(days=1), mandatory=False)
    make_assignment(employee, make_course(title="Late"), due_on=today - timedelta(days=5))
    listed = next_items(_user("employee"), today)
    assert [item.title for item in listed.items] == ["Late", "Late voluntary", "Soon", "Later"]
    assert listed.items[0].kind == "Mandatory course" and listed.items[0].action == "Start course"
    assert listed.items[0].url.startswith("/learning/courses/")
    assert listed.more == 0


def test_a_feature_adds_items_through_its_next_module(app, ctx, people):
    discover()
    assert {source.name for source in upnext.SOURCES} >= {"training", "announcements", "surveys", "onboarding"}
    today = date.today()
    saved = list(upnext.SOURCES)
    try:
        @next_source("events", order=60)
        def events(user, today):
            return [NextItem(title=f"Event {n}", kind="Event", url="/", action="Book", due_on=today + timedelta(days=n))
                    for n in (1, 40, 50, 60, 70, 80)]

        listed = next_items(_user("employee"), today)
        assert [item.title for item in listed.items] == ["Event 1", "Event 40", "Event 50", "Event 60", "Event 70"]
        assert listed.more == 1
    finally:
        upnext.SOURCES[:] = saved


def test_the_list_runs_a_fixed_number_of_queries(app, ctx, people, make_course, make_assignment, count_queries):
    today = date.today()
    employee = _user("employee")
    next_items(employee, today)  # warm what a request keeps (whether onboarding concerns the person)
    counts = []
    for courses in (1, 12):
        for _ in range(courses):
            make_assignment(people["employee"], make_course(lessons=1, quiz=False), due_on=today)
        db.session.expire_all()
        with count_queries() as statements:
            next_items(employee, today)
        counts.append(len(statements))
    assert counts[0] == counts[1]


def test_start_page_leads_with_the_list(client, people, login, make_course, make_assignment):
    make_assignment(people["employee"], make_course(title="Datenschutz"), due_on=date.today() - timedelta(days=2))
    login(client, "employee")
    page = client.get("/").get_data(as_text=True)
    assert page.index(">What to do next<") < page.index('id="learning-heading"')
    item = page.split('class="next-list"')[1].split("</li>")[0]
    assert "Datenschutz" in item and "2 days overdue" in item and "Start course" in item


from tests.onboarding.conftest import make_template, new_hire  # noqa: E402,F401  (fixtures)


def test_an_overdue_onboarding_task_comes_before_a_mandatory_course_due_in_six_days(
        app, ctx, people, make_template, new_hire, make_course, make_assignment):  # noqa: F811
    today = date.today()
    make_template(tasks=[("new_hire", 3, "Formular zur Zeiterfassung abgeben"),
                         ("new_hire", 40, "Dienstvereinbarungen lesen")])
    hire = new_hire(today - timedelta(days=10))  # the first task was due 7 days ago
    make_assignment(hire, make_course(title="Datenschutz"), due_on=today + timedelta(days=6))
    make_assignment(hire, make_course(title="Brandschutz"), due_on=today - timedelta(days=2))
    make_assignment(hire, make_course(title="Freiwillig"), due_on=today + timedelta(days=3), mandatory=False)
    listed = next_items(_user(hire.username), today)
    assert [item.title for item in listed.items] == [
        "Formular zur Zeiterfassung abgeben",  # 7 days overdue, any kind
        "Brandschutz",                          # 2 days overdue
        "Freiwillig",                           # due in 3 days
        "Datenschutz",                          # mandatory, due in 6 days
        "Dienstvereinbarungen lesen",           # due in 30 days: the rest
    ]


def test_the_rest_follows_the_sources_order_then_the_date(app, ctx, people, make_course, make_assignment):
    today = date.today()
    saved = list(upnext.SOURCES)
    try:
        @next_source("events", order=5)
        def events(user, today):
            return [NextItem(title="Event", kind="Event", url="/", action="Book", due_on=today + timedelta(days=90))]

        make_assignment(people["employee"], make_course(title="Später"), due_on=today + timedelta(days=30))
        make_assignment(people["employee"], make_course(title="Bald"), due_on=today + timedelta(days=14))
        listed = next_items(_user("employee"), today)
        assert [item.title for item in listed.items] == ["Bald", "Event", "Später"]
    finally:
        upnext.SOURCES[:] = saved
