"""Use cases of the feedback channels: posting, voting, commenting, answering and moderating.

Each service validates, changes and flushes (the caller's unit of work commits); a refusal raises a
``ServiceError`` (``NotFound``, ``NotAllowed``) whose message can be shown to the person. Reads run
a fixed number of queries whatever the number of posts, votes and comments.

Anonymity: for an anonymous post nothing that identifies the author is written anywhere: no
author id, no exact time (only the day), no subscription, no audit entry and no log line. The
functions below therefore never pass the person to a logger while handling an anonymous post.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import case, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from learning.audit.services import record
from learning.content import complexity_message, too_complex
from learning.db import db, utcnow
from learning.errors import NotAllowed, NotFound, ServiceError
from learning.feedback.models import (
    BODY_MAX,
    CLOSED_STATUSES,
    COMMENT_MAX,
    GENERAL_CHANNEL,
    HIDDEN,
    OPEN_STATUSES,
    REASON_MAX,
    TITLE_MAX,
    FeedbackComment,
    FeedbackPost,
    FeedbackStatusChange,
    FeedbackSubscription,
    FeedbackVote,
    PostKind,
    PostStatus,
)
from learning.i18n import local_today
from learning.org.models import User
from learning.pagination import Page, paginate
from learning.phases.models import RolloutPhase
from learning.roles import Role
from learning.search import contains

logger = logging.getLogger(__name__)

PER_PAGE = 20

# The status workflow: which status may follow which. "implemented" is only reached from
# "planned" or "in progress"; a declined post may be looked at again; an implemented one is done.
TRANSITIONS: dict[PostStatus, tuple[PostStatus, ...]] = {
    PostStatus.NEW: (PostStatus.UNDER_REVIEW, PostStatus.ANSWERED, PostStatus.PLANNED, PostStatus.DECLINED),
    PostStatus.UNDER_REVIEW: (PostStatus.ANSWERED, PostStatus.PLANNED, PostStatus.DECLINED),
    PostStatus.ANSWERED: (PostStatus.UNDER_REVIEW, PostStatus.PLANNED, PostStatus.DECLINED),
    PostStatus.PLANNED: (PostStatus.IN_PROGRESS, PostStatus.IMPLEMENTED, PostStatus.DECLINED),
    PostStatus.IN_PROGRESS: (PostStatus.PLANNED, PostStatus.IMPLEMENTED, PostStatus.DECLINED),
    PostStatus.IMPLEMENTED: (),
    PostStatus.DECLINED: (PostStatus.UNDER_REVIEW,),
}
REASON_REQUIRED = frozenset({PostStatus.DECLINED})

SORTS = ("newest", "votes")


def is_moderator(user) -> bool:
    """The project group (and administrators) answer, change statuses and hide posts."""
    return bool(getattr(user, "is_authenticated", False)) and user.has_role(Role.PROJECT_GROUP, Role.ADMIN)


def _require_moderator(user) -> None:
    if not is_moderator(user):
        raise NotAllowed(_("Only the project group can do this."))


def _text(value: str | None, maximum: int, *, empty: str, too_long: str) -> str:
    text = (value or "").strip()
    if not text:
        raise ServiceError(empty)
    if len(text) > maximum:
        raise ServiceError(too_long % {"max": maximum, "length": len(text)})
    if too_complex(text):
        raise ServiceError(complexity_message())
    return text


def _visible_to(user):
    """Hidden posts are shown only to the project group and to their (named) author."""
    if is_moderator(user):
        return True
    return or_(FeedbackPost.hidden.is_(False), FeedbackPost.author_id == user.id)


# Channels -------------------------------------------------------------------------------------

class GeneralChannel:
    """The channel that belongs to no rollout phase: the platform and the change as a whole.

    It stands where a channel's phase stands (``id``, ``slug``, ``title``, ``period``), so every
    service and page of a channel serves it too: its posts are those whose ``phase_id`` is NULL
    (``FeedbackPost.phase_id == channel.id`` compares with ``IS NULL`` for it).
    """

    id = None
    slug = GENERAL_CHANNEL
    period = None
    title_en = None
    general = True

    @property
    def title(self) -> str:
        return _("General")


GENERAL = GeneralChannel()
Channel = RolloutPhase | GeneralChannel


def channel_for(slug: str) -> Channel:
    """The channel ``slug`` names: the general one or a phase's; ``NotFound`` otherwise."""
    if slug == GENERAL_CHANNEL:
        return GENERAL
    phase = db.session.scalar(select(RolloutPhase).where(RolloutPhase.slug == slug))
    if phase is None:
        raise NotFound(_("This feedback channel does not exist."))
    return phase


