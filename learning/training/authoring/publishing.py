"""Review and publishing of a course written in the browser: the check, approvals, versions, taking it again.

- ``check_draft``: the accessibility check of the draft (``learning.training.accessibility``, the same rules a
  sync applies to files) plus the course's own rule (at least one lesson); errors block publishing.
- Review: an editor asks for a review (and may withdraw the request), reviewers comment and approve; each step
  is announced to the people concerned (``notices``). An approval is valid only for the exact
  draft it saw (``DraftReview.content_hash``): any later save changes the hash and voids it.
- ``publish_draft``: in the caller's unit of work, write the draft onto its course with ``sync.apply_course``
  (created with source "web" the first time), add the immutable ``CourseVersion``, clear the draft. With the
  four-eyes rule on (setting ``courses.four_eyes``), a valid approval by someone who neither publishes nor
  saved the last change is required.
- A *substantive* version requires the course again: people who completed it get their assignment back with a
  new due date and the "new training assigned" notice; their certificate moves to ``EarlierCompletion`` and
  stays verifiable; people in progress lose only the lessons that changed. Otherwise nobody's record changes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select
from sqlalchemy.orm.exc import StaleDataError

from learning.audit.services import record
from learning.db import db, utcnow
from learning.errors import ServiceError
from learning.i18n import local_today
from learning.messaging.reminders import Planned, announce_now
from learning.org.models import User
from learning.phases.models import RolloutPhase
from learning.settings.services import setting
from learning.training.accessibility import Finding, check_course, check_lesson, errors
from learning.training.authoring.access import may_edit
from learning.training.authoring.documents import document_of, draft_spec, record_draft_media, spec_from_document
from learning.training.authoring.models import (
    CourseDraft,
    CourseVersion,
    DraftReview,
    ReviewKind,
    ReviewState,
)
from learning.training.authoring.notices import announce_review, announce_review_request
from learning.training.due import DueRule
from learning.training.models import (
    Assignment,
    Course,
    CourseCompletion,
    CourseSource,
    EarlierCompletion,
    Lesson,
    LessonCompletion,
    QuizAttempt,
)
from learning.training.rules import ASSIGNED_KIND
from learning.training.sync import CourseSpec, apply_course

FOUR_EYES = "courses.four_eyes"
SUMMARY_MAX = 2000
COMMENT_MAX = 5000
RETAKE_DAYS = 30  # due after taking a course again when its own due rule gives no later day

VIDEO_RE = re.compile(r"/media/([0-9a-f]{64})\.(?:mp4|webm)\b")


# The check ----------------------------------------------------------------------------------------

# What a finding is about, in the reader's language; the finding's own text (English, as in the file check)
# follows as the detail. The first matching pattern names it.
FINDING_KINDS = (
    (re.compile(r"has no alternative text"), _l("Image without alternative text")),
    (re.compile(r"alternative text .* does not say"), _l("Alternative text that does not describe the image")),
    (re.compile(r"a level is skipped"), _l("Skipped heading level")),
    (re.compile(r"empty heading"), _l("Empty heading")),
    (re.compile(r"link .* has no text"), _l("Link without text")),
    (re.compile(r"link text"), _l("Link text that does not say where it leads")),
    (re.compile(r"table has no header"), _l("Table without a header row")),
    (re.compile(r"video .* has no captions"), _l("Video without captions or transcript")),
    (re.compile(r"lesson has no title"), _l("Lesson without a title")),
    (re.compile(r"course has no lessons"), _l("Course without lessons")),
)


def finding_kind(finding: Finding) -> str:
    return next((str(label) for pattern, label in FINDING_KINDS if pattern.search(finding.reason)),
                _("Accessibility"))


def _captioned_videos(spec: CourseSpec) -> list[str]:
    """``/media/<hash>.vtt`` for every video of the media library used in the draft that has captions or a
    transcript: the accessibility check counts a video captioned when such a file sits beside it (one query)."""
    from learning.media.models import MediaItem  # the media library is a feature of its own: imported late

    texts = [text for lesson in spec.lessons for text in (lesson.body, lesson.body_en) if text]
    hashes = {sha for text in texts for sha in VIDEO_RE.findall(text)}
    if not hashes:
        return []
    rows = db.session.execute(select(MediaItem.sha256).where(
        MediaItem.sha256.in_(hashes), (MediaItem.captions_sha256.is_not(None)) | (MediaItem.transcript.is_not(None))))
    return [f"/media/{sha}.vtt" for (sha,) in rows]


def check_draft(spec: CourseSpec) -> list[Finding]:
    """Every accessibility finding of the draft: errors first, then warnings, each in lesson order."""
    findings = check_course(spec.lessons)
    files = _captioned_videos(spec)
    for lesson in spec.lessons:
        findings += check_lesson(f"{lesson.slug}.md", lesson.title, lesson.body, lesson=lesson.slug,
                                 course_files=files)
        if lesson.body_en:
            findings += check_lesson(f"{lesson.slug}.en.md", lesson.title_en or lesson.title, lesson.body_en,
                                     lesson=lesson.slug, course_files=files)
    return sorted(findings, key=lambda f: not f.error)


class PublishBlocked(ServiceError):
    """The accessibility check found errors: carries them so the page can list and link each one."""

    def __init__(self, findings: list[Finding]):
        super().__init__(_("The course cannot be published yet: the accessibility check found %(count)d errors. "
                           "Correct them first.", count=len(errors(findings))))
        self.findings = findings


# Review -------------------------------------------------------------------------------------------

def draft_hash(draft: CourseDraft) -> str:
    """The hash of the draft as it would be published: an approval is valid for this hash only."""
    return draft_spec(draft).content_hash


def _clean(text: str | None, limit: int, field: str, empty_message: str) -> str:
    text = (text or "").strip()
    if not text:
        raise ServiceError(empty_message, field)
    if len(text) > limit:
        raise ServiceError(_("Please write at most %(max)d characters.", max=limit), field)
    return text


def request_review(draft: CourseDraft, actor: User, now: datetime | None = None) -> None:
    """Mark the draft as waiting for review by ``actor``; the other editors and the project group are told
    (``notices``: in the notification centre at once, by mail with their next digest)."""
    if not draft.has_changes and draft.course is not None:
        raise ServiceError(_("There are no unpublished changes to review."))
    if draft.review_state == ReviewState.IN_REVIEW:
        raise ServiceError(_("The draft is already waiting for review."))
    draft.review_state = ReviewState.IN_REVIEW
    draft.review_requested_by_id = actor.id
    draft.review_requested_at = now or utcnow()
    db.session.flush()
    announce_review_request(draft, actor)


def withdraw_review(draft: CourseDraft, actor: User) -> None:
    """The draft no longer waits for review; notices of the request not yet sent are dropped."""
    if draft.review_state != ReviewState.IN_REVIEW:
        raise ServiceError(_("The draft is not waiting for review."))
    draft.review_state = ReviewState.EDITING
    db.session.flush()


def add_comment(draft: CourseDraft, actor: User, body: str) -> DraftReview:
    review = DraftReview(draft=draft, author_id=actor.id, kind=ReviewKind.COMMENT,
                         body=_clean(body, COMMENT_MAX, "body", _("Please write a comment.")))
    db.session.add(review)
    db.session.flush()
    announce_review(draft, review, actor)
    return review


def _unchanged_since_seen(draft_hash_now: str, seen: str | None) -> None:
    """Refuse when the draft changed after the person opened the page (``seen``: the hash the page showed)."""
    if seen and seen != draft_hash_now:
        raise ServiceError(_("The draft has been changed since you opened this page. Please look at it again "
                             "and repeat."))


def approve_draft(draft: CourseDraft, actor: User, body: str = "", seen: str | None = None) -> DraftReview:
    """Approve exactly the draft as it is now (and as the reviewer saw it: ``seen``); refused for the last saver."""
    if not may_edit(actor, draft):
        raise ServiceError(_("Only the course's editors and the project group can approve it."))
    if draft.updated_by_id is not None and draft.updated_by_id == actor.id:
        raise ServiceError(_("You saved the last change of this draft yourself: another author or member of the "
                             "project group has to approve it."))
    if not draft.has_changes and draft.course is not None:
        raise ServiceError(_("There are no unpublished changes to approve."))
    body = (body or "").strip()
    if len(body) > COMMENT_MAX:
        raise ServiceError(_("Please write at most %(max)d characters.", max=COMMENT_MAX), "body")
    current = draft_hash(draft)
    _unchanged_since_seen(current, seen)
    review = DraftReview(draft=draft, author_id=actor.id, kind=ReviewKind.APPROVAL, body=body, content_hash=current)
    db.session.add(review)
    db.session.flush()
    announce_review(draft, review, actor)
    return review


def valid_approval(draft: CourseDraft, publisher: User, content_hash: str | None = None) -> DraftReview | None:
    """The newest approval of exactly this draft by someone else than the publisher and the last saver."""
    content_hash = content_hash or draft_hash(draft)
    for review in reversed(draft.reviews):
        if (review.kind == ReviewKind.APPROVAL and review.content_hash == content_hash
                and review.author_id not in (None, publisher.id, draft.updated_by_id)):
            return review
    return None


def four_eyes() -> bool:
    return bool(setting(FOUR_EYES))


# Publishing ---------------------------------------------------------------------------------------

@dataclass
class Published:
    version: CourseVersion
    course: Course
    created: bool
    retaken: int = 0  # people who completed it and have to take it again


def _record_media(draft: CourseDraft, course: Course) -> None:
    """The media library learns which items each published lesson shows (a lesson taken out shows none);
    the draft, now equal to the published version, holds none of its own."""
    from learning.media.services import clear_usages, set_usages_from_markdown

    for lesson in course.lessons:
        if lesson.archived_at is None:
            set_usages_from_markdown("lesson", lesson.id, f"{course.title} › {lesson.title}", lesson.body,
                                     lesson.body_en)
        else:
            clear_usages("lesson", lesson.id)
    record_draft_media(draft, None)


def publish_draft(draft: CourseDraft, actor: User, summary: str, substantive: bool, *, seen: str | None = None,
                  today: date | None = None, now: datetime | None = None) -> Published:
    """Publish the draft as the next version (see the module's docstring); flushes only.

    ``seen``: the draft's hash on the page the person published from; a draft changed since is refused, and so
    is a save of the draft committed while this one runs (its ``lock_version``).
    """
    summary = _clean(summary, SUMMARY_MAX, "summary", _("Please describe what changed in this version."))
    course = draft.course
    if course is not None and course.managed_as_files:
        raise ServiceError(_("“%(slug)s” is managed as files on the server and is published by the sync.",
                             slug=course.slug))
    if course is not None and not draft.has_changes:
        raise ServiceError(_("There are no unpublished changes: the course is published as it is."))
    spec = draft_spec(draft)
    spec.slug = draft.slug
    _unchanged_since_seen(spec.content_hash, seen)
    findings = check_draft(spec)
    if errors(findings):
        raise PublishBlocked(findings)
    approval = None
    if four_eyes():
        approval = valid_approval(draft, actor, spec.content_hash)
        if approval is None:
            raise ServiceError(_("The four-eyes rule is on: another author or member of the project group must "
                                 "approve exactly this draft before it is published (not the person who saved its "
                                 "last change, and not you)."))
    now = now or utcnow()
    today = today or local_today()
    created = course is None
    if created:
        if db.session.scalar(select(Course.id).where(Course.slug == draft.slug)) is not None:
            raise ServiceError(_("Another course already has the address “%(slug)s”.", slug=draft.slug))
        course = Course(slug=draft.slug, source=CourseSource.WEB)
        db.session.add(course)
    before = {lesson.id: lesson.content_hash for lesson in course.lessons if lesson.archived_at is None}
    phase_id = db.session.scalar(select(RolloutPhase.id).where(RolloutPhase.slug == spec.phase)) if spec.phase else None
    apply_course(course, spec, phase_id, now)
    db.session.flush()
    number = (draft.versions[0].number if draft.versions else 0) + 1
    version = CourseVersion(draft=draft, number=number, spec=document_of(spec), summary=summary,
                            substantive=bool(substantive) and not created, published_by_id=actor.id, published_at=now,
                            approved_by_id=approval.author_id if approval else None)
    db.session.add(version)
    draft.course = course
    draft.document = None
    draft.base_version = number
    draft.review_state = ReviewState.EDITING
    retaken = 0
    if version.substantive:
        changed = [lesson.id for lesson in course.lessons
                   if lesson.id in before and before[lesson.id] != lesson.content_hash]
        retaken = require_again(course, number, changed, today=today, now=now)
    _record_media(draft, course)
    record(actor, "training.course_published", course, course.title, version=number,
           substantive=version.substantive)
    try:
        db.session.flush()
    except StaleDataError:  # the caller's unit of work rolls back
        raise ServiceError(_("The draft has been changed since you opened this page. Please look at it again "
                             "and repeat.")) from None
    return Published(version=version, course=course, created=created, retaken=retaken)


def due_again(course: Course, user: User, today: date) -> date:
    """The due day of a course taken again: its default due rule from today, else ``RETAKE_DAYS`` from today."""
    if course.default_due:
        try:
            rule = DueRule.parse(course.default_due)
        except ValueError:
            rule = None
        if rule is not None:
            go_live = course.phase.go_live if course.phase is not None else None
            due = rule.due_for(start=user.start_date, go_live=go_live, assigned=today)
            if due is not None and due > today:
                return due
    return today + timedelta(days=RETAKE_DAYS)


def require_again(course: Course, version: int, changed_lessons: list[int], *, today: date, now: datetime) -> int:
    """After a substantive version: completed people take the course again; others redo the changed lessons.

    A fixed number of statements whatever the number of people. Returns how many people take it again.
    """
    lesson_ids = select(Lesson.id).where(Lesson.course_id == course.id).scalar_subquery()
    # Who completed it (a certificate, or an assignment marked completed) and is still with the organisation;
    # as a subquery, so that no statement carries one parameter per person.
    completed = select(CourseCompletion.user_id).where(CourseCompletion.course_id == course.id).union(
        select(Assignment.user_id).where(Assignment.course_id == course.id, Assignment.completed_at.is_not(None)))
    who = select(User.id).where(User.active, User.id.in_(completed.scalar_subquery())).scalar_subquery()
    people = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(who)))}
    if not people:
        _forget_changed(course, changed_lessons)
        return 0
    completions = db.session.scalars(select(CourseCompletion).where(CourseCompletion.course_id == course.id,
                                                                    CourseCompletion.user_id.in_(who))).all()
    assignments = {a.user_id: a for a in db.session.scalars(
        select(Assignment).where(Assignment.course_id == course.id, Assignment.user_id.in_(who)))}
    lessons_done: dict[int, list] = {}
    for user_id, slug, at in db.session.execute(
            select(LessonCompletion.user_id, Lesson.slug, LessonCompletion.completed_at)
            .join(Lesson, Lesson.id == LessonCompletion.lesson_id)
            .where(Lesson.course_id == course.id, LessonCompletion.user_id.in_(who))):
        lessons_done.setdefault(user_id, []).append({"lesson": slug, "completed_at": at.isoformat()})
    attempts: dict[int, list] = {}
    for attempt in db.session.scalars(select(QuizAttempt).where(QuizAttempt.course_id == course.id,
                                                                QuizAttempt.user_id.in_(who))):
        attempts.setdefault(attempt.user_id, []).append({
            "started_at": attempt.started_at.isoformat(),
            "submitted_at": attempt.submitted_at.isoformat() if attempt.submitted_at else None,
            "score": attempt.score, "passed": attempt.passed, "details": attempt.details})
    _forget_changed(course, changed_lessons)
    # Their lessons and attempts go while ``who`` still finds them (by their certificates); ``record`` keeps them.
    db.session.execute(delete(LessonCompletion).where(LessonCompletion.user_id.in_(who),
                                                      LessonCompletion.lesson_id.in_(lesson_ids))
                       .execution_options(synchronize_session=False))
    db.session.execute(delete(QuizAttempt).where(QuizAttempt.course_id == course.id, QuizAttempt.user_id.in_(who))
                       .execution_options(synchronize_session=False))
    for completion in completions:
        db.session.add(EarlierCompletion(
            user_id=completion.user_id, course_id=course.id, completed_at=completion.completed_at,
            verification_code=completion.verification_code, superseded_at=now, superseded_by_version=version,
            record={"lessons": lessons_done.get(completion.user_id, []),
                    "attempts": attempts.get(completion.user_id, [])}))
        db.session.delete(completion)
    notices = []
    for user_id, user in people.items():
        assignment = assignments.get(user_id)
        if assignment is None:
            assignment = Assignment(user_id=user_id, course_id=course.id, rule_id=None, mandatory=course.mandatory)
            db.session.add(assignment)
            assignments[user_id] = assignment
        assignment.assigned_at, assignment.assigned_on = now, today
        assignment.due_on = due_again(course, user, today)
        assignment.started_at = assignment.completed_at = None
        assignment.unmatched_since = None
    db.session.flush()
    for user_id in people:
        assignment = assignments[user_id]
        # A period key of its own: the first assignment's notice is in the outbox already and would block it.
        notices.append(Planned(user_id, f"assignment:{assignment.id}", f"again:{version}",
                               {"assignment_id": assignment.id, "course_id": course.id,
                                "due_on": assignment.due_on.isoformat() if assignment.due_on else None}))
    announce_now(ASSIGNED_KIND, notices, now)
    return len(people)


def _forget_changed(course: Course, lesson_ids: list[int]) -> None:
    """People in progress keep the lessons that did not change, not the ones that did (before certificates move)."""
    if lesson_ids:
        certified = select(CourseCompletion.user_id).where(CourseCompletion.course_id == course.id)
        db.session.execute(delete(LessonCompletion).where(LessonCompletion.lesson_id.in_(lesson_ids),
                                                          LessonCompletion.user_id.not_in(certified))
                           .execution_options(synchronize_session=False))


# Archive and versions -----------------------------------------------------------------------------

def set_archived(draft: CourseDraft, archived: bool, actor: User) -> bool:
    """Archive or restore the published course of a draft; learners' records stay (``exchange.set_course_archived``)."""
    from learning.training.exchange import set_course_archived

    if draft.course is None:
        raise ServiceError(_("The course has not been published yet."))
    return set_course_archived(draft.course, archived, actor)


def version_of(draft: CourseDraft, number: int | None) -> CourseVersion | None:
    return next((v for v in draft.versions if v.number == number), None)


def version_spec(version: CourseVersion) -> CourseSpec:
    return spec_from_document(version.spec)
