"""Training reminders: newly assigned, due soon, due today, overdue (repeated), the managers' escalation digest;
for course authors, the review notices of drafts (``learning.training.authoring.notices``).

A new assignment is announced the moment it is made (``learning.training.rules`` calls
``announce_now``): in the notification centre at once, by mail with the person's next digest. Its
planner only catches assignments that were made without that call (none today; a safety net).

Every planner is one query over open assignments; every checker one query over the rows' assignments.
An assignment is open while it is neither completed nor withdrawn (course archived, no rule matching
any more) and its person is active.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, timedelta

from flask import current_app
from flask_babel import format_date, get_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import String, and_, cast, exists, select
from sqlalchemy.orm import aliased

from learning.db import db
from learning.i18n import due_in_words
from learning.messaging.reminders import Entry, Pending, PlanContext, Planned, reminder_kind, week_key
from learning.org.models import Team, User, team_manager
from learning.training.authoring import notices
from learning.training.models import Assignment, Course, CourseCompletion
from learning.training.rules import ASSIGNED_KIND, assigned_reminder

TEAM_PAGE = "metrics.team"  # the manager's team readiness, where it exists
ASSIGNED_LOOKBACK_DAYS = 2  # the planner's safety net: assignments of the last days not yet announced
ESCALATION_LIST_LIMIT = 50  # people listed in one escalation mail; the rest are counted

assigned = reminder_kind(
    ASSIGNED_KIND, label=_l("New training assigned"), order=9, lookback_days=ASSIGNED_LOOKBACK_DAYS + 1,
    description=_l("When a course is assigned to you (by a rule or for your first weeks): at once in the "
                   "notification centre, and by mail with your next digest."))
due_soon = reminder_kind(
    "training.due_soon", label=_l("Training due soon"), order=10,
    description=_l("A few days before a course you were assigned is due."))
due_today = reminder_kind(
    "training.due_today", label=_l("Training due today"), order=11,
    description=_l("On the day a course you were assigned is due."))
overdue = reminder_kind(
    "training.overdue", label=_l("Training overdue"), order=12,
    lookback_days=lambda config: config["REMINDER_OVERDUE_EVERY_DAYS"] * config["REMINDER_OVERDUE_TIMES"] + 1,
    description=_l("When a course is past its due date, repeated a few times. Overdue mandatory training is "
                   "always reminded."))
escalation = reminder_kind(
    "training.escalation", label=_l("Overdue mandatory training in your teams"), order=13, optional=False,
    lookback_days=8,
    description=_l("For managers: once a week, the mandatory training of their staff that is long overdue."))
# Course authoring: announced when a review is asked for or given (``notices``), never planned by the run.
review_requested = reminder_kind(
    notices.REVIEW_REQUESTED_KIND, label=_l("Review of a course draft requested"), order=14, lookback_days=1,
    applies_to=notices.concerns_authors,
    description=_l("For course authors and the project group: when someone asks for a review of a draft of a "
                   "course you may edit. At once in the notification centre, and by mail with your next digest."))
draft_reviewed = reminder_kind(
    notices.DRAFT_REVIEWED_KIND, label=_l("Comments and approvals of course drafts"), order=15, lookback_days=1,
    applies_to=notices.concerns_authors,
    description=_l("For course authors and the project group: when someone comments on or approves a draft you "
                   "asked a review for or saved last."))

review_requested.planner(notices.plan_nothing)
review_requested.checker(notices.review_request_still_due)
review_requested.shown_while(notices.review_request_open)
review_requested.describer(notices.describe_review_request)
draft_reviewed.planner(notices.plan_nothing)
draft_reviewed.checker(notices.draft_reviewed_still_due)
draft_reviewed.shown_while(notices.draft_reviewed_open)
draft_reviewed.describer(notices.describe_draft_reviewed)


def _not_completed():
    return ~exists().where(CourseCompletion.user_id == Assignment.user_id,
                           CourseCompletion.course_id == Assignment.course_id)


def _open(*columns):
    """Assignments a person still has to do: not completed, not withdrawn, person active, course offered."""
    return (
        select(*columns)
        .join(User, User.id == Assignment.user_id)
        .join(Course, Course.id == Assignment.course_id)
        .where(User.active, Assignment.completed_at.is_(None), Assignment.unmatched_since.is_(None),
               Course.archived_at.is_(None), _not_completed())
    )


def _open_assignments(*columns):
    """Open assignments with a due date (the due reminders are about those)."""
    return _open(*columns).where(Assignment.due_on.is_not(None))


def _assignment_rows(ctx: PlanContext, *conditions):
    return db.session.execute(_open_assignments(
        Assignment.id, Assignment.user_id, Assignment.course_id, Assignment.due_on, Assignment.mandatory,
    ).where(*conditions)).all()


def _payload(row) -> dict:
    return {"assignment_id": row.id, "course_id": row.course_id, "due_on": row.due_on.isoformat()}


@due_soon.planner
def plan_due_soon(ctx: PlanContext) -> list[Planned]:
    days = ctx.config["REMINDER_DUE_SOON_DAYS"]
    if not days:
        return []
    rows = _assignment_rows(ctx, Assignment.due_on > ctx.today, Assignment.due_on <= ctx.today + timedelta(days=days))
    return [Planned(r.user_id, f"assignment:{r.id}", f"soon:{r.due_on.isoformat()}", _payload(r)) for r in rows]


@due_today.planner
def plan_due_today(ctx: PlanContext) -> list[Planned]:
    rows = _assignment_rows(ctx, Assignment.due_on == ctx.today)
    return [Planned(r.user_id, f"assignment:{r.id}", f"today:{r.due_on.isoformat()}", _payload(r)) for r in rows]


def overdue_round(due_on: date, today: date, every: int) -> int:
    """Which overdue notice is due: 1 from the first day past the due date, 2 after ``every`` more days, ..."""
    return ((today - due_on).days - 1) // every + 1


@overdue.planner
def plan_overdue(ctx: PlanContext) -> list[Planned]:
    every, times = ctx.config["REMINDER_OVERDUE_EVERY_DAYS"], ctx.config["REMINDER_OVERDUE_TIMES"]
    if not times:
        return []
    oldest = ctx.today - timedelta(days=every * times)
    rows = _assignment_rows(ctx, Assignment.due_on < ctx.today, Assignment.due_on >= oldest)
    planned = []
    for r in rows:
        round_ = overdue_round(r.due_on, ctx.today, every)
        if round_ <= times:
            # Mandatory overdue notices are never switched off by a person's preferences.
            planned.append(Planned(r.user_id, f"assignment:{r.id}", f"overdue:{r.due_on.isoformat()}:{round_}",
                                   _payload(r), mandatory=r.mandatory))
    return planned


# New assignments -----------------------------------------------------------------------------------

@assigned.planner
def plan_assigned(ctx: PlanContext) -> list[Planned]:
    """Rule-made assignments of the last days (one query); those announced at once are in the outbox already."""
    since = ctx.now - timedelta(days=ASSIGNED_LOOKBACK_DAYS)
    rows = db.session.execute(_open(Assignment.id, Assignment.user_id, Assignment.course_id, Assignment.due_on)
                              .where(Assignment.rule_id.is_not(None), Assignment.assigned_at >= since,
                                     Assignment.assigned_at <= ctx.now)).all()
    return [assigned_reminder(r.id, r.user_id, r.course_id, r.due_on) for r in rows]


@assigned.checker
def assigned_still_open(items: Sequence[Pending], ctx: PlanContext) -> dict[int, dict]:
    """Rows whose assignment is still open (one query); a course done or withdrawn meanwhile needs no news."""
    ids = {i for i in map(_assignment_id, items) if i is not None}
    if not ids:
        return {}
    current = {r.id: r for r in db.session.execute(_open(
        Assignment.id, Assignment.user_id, Assignment.due_on, Assignment.mandatory, Course.slug, Course.title,
        Course.title_en).where(Assignment.id.in_(ids)))}
    result = {}
    for item in items:
        row = current.get(_assignment_id(item))
        if row is None or row.user_id != item.user_id:
            continue
        result[item.id] = {"assignment_id": row.id, "course_slug": row.slug, "course_title": row.title,
                           "course_title_en": row.title_en, "due_on": row.due_on.isoformat() if row.due_on else None,
                           "mandatory": row.mandatory}
    return result


@assigned.shown_while
def assignment_not_done(notification, today: date):
    """SQL: the notification's assignment is still open and the person's."""
    return _open(Assignment.id).where(Assignment.id == notification.details["assignment_id"].as_integer(),
                                      Assignment.user_id == notification.user_id).exists()


@assigned.describer
def describe_assigned(details: dict, today: date) -> Entry:
    if details.get("due_on"):
        due_on = date.fromisoformat(details["due_on"])
        detail = _("A course was assigned to you. Due on %(date)s (%(when)s).", date=format_date(due_on, "long"),
                   when=due_in_words(due_on, today))
    else:
        detail = _("A course was assigned to you.")
    if details.get("mandatory"):
        detail += " " + _("This training is mandatory.")
    return Entry(title=_course_title(details), detail=detail, endpoint="training.course",
                 values={"slug": details["course_slug"]})


# Re-check at send time ----------------------------------------------------------------------------

def _assignment_id(item: Pending) -> int | None:
    prefix, _sep, value = item.subject_key.partition(":")
    return int(value) if prefix == "assignment" and value.isdigit() else None


def _current(items: Sequence[Pending]) -> dict[int, object]:
    """The rows' assignments that are still open, with their course (one query)."""
    ids = {i for i in map(_assignment_id, items) if i is not None}
    if not ids:
        return {}
    rows = db.session.execute(_open_assignments(
        Assignment.id, Assignment.user_id, Assignment.due_on, Assignment.mandatory, Course.slug, Course.title,
        Course.title_en,
    ).where(Assignment.id.in_(ids))).all()
    return {r.id: r for r in rows}


