"""Assignment rules: applied idempotently, strictest rule wins, people and anchors move; the rule pages."""

from __future__ import annotations

import html
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from learning.audit.models import AuditEntry
from learning.db import db, utcnow
from learning.i18n import local_today
from learning.org.audience import AudienceKind
from learning.org.models import User
from learning.phases.models import RolloutPhase
from learning.roles import Role
from learning.training.cli import courses_cli
from learning.training.models import Assignment, AssignmentRule, Course, LessonCompletion
from learning.training.rule_admin import rule_summary
from learning.training.rules import RuleResult, apply_rules, insert_assignments

TODAY = date(2026, 4, 1)


@pytest.fixture
def make_rule(app):
    def factory(course, audience=AudienceKind.EVERYONE, values=(), *, mandatory=True, due_rule=None,
                active=True) -> int:
        with app.app_context():
            rule = AssignmentRule(course_id=course.id, audience=str(audience), audience_values=list(values),
                                  mandatory=mandatory, due_rule=due_rule, active=active)
            db.session.add(rule)
            db.session.commit()
            return rule.id

    return factory


@pytest.fixture
def apply(app):
    def run(today: date = TODAY, user_ids=None) -> RuleResult:
        with app.app_context():
            return apply_rules(today, user_ids)

    return run


@pytest.fixture
def rows(app):
    """The assignments as plain dicts keyed by (user id, course id)."""
    columns = ("id", "rule_id", "mandatory", "assigned_on", "due_on", "started_at", "completed_at", "unmatched_since")

    def load() -> dict[tuple[int, int], dict]:
        with app.app_context():
            return {
                (a.user_id, a.course_id): {c: getattr(a, c) for c in columns}
                for a in db.session.scalars(select(Assignment))
            }

    return load


@pytest.fixture
def change(app):
    """Change columns of a row directly, as another part of the platform would."""

    def do(model, row_id: int, **fields) -> None:
        with app.app_context():
            row = db.session.get(model, row_id)
            for name, value in fields.items():
                setattr(row, name, value)
            db.session.commit()

    return do


def counts(result: RuleResult) -> tuple[int, int, int, int]:
    return result.created, result.updated, result.withdrawn, result.kept_unmatched


# Applying the rules --------------------------------------------------------------------


def test_running_twice_changes_nothing(make_department, make_team, make_user, make_course, make_rule, make_phase,
                                       apply, rows):
    department = make_department()
    team = make_team(department=department)
    other = make_team()
    people = [make_user(team=team, start_date=date(2026, 5, 1)), make_user(team=other),
              make_user(roles={Role.PROJECT_GROUP})]
    phase = make_phase(go_live=date(2026, 9, 1), departments=[department])
    basics, eakte, leads = make_course(), make_course(phase=phase), make_course()
    make_rule(basics, due_rule="start+14")
    make_rule(eakte, AudienceKind.PHASE, due_rule="golive-7")
    make_rule(leads, AudienceKind.ROLES, [Role.PROJECT_GROUP.value], mandatory=False, due_rule="assigned+30")
    make_rule(leads, AudienceKind.TEAMS, [other.id], mandatory=False)

    first = apply()
    assert counts(first) == (3 + 1 + 2, 0, 0, 0)
    before = rows()
    assert before[(people[0].id, basics.id)]["due_on"] == date(2026, 5, 15)
    assert before[(people[1].id, basics.id)]["due_on"] is None  # no start date: no due date
    assert before[(people[0].id, eakte.id)]["due_on"] == date(2026, 8, 25)
    assert before[(people[2].id, leads.id)]["due_on"] == TODAY + timedelta(days=30)
    assert all(row["assigned_on"] == TODAY for row in before.values())

    second = apply(TODAY + timedelta(days=3))
    assert counts(second) == (0, 0, 0, 0) and not second.changed
    assert rows() == before


def test_a_new_hire_gets_the_courses_of_their_team(make_team, make_user, make_course, make_rule, apply, rows):
    team = make_team()
    course = make_course()
    make_rule(course, AudienceKind.TEAMS, [team.id], due_rule="start+14")
    make_user(team=team)
    apply()
    hire = make_user(team=team, start_date=date(2026, 6, 1))
    result = apply(TODAY + timedelta(days=1), {hire.id})
    assert counts(result) == (1, 0, 0, 0)
    row = rows()[(hire.id, course.id)]
    assert row["due_on"] == date(2026, 6, 15) and row["assigned_on"] == TODAY + timedelta(days=1)
    assert row["mandatory"] is True


