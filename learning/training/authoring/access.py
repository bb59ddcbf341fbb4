"""Who may write courses: authors create courses and edit those naming them; the project group edits all."""

from __future__ import annotations

from sqlalchemy import exists, select

from learning.db import db
from learning.errors import NotAllowed, NotFound
from learning.roles import Role
from learning.training.authoring.models import CourseDraft, CourseEditor

AUTHORING_ROLES = (Role.AUTHOR, Role.PROJECT_GROUP)  # for @allow on the editor's routes


def may_author(user) -> bool:
    """May create courses and open the editor at all."""
    return bool(user.is_authenticated and user.has_role(*AUTHORING_ROLES))


def edits_every_course(user) -> bool:
    return bool(user.is_authenticated and user.has_role(Role.PROJECT_GROUP))


def is_editor(user, draft: CourseDraft) -> bool:
    return db.session.scalar(select(exists().where(
        CourseEditor.draft_id == draft.id, CourseEditor.user_id == user.id))) or False


def may_edit(user, draft: CourseDraft) -> bool:
    """The project group edits every course; an author only the courses that name them as an editor."""
    if not may_author(user):
        return False
    return edits_every_course(user) or is_editor(user, draft)


def check_may_edit(user, draft: CourseDraft) -> None:
    if not may_edit(user, draft):
        raise NotAllowed()


def editable_drafts(user):
    """A statement selecting the drafts this person may edit."""
    statement = select(CourseDraft)
    if not edits_every_course(user):
        statement = statement.where(CourseDraft.id.in_(
            select(CourseEditor.draft_id).where(CourseEditor.user_id == user.id)))
    return statement


def draft_to_edit(slug: str, user) -> CourseDraft:
    """The authoring record of the course ``slug`` for an editor; 404 if there is none, 403 if not theirs."""
    draft = db.session.scalar(select(CourseDraft).where(CourseDraft.slug == slug))
    if draft is None:
        raise NotFound()
    check_may_edit(user, draft)
    return draft