def _still_open(items: Sequence[Pending], ctx: PlanContext) -> dict[int, dict]:
    """Rows whose assignment is still open with the same due date (a changed date plans anew)."""
    current = _current(items)
    result = {}
    for item in items:
        row = current.get(_assignment_id(item))
        if row is None or row.user_id != item.user_id or row.due_on.isoformat() != item.payload.get("due_on"):
            continue
        result[item.id] = {"assignment_id": row.id, "course_slug": row.slug, "course_title": row.title,
                           "course_title_en": row.title_en, "due_on": row.due_on.isoformat(),
                           "mandatory": row.mandatory}
    return result


due_soon.checker(_still_open)
due_today.checker(_still_open)
overdue.checker(_still_open)


def _date_text(column):
    """A date column as ISO text (``2026-03-02``) on SQLite and PostgreSQL, to compare with JSON details."""
    return cast(column, String)


def assignment_still_open(notification, today: date):
    """SQL: the notification's assignment is still open, the person's, with the same due date (as ``_still_open``)."""
    details = notification.details
    return _open_assignments(Assignment.id).where(
        Assignment.id == details["assignment_id"].as_integer(), Assignment.user_id == notification.user_id,
        _date_text(Assignment.due_on) == details["due_on"].as_string()).exists()


due_soon.shown_while(assignment_still_open)
due_today.shown_while(assignment_still_open)
overdue.shown_while(assignment_still_open)