def test_a_team_change_adds_and_withdraws_but_keeps_what_was_started(
        app, make_team, make_user, make_course, make_rule, apply, rows, change):
    old_team, new_team = make_team(), make_team()
    old_course, new_course = make_course(), make_course()
    old_rule = make_rule(old_course, AudienceKind.TEAMS, [old_team.id])
    new_rule = make_rule(new_course, AudienceKind.TEAMS, [new_team.id])
    idle, started, lesson_done = (make_user(team=old_team) for _ in range(3))
    assert counts(apply()) == (3, 0, 0, 0)
    current = rows()
    change(Assignment, current[(started.id, old_course.id)]["id"], started_at=utcnow())
    with app.app_context():
        lesson_id = db.session.get(Course, old_course.id).lessons[0].id
        db.session.add(LessonCompletion(user_id=lesson_done.id, lesson_id=lesson_id))
        db.session.commit()
    for person in (idle, started, lesson_done):
        change(User, person.id, team_id=new_team.id)

    result = apply(TODAY, {idle.id, started.id, lesson_done.id})
    assert counts(result) == (3, 0, 1, 2)
    after = rows()
    assert (idle.id, old_course.id) not in after
    assert after[(started.id, old_course.id)]["unmatched_since"] is not None
    assert after[(lesson_done.id, old_course.id)]["unmatched_since"] is not None
    assert after[(started.id, old_course.id)]["rule_id"] == old_rule
    assert all(after[(p.id, new_course.id)]["rule_id"] == new_rule for p in (idle, started, lesson_done))
    assert counts(apply()) == (0, 0, 0, 0)

    # Back in the old team: the kept assignment matches again; the new one, not started, goes.
    change(User, started.id, team_id=old_team.id)
    assert counts(apply(TODAY, {started.id})) == (0, 1, 1, 0)
    again = rows()
    assert again[(started.id, old_course.id)]["unmatched_since"] is None
    assert (started.id, new_course.id) not in again


def test_moving_the_start_date_moves_open_due_dates_only(
        make_team, make_user, make_course, make_rule, apply, rows, change):
    course = make_course()
    make_rule(course, due_rule="start+14")
    open_one = make_user(start_date=date(2026, 5, 1))
    started = make_user(start_date=date(2026, 5, 1))
    done = make_user(start_date=date(2026, 5, 1))
    apply()
    current = rows()
    change(Assignment, current[(started.id, course.id)]["id"], started_at=utcnow())
    change(Assignment, current[(done.id, course.id)]["id"], started_at=utcnow(), completed_at=utcnow())
    for person in (open_one, started, done):
        change(User, person.id, start_date=date(2026, 6, 1))

    assert counts(apply()) == (0, 2, 0, 0)
    after = rows()
    assert after[(open_one.id, course.id)]["due_on"] == date(2026, 6, 15)
    assert after[(started.id, course.id)]["due_on"] == date(2026, 6, 15)
    assert after[(done.id, course.id)]["due_on"] == date(2026, 5, 15)
    assert after[(open_one.id, course.id)]["assigned_on"] == TODAY


def test_moving_the_go_live_moves_due_dates(make_department, make_team, make_user, make_course, make_rule, make_phase,
                                            apply, rows, change):
    department = make_department()
    team = make_team(department=department)
    phase = make_phase(go_live=date(2026, 9, 1), departments=[department])
    course = make_course(phase=phase)
    make_rule(course, AudienceKind.DEPARTMENTS, [team.department_id], due_rule="golive-7")
    person = make_user(team=team)
    apply()
    assert rows()[(person.id, course.id)]["due_on"] == date(2026, 8, 25)
    change(RolloutPhase, phase.id, go_live=date(2026, 10, 1))
    assert counts(apply()) == (0, 1, 0, 0)
    assert rows()[(person.id, course.id)]["due_on"] == date(2026, 9, 24)


def test_nothing_is_due_before_the_first_working_day(make_department, make_team, make_user, make_course, make_rule,
                                                    make_phase, apply, rows, change):
    """jalbers starts on 14.12.; her mandatory course by the rule golive-14 would be due on 13.12. (issue 14, §11)."""
    department = make_department()
    team = make_team(department=department)
    phase = make_phase(go_live=date(2026, 12, 27), departments=[department])
    course = make_course(phase=phase)
    make_rule(course, AudienceKind.PHASE, [phase.id], due_rule="golive-14")
    new_hire = make_user(team=team, start_date=date(2026, 12, 14))
    colleague = make_user(team=team, start_date=date(2020, 3, 1))
    apply(date(2026, 12, 7))
    assert rows()[(new_hire.id, course.id)]["due_on"] == date(2026, 12, 28)  # start + 14 days
    assert rows()[(colleague.id, course.id)]["due_on"] == date(2026, 12, 13)  # the rule's date
    # Moving the start date earlier gives the rule's date back; later again, the grace period.
    change(User, new_hire.id, start_date=date(2026, 12, 1))
    apply(date(2026, 12, 7))
    assert rows()[(new_hire.id, course.id)]["due_on"] == date(2026, 12, 13)
    change(User, new_hire.id, start_date=date(2027, 1, 4))
    apply(date(2026, 12, 7))
    assert rows()[(new_hire.id, course.id)]["due_on"] == date(2027, 1, 18)


