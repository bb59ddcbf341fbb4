"""Use cases of change announcements: write, publish, read, acknowledge, measure, subscribe.

Visibility is time-based: an announcement is visible once ``publish_at`` has passed (no job
publishes it). Audiences are matched in Python against one list of published announcements,
so every page runs a fixed number of queries. Services flush (the caller's unit of work commits) and
raise a ``ServiceError`` (``NotFound``) whose message can be shown to the person.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import and_, select
from sqlalchemy.orm import joinedload, selectinload

from learning.announcements.models import (
    Acknowledgement,
    Announcement,
    AnnouncementStatus,
    AnnouncementVersion,
    FeedToken,
    new_feed_token,
)
from learning.audit.services import record
from learning.content import Profile, check, render_markdown
from learning.db import db, utcnow
from learning.errors import NotFound, ServiceError
from learning.org import audience
from learning.org.audience import AudienceKind, Person, matcher, person_for, population
from learning.org.models import Team, User
from learning.phases.models import RolloutPhase
from learning.privacy import suppress_small_groups

logger = logging.getLogger(__name__)

MAX_TITLE = 200
MAX_BODY = 20_000
MAX_REASON = 500
NEW_FOR_DAYS = 14  # an announcement counts as "new" on the home page this long after publication
HOME_LIMIT = 5
# An announcement's phase says where it appears, not who reads it: there is no phase audience.
AUDIENCE_KINDS = (AudienceKind.EVERYONE, AudienceKind.DEPARTMENTS, AudienceKind.TEAMS, AudienceKind.ROLES)


def render_body(text: str) -> Markup:
    """The preview of an announcement's Markdown, rendered exactly as ``Announcement.body_html`` is on saving.

    The page title is the h1, so the text's headings start at h2.
    """
    return render_markdown(text, Profile.EDITORIAL, top_heading=Announcement.__rendered__["body"].top_heading)


# Reading ----------------------------------------------------------------------------------

@dataclass
class AnnouncementItem:
    """An announcement as one person sees it: with whether they have acknowledged it."""

    announcement: Announcement
    acknowledged_version: int | None
    now: datetime

    @property
    def acknowledged(self) -> bool:
        return self.announcement.is_acknowledged_by(self.acknowledged_version)

    @property
    def needs_ack(self) -> bool:
        return self.announcement.requires_ack and not self.acknowledged

    @property
    def changed_since_ack(self) -> bool:
        """Acknowledged before, but changed substantively since: asked again."""
        return self.needs_ack and self.acknowledged_version is not None

    @property
    def is_new(self) -> bool:
        return self.announcement.publish_at >= self.now - timedelta(days=NEW_FOR_DAYS)

    @property
    def pinned(self) -> bool:
        """Pinned by the project group, or pinned for this person until they acknowledge."""
        return self.announcement.pinned or self.needs_ack


def _order(items: list[AnnouncementItem]) -> list[AnnouncementItem]:
    """Unacknowledged first, then pinned, then newest first."""
    return sorted(items, key=lambda i: (not i.needs_ack, not i.pinned, -i.announcement.publish_at.timestamp(),
                                        -i.announcement.id))


def _published(now: datetime):
    return and_(Announcement.publish_at.is_not(None), Announcement.publish_at <= now,
                Announcement.withdrawn_at.is_(None))


def visible_announcements(user: User, now: datetime | None = None, phase_id: int | None = None,
                          reader: Person | None = None, with_versions: bool = False) -> list[AnnouncementItem]:
    """The announcements a person may read, in reading order (two queries; three with the versions)."""
    now = now or utcnow()
    reader = reader or person_for(user)
    query = (
        select(Announcement, Acknowledgement.version)
        .outerjoin(Acknowledgement, and_(Acknowledgement.announcement_id == Announcement.id,
                                         Acknowledgement.user_id == user.id))
        .where(_published(now))
        .options(joinedload(Announcement.phase), joinedload(Announcement.created_by))
    )
    if phase_id is not None:
        query = query.where(Announcement.phase_id == phase_id)
    if with_versions:
        query = query.options(selectinload(Announcement.versions))
    items = [AnnouncementItem(a, version, now) for a, version in db.session.execute(query).unique()
             if a.addresses(reader)]
    return _order(items)


@dataclass
class HomeAnnouncements:
    items: list[AnnouncementItem]
    unacknowledged: int
    more: int


def home_announcements(user: User, now: datetime | None = None) -> HomeAnnouncements:
    """New and unacknowledged announcements for the home page."""
    relevant = [i for i in visible_announcements(user, now) if i.needs_ack or i.is_new]
    return HomeAnnouncements(items=relevant[:HOME_LIMIT], unacknowledged=sum(i.needs_ack for i in relevant),
                             more=max(len(relevant) - HOME_LIMIT, 0))


def announcement_for(user: User, announcement_id: int, now: datetime | None = None) -> AnnouncementItem:
    """One announcement with its version history, if the person may read it; else ``NotFound``.

    Not there, not yet published or not meant for the person: all the same 404, revealing nothing.
    """
    now = now or utcnow()
    row = db.session.execute(
        select(Announcement, Acknowledgement.version)
        .outerjoin(Acknowledgement, and_(Acknowledgement.announcement_id == Announcement.id,
                                         Acknowledgement.user_id == user.id))
        .where(Announcement.id == announcement_id, _published(now))
        .options(joinedload(Announcement.phase), joinedload(Announcement.created_by),
                 selectinload(Announcement.versions).joinedload(AnnouncementVersion.changed_by))
    ).first()
    if row is None or not row[0].addresses(person_for(user)):
        raise NotFound(_("This announcement does not exist."))
    return AnnouncementItem(row[0], row[1], now)


def acknowledge(user: User, announcement_id: int, now: datetime | None = None) -> bool:
    """Record "read and understood" for the current version; False when it was already recorded.

    A second click in another tab at the same moment fails its unit of work with an ``IntegrityError``
    at the flush: the first one counts.
    """
    now = now or utcnow()
    item = announcement_for(user, announcement_id, now)
    announcement = item.announcement
    if not announcement.requires_ack:
        raise ServiceError(_("This announcement does not ask for an acknowledgement."))
    if item.acknowledged:
        return False
    ack = db.session.scalar(select(Acknowledgement).where(Acknowledgement.announcement_id == announcement.id,
                                                          Acknowledgement.user_id == user.id))
    if ack is None:
        db.session.add(Acknowledgement(announcement_id=announcement.id, user_id=user.id,
                                       version=announcement.version, acknowledged_at=now))
    else:
        ack.version, ack.acknowledged_at = announcement.version, now
    db.session.flush()
    logger.info("Announcement %s acknowledged by %s (version %s)", announcement.id, user.id, announcement.version)
    return True


# Writing ----------------------------------------------------------------------------------

class Publication:
    DRAFT = "draft"
    NOW = "now"
    SCHEDULE = "schedule"


class ChangeKind:
    MINOR = "minor"
    SUBSTANTIVE = "substantive"


@dataclass
class AnnouncementData:
    """What the announcement form says; ``publish_at`` (aware) is used when scheduling."""

    title: str
    body: str
    phase_id: int | None = None
    audience: str = AudienceKind.EVERYONE.value
    audience_values: list = field(default_factory=list)
    publication: str = Publication.DRAFT
    publish_at: datetime | None = None
    pinned: bool = False
    requires_ack: bool = False
    change_kind: str | None = None
    reason: str = ""


def _normalise(data: AnnouncementData) -> AnnouncementData:
    title = (data.title or "").strip()
    body = (data.body or "").strip()
    reason = (data.reason or "").strip()
    if not title:
        raise ServiceError(_("Please enter a title."), "title")
    if len(title) > MAX_TITLE:
        raise ServiceError(_("The title may have at most %(max)d characters.", max=MAX_TITLE), "title")
    if not body:
        raise ServiceError(_("Please enter the text of the announcement."), "body")
    problem = check(body, MAX_BODY)
    if problem:
        raise ServiceError(problem, "body")
    if len(reason) > MAX_REASON:
        raise ServiceError(_("The reason may have at most %(max)d characters.", max=MAX_REASON), "reason")
    kind, values = audience.normalise(data.audience, data.audience_values, kinds=AUDIENCE_KINDS,
                                      message=_("Please choose who the announcement is for."))
    if data.publication not in (Publication.DRAFT, Publication.NOW, Publication.SCHEDULE):
        raise ServiceError(_("Please choose when the announcement is published."), "publication")
    if data.publish_at is not None and data.publish_at.tzinfo is None:
        raise ValueError("publish_at must be aware")
    return AnnouncementData(
        title=title, body=body, phase_id=data.phase_id, audience=kind.value, audience_values=values,
        publication=data.publication, publish_at=data.publish_at, pinned=bool(data.pinned),
        requires_ack=bool(data.requires_ack), change_kind=data.change_kind, reason=reason,
    )


def _check(data: AnnouncementData) -> None:
    if data.phase_id is not None and db.session.get(RolloutPhase, data.phase_id) is None:
        raise ServiceError(_("Please choose a rollout phase."), "phase_id")
    audience.check(data.audience, data.audience_values)


def _publish_at(data: AnnouncementData, current: datetime | None, now: datetime) -> datetime | None:
    if data.publication == Publication.DRAFT:
        return None
    if data.publication == Publication.NOW:
        return current if current is not None and current <= now else now
    if data.publish_at is None:
        raise ServiceError(_("Please enter the date and time of publication."), "publish_at")
    if data.publish_at <= now:
        raise ServiceError(_("The time of publication has passed. Choose a later time, or publish now."),
                                "publish_at")
    return data.publish_at


def _record_publication(actor: User, announcement: Announcement, before: datetime | None,
                        now: datetime) -> None:
    after = announcement.publish_at
    if after == before:
        return
    if after is None:
        record(actor, "announcement.unpublished", announcement, summary=announcement.title)
    elif after <= now:
        record(actor, "announcement.published", announcement, summary=announcement.title,
               publish_at=after.isoformat())
    else:
        record(actor, "announcement.scheduled", announcement, summary=announcement.title,
               publish_at=after.isoformat())


def _apply_settings(announcement: Announcement, data: AnnouncementData) -> None:
    announcement.phase_id = data.phase_id
    announcement.audience = data.audience
    announcement.audience_values = data.audience_values
    announcement.pinned = data.pinned
    announcement.requires_ack = data.requires_ack


def create_announcement(data: AnnouncementData, actor: User, now: datetime | None = None) -> Announcement:
    """Write a new announcement (draft, published or scheduled) as version 1."""
    now = now or utcnow()
    data = _normalise(data)
    _check(data)
    announcement = Announcement(title=data.title, body=data.body, created_by_id=actor.id, version=1,
                                substantive_version=1, publish_at=_publish_at(data, None, now))
    _apply_settings(announcement, data)
    announcement.versions.append(AnnouncementVersion(version=1, title=data.title, body=data.body, changed_at=now,
                                                     changed_by_id=actor.id, substantive=True))
    db.session.add(announcement)
    db.session.flush()
    record(actor, "announcement.created", announcement, summary=data.title, audience=data.audience,
           audience_values=data.audience_values, phase_id=data.phase_id, requires_ack=data.requires_ack)
    _record_publication(actor, announcement, None, now)
    db.session.flush()
    logger.info("Announcement %s created by %s", announcement.id, actor.id)
    return announcement


def update_announcement(announcement: Announcement, data: AnnouncementData, actor: User,
                        now: datetime | None = None) -> Announcement:
    """Change an announcement. Once published, a changed text becomes a new version: a minor edit
    keeps acknowledgements, a substantive change (with a reason) asks everyone to acknowledge again.
    Before publication the text of version 1 is simply corrected."""
    now = now or utcnow()
    data = _normalise(data)
    _check(data)
    # Withdrawn counts as published here: people may have read and acknowledged it before.
    was_published = announcement.publish_at is not None and announcement.publish_at <= now
    text_changed = (data.title, data.body) != (announcement.title, announcement.body)
    substantive = False
    before = announcement.publish_at
    new_publish_at = _publish_at(data, before, now)
    if text_changed and was_published:
        if data.change_kind not in (ChangeKind.MINOR, ChangeKind.SUBSTANTIVE):
            raise ServiceError(_("Please choose whether this is a minor edit or a substantive change."),
                                    "change_kind")
        substantive = data.change_kind == ChangeKind.SUBSTANTIVE
        if substantive and not data.reason:
            raise ServiceError(_("Please give the reason for the substantive change; readers see it."),
                                    "reason")
        announcement.version += 1
        if substantive:
            announcement.substantive_version = announcement.version
        announcement.versions.append(AnnouncementVersion(
            version=announcement.version, title=data.title, body=data.body, changed_at=now, changed_by_id=actor.id,
            substantive=substantive, reason=data.reason if substantive else (data.reason or ""),
        ))
    elif text_changed:
        current = next((v for v in announcement.versions if v.version == announcement.version), None)
        if current is None:  # defensive: the current version's row is always written
            current = AnnouncementVersion(version=announcement.version, substantive=True)
            announcement.versions.append(current)
        current.title, current.body, current.changed_at, current.changed_by_id = data.title, data.body, now, actor.id
    announcement.title, announcement.body = data.title, data.body
    announcement.publish_at = new_publish_at
    _apply_settings(announcement, data)
    record(actor, "announcement.updated", announcement, summary=data.title, version=announcement.version,
           text_changed=text_changed, substantive=substantive, reason=data.reason if text_changed else "",
           audience=data.audience, audience_values=data.audience_values, requires_ack=data.requires_ack)
    _record_publication(actor, announcement, before, now)
    db.session.flush()
    logger.info("Announcement %s updated by %s (version %s, substantive %s)", announcement.id, actor.id,
                announcement.version, substantive)
    return announcement


def set_withdrawn(announcement: Announcement, withdrawn: bool, actor: User, now: datetime | None = None) -> None:
    """Withdraw an announcement from every reader, or bring it back; acknowledgements are kept."""
    if withdrawn == (announcement.withdrawn_at is not None):
        return
    announcement.withdrawn_at = (now or utcnow()) if withdrawn else None
    record(actor, "announcement.withdrawn" if withdrawn else "announcement.restored", announcement,
           summary=announcement.title)
    db.session.flush()


# The project group's view -------------------------------------------------------------------

@dataclass
class Rate:
    acknowledged: int = 0
    targeted: int = 0
    # Set for groups too small to show (and their next-smallest sibling): see suppress_small_groups.
    hidden: bool = False

    @property
    def percent(self) -> int | None:
        if self.hidden or not self.targeted:
            return None
        return round(100 * self.acknowledged / self.targeted)

    def add(self, acknowledged: bool) -> None:
        self.targeted += 1
        self.acknowledged += int(acknowledged)


@dataclass
class UnitRate:
    """A department or team (None: people without a team) and its rate."""

    name: str | None
    department: str | None
    rate: Rate


@dataclass
class AckReport:
    """Acknowledgements of the current version among the people targeted now, overall and per unit."""

    overall: Rate
    departments: list[UnitRate]
    teams: list[UnitRate]
    unacknowledged_ids: list[int]


def _acknowledged_users(announcement_ids: list[int]) -> dict[int, set[int]]:
    """Who has acknowledged the current substantive version, per announcement (one query)."""
    result: dict[int, set[int]] = {i: set() for i in announcement_ids}
    if not announcement_ids:
        return result
    rows = db.session.execute(
        select(Acknowledgement.announcement_id, Acknowledgement.user_id)
        .join(Announcement, Announcement.id == Acknowledgement.announcement_id)
        .where(Acknowledgement.announcement_id.in_(announcement_ids),
               Acknowledgement.version >= Announcement.substantive_version)
    )
    for announcement_id, user_id in rows:
        result[announcement_id].add(user_id)
    return result


def _report(announcement: Announcement, people: list[Person], acknowledged: set[int]) -> AckReport:
    overall = Rate()
    departments: dict[str, UnitRate] = {}
    teams: dict[tuple[str, str], UnitRate] = {}
    missing = []
    addressed = matcher(announcement.audience, announcement.audience_values, {})
    for person in people:
        if not addressed(person):
            continue
        done = person.user_id in acknowledged
        overall.add(done)
        if not done:
            missing.append(person.user_id)
        department, team = person.department_name, person.team_name
        departments.setdefault(department, UnitRate(department, None, Rate())).rate.add(done)
        teams.setdefault((department, team), UnitRate(team, department, Rate())).rate.add(done)

    def unit_order(name: str | None) -> tuple[bool, str]:
        return name is None, (name or "").casefold()  # people without a team last

    suppress_small_groups(list(departments.values()))
    for department in departments:
        suppress_small_groups([unit for unit in teams.values() if unit.department == department])
    return AckReport(
        overall=overall,
        departments=sorted(departments.values(), key=lambda u: unit_order(u.name)),
        teams=sorted(teams.values(), key=lambda u: (unit_order(u.department), unit_order(u.name))),
        unacknowledged_ids=missing,
    )


def acknowledgement_report(announcement: Announcement) -> AckReport:
    """The acknowledgement rate of an announcement, overall and per department and team (three queries)."""
    return _report(announcement, population(), _acknowledged_users([announcement.id])[announcement.id])


@dataclass
class ManagedAnnouncement:
    announcement: Announcement
    status: AnnouncementStatus
    rate: Rate | None


def manage_list(now: datetime | None = None) -> list[ManagedAnnouncement]:
    """Every announcement for the project group, with the acknowledgement rate where one is asked (four queries)."""
    now = now or utcnow()
    announcements = db.session.scalars(
        select(Announcement).options(joinedload(Announcement.phase), joinedload(Announcement.created_by))
    ).all()
    asking = [a.id for a in announcements if a.requires_ack and a.publish_at is not None]
    people = population() if asking else []
    acknowledged = _acknowledged_users(asking)
    rows = []
    for a in announcements:
        rate = _report(a, people, acknowledged[a.id]).overall if a.id in acknowledged else None
        rows.append(ManagedAnnouncement(a, a.status(now), rate))
    status_order = {AnnouncementStatus.DRAFT: 0, AnnouncementStatus.SCHEDULED: 1, AnnouncementStatus.PUBLISHED: 2,
                    AnnouncementStatus.WITHDRAWN: 3}
    far_future = now + timedelta(days=365 * 100)
    return sorted(rows, key=lambda r: (status_order[r.status],
                                       -(r.announcement.publish_at or far_future).timestamp(), -r.announcement.id))


def announcement_for_manager(announcement_id: int) -> Announcement | None:
    return db.session.scalar(
        select(Announcement).where(Announcement.id == announcement_id)
        .options(joinedload(Announcement.phase), joinedload(Announcement.created_by),
                 selectinload(Announcement.versions).joinedload(AnnouncementVersion.changed_by))
    )


def unacknowledged_people(announcement: Announcement, viewer: User, allowed: bool) -> list[User]:
    """Who among the targeted people has not acknowledged the current version; every look is audit-logged."""
    if not allowed:
        raise ServiceError(_("The privacy settings do not allow showing who has not acknowledged."))
    report = acknowledgement_report(announcement)
    people = db.session.scalars(
        select(User).where(User.id.in_(report.unacknowledged_ids))
        .options(joinedload(User.team).joinedload(Team.department))
        .order_by(User.last_name, User.first_name)
    ).all() if report.unacknowledged_ids else []
    record(viewer, "announcement.unacknowledged_viewed", announcement, summary=announcement.title,
           people=len(people), version=announcement.substantive_version)
    db.session.flush()
    return list(people)


# The feed ---------------------------------------------------------------------------------

def feed_token_of(user: User) -> FeedToken | None:
    return db.session.scalar(select(FeedToken).where(FeedToken.user_id == user.id))


def renew_feed_token(user: User) -> FeedToken:
    """Create the person's feed address, or replace it so that the old address stops working."""
    token = feed_token_of(user)
    if token is None:
        token = FeedToken(user_id=user.id)
        db.session.add(token)
    else:
        token.token, token.created_at = new_feed_token(), utcnow()
    db.session.flush()
    logger.info("Feed address renewed for %s", user.id)
    return token


def feed_owner(token: str) -> User | None:
    """The active person a feed token belongs to, or None."""
    if not token or len(token) > 64:
        return None
    return db.session.scalar(
        select(User).join(FeedToken, FeedToken.user_id == User.id).where(FeedToken.token == token, User.active)
    )