# Texts ----------------------------------------------------------------------------------------------

def _course_title(details: dict) -> str:
    if str(get_locale()) == "en" and details.get("course_title_en"):
        return details["course_title_en"]
    return details.get("course_title", "")


def _describe(details: dict, today: date) -> Entry:
    due_on = date.fromisoformat(details["due_on"])
    detail = _("Due on %(date)s (%(when)s).", date=format_date(due_on, "long"), when=due_in_words(due_on, today))
    if details.get("mandatory"):
        detail += " " + _("This training is mandatory.")
    return Entry(title=_course_title(details), detail=detail, endpoint="training.course",
                 values={"slug": details["course_slug"]})


due_soon.describer(_describe)
due_today.describer(_describe)
overdue.describer(_describe)


# Escalation to managers -----------------------------------------------------------------------------

def _overdue_staff(ctx: PlanContext, manager_ids: set[int] | None = None):
    """(manager id, staff id, staff name, team, course, due date) of long-overdue mandatory training (one query)."""
    manager = aliased(User)
    cutoff = ctx.today - timedelta(days=ctx.config["REMINDER_ESCALATION_DAYS"])
    query = (
        _open_assignments(
            team_manager.c.user_id.label("manager_id"), Assignment.id, Assignment.user_id, User.first_name,
            User.last_name, Team.name.label("team"), Course.title, Course.title_en, Assignment.due_on)
        .join(Team, and_(Team.id == User.team_id, Team.active))
        .join(team_manager, team_manager.c.team_id == Team.id)
        .join(manager, and_(manager.id == team_manager.c.user_id, manager.active))
        .where(Assignment.mandatory, Assignment.due_on <= cutoff, team_manager.c.user_id != Assignment.user_id)
    )
    if manager_ids is not None:
        # Naming the staff's teams first lets the database start from them (indexes on team and person)
        # instead of from every assignment.
        teams = select(team_manager.c.team_id).where(team_manager.c.user_id.in_(manager_ids))
        query = query.where(team_manager.c.user_id.in_(manager_ids), User.team_id.in_(teams))
    return db.session.execute(query.order_by(Assignment.due_on, User.last_name, User.first_name)).all()