def test_completed_assignments_are_never_touched(make_user, make_course, make_rule, apply, rows, change):
    course = make_course()
    rule = make_rule(course, due_rule="assigned+10")
    person = make_user()
    apply()
    row = rows()[(person.id, course.id)]
    change(Assignment, row["id"], started_at=utcnow(), completed_at=utcnow())
    change(AssignmentRule, rule, active=False)
    make_rule(course, mandatory=False, due_rule="assigned+99")  # another rule for the same course
    assert counts(apply()) == (0, 0, 0, 0)
    change(User, person.id, active=False)
    assert counts(apply()) == (0, 0, 0, 0)
    after = rows()[(person.id, course.id)]
    assert after["rule_id"] == rule and after["unmatched_since"] is None and after["mandatory"] is True


def test_the_strictest_rule_wins(make_team, make_user, make_course, make_rule, apply, rows):
    team = make_team()
    course = make_course()
    make_rule(course, mandatory=False, due_rule="assigned+60")
    strict = make_rule(course, AudienceKind.TEAMS, [team.id], mandatory=True, due_rule="start+90")
    make_rule(course, AudienceKind.DEPARTMENTS, [team.department_id], mandatory=False, due_rule="2026-05-01")
    make_rule(course, AudienceKind.ROLES, [Role.EMPLOYEE.value], mandatory=False)  # no due date at all
    member = make_user(team=team, start_date=date(2026, 4, 1))
    outsider = make_user()
    assert counts(apply()) == (2, 0, 0, 0)
    after = rows()
    assert after[(member.id, course.id)]["mandatory"] is True
    assert after[(member.id, course.id)]["due_on"] == date(2026, 5, 1)
    assert after[(member.id, course.id)]["rule_id"] == strict
    assert after[(outsider.id, course.id)]["mandatory"] is False
    assert after[(outsider.id, course.id)]["due_on"] == TODAY + timedelta(days=60)


def test_each_kind_of_audience(make_department, make_team, make_user, make_course, make_rule, make_phase, apply,
                               rows):
    rathaus, bauamt, kita = make_department(), make_department(), make_department()
    team_a = make_team(department=rathaus)
    team_b = make_team(department=rathaus)
    team_c = make_team(department=bauamt)
    team_d = make_team(department=kita)
    a, b, c, d = (make_user(team=t) for t in (team_a, team_b, team_c, team_d))
    lead = make_user(roles={Role.MANAGER}, team=team_d)
    nobody = make_user()  # no team
    gone = make_user(team=team_a, active=False)
    own_phase = make_phase(go_live=date(2026, 7, 1), departments=[rathaus])
    chosen_phase = make_phase(go_live=date(2026, 8, 1), departments=[bauamt, kita])
    courses = {name: make_course(phase=own_phase if name == "phase-own" else None)
               for name in ("everyone", "departments", "teams", "roles", "phase-own", "phase-chosen")}
    make_rule(courses["everyone"])
    make_rule(courses["departments"], AudienceKind.DEPARTMENTS, [bauamt.id, kita.id])
    make_rule(courses["teams"], AudienceKind.TEAMS, [team_b.id])
    make_rule(courses["roles"], AudienceKind.ROLES, [Role.MANAGER.value])
    make_rule(courses["phase-own"], AudienceKind.PHASE, due_rule="golive+0")
    make_rule(courses["phase-chosen"], AudienceKind.PHASE, [chosen_phase.id], due_rule="golive+0")
    apply()
    assigned = rows()

    def who(name):
        return {user_id for user_id, course_id in assigned if course_id == courses[name].id}

    assert who("everyone") == {a.id, b.id, c.id, d.id, lead.id, nobody.id}
    assert gone.id not in who("everyone")
    assert who("departments") == {c.id, d.id, lead.id}
    assert who("teams") == {b.id}
    assert who("roles") == {lead.id}
    assert who("phase-own") == {a.id, b.id}
    assert who("phase-chosen") == {c.id, d.id, lead.id}
    assert assigned[(a.id, courses["phase-own"].id)]["due_on"] == date(2026, 7, 1)
    assert assigned[(c.id, courses["phase-chosen"].id)]["due_on"] == date(2026, 8, 1)


