"""Review notices: who hears of a request for review, a comment and an approval of a course draft.

The reminder kinds are declared in ``learning/training/reminders.py`` (plug-in discovery finds a feature's
``reminders.py``, not a sub-package's); this module holds what they do. Both are announced the moment the
cause happens (``announce_now``): in the notification centre at once, by mail with the person's next digest.

- *Review requested*: the course's other editors and the project group (active, allowed to edit the course,
  never the person who asked). Still due while the draft waits for review from exactly that request: a
  publication or a withdrawn request drops it, also from the notification centre.
- *Draft reviewed*: the person who asked for the review and the draft's last saver hear of a comment or an
  approval, never the reviewer themself. Still due while no version was published after it.

Every check is one query for all the rows; the texts are made in the reader's language from the details.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import aliased

from learning.db import db
from learning.messaging.reminders import Entry, Pending, PlanContext, Planned, announce_now
from learning.org.models import User, UserRole
from learning.roles import Role
from learning.training.authoring.models import (
    CourseDraft,
    CourseEditor,
    CourseVersion,
    DraftReview,
    ReviewKind,
    ReviewState,
)
from learning.training.models import Course

REVIEW_REQUESTED_KIND = "training.review_requested"
DRAFT_REVIEWED_KIND = "training.draft_reviewed"
EXCERPT = 200  # characters of a comment shown in the notice


def concerns_authors(user) -> bool:
    """The notification settings list the review notices only to authors and the project group."""
    return bool(user.has_role(Role.AUTHOR, Role.PROJECT_GROUP))


def _has_role(role: Role, user_id=User.id):
    return exists().where(UserRole.user_id == user_id, UserRole.role == role.value)


def may_edit_clause(draft_id, user_id=User.id):
    """SQL: the person may edit the draft (``access.may_edit``): project group, or an author named on it."""
    return or_(_has_role(Role.PROJECT_GROUP, user_id),
               and_(_has_role(Role.AUTHOR, user_id),
                    exists().where(CourseEditor.draft_id == draft_id, CourseEditor.user_id == user_id)))


def _period(requested_at: datetime) -> str:
    return f"review:{requested_at.isoformat()}"


# Announcing -------------------------------------------------------------------------------------

def announce_review_request(draft: CourseDraft, actor: User) -> int:
    """Tell the course's other editors and the project group that ``actor`` asked for a review (one query + queue)."""
    people = db.session.scalars(select(User.id).where(User.active, User.id != actor.id,
                                                      may_edit_clause(draft.id))).all()
    payload = {"draft_id": draft.id, "requested_at": draft.review_requested_at.isoformat()}
    return announce_now(REVIEW_REQUESTED_KIND, [Planned(user_id, f"draft:{draft.id}",
                                                        _period(draft.review_requested_at), payload)
                                                for user_id in sorted(people)])


def announce_review(draft: CourseDraft, review: DraftReview, actor: User) -> int:
    """Tell the person who asked for the review and the last saver of a comment or approval (never ``actor``)."""
    wanted = {draft.review_requested_by_id, draft.updated_by_id} - {None, actor.id}
    if not wanted:
        return 0
    people = db.session.scalars(select(User.id).where(User.id.in_(wanted), User.active,
                                                      may_edit_clause(draft.id))).all()
    payload = {"draft_id": draft.id, "review_id": review.id}
    return announce_now(DRAFT_REVIEWED_KIND, [Planned(user_id, f"draft-review:{review.id}", "reviewed", payload)
                                              for user_id in sorted(people)])


def plan_nothing(ctx: PlanContext) -> list[Planned]:
    """Nothing: the notices are announced when the review is asked for or given, not by the reminder run."""
    return []


# Re-check at send time --------------------------------------------------------------------------

def _title_columns():
    return (CourseDraft.document["title"].as_string().label("draft_title"),
            CourseDraft.document["title_en"].as_string().label("draft_title_en"),
            Course.title.label("course_title"), Course.title_en.label("course_title_en"))


def _titles(row) -> dict:
    return {"slug": row.slug, "title": row.draft_title or row.course_title or row.slug,
            "title_en": row.draft_title_en or row.course_title_en or ""}


def _ids(items: Sequence[Pending], key: str) -> set[int]:
    return {int(item.payload[key]) for item in items if str(item.payload.get(key, "")).isdigit()}


