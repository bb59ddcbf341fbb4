"""What the home page shows each role, each in a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from learning.audit.models import AuditEntry
from learning.db import db
from learning.org.models import Department, Team, User


@dataclass
class OrgFigures:
    departments: int
    teams: int
    people: int
    starting_soon: int
    without_password: int
    inactive: int


def org_figures(today: date) -> OrgFigures:
    """The organisation's counts: units in two queries, people in one pass over the table."""
    active = User.active.is_(True)
    people, starting_soon, without_password, inactive = db.session.execute(
        select(func.count().filter(active),
               func.count().filter(active, User.start_date > today, User.start_date <= today + timedelta(days=30)),
               func.count().filter(active, User.password_hash.is_(None)),
               func.count().filter(User.active.is_(False))).select_from(User)
    ).one()
    return OrgFigures(
        departments=db.session.scalar(select(func.count()).select_from(Department).where(Department.active)),
        teams=db.session.scalar(select(func.count()).select_from(Team).where(Team.active)),
        people=people, starting_soon=starting_soon, without_password=without_password, inactive=inactive,
    )


def my_colleagues(user: User) -> Team | None:
    """The user's own team with its managers loaded."""
    if user.team_id is None:
        return None
    return db.session.scalar(
        select(Team).where(Team.id == user.team_id)
        .options(selectinload(Team.managers), selectinload(Team.department))
    )


def managed_teams(user: User) -> list[Team]:
    """The teams a manager leads, with their active members."""
    teams = db.session.scalars(
        select(Team).join(Team.managers).where(User.id == user.id).order_by(Team.name)
        .options(selectinload(Team.members), selectinload(Team.department))
    ).all()
    for team in teams:
        team.active_members = [m for m in team.members if m.active]
    return teams


def recent_audit(limit: int = 8) -> list[AuditEntry]:
    return db.session.scalars(
        select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit)
        .options(selectinload(AuditEntry.actor))
    ).all()