@dataclass
class ChannelSummary:
    phase: Channel
    open_posts: int
    posts: int


def channels() -> list[ChannelSummary]:
    """The general channel, then every phase, with the number of open and of all visible posts (two queries)."""
    phases = db.session.scalars(select(RolloutPhase).order_by(RolloutPhase.period, RolloutPhase.title)).all()
    counts = {row.phase_id: row for row in db.session.execute(
        select(FeedbackPost.phase_id, func.count().label("posts"),
               func.coalesce(func.sum(case((FeedbackPost.status.in_(OPEN_STATUSES), 1), else_=0)), 0)
               .label("open_posts"))
        .where(FeedbackPost.hidden.is_(False)).group_by(FeedbackPost.phase_id)
    )}
    return [ChannelSummary(p, int(counts[p.id].open_posts) if p.id in counts else 0,
                           int(counts[p.id].posts) if p.id in counts else 0) for p in [GENERAL, *phases]]


@dataclass
class ChannelPage:
    phase: Channel
    page: Page  # of FeedbackPost
    voted: set[int] = field(default_factory=set)
    comments: dict[int, int] = field(default_factory=dict)


def channel_page(user: User, phase: Channel, *, kind: str = "", status: str = "", q: str = "",
                 sort: str = "newest", page: int = 1, per_page: int = PER_PAGE) -> ChannelPage:
    """One page of a channel's posts, filtered and sorted, with the person's votes and comment counts.

    Search is case-insensitive in title and text (for umlauts only on PostgreSQL: SQLite's
    LIKE folds ASCII letters only).
    """
    stmt = select(FeedbackPost).where(FeedbackPost.phase_id == phase.id, _visible_to(user))
    if kind in PostKind.__members__.values():
        stmt = stmt.where(FeedbackPost.kind == kind)
    if status == "open":
        stmt = stmt.where(FeedbackPost.status.in_(OPEN_STATUSES))
    elif status == "closed":
        stmt = stmt.where(FeedbackPost.status.in_(CLOSED_STATUSES))
    elif status == HIDDEN and is_moderator(user):
        stmt = stmt.where(FeedbackPost.hidden.is_(True))
    elif status in PostStatus.__members__.values():
        stmt = stmt.where(FeedbackPost.status == status)
    needle = q.strip()
    if needle:
        stmt = stmt.where(or_(contains(FeedbackPost.title, needle), contains(FeedbackPost.body, needle)))
    if sort == "votes":
        stmt = stmt.order_by(FeedbackPost.vote_count.desc(), FeedbackPost.id.desc())
    else:
        stmt = stmt.order_by(FeedbackPost.created_on.desc(), FeedbackPost.id.desc())
    stmt = stmt.options(joinedload(FeedbackPost.author).lazyload(User.role_rows))
    result = paginate(stmt, page=page, per_page=per_page)
    ids = [post.id for post in result.items]
    voted = set(db.session.scalars(
        select(FeedbackVote.post_id).where(FeedbackVote.user_id == user.id, FeedbackVote.post_id.in_(ids))))
    comments = dict(db.session.execute(
        select(FeedbackComment.post_id, func.count()).where(FeedbackComment.post_id.in_(ids))
        .group_by(FeedbackComment.post_id)).all())
    return ChannelPage(phase=phase, page=result, voted=voted, comments=comments)