def test_inactive_rules_and_archived_courses_assign_nothing(make_user, make_course, make_rule, apply, rows):
    make_rule(make_course(), active=False)
    make_rule(make_course(archived_at=utcnow()))
    make_user()
    assert counts(apply()) == (0, 0, 0, 0)
    assert rows() == {}


def test_a_deactivated_person_loses_only_what_they_had_not_started(
        make_user, make_course, make_rule, apply, rows, change):
    course = make_course()
    make_rule(course)
    idle, started, done = make_user(), make_user(), make_user()
    apply()
    current = rows()
    change(Assignment, current[(started.id, course.id)]["id"], started_at=utcnow())
    change(Assignment, current[(done.id, course.id)]["id"], started_at=utcnow(), completed_at=utcnow())
    with_ids = {idle.id, started.id, done.id}
    for person in (idle, started, done):
        change(User, person.id, active=False)
    assert counts(apply(TODAY, with_ids)) == (0, 0, 1, 1)
    after = rows()
    assert (idle.id, course.id) not in after
    assert after[(started.id, course.id)]["unmatched_since"] is not None
    assert after[(done.id, course.id)]["unmatched_since"] is None
    assert counts(apply()) == (0, 0, 0, 0)


def test_self_enrolled_assignments_are_never_touched(make_user, make_course, make_rule, make_assignment, apply,
                                                     rows):
    course, other = make_course(), make_course()
    make_rule(course, due_rule="assigned+5")
    person = make_user()
    mine = make_assignment(person, course, mandatory=False, due_on=None)
    elsewhere = make_assignment(person, other, mandatory=False, due_on=None)
    assert counts(apply()) == (0, 0, 0, 0)
    after = rows()
    assert after[(person.id, course.id)]["id"] == mine.id and after[(person.id, course.id)]["rule_id"] is None
    assert after[(person.id, course.id)]["mandatory"] is False and after[(person.id, course.id)]["due_on"] is None
    assert after[(person.id, other.id)]["id"] == elsewhere.id


def test_only_the_given_people_are_considered(make_user, make_course, make_rule, apply, rows):
    course = make_course()
    make_rule(course)
    first, second = make_user(), make_user()
    assert counts(apply(TODAY, {first.id})) == (1, 0, 0, 0)
    assert set(rows()) == {(first.id, course.id)}
    assert counts(apply(TODAY, set())) == (0, 0, 0, 0)
    assert counts(apply()) == (1, 0, 0, 0)
    assert set(rows()) == {(first.id, course.id), (second.id, course.id)}


def test_concurrent_runs_cannot_create_a_duplicate(app, make_user, make_course, make_rule, rows):
    course = make_course()
    rule = make_rule(course)
    person = make_user()
    pair = {"user_id": person.id, "course_id": course.id, "rule_id": rule, "mandatory": True,
            "assigned_on": TODAY, "due_on": None}
    with app.app_context():
        assert insert_assignments([pair]) == 1
        db.session.commit()
    with app.app_context():  # a second run that decided on the same pair before the first committed
        assert insert_assignments([dict(pair), dict(pair, user_id=person.id)]) == 0
        db.session.commit()
        assert db.session.scalar(select(func.count()).select_from(Assignment)) == 1
    with app.app_context():
        db.session.add(Assignment(user_id=person.id, course_id=course.id, assigned_on=TODAY))
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()
    with app.app_context():
        assert apply_rules(TODAY).created == 0
    assert len(rows()) == 1


def test_a_run_that_loses_the_race_inserts_nothing(app, make_user, make_course, make_rule, monkeypatch, rows):
    """Run B commits the same assignments after run A has decided on them but before A inserts."""
    from learning.training import rules

    course = make_course()
    make_rule(course)
    make_user()
    make_user()
    original = rules.insert_assignments
    raced = []

    def insert_after_a_rival(rows_to_insert):
        if not raced:
            raced.append(True)
            with app.app_context():  # another session, as another process would have
                assert apply_rules(TODAY).created == 2
        return original(rows_to_insert)

    monkeypatch.setattr(rules, "insert_assignments", insert_after_a_rival)
    with app.app_context():
        assert apply_rules(TODAY).created == 0
    assert raced and len(rows()) == 2


