"""Templates and their versions, course-linked tasks, who may see and tick what, buddies, the overview."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from learning.audit.models import AuditEntry
from learning.db import db
from learning.errors import NotAllowed, NotFound, ServiceError
from learning.mail import CapturedMail
from learning.onboarding.access import shows_in_navigation
from learning.onboarding.journeys import journey_page, my_journey, team_journeys
from learning.onboarding.models import JourneyStatus, JourneyTemplate, JourneyTemplateTask, OwnerRole
from learning.onboarding.overview import overview
from learning.onboarding.tasks import buddy_candidates, my_tasks, set_buddy, set_task_done
from learning.onboarding.templates import (
    TaskData,
    TemplateData,
    apply_current_version,
    apply_plan,
    create_template,
    describe_offset,
    remove_template_task,
    save_template_task,
    set_template_active,
    template_for,
)
from learning.org.models import User
from learning.roles import Role
from learning.training.models import Question
from learning.training.quiz import start_quiz, submit_quiz
from learning.training.services import complete_lesson, course_for
from tests.onboarding.conftest import TASKS, journey_of

SOON = date.today() + timedelta(days=7)


def _user(person) -> User:
    return db.session.get(User, person.id)


def _task(journey, title):
    return next(t for t in journey.tasks if t.title == title)


# Templates and versions ----------------------------------------------------------------------


def test_editing_a_template_makes_a_new_version_and_running_journeys_keep_their_tasks(
        app, ctx, people, make_template, new_hire):
    template = make_template()
    user = new_hire(SOON)
    admin = _user(people["admin"])
    template = template_for(template.id)
    save_template_task(admin, template, "k2", TaskData(title="Willkommensbrief schicken",
                                                                 owner_role="manager", offset_days=-4))
    template = template_for(template.id)
    save_template_task(admin, template, None, TaskData(title="Schlüssel ausgeben", owner_role="it",
                                                                offset_days=-1))
    template = template_for(template.id)
    remove_template_task(admin, template, "k6")
    template = template_for(template.id)

    assert template.version == 4
    assert [v.version for v in template.versions] == [4, 3, 2, 1]
    assert "Willkommensbrief schicken" in template.versions[2].summary
    titles = {t.title for t in template.tasks}
    assert "Schlüssel ausgeben" in titles and "Dienstvereinbarungen lesen" not in titles
    old = db.session.scalars(select(JourneyTemplateTask).where(JourneyTemplateTask.template_id == template.id,
                                                               JourneyTemplateTask.version == 1)).all()
    assert {t.title for t in old} >= {"Willkommensmail senden", "Dienstvereinbarungen lesen"}  # kept as it was

    journey = journey_of(user)
    assert journey.template_version == 1
    assert {t.title for t in journey.tasks} == {title for _owner, _offset, title in TASKS}
    actions = set(db.session.scalars(select(AuditEntry.action).where(AuditEntry.target_type == "journeytemplate")))
    assert {"onboarding.template_task_changed", "onboarding.template_task_added",
            "onboarding.template_task_removed"} <= actions

    # A journey started now gets the current version.
    later = new_hire(SOON + timedelta(days=7))
    assert journey_of(later).template_version == 4


def test_applying_the_current_version_updates_open_tasks_and_keeps_done_ones(app, ctx, people, make_template,
                                                                             new_hire):
    template = make_template()
    user = new_hire(SOON)
    admin = _user(people["admin"])
    journey = journey_of(user)
    done_removed = _task(journey, "Dienstvereinbarungen lesen")
    done_changed = _task(journey, "An der Lernplattform anmelden")
    for task in (done_removed, done_changed):
        task.done_at = datetime(2026, 1, 5, 10, tzinfo=UTC)
    db.session.commit()

    template = template_for(template.id)
    save_template_task(admin, template, "k2", TaskData(title="Willkommensbrief schicken",
                                                                 owner_role="manager", offset_days=-4))
    save_template_task(admin, template_for(template.id), "k3",
                                TaskData(title="Anmelden und Profil prüfen", owner_role="new_hire", offset_days=1))
    save_template_task(admin, template_for(template.id), None,
                                TaskData(title="Schlüssel ausgeben", owner_role="it", offset_days=-1))
    remove_template_task(admin, template_for(template.id), "k6")  # done: stays
    remove_template_task(admin, template_for(template.id), "k4")  # open: goes
    template = template_for(template.id)

    plan = apply_plan(template, date.today())
    assert (plan.journeys, plan.added, plan.changed, plan.removed, plan.kept_done) == (1, 1, 1, 1, 1)
    assert journey_of(user).template_version == 1  # a plan changes nothing

    result = apply_current_version(admin, template, date.today())
    assert result.changed == 1
    db.session.expire_all()
    journey = journey_of(user)
    titles = {t.title for t in journey.tasks}
    assert journey.template_version == template.version
    assert "Willkommensbrief schicken" in titles and "Willkommensmail senden" not in titles
    assert _task(journey, "Willkommensbrief schicken").due_on == SOON - timedelta(days=4)
    assert "Schlüssel ausgeben" in titles and "Gemeinsam zu Mittag essen" not in titles
    assert "Dienstvereinbarungen lesen" in titles  # removed from the template but done: kept
    assert "An der Lernplattform anmelden" in titles  # changed in the template but done: kept as it was
    assert _task(journey, "An der Lernplattform anmelden").done_at is not None
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "onboarding.template_applied"))
    assert entry.details["journeys"] == 1 and entry.actor_id == admin.id
    assert apply_plan(template, date.today()).journeys == 0  # nothing left to apply


@pytest.mark.parametrize(("data", "field"), [
    (TaskData(title="", owner_role="it", offset_days=0), "title"),
    (TaskData(title="x" * 151, owner_role="it", offset_days=0), "title"),
    (TaskData(title="Gut", owner_role="boss", offset_days=0), "owner_role"),
    (TaskData(title="Gut", owner_role="it", offset_days=-91), "offset_days"),
    (TaskData(title="Gut", owner_role="it", offset_days=366), "offset_days"),
    (TaskData(title="Gut", owner_role="it", offset_days=None), "offset_days"),
    (TaskData(title="Gut", owner_role="it", offset_days=0, description="x" * 5001), "description"),
    (TaskData(title="Gut", owner_role="it", offset_days=0, course_id=999), "course_id"),
])
def test_bad_task_input_is_refused_and_changes_nothing(app, ctx, people, make_template, data, field):
    template = template_for(make_template().id)
    with pytest.raises(ServiceError) as error:
        save_template_task(_user(people["admin"]), template, None, data)
    assert error.value.field == field
    db.session.rollback()
    assert template_for(template.id).version == 1


def test_only_a_task_of_the_new_hire_can_be_linked_to_a_course(app, ctx, people, make_template, make_course):
    course = make_course("kurs")
    template = template_for(make_template().id)
    with pytest.raises(ServiceError, match="Only a task of the new hire") as error:
        save_template_task(_user(people["admin"]), template, None,
                                    TaskData(title="Kurs", owner_role="buddy", offset_days=3, course_id=course.id))
    assert error.value.field == "course_id"


def test_one_default_template_and_one_per_department(app, ctx, people, make_template):
    make_template("Standard")
    admin = _user(people["admin"])
    with pytest.raises(ServiceError, match="already a default template"):
        create_template(admin, TemplateData(name="Zweiter Standard"))
    db.session.rollback()
    department_id = people["team"].department_id
    create_template(admin, TemplateData(name="Bürgerservice", department_id=department_id))
    with pytest.raises(ServiceError, match="already has a template"):
        create_template(admin, TemplateData(name="Noch eine", department_id=department_id))
    db.session.rollback()
    with pytest.raises(ServiceError) as error:
        create_template(admin, TemplateData(name="   "))
    assert error.value.field == "name"


def test_a_new_template_can_start_as_a_copy(app, ctx, people, make_template):
    source = make_template("Standard")
    copy = create_template(_user(people["admin"]),
                                    TemplateData(name="Kopie", department_id=people["team"].department_id),
                                    copy_from=source.id)
    copy = template_for(copy.id)
    assert [t.title for t in copy.tasks] == [t.title for t in template_for(source.id).tasks]
    assert copy.version == 1 and "Standard" in copy.versions[0].summary


def test_switching_a_template_off_sends_new_staff_to_the_default(app, ctx, people, make_template, new_hire):
    default = make_template("Standard")
    special = make_template("Bürgerservice", department=SimpleNamespace(id=people["team"].department_id))
    set_template_active(_user(people["admin"]), template_for(special.id), False)
    user = new_hire(SOON)
    assert journey_of(user).template_id == default.id


def test_a_named_it_contact_gets_the_it_tasks_instead_of_the_administrators(app, ctx, people, make_template,
                                                                           make_user, new_hire):
    it_person = make_user("itler", team=people["team"])
    make_template(it_contact=it_person)
    user = new_hire(SOON)
    journey = journey_of(user)
    it_task = next(t for t in journey.tasks if t.owner_role == "it")
    today = date.today()
    assert [i.task.id for i in my_tasks(_user(it_person), today).items] == [it_task.id]
    assert my_tasks(_user(people["admin"]), today).total == 0
    set_task_done(_user(it_person), it_task.id, True, today)


# Course-linked tasks -----------------------------------------------------------------------------


def test_a_course_linked_task_is_done_when_the_new_hire_completes_the_course(app, ctx, people, make_template,
                                                                             make_course, new_hire):
    course = make_course("erste-schritte", lessons=2)
    make_template(tasks=[("new_hire", 10, "Kurs Erste Schritte abschließen", course),
                         ("new_hire", 0, "Anmelden")])
    user = new_hire(date.today() - timedelta(days=3))
    person = _user(user)
    page = my_journey(person, date.today())
    item = next(i for i in page.items if i.task.course_id)
    assert not item.done and not item.can_tick
    with pytest.raises(NotAllowed, match="linked course"):
        set_task_done(person, item.task.id, True)
    with pytest.raises(NotAllowed):  # not even by the manager
        set_task_done(_user(people["manager"]), item.task.id, True)

    full = course_for(person, "erste-schritte")
    for lesson in full.active_lessons:
        complete_lesson(person, lesson)
    attempt = start_quiz(person, full)
    questions = db.session.scalars(select(Question).where(Question.course_id == full.id)).all()
    answers = {q.id: [a.id for a in q.answers if a.correct] for q in questions}
    assert submit_quiz(person, attempt.id, answers).passed

    page = my_journey(_user(user), date.today())
    item = next(i for i in page.items if i.task.course_id)
    assert item.done and item.by_course and item.done_on == date.today()
    assert item.task.done_at is None  # derived from the certificate, nothing written
    assert page.own_progress.done == 1
    assert my_tasks(_user(people["manager"]), date.today(), show="done").total == 0  # not the manager's


# Who sees and ticks what ---------------------------------------------------------------------------


@pytest.fixture
def journey_with_buddy(app, people, make_template, new_hire, make_user):
    make_template()
    user = new_hire(SOON)
    buddy = make_user("pate", team=people["team"])
    with app.test_request_context():
        journey = journey_of(user)
        set_buddy(_user(people["manager"]), journey.id, buddy.id)
        return {"new_hire": user, "buddy": buddy, "journey_id": journey.id}


def _titles(page):
    return {i.task.title for i in page.items}


def test_each_person_sees_what_they_take_part_in(app, ctx, people, journey_with_buddy, make_user, make_team):
    journey_id = journey_with_buddy["journey_id"]
    today = date.today()
    everything = {"Arbeitsplatz und Zugänge bereitstellen", "Willkommensmail senden", "An der Lernplattform anmelden",
                  "Gemeinsam zu Mittag essen", "Erstes Feedbackgespräch führen", "Dienstvereinbarungen lesen"}
    assert _titles(journey_page(_user(journey_with_buddy["new_hire"]), journey_id, today)) == everything
    assert _titles(journey_page(_user(people["manager"]), journey_id, today)) == everything
    assert _titles(journey_page(_user(people["admin"]), journey_id, today)) == everything
    assert _titles(journey_page(_user(journey_with_buddy["buddy"]), journey_id, today)) == {
        "Gemeinsam zu Mittag essen"}
    other_manager = make_user("fremd", roles={Role.MANAGER})
    make_team("Fremdes Team", managers=[other_manager])
    for outsider in (people["employee"], people["project_group"], other_manager):
        with pytest.raises(NotFound):
            journey_page(_user(outsider), journey_id, today)
        assert not shows_in_navigation(_user(outsider)) or outsider is people["project_group"]


def test_only_the_owner_or_a_manager_ticks_a_task(app, ctx, people, journey_with_buddy):
    journey = journey_of(journey_with_buddy["new_hire"])
    new_hire, buddy, manager = (_user(journey_with_buddy["new_hire"]), _user(journey_with_buddy["buddy"]),
                                _user(people["manager"]))
    lunch = _task(journey, "Gemeinsam zu Mittag essen")
    login = _task(journey, "An der Lernplattform anmelden")
    with pytest.raises(NotAllowed):
        set_task_done(new_hire, lunch.id, True)  # the buddy's task
    with pytest.raises(NotFound):
        set_task_done(buddy, login.id, True)  # the buddy does not see the new hire's tasks
    with pytest.raises(NotFound):
        set_task_done(_user(people["project_group"]), login.id, True)
    set_task_done(buddy, lunch.id, True)
    set_task_done(new_hire, login.id, True)
    set_task_done(manager, _task(journey, "Arbeitsplatz und Zugänge bereitstellen").id, True)
    db.session.expire_all()
    journey = journey_of(journey_with_buddy["new_hire"])
    assert _task(journey, "Gemeinsam zu Mittag essen").done_by_id == buddy.id
    assert _task(journey, "An der Lernplattform anmelden").done_by_id == new_hire.id
    set_task_done(manager, login.id, False)
    db.session.expire_all()
    assert _task(journey_of(journey_with_buddy["new_hire"]), "An der Lernplattform anmelden").done_at is None


def test_with_the_privacy_setting_off_managers_see_and_tick_only_their_own_tasks(app, ctx, people,
                                                                                 journey_with_buddy):
    from learning.settings.services import save_settings

    save_settings({"managers.onboarding_individuals": False}, _user(people["admin"]))
    manager = _user(people["manager"])
    page = journey_page(manager, journey_with_buddy["journey_id"], date.today())
    assert {i.task.owner_role for i in page.items} == {"manager"}
    login = _task(journey_of(journey_with_buddy["new_hire"]), "An der Lernplattform anmelden")
    with pytest.raises(NotFound):
        set_task_done(manager, login.id, True)
    assert page.who.manages  # still chooses the buddy


def test_my_tasks_lists_the_tasks_of_each_role_across_new_hires(app, ctx, people, make_template, new_hire,
                                                                make_user):
    make_template()
    first = new_hire(date.today() - timedelta(days=10))
    second = new_hire(date.today() + timedelta(days=20))
    buddy = make_user("pate", team=people["team"])
    set_buddy(_user(people["manager"]), journey_of(first).id, buddy.id)
    today = date.today()
    managers = my_tasks(_user(people["manager"]), today)
    assert {(i.journey.new_hire_id, i.task.title) for i in managers.items} == {
        (first.id, "Erstes Feedbackgespräch führen"), (first.id, "Willkommensmail senden"),
        (second.id, "Erstes Feedbackgespräch führen"), (second.id, "Willkommensmail senden")}
    assert [i.task.due_on for i in managers.items] == sorted(i.task.due_on for i in managers.items)
    assert {i.journey.new_hire_id for i in managers.bucket("overdue")} == {first.id}
    assert [j.new_hire_id for j in managers.needs_buddy] == [second.id]
    assert {i.task.title for i in my_tasks(_user(buddy), today).items} == {"Gemeinsam zu Mittag essen"}
    assert my_tasks(_user(people["admin"]), today).total == 2  # the IT tasks, no named contact
    assert my_tasks(_user(people["employee"]), today).total == 0
    assert my_tasks(_user(first), today).total == 0  # their own tasks are on “My first weeks”

    set_task_done(_user(people["manager"]), managers.items[0].task.id, True)
    assert my_tasks(_user(people["manager"]), today).total == 3
    assert my_tasks(_user(people["manager"]), today, show="done").total == 1
    assert my_tasks(_user(people["manager"]), today, show="all").total == 4


# Buddies --------------------------------------------------------------------------------------------


def test_buddies_are_suggested_from_the_team_and_checked(app, ctx, people, make_template, new_hire, make_user,
                                                         make_team):
    make_template()
    user = new_hire(SOON)
    colleague = make_user("kollege", team=people["team"], first_name="Karl", last_name="Kollege")
    make_user("weg", team=people["team"], active=False)
    make_user("ohne", team=make_team("Ohne Fachbereich"))
    also_new = new_hire(SOON + timedelta(days=1))  # in their own first weeks
    same_department = SimpleNamespace(id=people["team"].department_id)
    neighbour = make_user("nachbar", team=make_team("Nachbarteam", department=same_department))
    elsewhere = make_user("anderswo", team=make_team("Anderswo"))
    journey = journey_of(user)
    choices = buddy_candidates(journey, date.today())
    assert {p.id for p in choices.suggested} == {colleague.id, people["employee"].id}
    assert {p.id for p in choices.others} == {neighbour.id}
    manager = _user(people["manager"])
    for refused in (user.id, also_new.id, elsewhere.id, 99999):
        with pytest.raises(ServiceError):
            set_buddy(manager, journey.id, refused)
    set_buddy(manager, journey.id, colleague.id)
    assert journey_of(user).buddy_id == colleague.id
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "onboarding.buddy_changed"))
    assert entry.details["buddy_id"] == colleague.id and entry.actor_id == manager.id
    mail = db.session.scalar(select(CapturedMail).where(CapturedMail.recipient.contains("kollege@example.org")))
    assert mail is not None and user.full_name in mail.subject and "/onboarding/tasks" in mail.body
    set_buddy(manager, journey.id, None)
    assert journey_of(user).buddy_id is None


def test_people_who_do_not_lead_the_team_cannot_choose_the_buddy(app, ctx, people, journey_with_buddy):
    for person in (journey_with_buddy["new_hire"], journey_with_buddy["buddy"]):
        with pytest.raises(NotAllowed):
            set_buddy(_user(person), journey_with_buddy["journey_id"], people["employee"].id)
    set_buddy(_user(people["admin"]), journey_with_buddy["journey_id"], people["employee"].id)


# Navigation and the overview ---------------------------------------------------------------------------


def test_the_navigation_item_shows_for_people_taking_part(app, people, journey_with_buddy, make_user,
                                                          count_queries):
    outsider = make_user("draussen", team=people["team"])
    with app.test_request_context():
        expected = {journey_with_buddy["new_hire"].id: True, journey_with_buddy["buddy"].id: True,
                    people["manager"].id: True, people["admin"].id: True, people["project_group"].id: True,
                    outsider.id: False}
        for user_id, shown in expected.items():
            assert shows_in_navigation(db.session.get(User, user_id)) is shown, user_id
        person = db.session.get(User, outsider.id)
    with app.test_request_context():
        person = db.session.merge(person)
        with count_queries() as statements:
            for _ in range(3):
                shows_in_navigation(person)
        assert len(statements) == 1  # one query, then the answer is kept for the request


def test_the_overview_counts_journeys_by_department_with_the_average_duration(app, ctx, people, make_template,
                                                                              new_hire):
    make_template(tasks=[("new_hire", 0, "Anmelden"), ("manager", 30, "Gespräch")])
    today = date.today()
    on_track = new_hire(today + timedelta(days=3))
    behind = new_hire(today - timedelta(days=40))
    finished = new_hire(today - timedelta(days=60))
    for task in journey_of(finished).tasks:
        task.done_at = datetime.combine(finished.start_date + timedelta(days=task.offset_days + 2),
                                        datetime.min.time(), UTC) + timedelta(hours=10)
    db.session.commit()
    figures = overview(today)
    department = next(d for d in figures.departments if d.on_track or d.behind or d.done)
    assert (department.on_track, department.behind, department.done) == (1, 1, 1)
    assert department.average_days == 32  # the last task was done two days after its day 30
    assert (figures.total.running, figures.total.done) == (2, 1)
    statuses = {s.journey.new_hire_id: s.status for s in team_journeys(_user(people["manager"]), today)}
    assert statuses == {on_track.id: JourneyStatus.ON_TRACK, behind.id: JourneyStatus.BEHIND,
                        finished.id: JourneyStatus.DONE}


def test_describe_offset(app, ctx):
    assert describe_offset(-5) == "5 days before the start date"
    assert describe_offset(0) == "On the start date"
    assert describe_offset(1) == "1 day after the start date"


def test_owner_roles_have_labels():
    assert {r.value for r in OwnerRole} == {"new_hire", "manager", "buddy", "it"}
    assert all(r.label for r in OwnerRole)
    assert JourneyTemplate.__tablename__ == "journey_template"


def test_a_deactivated_it_contact_or_buddy_does_not_leave_tasks_orphaned(app, ctx, people, make_template,
                                                                         make_user, new_hire):
    it_person = make_user("itler", team=people["team"])
    make_template(it_contact=it_person)
    user = new_hire(SOON)
    buddy = make_user("pate", team=people["team"])
    manager, admin = _user(people["manager"]), _user(people["admin"])
    set_buddy(manager, journey_of(user).id, buddy.id)
    assert my_tasks(admin, date.today()).total == 0
    from learning.org.services import set_person_active

    set_person_active(_user(it_person), False, admin)
    set_person_active(_user(buddy), False, admin)
    assert my_tasks(admin, date.today()).total == 1  # the administrators step in
    page = journey_page(manager, journey_of(user).id, date.today())
    assert page.needs_buddy
    assert [j.new_hire_id for j in my_tasks(manager, date.today()).needs_buddy] == [user.id]