def top_open_posts(phase: Channel, limit: int = 3) -> dict:
    """The most-voted open posts of a phase and how many are open, for the phase page (two queries)."""
    visible_open = (FeedbackPost.phase_id == phase.id, FeedbackPost.hidden.is_(False),
                    FeedbackPost.status.in_(OPEN_STATUSES))
    posts = db.session.scalars(
        select(FeedbackPost).where(*visible_open)
        .order_by(FeedbackPost.vote_count.desc(), FeedbackPost.id.desc()).limit(limit)
    ).all()
    count = db.session.scalar(select(func.count()).select_from(FeedbackPost).where(*visible_open))
    return {"posts": posts, "open_count": count or 0}


# One post ---------------------------------------------------------------------------------------

def post_for(user: User, phase: Channel, post_id: int) -> FeedbackPost:
    """The post with its comments and history, if the person may see it; ``NotFound`` otherwise."""
    post = db.session.scalar(
        select(FeedbackPost).where(FeedbackPost.id == post_id, FeedbackPost.phase_id == phase.id)
        .options(
            joinedload(FeedbackPost.author).lazyload(User.role_rows),
            selectinload(FeedbackPost.comments).joinedload(FeedbackComment.author).lazyload(User.role_rows),
            selectinload(FeedbackPost.changes).joinedload(FeedbackStatusChange.changed_by)
            .lazyload(User.role_rows),
        )
    )
    if post is None or (post.hidden and not (is_moderator(user) or post.is_author(user))):
        raise NotFound(_("This post does not exist."))
    return post


@dataclass
class PostState:
    voted: bool
    subscribed: bool


def post_state(user: User, post: FeedbackPost) -> PostState:
    """Whether the person has voted for and follows the post (one query)."""
    voted = select(FeedbackVote.id).where(FeedbackVote.post_id == post.id, FeedbackVote.user_id == user.id)
    subscribed = select(FeedbackSubscription.id).where(FeedbackSubscription.post_id == post.id,
                                                       FeedbackSubscription.user_id == user.id)
    row = db.session.execute(select(voted.exists(), subscribed.exists())).one()
    return PostState(voted=bool(row[0]), subscribed=bool(row[1]))


def allowed_transitions(post: FeedbackPost) -> tuple[PostStatus, ...]:
    return TRANSITIONS.get(PostStatus(post.status), ())


# Writing ----------------------------------------------------------------------------------------

def create_post(user: User, phase: Channel, *, kind: str, title: str, body: str, anonymous: bool,
                today: date | None = None) -> FeedbackPost:
    """Publish a post in the phase's channel; an anonymous one keeps no trace of its author."""
    if kind not in PostKind.__members__.values():
        raise ServiceError(_("Please choose what kind of post this is."))
    title = _text(title, TITLE_MAX, empty=_("Please enter a title."),
                  too_long=_("The title may be at most %(max)d characters long; it has %(length)d."))
    body = _text(body, BODY_MAX, empty=_("Please enter your text."),
                 too_long=_("The text may be at most %(max)d characters long; it has %(length)d."))
    post = FeedbackPost(phase_id=phase.id, kind=kind, title=title, body=body, anonymous=bool(anonymous),
                        status=PostStatus.NEW.value, created_on=today or local_today())
    if not anonymous:
        post.author_id = user.id
        post.created_at = utcnow()
    db.session.add(post)
    db.session.flush()
    if not anonymous:
        _subscribe(user.id, post.id)
    db.session.flush()
    if not anonymous:  # an anonymous post is never logged: the log's time and context could name its author
        logger.info("Feedback post %s created in channel %s by user %s", post.id, phase.slug, user.id)
    return post


def _subscribe(user_id: int, post_id: int) -> None:
    """Follow a post, doing nothing if the person already does (safe against a concurrent follow)."""
    dialect = db.session.get_bind().dialect.name
    values = {"post_id": post_id, "user_id": user_id}
    if dialect in ("postgresql", "sqlite"):
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        db.session.execute(insert(FeedbackSubscription).values(**values).on_conflict_do_nothing())
        return
    exists = select(FeedbackSubscription.id).filter_by(**values).exists()
    if not db.session.scalar(select(exists)):
        db.session.add(FeedbackSubscription(**values))