def test_apply_runs_a_fixed_number_of_statements(make_team, make_user, make_course, make_rule, apply,
                                                 count_queries, change, rows):
    team = make_team()
    courses = [make_course(lessons=1, quiz=False) for _ in range(3)]
    make_rule(courses[0], due_rule="start+7")
    make_rule(courses[1], AudienceKind.ROLES, [Role.EMPLOYEE.value])
    make_rule(courses[2], AudienceKind.TEAMS, [team.id], due_rule="start+7")

    def statements_for(n_people: int) -> list[int]:
        people = [make_user(team=team, start_date=date(2026, 5, 1)) for _ in range(n_people)]
        seen = []
        with count_queries() as first:
            apply()
        seen.append(len(first))
        for person in people:  # every kind of write: update, withdraw, keep
            change(User, person.id, start_date=date(2026, 6, 1), team_id=None)
        current = rows()
        change(Assignment, current[(people[0].id, courses[2].id)]["id"], started_at=utcnow())
        with count_queries() as second:
            apply()
        seen.append(len(second))
        return seen

    small = statements_for(2)
    large = statements_for(12)
    assert small == large


def test_rule_summary_counts_assigned_and_completed(app, make_user, make_course, make_rule, apply, rows, change):
    course = make_course()
    rule = make_rule(course)
    people = [make_user() for _ in range(4)]
    apply()
    change(Assignment, rows()[(people[0].id, course.id)]["id"], completed_at=utcnow())
    with app.app_context():
        summary = rule_summary()
    assert summary[rule].assigned == 4 and summary[rule].completed == 1 and summary[rule].percent == 25


# Signal and command --------------------------------------------------------------------


def test_a_person_created_by_an_admin_gets_their_courses_at_once(app, client, people, login, make_course,
                                                                 make_rule):
    course = make_course()
    make_rule(course, AudienceKind.TEAMS, [people["team"].id], due_rule="assigned+30")
    login(client, "admin")
    response = client.submit("/admin/people/new", {
        "first_name": "Neu", "last_name": "Eingestellt", "email": "neu@example.org", "username": "",
        "employee_number": "", "start_date": "2026-12-01", "team_id": str(people["team"].id), "locale": "",
        "roles": ["employee"]})
    assert response.status_code == 302
    with app.app_context():
        hire = db.session.scalar(select(User).where(User.email == "neu@example.org"))
        assignment = db.session.scalar(select(Assignment).where(Assignment.user_id == hire.id))
        assert assignment is not None and assignment.course_id == course.id
        assert assignment.due_on == assignment.assigned_on + timedelta(days=30)
        # Only the changed person was considered: the existing team member has nothing yet.
        assert db.session.scalar(select(func.count()).select_from(Assignment)) == 1
    # Deactivating withdraws it again (nothing started).
    client.submit(f"/admin/people/{hire.id}/active", {"active": "0"})
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Assignment)) == 0


def test_a_failing_rule_run_rolls_the_new_person_back(app, client, people, login, make_course, make_rule,
                                                     monkeypatch):
    """The rules run in the unit of work that creates the person: both are committed, or neither."""
    from learning.training import rules

    make_rule(make_course(), AudienceKind.TEAMS, [people["team"].id], due_rule="assigned+30")

    def broken(*args, **kwargs):
        raise IntegrityError("INSERT INTO assignment", {}, Exception("the assignments cannot be written"))

    monkeypatch.setattr(rules, "assign_by_rules", broken)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    login(client, "admin")
    response = client.submit("/admin/people/new", {
        "first_name": "Neu", "last_name": "Eingestellt", "email": "neu@example.org", "username": "",
        "employee_number": "", "start_date": "2026-12-01", "team_id": str(people["team"].id), "locale": "",
        "roles": ["employee"]})
    assert response.status_code == 500
    with app.app_context():
        assert db.session.scalar(select(User).where(User.email == "neu@example.org")) is None
        assert db.session.scalar(select(func.count()).select_from(Assignment)) == 0


def test_the_assign_command_prints_the_counts(app, make_user, make_course, make_rule):
    make_rule(make_course())
    make_user()
    make_user()
    if "courses" not in app.cli.commands:
        app.cli.add_command(courses_cli)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["courses", "assign"])
    assert result.exit_code == 0, result.output
    assert "created: 2, updated: 0, withdrawn: 0" in result.output
    assert "created: 0, updated: 0, withdrawn: 0" in runner.invoke(args=["courses", "assign"]).output


# Pages ---------------------------------------------------------------------------------


def _due(days="", direction="after", anchor="assigned", day="") -> dict:
    """The due-rule component as a browser sends it: "[days] days [after|before] [anchor]" or a fixed date."""
    return {"due_rule-days": days, "due_rule-direction": direction, "due_rule-anchor": anchor, "due_rule-date": day}


