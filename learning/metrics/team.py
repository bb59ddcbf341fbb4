"""Individual-level views of a manager's own team (mandatory training only) and open feedback."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from learning.db import db
from learning.feedback.models import OPEN_STATUSES, FeedbackPost
from learning.org.models import Team, User
from learning.phases.models import RolloutPhase
from learning.training.models import Assignment, Course


@dataclass
class MemberTraining:
    user: User
    total: int = 0
    done: int = 0
    overdue: list[tuple[Course, date]] = field(default_factory=list)


def member_training(team: Team, today: date) -> list[MemberTraining]:
    """Each active member's mandatory training: completed of total, overdue courses (two queries)."""
    members = {u.id: MemberTraining(u) for u in db.session.scalars(
        select(User).where(User.team_id == team.id, User.active).order_by(User.last_name, User.first_name))}
    for user_id, total, done in db.session.execute(
        select(Assignment.user_id, func.count(), func.count(Assignment.completed_at))
        .where(Assignment.user_id.in_(members), Assignment.mandatory).group_by(Assignment.user_id)
    ):
        members[user_id].total, members[user_id].done = total, done
    for user_id, course, due_on in db.session.execute(
        select(Assignment.user_id, Course, Assignment.due_on).join(Course, Course.id == Assignment.course_id)
        .where(Assignment.user_id.in_(members), Assignment.mandatory, Assignment.completed_at.is_(None),
               Assignment.due_on < today).order_by(Assignment.due_on)
    ):
        members[user_id].overdue.append((course, due_on))
    return list(members.values())


def open_feedback(phase: RolloutPhase | None, limit: int = 5) -> list[FeedbackPost]:
    """The most-voted open, visible feedback posts (of one phase or all)."""
    query = select(FeedbackPost).where(FeedbackPost.hidden.is_(False), FeedbackPost.status.in_(OPEN_STATUSES))
    if phase is not None:
        query = query.where(FeedbackPost.phase_id == phase.id)
    return db.session.scalars(query.order_by(FeedbackPost.vote_count.desc(), FeedbackPost.id.desc()).limit(limit)
                              .options(selectinload(FeedbackPost.phase))).all()