def vote(user: User, post: FeedbackPost) -> None:
    """Upvote a post once; the voter follows it from then on.

    The UNIQUE constraint on (post, user) decides between two simultaneous votes: the loser's
    insert fails and is reported like any second vote.
    """
    if post.hidden:
        raise ServiceError(_("This post has been hidden by the project group; it cannot be voted for."))
    post_id = post.id
    # Worded before the flush: after a failed flush the session is unusable until the unit of work rolls back.
    already_voted = _("You have already voted for this post.")
    db.session.add(FeedbackVote(post_id=post_id, user_id=user.id))
    try:
        db.session.flush()
    except IntegrityError:
        raise ServiceError(already_voted) from None
    # Counted in the database, not in Python, so that simultaneous votes all count.
    db.session.execute(update(FeedbackPost).where(FeedbackPost.id == post_id)
                       .values(vote_count=FeedbackPost.vote_count + 1))
    _subscribe(user.id, post_id)
    db.session.flush()


def subscribe(user: User, post: FeedbackPost) -> None:
    _subscribe(user.id, post.id)
    db.session.flush()


def unsubscribe(user: User, post: FeedbackPost) -> None:
    db.session.execute(FeedbackSubscription.__table__.delete().where(
        FeedbackSubscription.post_id == post.id, FeedbackSubscription.user_id == user.id))
    db.session.flush()


def comment(user: User, post: FeedbackPost, body: str, *, official: bool = False) -> FeedbackComment:
    """Add a comment; an official one is the answer of the project group."""
    if post.hidden:
        raise ServiceError(_("This post has been hidden by the project group; it cannot be commented on."))
    if official:
        _require_moderator(user)
    body = _text(body, COMMENT_MAX, empty=_("Please enter your comment."),
                 too_long=_("A comment may be at most %(max)d characters long; it has %(length)d."))
    entry = FeedbackComment(post_id=post.id, author_id=user.id, body=body, official=official)
    db.session.add(entry)
    if official:
        record(user, "feedback.official_reply", post, summary=f"Official reply to feedback post {post.id}")
    db.session.flush()
    return entry


# The project group ------------------------------------------------------------------------------

def change_status(actor: User, post: FeedbackPost, to_status: str, reason: str = "") -> FeedbackStatusChange:
    """Move a post along the workflow; the change is recorded as the event people are told about."""
    _require_moderator(actor)
    if to_status not in PostStatus.__members__.values():
        raise ServiceError(_("Please choose a new status."))
    current, target = PostStatus(post.status), PostStatus(to_status)
    if target == current:
        raise ServiceError(_("The post already has this status."))
    if target not in TRANSITIONS[current]:
        raise ServiceError(_("A post cannot go from “%(current)s” to “%(target)s”.",
                              current=current.label, target=target.label))
    reason = (reason or "").strip()
    if target in REASON_REQUIRED and not reason:
        raise ServiceError(_("Please give a reason when you decline a post."))
    if len(reason) > REASON_MAX:
        raise ServiceError(_("The reason may be at most %(max)d characters long; it has %(length)d.",
                              max=REASON_MAX, length=len(reason)))
    if too_complex(reason):
        raise ServiceError(complexity_message())
    change = FeedbackStatusChange(post_id=post.id, from_status=current.value, to_status=target.value,
                                  reason=reason, changed_at=utcnow(), changed_by_id=actor.id)
    post.status = target.value
    db.session.add(change)
    record(actor, "feedback.status", post, summary=f"Feedback post {post.id}: {current.value} -> {target.value}",
           from_status=current.value, to_status=target.value)
    db.session.flush()
    logger.info("Feedback post %s moved from %s to %s by user %s", post.id, current.value, target.value, actor.id)
    return change


def answer(actor: User, post: FeedbackPost, to_status: str | None, reply: str = "") -> FeedbackStatusChange | None:
    """The project group's answer in one step: a new status, an official reply (the new status's reason), or both.

    Returns the status change, or None when only a reply was written.
    """
    _require_moderator(actor)
    reply = (reply or "").strip()
    if not to_status and not reply:
        raise ServiceError(_("Please write a reply or choose a new status."), "reply")
    if to_status in {s.value for s in REASON_REQUIRED} and not reply:
        raise ServiceError(_("Please give a reason when you decline a post."), "reply")
    change = change_status(actor, post, to_status, reply) if to_status else None
    if reply:
        comment(actor, post, reply, official=True)
    return change