def _rule_form(course, **changes) -> dict:
    data = {"course_id": str(course.id), "audience": "everyone", "mandatory": "y", **_due("30")}
    data.update(changes)
    return data


def test_the_project_group_creates_a_rule_and_sees_the_counts(app, client, people, login, make_course):
    course = make_course(title="E-Akte Grundlagen")
    login(client, "projectgroup")
    form = client.get("/learning/rules/new")
    assert form.status_code == 200 and "E-Akte Grundlagen" in form.get_data(as_text=True)
    response = client.submit("/learning/rules/new", _rule_form(course, audience="teams",
                                                               team_ids=[str(people["team"].id)]))
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Assignments: 1 created, 0 updated, 0 withdrawn, 0 kept" in page
    with app.app_context():
        rule = db.session.scalar(select(AssignmentRule))
        assert (rule.audience, rule.audience_values, rule.mandatory, rule.due_rule) == \
            ("teams", [people["team"].id], True, "assigned+30")
        assert rule.created_by_id == people["project_group"].id
        assignment = db.session.scalar(select(Assignment))
        assert (assignment.user_id, assignment.rule_id) == (people["employee"].id, rule.id)
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "training.rule_created"))
        assert entry.actor_id == people["project_group"].id and entry.target_id == rule.id
        assert entry.details["created"] == 1
    listing = client.get("/learning/rules").get_data(as_text=True)
    assert "E-Akte Grundlagen" in listing
    assert "Teams: " in listing and "Bürgerbüro" in listing
    assert "30 days after assignment" in listing
    assert re.search(r">1</a>\s*</td>\s*<td[^>]*>0</td>\s*<td[^>]*>0 %</td>", listing)


def test_editing_a_rule_updates_due_dates(app, client, people, login, make_course, make_rule):
    course = make_course()
    rule = make_rule(course, due_rule="assigned+30")
    with app.app_context():
        apply_rules(local_today())
    login(client, "projectgroup")
    assert client.get(f"/learning/rules/{rule}").status_code == 200
    response = client.submit(f"/learning/rules/{rule}", _rule_form(course, **_due(day="31.1.2030")))  # German
    assert response.status_code == 302
    with app.app_context():
        dues = set(db.session.scalars(select(Assignment.due_on)))
        assert dues == {date(2030, 1, 31)}
        assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "training.rule_updated")).details[
            "updated"] == 4


@pytest.mark.parametrize(("rule", "days", "direction", "anchor", "day"), [
    ("golive-7", "7", "before", "golive", ""),
    ("start+14", "14", "after", "start", ""),
    ("2030-01-31", "", "after", "start", "2030-01-31"),
])
def test_a_due_rule_is_shown_as_a_number_and_two_choices_never_as_code(
        app, client, people, login, make_course, make_phase, make_rule, rule, days, direction, anchor, day):
    course = make_course(phase=make_phase())
    rule_id = make_rule(course, due_rule=rule)
    login(client, "projectgroup")
    page = client.get(f"/learning/rules/{rule_id}").get_data(as_text=True)
    assert f'name="due_rule-days" value="{days}"' in page and f'name="due_rule-date" value="{day}"' in page
    assert re.search(rf'<option value="{direction}" selected>', page)
    assert re.search(rf'<option value="{anchor}" selected>', page)
    assert "start+14" not in page and "golive-7" not in page  # no code syntax, not even in the hint
    response = client.submit(f"/learning/rules/{rule_id}", _rule_form(course, **_due(days, direction, anchor, day)))
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(AssignmentRule, rule_id).due_rule == rule


def test_employees_cannot_reach_the_rule_pages(client, people, login, make_course, make_rule):
    rule = make_rule(make_course())
    login(client, "employee")
    for url in ("/learning/rules", "/learning/rules/new", f"/learning/rules/{rule}", f"/learning/rules/{rule}/people"):
        assert client.get(url).status_code == 403, url
    assert client.submit(f"/learning/rules/{rule}/active", {"active": "0"}).status_code == 403
    assert client.submit("/learning/rules/new", _rule_form(make_course())).status_code == 403


