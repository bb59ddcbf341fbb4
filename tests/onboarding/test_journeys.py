"""Journeys start, move, close and reopen with people's records; due dates are calendar days."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest
import time_machine
from flask_babel import force_locale
from sqlalchemy import select

from learning.db import db, unit_of_work
from learning.errors import NotAllowed
from learning.i18n import local_today
from learning.onboarding.access import shows_in_navigation
from learning.onboarding.journeys import my_journey
from learning.onboarding.models import Journey, JourneyTask, Stage
from learning.onboarding.sync import sync_journeys
from learning.onboarding.tasks import set_task_done
from learning.onboarding.templates import template_for_department
from learning.org.models import User
from learning.org.services import PersonData, create_person, set_person_active, update_person
from learning.roles import Role
from tests.onboarding.conftest import journey_of

TODAY = date(2026, 5, 4)  # a Monday


def _due(journey) -> dict[str, date]:
    return {task.title: task.due_on for task in journey.tasks}


@time_machine.travel(datetime(2026, 5, 4, 9, tzinfo=UTC), tick=False)
def test_creating_a_person_with_a_start_date_starts_their_journey_from_the_template(app, make_template, new_hire):
    template = make_template("Standard")
    user = new_hire(date(2026, 5, 18))
    with app.app_context():
        journey = journey_of(user)
        assert journey is not None
        assert (journey.template_id, journey.template_version, journey.start_date) == (template.id, 1,
                                                                                        date(2026, 5, 18))
        assert _due(journey) == {
            "Arbeitsplatz und Zugänge bereitstellen": date(2026, 5, 13),  # -5: before day one
            "Willkommensmail senden": date(2026, 5, 15),
            "An der Lernplattform anmelden": date(2026, 5, 18),
            "Gemeinsam zu Mittag essen": date(2026, 5, 18),
            "Erstes Feedbackgespräch führen": date(2026, 5, 25),
            "Dienstvereinbarungen lesen": date(2026, 6, 1),
        }
        assert journey.buddy_id is None  # the manager chooses
        assert all(t.done_at is None for t in journey.tasks)
        assert {t.description for t in journey.tasks} >= {"Beschreibung von **Willkommensmail senden**"}


def test_the_department_template_wins_over_the_default(app, people, make_template, make_team, new_hire):
    make_template("Standard")
    other_team = make_team("Kasse")
    special = make_template("Kasse", department=SimpleNamespace(id=other_team.department_id),
                            tasks=[("new_hire", 0, "Kassenschulung")])
    user = new_hire(date.today() + timedelta(days=10), team=other_team)
    with app.app_context():
        journey = journey_of(user)
        assert journey.template_id == special.id
        assert [t.title for t in journey.tasks] == ["Kassenschulung"]


def test_no_journey_without_template_start_date_or_for_long_serving_staff(app, make_template, new_hire):
    nobody = new_hire(date.today() + timedelta(days=3))  # no template yet
    make_template()
    without_date = new_hire(None)
    long_ago = new_hire(date.today() - timedelta(days=400))
    recent = new_hire(date.today() - timedelta(days=30))  # started a month ago: still onboarding
    with app.app_context():
        assert journey_of(nobody) is None
        assert journey_of(without_date) is None
        assert journey_of(long_ago) is None
        assert journey_of(recent) is not None


def test_csv_import_starts_journeys(app, runner, people, make_template, tmp_path):
    make_template()
    start = (date.today() + timedelta(days=14)).isoformat()
    path = tmp_path / "people.csv"
    path.write_text("Email,First name,Last name,Department,Team,Start date\n"
                    f"ida@example.org,Ida,Import,Neu,Neues Team,{start}\n"
                    "old@example.org,Olga,Alt,Neu,Neues Team,2001-01-01\n", encoding="utf-8")
    result = runner.invoke(args=["users", "import", str(path)])
    assert result.exit_code == 0, result.output
    with app.app_context():
        ida = db.session.scalar(select(User).where(User.email == "ida@example.org"))
        olga = db.session.scalar(select(User).where(User.email == "old@example.org"))
        assert journey_of(ida) is not None and journey_of(ida).start_date.isoformat() == start
        assert journey_of(olga) is None


@time_machine.travel(datetime(2026, 3, 2, 9, tzinfo=UTC), tick=False)
def test_moving_the_start_date_moves_open_tasks_and_keeps_done_ones(app, people, make_template, new_hire):
    make_template()
    user = new_hire(date(2026, 6, 1))
    with app.test_request_context():
        journey = journey_of(user)
        done = next(t for t in journey.tasks if t.title == "Arbeitsplatz und Zugänge bereitstellen")
        done.done_at = datetime(2026, 5, 26, 10, tzinfo=UTC)
        db.session.commit()
        person = db.session.get(User, user.id)
        update_person(person, PersonData(email=person.email, first_name=person.first_name,
                                         last_name=person.last_name, username=person.username,
                                         start_date=date(2026, 6, 15), team_id=person.team_id,
                                         roles={Role.EMPLOYEE}), None)
        db.session.expire_all()
        journey = journey_of(user)
        assert journey.start_date == date(2026, 6, 15)
        due = _due(journey)
        assert due["Arbeitsplatz und Zugänge bereitstellen"] == date(2026, 5, 27)  # done: stays as it was
        assert due["Willkommensmail senden"] == date(2026, 6, 12)  # -3 from the new start
        assert due["Dienstvereinbarungen lesen"] == date(2026, 6, 29)
        kept = next(t for t in journey.tasks if t.title == "Arbeitsplatz und Zugänge bereitstellen")
        assert kept.done_at == datetime(2026, 5, 26, 10, tzinfo=UTC)

        # Moved earlier, into the past: allowed; what was due before today is now overdue.
        today = date(2026, 6, 20)
        sync_journeys({user.id}, today)  # nothing to do: same start date
        person.start_date = date(2026, 6, 8)
        db.session.commit()
        assert sync_journeys({user.id}, today).moved == 1
        page = my_journey(db.session.get(User, user.id), today)
        overdue = {i.task.title for i in page.items if i.overdue}
        assert overdue == {"Willkommensmail senden", "An der Lernplattform anmelden", "Gemeinsam zu Mittag essen",
                           "Erstes Feedbackgespräch führen"}


def test_deactivating_closes_the_journey_and_reactivating_reopens_it(app, people, make_template, new_hire):
    make_template()
    user = new_hire(date.today() + timedelta(days=7))
    with app.test_request_context():
        admin = db.session.get(User, people["admin"].id)
        set_person_active(db.session.get(User, user.id), False, admin)
        journey = journey_of(user)
        assert journey.closed_at is not None and journey.closed_reason == "deactivated"
        task = next(t for t in journey.tasks if t.owner_role == "new_hire")
        manager = db.session.get(User, people["manager"].id)
        try:
            with force_locale("en"):
                set_task_done(manager, task.id, True)
        except NotAllowed as exc:
            assert "closed" in str(exc)
        else:  # pragma: no cover
            raise AssertionError("a task of a closed journey was ticked")
        assert not shows_in_navigation(manager)

        set_person_active(db.session.get(User, user.id), True, admin)
        db.session.expire_all()
        assert journey_of(user).closed_at is None


def test_a_person_gets_one_journey_whatever_happens(app, make_template, new_hire):
    make_template()
    user = new_hire(date.today() + timedelta(days=7))
    with app.app_context():
        for _ in range(3):
            sync_journeys({user.id}, date.today())
        sync_journeys(None, date.today())
        assert db.session.scalar(select(db.func.count()).select_from(Journey)) == 1


def test_a_failing_journey_sync_rolls_the_change_to_the_people_back(app, people, make_template, monkeypatch):
    """Journeys change in the unit of work that changes the people: both are committed, or neither."""
    from learning.onboarding import sync

    make_template()

    def broken(*args, **kwargs):
        raise RuntimeError("the journeys cannot be planned")

    monkeypatch.setattr(sync, "_sync", broken)
    with app.test_request_context():
        with pytest.raises(RuntimeError), unit_of_work():
            create_person(PersonData(email="neu@example.org", first_name="Nora", last_name="Neu",
                                     start_date=date.today() + timedelta(days=7), team_id=people["team"].id,
                                     roles={Role.EMPLOYEE}), None)
        assert db.session.scalar(select(User).where(User.email == "neu@example.org")) is None


# Calendar days, whatever the clock does --------------------------------------------------------------


@time_machine.travel(datetime(2026, 3, 2, 9, tzinfo=UTC), tick=False)
def test_offsets_across_daylight_saving_changes_are_whole_calendar_days(app, make_template, new_hire):
    """Summer time starts on 29 March 2026 and ends on 25 October 2026 in Berlin."""
    make_template(tasks=[("it", -1, "Vorher"), ("new_hire", 0, "Erster Tag"), ("buddy", 1, "Zweiter Tag"),
                         ("manager", 7, "Eine Woche"), ("manager", 210, "Nach der Winterzeit"),
                         ("it", -90, "Drei Monate vorher")])
    user = new_hire(date(2026, 3, 29))
    with app.app_context():
        assert _due(journey_of(user)) == {
            "Vorher": date(2026, 3, 28), "Erster Tag": date(2026, 3, 29), "Zweiter Tag": date(2026, 3, 30),
            "Eine Woche": date(2026, 4, 5), "Nach der Winterzeit": date(2026, 10, 25),
            "Drei Monate vorher": date(2025, 12, 29),
        }


@time_machine.travel(datetime(2026, 3, 2, 9, tzinfo=UTC), tick=False)
def test_overdue_follows_the_local_day_not_the_utc_day(app, people, make_template, new_hire):
    make_template(tasks=[("new_hire", 0, "Am ersten Tag")])
    user = new_hire(date(2026, 10, 25))  # the day summer time ends
    with app.test_request_context():
        person = db.session.get(User, user.id)
        # 23:30 in Berlin (UTC+1 since 03:00 that night): still 25 October, due today, not overdue.
        with time_machine.travel(datetime(2026, 10, 25, 22, 30, tzinfo=UTC), tick=False):
            page = my_journey(person, local_today())
            assert page.today == date(2026, 10, 25) and not page.items[0].overdue
        # 00:30 in Berlin on the 26th, while it is still the 25th in UTC: overdue.
        with time_machine.travel(datetime(2026, 10, 25, 23, 30, tzinfo=UTC), tick=False):
            page = my_journey(person, local_today())
            assert page.today == date(2026, 10, 26) and page.items[0].overdue
        # The same in spring: 00:30 on 29 March in Berlin is 23:30 on the 28th in UTC.
        journey = journey_of(user)
        task = journey.tasks[0]
        task.due_on = date(2026, 3, 28)
        db.session.commit()
        with time_machine.travel(datetime(2026, 3, 28, 23, 30, tzinfo=UTC), tick=False):
            assert my_journey(person, local_today()).items[0].overdue


@time_machine.travel(datetime(2026, 3, 2, 9, tzinfo=UTC), tick=False)
def test_a_task_ticked_late_in_the_evening_counts_for_the_local_day(app, people, make_template, new_hire):
    make_template(tasks=[("new_hire", 0, "Am ersten Tag")])
    user = new_hire(date(2026, 3, 30))
    with app.test_request_context():
        person = db.session.get(User, user.id)
        task_id = journey_of(user).tasks[0].id
        with time_machine.travel(datetime(2026, 3, 29, 22, 30, tzinfo=UTC), tick=False):  # 00:30 CEST on the 30th
            set_task_done(person, task_id, True)
            page = my_journey(person, local_today())
        assert page.items[0].done_on == date(2026, 3, 30)


def test_stages_of_the_timeline():
    assert [Stage.of(d) for d in (-90, -1, 0, 1, 6, 7, 29, 30, 99, 100, 365)] == [
        Stage.BEFORE, Stage.BEFORE, Stage.FIRST_DAY, Stage.FIRST_WEEK, Stage.FIRST_WEEK, Stage.FIRST_MONTH,
        Stage.FIRST_MONTH, Stage.FIRST_100_DAYS, Stage.FIRST_100_DAYS, Stage.LATER, Stage.LATER]


def test_the_sync_command_catches_up(app, runner, people, make_template, make_user):
    make_template()
    waiting = make_user("spaeter", team=people["team"], start_date=date.today() + timedelta(days=5))  # no signal
    result = runner.invoke(args=["onboarding", "sync"])
    assert result.exit_code == 0 and "1 started" in result.output
    with app.app_context():
        assert journey_of(waiting) is not None
        assert db.session.scalar(select(db.func.count()).select_from(JourneyTask)) == 6


def test_the_starter_template_command_installs_a_default_once(app, runner, make_course):
    make_course("digitalisierung-2030")
    result = runner.invoke(args=["onboarding", "starter-template"])
    assert result.exit_code == 0, result.output
    again = runner.invoke(args=["onboarding", "starter-template"])
    assert "nothing installed" in again.output
    with app.app_context():
        template = template_for_department(None)
        assert template is not None and len(template.tasks) >= 20
        assert {t.owner_role for t in template.tasks} == {"new_hire", "manager", "buddy", "it"}
        assert min(t.offset_days for t in template.tasks) < 0 < max(t.offset_days for t in template.tasks)
        linked = [t for t in template.tasks if t.course_id]
        assert len(linked) == 1 and linked[0].course.slug == "digitalisierung-2030"