def hide(actor: User, post: FeedbackPost, reason: str) -> FeedbackStatusChange:
    """Hide a post from everyone but the project group and its author, who is told why."""
    _require_moderator(actor)
    if post.hidden:
        raise ServiceError(_("This post is already hidden."))
    reason = _text(reason, REASON_MAX, empty=_("Please say why the post is hidden; its author is told."),
                   too_long=_("The reason may be at most %(max)d characters long; it has %(length)d."))
    post.hidden = True
    post.hidden_reason = reason
    change = FeedbackStatusChange(post_id=post.id, from_status=post.status, to_status=HIDDEN, reason=reason,
                                  changed_at=utcnow(), changed_by_id=actor.id)
    db.session.add(change)
    record(actor, "feedback.hide", post, summary=f"Feedback post {post.id} hidden", reason=reason)
    db.session.flush()
    logger.info("Feedback post %s hidden by user %s", post.id, actor.id)
    return change


def unhide(actor: User, post: FeedbackPost) -> FeedbackStatusChange:
    """Show a hidden post again."""
    _require_moderator(actor)
    if not post.hidden:
        raise ServiceError(_("This post is not hidden."))
    post.hidden = False
    post.hidden_reason = None
    change = FeedbackStatusChange(post_id=post.id, from_status=HIDDEN, to_status=post.status, reason="",
                                  changed_at=utcnow(), changed_by_id=actor.id)
    db.session.add(change)
    record(actor, "feedback.unhide", post, summary=f"Feedback post {post.id} shown again")
    db.session.flush()
    logger.info("Feedback post %s shown again by user %s", post.id, actor.id)
    return change


def recipients_of(change: FeedbackStatusChange) -> list[int]:
    """Who is to be told about a change (for the reminders feature): ids of people.

    Hiding and showing again concern the author alone (nobody, for an anonymous post). A status
    change goes to the followers: the named author, the voters and whoever follows the post;
    never to the person who made the change, and only to the author while the post is hidden.
    """
    post = change.post
    if change.is_moderation or post.hidden:
        return [post.author_id] if post.author_id and post.author_id != change.changed_by_id else []
    return list(db.session.scalars(
        select(FeedbackSubscription.user_id).where(FeedbackSubscription.post_id == post.id,
                                                   FeedbackSubscription.user_id != change.changed_by_id)
        .order_by(FeedbackSubscription.user_id)))


# You said, we did -------------------------------------------------------------------------------

DONE_STATUSES = (PostStatus.IMPLEMENTED, PostStatus.IN_PROGRESS, PostStatus.PLANNED)


@dataclass
class DoneItem:
    post: FeedbackPost
    answer: FeedbackComment | None  # the latest official reply
    change: FeedbackStatusChange | None  # the change that brought the post to its status


def you_said_we_did(phase: Channel) -> dict[PostStatus, list[DoneItem]]:
    """Implemented, in-progress and planned posts of a phase with the project group's answer (three queries)."""
    posts = db.session.scalars(
        select(FeedbackPost).where(FeedbackPost.phase_id == phase.id, FeedbackPost.hidden.is_(False),
                                   FeedbackPost.status.in_(DONE_STATUSES))
        .order_by(FeedbackPost.vote_count.desc(), FeedbackPost.id.desc())
    ).all()
    ids = [p.id for p in posts]
    answers = {c.post_id: c for c in db.session.scalars(
        select(FeedbackComment).where(FeedbackComment.post_id.in_(ids), FeedbackComment.official.is_(True))
        .order_by(FeedbackComment.id))}  # the last one per post wins
    changes = {c.post_id: c for c in db.session.scalars(
        select(FeedbackStatusChange).where(FeedbackStatusChange.post_id.in_(ids),
                                           FeedbackStatusChange.to_status.in_(DONE_STATUSES))
        .order_by(FeedbackStatusChange.id))}
    groups: dict[PostStatus, list[DoneItem]] = {status: [] for status in DONE_STATUSES}
    for post in posts:
        groups[PostStatus(post.status)].append(DoneItem(post, answers.get(post.id), changes.get(post.id)))
    return groups