@pytest.mark.parametrize(("changes", "message"), [
    (_due("next friday"), "Enter a whole number of days from 0 to 9999."),
    (_due("12345"), "Enter a whole number of days from 0 to 9999."),
    (_due(day="30.02.2026"), "Enter a date such as 31.03.2027 (day, month, year)."),
    (_due(day="2026-02-30"), "Enter a date such as 31.03.2027 (day, month, year)."),
    (_due(day="31.12.9999"), "Enter a date between 01.01.1900 and 31.12.2100."),
    (_due("14", day="2030-01-31"), "Enter either a number of days or a fixed date, not both."),
    (_due("14", anchor="tomorrow"), "Please choose what the days count from."),
    ({"audience": "departments"}, "Please choose at least one department."),
    ({"audience": "roles"}, "Please choose at least one role."),
    ({"audience": "phase"}, "This course belongs to no rollout phase. Please choose one."),
    (_due("3", anchor="golive"), "there is no go-live date to count from"),
    ({"course_id": ""}, "Please choose a course."),
    ({"audience": "nobody"}, "Not a valid choice"),
])
def test_invalid_input_is_explained_and_changes_nothing(app, client, people, login, make_course, changes, message):
    course = make_course()
    login(client, "projectgroup")
    response = client.submit("/learning/rules/new", _rule_form(course, **changes))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert message in page and "Please check your entries" in page
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AssignmentRule)) == 0
        assert db.session.scalar(select(func.count()).select_from(Assignment)) == 0


@pytest.mark.parametrize(("changes", "field", "kind", "chosen"), [
    ({"audience": "everyone", "department_ids": "DEPARTMENT"}, "department_ids", "Selected departments", "Everyone"),
    ({"audience": "roles", "roles": "manager", "team_ids": "TEAM"}, "team_ids", "Selected teams",
     "People with selected roles"),
    ({"audience": "teams", "team_ids": "TEAM", "phase_id": "PHASE"}, "phase_id",
     "The departments affected by a rollout phase", "Selected teams"),
    ({"audience": "everyone", "roles": "employee"}, "roles", "People with selected roles", "Everyone"),
])
def test_a_contradictory_audience_is_refused_on_the_field(app, client, people, login, make_course, make_phase,
                                                          changes, field, kind, chosen):
    """Values ticked for a kind not chosen would be ignored without a word: refused on their own field."""
    phase = make_phase()
    course = make_course(phase=phase)
    ids = {"DEPARTMENT": str(people["team"].department_id), "TEAM": str(people["team"].id), "PHASE": str(phase.id)}
    login(client, "projectgroup")
    data = _rule_form(course, **{name: ids.get(value, value) for name, value in changes.items()})
    response = client.submit("/learning/rules/new", data)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    error = re.search(rf'<p class="kern-error" id="{field}-error">(.*?)</p>', page, re.S)
    assert error, page
    assert f'This applies only to "{kind}", but "{chosen}" is chosen above.' in html.unescape(error.group(1))
    assert f'href="#{field}"' in page  # listed in the error summary, linked to the field
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AssignmentRule)) == 0


def test_a_rule_edited_without_changes_keeps_its_audience(app, client, people, login, make_course, make_rule):
    """The edit form shows the stored audience alone, so saving it unchanged is no contradiction."""
    course = make_course()
    rule = make_rule(course, AudienceKind.TEAMS, [people["team"].id])
    login(client, "projectgroup")
    page = client.get(f"/learning/rules/{rule}").get_data(as_text=True)
    assert re.search(rf'<input[^>]*checked[^>]*id="team_ids-\d+"[^>]*value="{people["team"].id}"', page) or \
        re.search(rf'<input[^>]*value="{people["team"].id}"[^>]*checked', page)
    response = client.submit(f"/learning/rules/{rule}", _rule_form(course, audience="teams",
                                                                    team_ids=str(people["team"].id)))
    assert response.status_code == 302
    with app.app_context():
        saved = db.session.get(AssignmentRule, rule)
        assert (saved.audience, saved.audience_values) == ("teams", [people["team"].id])


