"""The built-in metric sources: training, announcements and feedback (formulas of DESIGN.md)."""

from __future__ import annotations

from datetime import date, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, func, select

from learning.announcements.models import Acknowledgement, Announcement
from learning.db import db
from learning.feedback.models import CLOSED_STATUSES, FeedbackComment, FeedbackPost, FeedbackStatusChange
from learning.metrics.models import ORGANISATION
from learning.metrics.services import Metric, Tally, Units, Value, end_of_day, local_day, metric_source
from learning.org.audience import population
from learning.org.models import Role, User, UserRole
from learning.training.models import Assignment, Course

COMPLETION = Metric("training.completion", _l("Mandatory training completed"), "percent", True,
                    _l("Completed mandatory assignments out of all mandatory assignments."))
OVERDUE = Metric("training.overdue", _l("Overdue mandatory training"), "count", False,
                 _l("Mandatory assignments past their due date and not completed."))
COMPETENCE = Metric("training.time_to_competence", _l("Time to competence"), "days", False,
                    _l("Median days from assignment to completion of mandatory courses."))
ACKNOWLEDGED = Metric("announcements.acknowledged", _l("Announcements acknowledged"), "percent", True,
                      _l("Acknowledgements out of the people each announcement that must be acknowledged "
                         "addresses."))
CLOSURE = Metric("feedback.closure", _l("Feedback closed"), "percent", True,
                 _l("Posts answered, implemented or declined with a reason, out of all visible posts."),
                 per_unit=False)
FIRST_RESPONSE = Metric("feedback.first_response", _l("Time to first response"), "hours", False,
                        _l("Median hours from a post to the project group's first official answer or "
                           "status change (anonymous posts from the start of their day)."), per_unit=False)


@metric_source(COMPLETION, OVERDUE, COMPETENCE)
def training(day: date) -> list[Value]:
    """Two queries: counts per team and phase, then the completed assignments for the median."""
    end = end_of_day(day)
    units = Units.load()
    done = and_(Assignment.completed_at.is_not(None), Assignment.completed_at < end)
    mandatory = [Assignment.mandatory, Assignment.assigned_on <= day, User.active]
    tally = Tally()
    rows = db.session.execute(
        select(User.team_id, Course.phase_id, func.count(),
               func.sum(case((done, 1), else_=0)),
               func.sum(case((and_(~done, Assignment.due_on < day), 1), else_=0)))
        .join(User, User.id == Assignment.user_id).join(Course, Course.id == Assignment.course_id)
        .where(*mandatory).group_by(User.team_id, Course.phase_id)
    )
    for team_id, phase_id, total, completed, overdue in rows:
        tally.count(phase_id, units.of_team(team_id), total=total, done=completed or 0, overdue=overdue or 0)
    durations = Tally()
    for team_id, phase_id, assigned_on, completed_at in db.session.execute(
        select(User.team_id, Course.phase_id, Assignment.assigned_on, Assignment.completed_at)
        .join(User, User.id == Assignment.user_id).join(Course, Course.id == Assignment.course_id)
        .where(*mandatory, done)
    ):
        durations.sample(phase_id, units.of_team(team_id), max(0, (local_day(completed_at) - assigned_on).days))
    return (tally.rates(COMPLETION.key, "done", "total") + tally.totals(OVERDUE.key, "overdue", "total")
            + durations.medians(COMPETENCE.key))


@metric_source(ACKNOWLEDGED)
def acknowledgements(day: date) -> list[Value]:
    """Three queries: announcements to acknowledge, the population, the acknowledgements."""
    end = end_of_day(day)
    announcements = db.session.scalars(
        select(Announcement).where(Announcement.requires_ack, Announcement.publish_at.is_not(None),
                                   Announcement.publish_at < end, Announcement.withdrawn_at.is_(None))
    ).all()
    if not announcements:
        return []
    acknowledged = set(db.session.execute(
        select(Acknowledgement.announcement_id, Acknowledgement.user_id)
        .join(Announcement, Announcement.id == Acknowledgement.announcement_id)
        .where(Acknowledgement.announcement_id.in_([a.id for a in announcements]),
               Acknowledgement.version >= Announcement.substantive_version, Acknowledgement.acknowledged_at < end)
    ).all())
    units = Units.load()
    tally = Tally()
    for reader in population():
        for announcement in announcements:
            if announcement.addresses(reader):
                tally.count(announcement.phase_id, units.of_team(reader.team_id), targeted=1,
                            acknowledged=int((announcement.id, reader.user_id) in acknowledged))
    return tally.rates(ACKNOWLEDGED.key, "acknowledged", "targeted")


@metric_source(CLOSURE, FIRST_RESPONSE)
def feedback(day: date) -> list[Value]:
    """Organisation-wide per phase (posts may be anonymous, so never per unit); three queries."""
    end = end_of_day(day)
    posts = db.session.execute(
        select(FeedbackPost.id, FeedbackPost.phase_id, FeedbackPost.created_on, FeedbackPost.created_at)
        .where(FeedbackPost.created_on <= day, FeedbackPost.hidden.is_(False))
    ).all()
    if not posts:
        return []
    status: dict[int, str] = {}
    first_answer: dict[int, object] = {}
    for post_id, to_status, changed_at in db.session.execute(
        select(FeedbackStatusChange.post_id, FeedbackStatusChange.to_status, FeedbackStatusChange.changed_at)
        .where(FeedbackStatusChange.changed_at < end)
        .order_by(FeedbackStatusChange.changed_at, FeedbackStatusChange.id)
    ):
        status[post_id] = to_status
        first_answer.setdefault(post_id, changed_at)
    moderators = select(UserRole.user_id).where(UserRole.role.in_([Role.PROJECT_GROUP.value, Role.ADMIN.value]))
    for post_id, created_at in db.session.execute(
        select(FeedbackComment.post_id, func.min(FeedbackComment.created_at))
        .where(FeedbackComment.official | FeedbackComment.author_id.in_(moderators), FeedbackComment.created_at < end)
        .group_by(FeedbackComment.post_id)
    ):
        if post_id not in first_answer or created_at < first_answer[post_id]:
            first_answer[post_id] = created_at
    tally, waits = Tally(), Tally()
    organisation = [ORGANISATION]
    for post_id, phase_id, created_on, created_at in posts:
        closed = status.get(post_id) in CLOSED_STATUSES
        tally.count(phase_id, organisation, posts=1, closed=int(closed))
        if post_id in first_answer:
            start = created_at or end_of_day(created_on - timedelta(days=1))
            waits.sample(phase_id, organisation, max(0.0, (first_answer[post_id] - start).total_seconds() / 3600))
    return tally.rates(CLOSURE.key, "closed", "posts") + waits.medians(FIRST_RESPONSE.key)



from learning.surveys import metrics as _survey_metrics  # noqa: E402,F401  (after the others; until plugins.discover())
