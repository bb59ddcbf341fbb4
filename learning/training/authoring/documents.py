"""A draft's document ⇄ ``CourseSpec``, and saving one part of a draft under an optimistic lock.

The document is ``dataclasses.asdict(CourseSpec)``: the same content model ``flask courses sync`` reads from
a course folder, so publishing (``sync.apply_course``) and exporting treat a web course like any other.
A save names the part it changes ("settings", "lesson:<slug>", "quiz") and the revision of that part the
editor started from; if someone saved that part since, the save is refused with ``EditConflict`` carrying
both versions, and nothing is lost. Saves of different parts (two people on two lessons) both succeed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict

from flask_babel import gettext as _
from sqlalchemy.orm.exc import StaleDataError

from learning.db import db
from learning.errors import ServiceError
from learning.training.authoring.models import CourseDraft
from learning.training.models import DEFAULT_MAX_ATTEMPTS, Course
from learning.training.sync import AnswerSpec, CourseSpec, LessonSpec, QuestionSpec, quiz_of

SETTINGS = "settings"
QUIZ = "quiz"


def lesson_part(slug: str) -> str:
    return f"lesson:{slug}"


class EditConflict(ServiceError):
    """Someone else saved the same part since this editor opened it: both texts go back to the page."""

    status = 409

    def __init__(self, part: str, theirs, mine, saved_by: str | None = None):
        super().__init__(_("Someone else saved this part while you were editing it. Your text has not been "
                           "saved: compare both versions below, copy what you need and save again."))
        self.part, self.theirs, self.mine, self.saved_by = part, theirs, mine, saved_by


def spec_from_course(course: Course) -> CourseSpec:
    """The published course as a ``CourseSpec`` (the lessons learners see now, the whole quiz)."""
    return CourseSpec(
        slug=course.slug, title=course.title, summary=course.summary, minutes=course.minutes,
        phase=course.phase.slug if course.phase else None, tags=list(course.tags or []),
        mandatory=course.mandatory, due=course.default_due, pass_mark=course.pass_mark,
        max_attempts=course.max_attempts or None, attempt_pause=course.attempt_pause_minutes,
        show_answers=course.show_answers, language=course.language, title_en=course.title_en,
        summary_en=course.summary_en, tags_en=list(course.tags_en or []), quiz_draw=course.quiz_draw,
        lessons=[LessonSpec(slug=lesson.slug, position=lesson.position, title=lesson.title, body=lesson.body,
                            title_en=lesson.title_en, body_en=lesson.body_en)
                 for lesson in course.active_lessons],
        questions=[question_from_dict(q) for q in quiz_of(course)],
    )


def new_spec(slug: str, title: str) -> CourseSpec:
    return CourseSpec(slug=slug, title=title, summary="", minutes=15, max_attempts=DEFAULT_MAX_ATTEMPTS)


def question_from_dict(data: dict) -> QuestionSpec:
    return QuestionSpec(**{**data, "answers": [AnswerSpec(**a) for a in data.get("answers", [])]})


def spec_from_document(document: dict) -> CourseSpec:
    data = dict(document)
    data["lessons"] = [LessonSpec(**lesson) for lesson in data.get("lessons", [])]
    data["questions"] = [question_from_dict(q) for q in data.get("questions", [])]
    return CourseSpec(**data)


def document_of(spec: CourseSpec) -> dict:
    return asdict(spec)


def draft_spec(draft: CourseDraft) -> CourseSpec:
    """What the editor shows: the unpublished changes, or the published course when there are none."""
    if draft.document is not None:
        return spec_from_document(draft.document)
    if draft.course is not None:
        return spec_from_course(draft.course)
    return new_spec(draft.slug, draft.slug)


def revision(draft: CourseDraft, part: str) -> int:
    return int((draft.revisions or {}).get(part, 0))


def save_part(draft: CourseDraft, part: str, base_revision: int, change: Callable[[CourseSpec], None],
              actor, *, current: Callable[[CourseSpec], object] | None = None, mine=None) -> CourseSpec:
    """Apply ``change`` to the draft's spec if nobody saved ``part`` since ``base_revision``; flush.

    ``current(spec)`` extracts the part as it is now (for the conflict message), ``mine`` is what this editor
    tried to save. Raises ``EditConflict`` (nothing changed) when the part moved on, also when another save of
    the same draft is committed between this one's read and write (the row's ``lock_version``).
    """
    if revision(draft, part) != base_revision:
        spec = draft_spec(draft)
        raise EditConflict(part, current(spec) if current else None, mine,
                           saved_by=None)
    spec = draft_spec(draft)
    change(spec)
    draft.document = document_of(spec)
    draft.revisions = {**(draft.revisions or {}), part: base_revision + 1}
    draft.updated_by_id = getattr(actor, "id", None)
    try:
        db.session.flush()
    except StaleDataError:  # the caller's unit of work rolls back
        raise EditConflict(part, None, mine) from None
    record_draft_media(draft, spec)
    return spec


def record_draft_media(draft: CourseDraft, spec: CourseSpec | None) -> None:
    """Tell the media library which of its items the draft's lessons show, so none is deleted while the draft
    needs it (``None``: the draft holds no changes of its own any more)."""
    from learning.media.services import set_usages_from_markdown  # imported here: the media library imports training

    texts = [text for lesson in (spec.lessons if spec else []) for text in (lesson.body, lesson.body_en)]
    set_usages_from_markdown("course_draft", draft.id, _("Draft: %(title)s", title=spec.title if spec else ""),
                             *texts)