def test_the_contradiction_message_is_german_for_german_readers(client, people, login, make_course):
    course = make_course()
    login(client, "projectgroup")
    page = client.submit("/learning/rules/new", _rule_form(course, department_ids=str(people["team"].department_id)),
                         headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert "Das gilt nur für „Ausgewählte Fachbereiche“, gewählt ist aber „Alle Beschäftigten“." in page


def test_the_due_rule_component_speaks_german(app, client, people, login, make_course):
    course = make_course()
    login(client, "projectgroup")
    german = {"Accept-Language": "de"}
    form = client.get("/learning/rules/new", headers=german).get_data(as_text=True)
    for words in (">Tage</label>", ">nach</option>", ">vor</option>", ">Arbeitsbeginn</option>", ">Go-live</option>",
                  ">Zuweisung</option>", "oder ein festes Datum"):
        assert words in form, words
    page = client.submit("/learning/rules/new", _rule_form(course, **_due("bald")), headers=german)
    page = page.get_data(as_text=True)
    assert 'lang="de"' in page and 'id="due_rule-error"' in page and 'aria-invalid="true"' in page
    assert "Geben Sie eine ganze Zahl von Tagen zwischen 0 und 9999 ein." in page
    assert 'href="#due_rule"' in page and 'fieldset id="due_rule"' in page  # the summary leads to the group


def test_switching_a_rule_off_withdraws_unless_another_rule_matches(app, client, people, login, make_course,
                                                                    make_rule, change):
    course, other_course = make_course(), make_course()
    rule = make_rule(course)
    make_rule(course, AudienceKind.TEAMS, [people["team"].id], mandatory=False)
    make_rule(other_course)
    with app.app_context():
        apply_rules(local_today())
        started = db.session.scalar(select(Assignment).where(Assignment.user_id == people["manager"].id,
                                                             Assignment.course_id == course.id))
        started.started_at = utcnow()
        db.session.commit()
    login(client, "projectgroup")
    response = client.submit(f"/learning/rules/{rule}/active", {"active": "0"})
    assert response.status_code == 302
    with app.app_context():
        holders = {a.user_id: a
                   for a in db.session.scalars(select(Assignment).where(Assignment.course_id == course.id))}
        # The employee's team has a rule of its own; the manager had started; the others lose it.
        assert set(holders) == {people["employee"].id, people["manager"].id}
        assert holders[people["employee"].id].mandatory is False
        assert holders[people["manager"].id].unmatched_since is not None
        assert db.session.scalar(select(func.count()).select_from(Assignment)
                                 .where(Assignment.course_id == other_course.id)) == 4
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "training.rule_deactivated"))
        assert entry.details["withdrawn"] == 2 and entry.details["kept_unmatched"] == 1
        assert db.session.get(AssignmentRule, rule).active is False
    page = client.get(f"/learning/rules/{rule}").get_data(as_text=True)
    assert "This rule is switched off." in page
    client.submit(f"/learning/rules/{rule}/active", {"active": "1"})
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Assignment)
                                 .where(Assignment.course_id == course.id)) == 4
        assert db.session.get(AssignmentRule, rule).active is True


def test_the_people_page_shows_progress_and_is_audited(app, client, people, login, make_course, make_rule, change):
    course = make_course()
    rule = make_rule(course, due_rule="assigned-1")  # overdue from the start
    make_rule(course, AudienceKind.TEAMS, [people["team"].id], due_rule="2099-01-01")
    with app.app_context():
        apply_rules(local_today())
        by_user = {a.user_id: a for a in db.session.scalars(select(Assignment))}
        by_user[people["employee"].id].completed_at = utcnow()  # assigned by the stricter overall rule
        by_user[people["admin"].id].completed_at = utcnow()
        db.session.commit()
    login(client, "projectgroup")
    response = client.get(f"/learning/rules/{rule}/people")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Person 1" in page and "Overdue" in page and "Done" in page
    assert "recorded in the audit log" in page
    client.get(f"/learning/rules/{rule}/people")
    with app.app_context():
        entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "training.rule_people_viewed")).all()
        assert len(entries) == 2
        assert {(e.actor_id, e.target_type, e.target_id) for e in entries} == {
            (people["project_group"].id, "assignmentrule", rule)}


def test_a_missing_rule_is_not_found(client, people, login):
    login(client, "admin")
    assert client.get("/learning/rules/999").status_code == 404
    assert client.get("/learning/rules/999/people").status_code == 404
    assert client.submit("/learning/rules/999/active", {"active": "0"}).status_code == 404


def test_the_rules_list_runs_a_fixed_number_of_queries(app, client, people, login, make_department, make_team,
                                                       make_user, make_course, make_rule, make_phase, count_queries):
    login(client, "projectgroup")

    def add_rules(n: int) -> None:
        for _ in range(n):
            department = make_department()
            team = make_team(department=department)
            make_user(team=team)
            phase = make_phase(departments=[department])
            make_rule(make_course(phase=phase), AudienceKind.TEAMS, [team.id], due_rule="start+7")
            make_rule(make_course(phase=phase), AudienceKind.PHASE)
            make_rule(make_course(), AudienceKind.DEPARTMENTS, [team.department_id], mandatory=False)
            make_rule(make_course(), AudienceKind.ROLES, [Role.MANAGER.value])
        with app.app_context():
            apply_rules(local_today())

    def queries() -> int:
        with count_queries() as statements:
            response = client.get("/learning/rules")
        assert response.status_code == 200
        return len(statements)

    add_rules(1)
    small = queries()
    add_rules(5)
    assert queries() == small