@escalation.planner
def plan_escalation(ctx: PlanContext) -> list[Planned]:
    counts: dict[int, set[int]] = defaultdict(set)
    for row in _overdue_staff(ctx):
        counts[row.manager_id].add(row.id)
    period = week_key(ctx.today)
    return [Planned(manager_id, "escalation", period, {"assignments": len(ids)}, mandatory=True)
            for manager_id, ids in counts.items()]


def _managers_see_individuals() -> bool:
    from learning.settings.services import setting

    return bool(setting("managers.training_individuals"))


@escalation.checker
def escalation_still_due(items: Sequence[Pending], ctx: PlanContext) -> dict[int, dict]:
    """The overdue list as it is now; a manager whose staff has caught up gets nothing."""
    rows_by_manager: dict[int, list] = defaultdict(list)
    for row in _overdue_staff(ctx, {item.user_id for item in items}):
        rows_by_manager[row.manager_id].append(row)
    individuals = _managers_see_individuals()
    result = {}
    for item in items:
        rows = list({r.id: r for r in rows_by_manager.get(item.user_id, [])}.values())
        if not rows:
            continue
        if individuals:
            listed = [{"name": f"{r.first_name} {r.last_name}", "team": r.team, "course": r.title,
                       "course_en": r.title_en, "due_on": r.due_on.isoformat()} for r in rows[:ESCALATION_LIST_LIMIT]]
            result[item.id] = {"count": len(rows), "people": listed, "teams": []}
        else:  # the privacy setting allows team figures only
            teams: dict[str, int] = defaultdict(int)
            for r in rows:
                teams[r.team] += 1
            result[item.id] = {"count": len(rows), "people": [],
                               "teams": [{"team": t, "count": n} for t, n in sorted(teams.items())]}
    return result


@escalation.describer
def describe_escalation(details: dict, today: date) -> Entry:
    english = str(get_locale()) == "en"
    lines = []
    for person in details.get("people", []):
        course = person["course_en"] if english and person.get("course_en") else person["course"]
        lines.append(_("%(name)s (%(team)s): %(course)s, %(when)s", name=person["name"], team=person["team"],
                       course=course, when=due_in_words(date.fromisoformat(person["due_on"]), today)))
    hidden = details["count"] - len(details.get("people", []))
    if details.get("people") and hidden > 0:
        lines.append(ngettext("and %(num)d more", "and %(num)d more", hidden))
    for team in details.get("teams", []):
        lines.append(ngettext("%(team)s: %(num)d overdue", "%(team)s: %(num)d overdue", team["count"],
                              team=team["team"]))
    return Entry(
        title=ngettext("%(num)d mandatory course long overdue in your teams",
                       "%(num)d mandatory courses long overdue in your teams", details["count"]),
        detail=_("Please talk to the people concerned and help them find time for it."),
        endpoint=TEAM_PAGE if TEAM_PAGE in current_app.view_functions else "home.index", lines=tuple(lines))