def review_request_still_due(items: Sequence[Pending], ctx: PlanContext) -> dict[int, dict]:
    """Rows whose draft still waits for review from the same request, to people still active and allowed to
    edit it (one query)."""
    drafts, users = _ids(items, "draft_id"), {item.user_id for item in items}
    if not drafts:
        return {}
    asker = aliased(User)
    rows = db.session.execute(
        select(User.id.label("user_id"), CourseDraft.id, CourseDraft.slug, CourseDraft.review_requested_at,
               asker.first_name, asker.last_name, *_title_columns())
        .select_from(User).join(CourseDraft, CourseDraft.id.in_(drafts))
        .outerjoin(Course, Course.id == CourseDraft.course_id)
        .outerjoin(asker, asker.id == CourseDraft.review_requested_by_id)
        .where(User.id.in_(users), User.active, CourseDraft.review_state == ReviewState.IN_REVIEW.value,
               CourseDraft.review_requested_at.is_not(None), may_edit_clause(CourseDraft.id))).all()
    found = {(row.user_id, row.id): row for row in rows}
    result = {}
    for item in items:
        row = found.get((item.user_id, item.payload.get("draft_id")))
        if row is None or row.review_requested_at.isoformat() != item.payload.get("requested_at"):
            continue
        name = f"{row.first_name} {row.last_name}" if row.first_name else ""
        result[item.id] = {"draft_id": row.id, "requested_at": item.payload["requested_at"], "by": name,
                           **_titles(row)}
    return result


def review_request_open(notification, today: date):
    """SQL: the draft of the notification still waits for review (a publication or a withdrawal ends it)."""
    return select(CourseDraft.id).where(CourseDraft.id == notification.details["draft_id"].as_integer(),
                                        CourseDraft.review_state == ReviewState.IN_REVIEW.value).exists()


def _published_since(review=DraftReview):
    return exists().where(CourseVersion.draft_id == review.draft_id, CourseVersion.published_at >= review.created_at)


def draft_reviewed_still_due(items: Sequence[Pending], ctx: PlanContext) -> dict[int, dict]:
    """Rows whose comment or approval is still there and whose draft was not published since, to people still
    active and allowed to edit it (one query)."""
    reviews, users = _ids(items, "review_id"), {item.user_id for item in items}
    if not reviews:
        return {}
    author = aliased(User)
    rows = db.session.execute(
        select(User.id.label("user_id"), DraftReview.id, DraftReview.kind, DraftReview.body, CourseDraft.slug,
               author.first_name, author.last_name, *_title_columns())
        .select_from(User).join(DraftReview, DraftReview.id.in_(reviews))
        .join(CourseDraft, CourseDraft.id == DraftReview.draft_id)
        .outerjoin(Course, Course.id == CourseDraft.course_id)
        .outerjoin(author, author.id == DraftReview.author_id)
        .where(User.id.in_(users), User.active, ~_published_since(), may_edit_clause(CourseDraft.id))).all()
    found = {(row.user_id, row.id): row for row in rows}
    result = {}
    for item in items:
        row = found.get((item.user_id, item.payload.get("review_id")))
        if row is None:
            continue
        body = row.body or ""
        excerpt = body if len(body) <= EXCERPT else body[:EXCERPT - 1].rstrip() + "…"
        name = f"{row.first_name} {row.last_name}" if row.first_name else ""
        result[item.id] = {"review_id": row.id, "kind": row.kind, "by": name, "excerpt": excerpt, **_titles(row)}
    return result


def draft_reviewed_open(notification, today: date):
    """SQL: the comment or approval is still there and its draft was not published since."""
    return select(DraftReview.id).where(DraftReview.id == notification.details["review_id"].as_integer(),
                                        ~_published_since()).exists()


# Texts ------------------------------------------------------------------------------------------

def _title(details: dict) -> str:
    if str(get_locale()) == "en" and details.get("title_en"):
        return details["title_en"]
    return details.get("title") or details.get("slug", "")


def describe_review_request(details: dict, today: date) -> Entry:
    title = _title(details)
    if details.get("by"):
        heading = _("%(name)s asks you to review the draft “%(title)s”", name=details["by"], title=title)
    else:
        heading = _("The draft “%(title)s” waits for review", title=title)
    return Entry(title=heading, detail=_("Please look at the draft, then comment on it or approve it."),
                 endpoint="training.review_draft", values={"slug": details["slug"]})


def describe_draft_reviewed(details: dict, today: date) -> Entry:
    title, name = _title(details), details.get("by") or _("Former user")
    if details.get("kind") == ReviewKind.APPROVAL.value:
        heading = _("%(name)s approved the draft “%(title)s”", name=name, title=title)
    else:
        heading = _("%(name)s commented on the draft “%(title)s”", name=name, title=title)
    return Entry(title=heading, detail=details.get("excerpt", ""), endpoint="training.review_draft",
                 values={"slug": details["slug"]})
