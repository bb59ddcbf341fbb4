"""The course editor's use cases: create a course, change its settings, lessons and editors, duplicate one.

Every change goes into the course's draft through ``documents.save_part`` (the optimistic lock per
part): "settings", "lessons" (the list: add, move, remove) and "lesson:<slug>" (one lesson's texts).
Services validate, change and flush; the caller's unit of work commits. A course managed as files
(or uploaded as a zip) has no draft: the editor shows it read-only, and ``duplicate_course`` makes an
editable web copy whose images are copied into the media library (the copy no longer depends on the
course folder, which a web course cannot reach).

About 570 lines: every use case of the editor saves a part of the same document under the same lock and
shares its checks (titles, slugs, lengths); split by part it would spread one set of rules over five files.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from flask_babel import gettext as _
from sqlalchemy import exists, func, select
from sqlalchemy.orm import joinedload, selectinload

from learning.audit.services import record
from learning.content import check
from learning.db import db
from learning.errors import NotAllowed, NotFound, ServiceError
from learning.exports import slug as slug_of
from learning.org.models import User, UserRole
from learning.phases.models import RolloutPhase
from learning.training.authoring.access import (
    AUTHORING_ROLES,
    editable_drafts,
    edits_every_course,
    may_author,
    may_edit,
)
from learning.training.authoring.documents import (
    SETTINGS,
    document_of,
    draft_spec,
    lesson_part,
    new_spec,
    revision,
    save_part,
    spec_from_course,
)
from learning.training.authoring.models import CourseDraft, CourseEditor, CourseVersion, ReviewState
from learning.training.due import DueRule
from learning.training.models import Course, CourseSource, Question, ShowAnswers
from learning.training.sync import SLUG_RE, CourseSpec, LessonSpec

LESSONS = "lessons"  # the part of a draft that is its list of lessons (add, move, remove)
TITLE_MAX = 200
SUMMARY_MAX = 2_000
LESSON_MAX = 50_000  # characters of one lesson's Markdown (German or English)
TAG_MAX = 40
TAGS_MAX = 20
IMAGE_RE = re.compile(r"!\[([^\]]*)\]\(\s*([^)\s]+)(?:\s+\"[^\"]*\")?\s*\)")
COPYABLE_IMAGES = {".png", ".jpg", ".jpeg", ".webp"}  # what the media library takes (no SVG, no GIF)


# Reading ------------------------------------------------------------------------------------

@dataclass
class Editing:
    """What the editor shows for a course: its draft (None for a course managed as files) and content."""

    slug: str
    draft: CourseDraft | None
    course: Course | None
    spec: CourseSpec
    may_edit: bool  # False: read-only (a course managed as files or uploaded as a zip)

    @property
    def read_only(self) -> bool:
        return not self.may_edit

    def revision(self, part: str) -> int:
        return revision(self.draft, part) if self.draft is not None else 0

    def lesson(self, slug: str) -> LessonSpec:
        found = next((lesson for lesson in self.spec.lessons if lesson.slug == slug), None)
        if found is None:
            raise NotFound(_("This lesson does not exist."))
        return found


def _course_with_content(condition) -> Course | None:
    return db.session.scalar(select(Course).where(condition).options(
        joinedload(Course.phase), selectinload(Course.lessons),
        selectinload(Course.questions).selectinload(Question.answers)))


def editing(slug: str, user) -> Editing:
    """The course ``slug`` for the editor: 404 if there is none, 403 if this person may not edit it.

    A course without a draft (managed as files or uploaded) is shown read-only to the project group,
    who may duplicate it; nobody else sees it here. A fixed number of statements whatever its size.
    """
    if not may_author(user):
        raise NotAllowed()
    draft = db.session.scalar(select(CourseDraft).where(CourseDraft.slug == slug))
    if draft is not None:
        if not may_edit(user, draft):
            raise NotAllowed()
        course = _course_with_content(Course.id == draft.course_id) if draft.course_id else None
        return Editing(slug, draft, course, draft_spec(draft), True)
    course = _course_with_content(Course.slug == slug)
    if course is None:
        raise NotFound(_("This course does not exist."))
    if not edits_every_course(user):
        raise NotAllowed()
    return Editing(slug, None, course, spec_from_course(course), False)


def editable(slug: str, user) -> Editing:
    """``editing``, refused with a message for a course that is read-only here."""
    found = editing(slug, user)
    if found.read_only:
        raise ServiceError(_("This course is managed as files and cannot be changed here. Duplicate it to get "
                             "an editable copy."))
    return found


class DraftState:
    NEVER_PUBLISHED = "never_published"
    PUBLISHED = "published"
    CHANGED = "changed"
    IN_REVIEW = "in_review"
    ARCHIVED = "archived"


def state_in_words(state: str, version: int | None) -> str:
    if state == DraftState.NEVER_PUBLISHED:
        return _("Draft, never published")
    if state == DraftState.IN_REVIEW:
        return _("In review")
    if state == DraftState.CHANGED:
        return _("Unpublished changes")
    if state == DraftState.ARCHIVED:
        return _("Archived")
    return _("Published (version %(number)d)", number=version or 1)


def state_of(draft: CourseDraft, course: Course | None) -> str:
    if draft.review_state == ReviewState.IN_REVIEW:
        return DraftState.IN_REVIEW
    if course is None:
        return DraftState.NEVER_PUBLISHED
    if course.archived_at is not None:
        return DraftState.ARCHIVED
    return DraftState.CHANGED if draft.has_changes else DraftState.PUBLISHED


@dataclass
class HomeEntry:
    draft: CourseDraft
    title: str
    state: str
    state_label: str
    version: int | None


@dataclass
class AuthorHome:
    drafts: list[HomeEntry] = field(default_factory=list)
    managed: list[Course] = field(default_factory=list)  # courses managed as files or by upload (project group)


def author_home(user) -> AuthorHome:
    """The courses this person may edit, with their state; for the project group also the file-managed ones.

    Two statements (three for the project group) whatever the number of courses.
    """
    latest = (select(CourseVersion.draft_id, func.max(CourseVersion.number).label("number"))
              .group_by(CourseVersion.draft_id).subquery())
    statement = (editable_drafts(user).add_columns(latest.c.number)
                 .outerjoin(latest, latest.c.draft_id == CourseDraft.id)
                 .options(joinedload(CourseDraft.course))
                 .order_by(CourseDraft.updated_at.desc(), CourseDraft.id.desc()))
    home = AuthorHome()
    for draft, number in db.session.execute(statement).unique():
        state = state_of(draft, draft.course)
        home.drafts.append(HomeEntry(draft, draft.title, state, state_in_words(state, number), number))
    if edits_every_course(user):
        home.managed = list(db.session.scalars(
            select(Course).where(Course.source != CourseSource.WEB,
                                 ~exists().where(CourseDraft.course_id == Course.id))
            .order_by(Course.archived_at.is_not(None), Course.title, Course.slug)))
    return home


# Creating -----------------------------------------------------------------------------------

def slug_taken(slug: str) -> bool:
    return bool(db.session.scalar(select(
        exists().where(Course.slug == slug) | exists().where(CourseDraft.slug == slug))))


def _free_slug(base: str) -> str:
    base = (base or "kurs")[:70].strip("-") or "kurs"
    if len(base) < 2:
        base = f"kurs-{base}"
    candidate, number = base, 1
    while slug_taken(candidate):
        number += 1
        candidate = f"{base}-{number}"
    return candidate


def _title(text: str | None, field_name: str = "title") -> str:
    title = " ".join((text or "").split())
    if not title:
        raise ServiceError(_("Please enter a title."), field_name)
    if len(title) > TITLE_MAX:
        raise ServiceError(_("The title may have at most %(max)d characters.", max=TITLE_MAX), field_name)
    return title


def create_course(actor, title: str, slug: str | None = None) -> CourseDraft:
    """A new course as a draft with the creator as its editor. ``slug``: None to derive it from the title."""
    if not may_author(actor):
        raise NotAllowed()
    title = _title(title)
    wanted = (slug or "").strip().lower()
    if wanted:
        if not SLUG_RE.match(wanted):
            raise ServiceError(_("Use 2 to 80 lower-case letters, digits and hyphens, such as e-akte-basics."),
                               "slug")
        if slug_taken(wanted):
            raise ServiceError(_("A course with this short name exists already. Please choose another one."),
                               "slug")
    else:
        wanted = _free_slug(slug_of(title))
    draft = CourseDraft(slug=wanted, document=document_of(new_spec(wanted, title)), revisions={},
                        created_by_id=actor.id, updated_by_id=actor.id)
    draft.editors = [CourseEditor(user_id=actor.id)]
    db.session.add(draft)
    db.session.flush()
    record(actor, "training.draft_created", draft, title, slug=wanted)
    return draft


# Settings -----------------------------------------------------------------------------------

@dataclass
class Settings:
    title: str
    summary: str
    phase: str | None = None
    tags: list[str] = field(default_factory=list)
    minutes: int = 15
    mandatory: bool = False
    due: str | None = None
    pass_mark: int = 80
    max_attempts: int | None = 3  # None: unlimited
    attempt_pause: int = 0  # minutes
    show_answers: str = ShowAnswers.AFTER_PASSING.value
    title_en: str | None = None
    summary_en: str | None = None
    tags_en: list[str] = field(default_factory=list)


def settings_of(spec: CourseSpec) -> Settings:
    return Settings(**{name: getattr(spec, name) for name in Settings.__dataclass_fields__})


def parse_tags(text: str | None, field_name: str = "tags") -> list[str]:
    """Tags as typed: separated by commas, each at most ``TAG_MAX`` characters."""
    tags = list(dict.fromkeys(" ".join(part.split()) for part in (text or "").split(",") if part.strip()))
    if len(tags) > TAGS_MAX:
        raise ServiceError(_("Please use at most %(max)d tags.", max=TAGS_MAX), field_name)
    if any(len(tag) > TAG_MAX for tag in tags):
        raise ServiceError(_("A tag may have at most %(max)d characters.", max=TAG_MAX), field_name)
    return tags


def _check_settings(settings: Settings) -> Settings:
    settings.title = _title(settings.title)
    settings.summary = (settings.summary or "").strip()
    if not settings.summary:
        raise ServiceError(_("Please describe in a sentence or two what the course is about."), "summary")
    for name in ("summary", "summary_en"):
        text = getattr(settings, name)
        if text and len(text) > SUMMARY_MAX:
            raise ServiceError(_("The text may have at most %(max)d characters (it has %(length)d).",
                                 max=SUMMARY_MAX, length=len(text)), name)
    settings.title_en = _title(settings.title_en, "title_en") if (settings.title_en or "").strip() else None
    settings.summary_en = (settings.summary_en or "").strip() or None
    if settings.phase and not db.session.scalar(select(exists().where(RolloutPhase.slug == settings.phase))):
        raise ServiceError(_("Please choose a rollout phase from the list."), "phase")
    settings.phase = settings.phase or None
    if settings.due:
        try:
            rule = DueRule.parse(settings.due)
        except ValueError:
            raise ServiceError(_("Please enter the due date again."), "due") from None
        if rule.anchor == "golive" and not settings.phase:
            raise ServiceError(_("A due date counted from go-live needs a rollout phase."), "due")
        settings.due = str(rule)
    if not 1 <= settings.minutes <= 600:
        raise ServiceError(_("Enter a whole number from %(low)d to %(high)d.", low=1, high=600), "minutes")
    if not 1 <= settings.pass_mark <= 100:
        raise ServiceError(_("Enter a whole number from %(low)d to %(high)d.", low=1, high=100), "pass_mark")
    if settings.max_attempts is not None and not 1 <= settings.max_attempts <= 100:
        raise ServiceError(_("Enter a whole number from %(low)d to %(high)d.", low=1, high=100), "max_attempts")
    if not 0 <= settings.attempt_pause <= 30 * 24 * 60:
        raise ServiceError(_("The pause may be at most 30 days."), "attempt_pause")
    if settings.show_answers not in {mode.value for mode in ShowAnswers}:
        raise ServiceError(_("Please choose when the correct answers are shown."), "show_answers")
    return settings


def save_settings(draft: CourseDraft, base_revision: int, settings: Settings, actor) -> CourseSpec:
    """Save the course settings under the lock of the part "settings" (``EditConflict`` if someone came first)."""
    settings = _check_settings(settings)

    def change(spec: CourseSpec) -> None:
        for name in Settings.__dataclass_fields__:
            setattr(spec, name, getattr(settings, name))

    return save_part(draft, SETTINGS, base_revision, change, actor,
                     current=settings_of, mine=settings)


# Lessons ------------------------------------------------------------------------------------

def _lesson_slug(title: str, spec: CourseSpec, course: Course | None) -> str:
    taken = {lesson.slug for lesson in spec.lessons}
    if course is not None:  # a lesson archived in the published course keeps its slug (and learners' progress)
        taken |= {lesson.slug for lesson in course.lessons}
    base = slug_of(title)[:60].strip("-") or "lektion"
    candidate, number = base, 1
    while candidate in taken:
        number += 1
        candidate = f"{base}-{number}"
    return candidate


def _renumber(spec: CourseSpec) -> None:
    for position, lesson in enumerate(spec.lessons, start=1):
        lesson.position = position


def add_lesson(draft: CourseDraft, base_revision: int, title: str, actor) -> LessonSpec:
    """Append a lesson with this title (empty text) to the draft; its slug is derived from the title."""
    title = _title(title)
    added: list[LessonSpec] = []

    def change(spec: CourseSpec) -> None:
        lesson = LessonSpec(slug=_lesson_slug(title, spec, draft.course), position=len(spec.lessons) + 1,
                            title=title, body="")
        spec.lessons.append(lesson)
        _renumber(spec)
        added.append(lesson)

    save_part(draft, LESSONS, base_revision, change, actor)
    return added[0]


def _index_of(spec: CourseSpec, slug: str) -> int:
    for index, lesson in enumerate(spec.lessons):
        if lesson.slug == slug:
            return index
    raise ServiceError(_("This lesson does not exist (any more). Nothing has been changed."))


def move_lesson(draft: CourseDraft, base_revision: int, slug: str, direction: str, actor) -> None:
    """Move a lesson one place up or down; refused beyond either end."""
    if direction not in ("up", "down"):
        raise ServiceError(_("Please use the buttons to move a lesson up or down."))

    def change(spec: CourseSpec) -> None:
        index = _index_of(spec, slug)
        target = index - 1 if direction == "up" else index + 1
        if not 0 <= target < len(spec.lessons):
            raise ServiceError(_("This lesson is the first already.") if direction == "up" else
                               _("This lesson is the last already."))
        spec.lessons[index], spec.lessons[target] = spec.lessons[target], spec.lessons[index]
        _renumber(spec)

    save_part(draft, LESSONS, base_revision, change, actor)


def remove_lesson(draft: CourseDraft, base_revision: int, slug: str, actor) -> LessonSpec:
    """Remove a lesson from the draft (publishing archives it; learners keep their progress)."""
    removed: list[LessonSpec] = []

    def change(spec: CourseSpec) -> None:
        removed.append(spec.lessons.pop(_index_of(spec, slug)))
        _renumber(spec)

    save_part(draft, LESSONS, base_revision, change, actor)
    return removed[0]


@dataclass
class LessonText:
    title: str
    body: str
    title_en: str | None = None
    body_en: str | None = None


def lesson_text(lesson: LessonSpec) -> LessonText:
    return LessonText(lesson.title, lesson.body, lesson.title_en, lesson.body_en)


def _check_lesson(text: LessonText) -> LessonText:
    title = _title(text.title)
    title_en = _title(text.title_en, "title_en") if (text.title_en or "").strip() else None
    body, body_en = (text.body or "").replace("\r\n", "\n"), (text.body_en or "").replace("\r\n", "\n")
    for name, value in (("body", body), ("body_en", body_en)):
        problem = check(value, LESSON_MAX)
        if problem:
            raise ServiceError(problem, name)
        first = next((line for line in value.splitlines() if line.strip()), "")
        if first.startswith("# "):
            raise ServiceError(_("The text starts with a level-1 heading (# …), which learners would not see: the "
                                 "lesson's title is shown in its place. Start sections with ## instead."), name)
    if body_en.strip() and not title_en:
        raise ServiceError(_("Please enter the English title as well, or leave the English text empty."), "title_en")
    return LessonText(title, body, title_en, body_en if body_en.strip() else None)


def save_lesson(draft: CourseDraft, slug: str, base_revision: int, text: LessonText, actor) -> LessonSpec:
    """Save one lesson's texts under its own lock (``EditConflict`` carries both versions)."""
    text = _check_lesson(text)
    saved: list[LessonSpec] = []

    def current(spec: CourseSpec):
        index = next((i for i, lesson in enumerate(spec.lessons) if lesson.slug == slug), None)
        return lesson_text(spec.lessons[index]) if index is not None else None

    def change(spec: CourseSpec) -> None:
        lesson = spec.lessons[_index_of(spec, slug)]
        lesson.title, lesson.body, lesson.title_en, lesson.body_en = text.title, text.body, text.title_en, text.body_en
        saved.append(lesson)

    save_part(draft, lesson_part(slug), base_revision, change, actor, current=current, mine=text)
    return saved[0]


# Editors ------------------------------------------------------------------------------------

def author_ids() -> set[int]:
    """The active people who may be named as editors: those holding the author or project-group role."""
    return set(db.session.scalars(
        select(UserRole.user_id).join(User, User.id == UserRole.user_id)
        .where(UserRole.role.in_([role.value for role in AUTHORING_ROLES]), User.active.is_(True))))


def editors_of(draft: CourseDraft) -> list[CourseEditor]:
    return list(db.session.scalars(
        select(CourseEditor).join(User, User.id == CourseEditor.user_id).where(CourseEditor.draft_id == draft.id)
        .options(joinedload(CourseEditor.user)).order_by(User.last_name, User.first_name, User.id)))


def add_editors(draft: CourseDraft, user_ids: list[int], actor) -> list[User]:
    """Name people as editors of the course; only people with the author or project-group role."""
    if not user_ids:
        raise ServiceError(_("Please choose a person."), "editor_ids")
    allowed = author_ids()
    people = list(db.session.scalars(select(User).where(User.id.in_(user_ids))))
    refused = [person for person in people if person.id not in allowed]
    if refused or len(people) != len(set(user_ids)):
        raise ServiceError(_("Only people with the role “Author” or “Project group” can be named as editors "
                             "(%(names)s). An administrator grants the role.",
                             names=", ".join(p.full_name for p in refused) or "–"), "editor_ids")
    current = set(db.session.scalars(select(CourseEditor.user_id).where(CourseEditor.draft_id == draft.id)))
    added = [person for person in people if person.id not in current]
    for person in added:
        db.session.add(CourseEditor(draft_id=draft.id, user_id=person.id))
        record(actor, "training.editor_added", draft, f"{person.full_name}: {draft.title}", user_id=person.id)
    db.session.flush()
    return added


def remove_editor(draft: CourseDraft, user_id: int, actor) -> User:
    """Take a person off the course's editors; the last editor stays (the project group edits every course)."""
    editors = {editor.user_id: editor for editor in editors_of(draft)}
    editor = editors.get(user_id)
    if editor is None:
        raise ServiceError(_("This person is not an editor of the course."))
    if len(editors) == 1:
        raise ServiceError(_("A course keeps at least one editor. Name another editor first."))
    person = editor.user
    db.session.delete(editor)
    db.session.flush()
    record(actor, "training.editor_removed", draft, f"{person.full_name}: {draft.title}", user_id=person.id)
    return person


# Duplicating a course managed as files ------------------------------------------------------

@dataclass
class Duplicated:
    draft: CourseDraft
    images_copied: int
    images_left: list[str]  # references that could not be copied into the media library (kept as written)


def _without_title_line(body: str | None) -> str | None:
    """A lesson file's text without its ``# Title`` line (the editor keeps the title apart)."""
    if body is None:
        return None
    lines = body.lstrip("\ufeff").splitlines()
    while lines and not lines[0].strip():
        lines.pop(0)
    if lines and lines[0].startswith("# "):
        lines.pop(0)
    while lines and not lines[0].strip():
        lines.pop(0)
    return "\n".join(lines)


def _copy_images(spec: CourseSpec, files: dict[str, bytes], actor) -> tuple[int, list[str]]:
    """Put the images the lessons show from the course folder into the media library; rewrite the references."""
    from learning.media.services import Upload, upload_media, url_of

    copied: dict[str, str] = {}
    left: list[str] = []

    def replace(match: re.Match) -> str:
        alt, src = match.group(1), match.group(2)
        name = src.split("#")[0].split("?")[0].removeprefix("./")
        if name in copied:
            return f"![{alt}]({copied[name]})"
        data = files.get(name)
        if data is None or PurePosixPath(name).suffix.lower() not in COPYABLE_IMAGES:
            if data is not None and name not in left:
                left.append(name)
            return match.group(0)
        try:  # a refused file is refused before anything is stored
            item = upload_media(actor, Upload(stream=io.BytesIO(data), filename=PurePosixPath(name).name,
                                              alt_text=alt.strip() or PurePosixPath(name).stem)).item
        except ServiceError:
            left.append(name)
            return match.group(0)
        copied[name] = url_of(item)
        return f"![{alt}]({copied[name]})"

    for lesson in spec.lessons:
        lesson.body = IMAGE_RE.sub(replace, lesson.body)
        if lesson.body_en:
            lesson.body_en = IMAGE_RE.sub(replace, lesson.body_en)
    return len(copied), left


def duplicate_course(slug: str, actor) -> Duplicated:
    """An editable web copy (new slug, lessons, quiz, settings) of a course managed as files or uploaded."""
    from learning.training.exchange import course_media

    found = editing(slug, actor)
    if found.draft is not None or found.course is None:
        raise ServiceError(_("Only a course managed as files can be duplicated here."))
    course = found.course
    spec = spec_from_course(course)
    new_slug = _free_slug(f"{course.slug[:70]}-kopie")
    spec.slug = new_slug
    spec.title = _("%(title)s (copy)", title=course.title)[:TITLE_MAX]
    if spec.title_en:
        spec.title_en = f"{spec.title_en} (copy)"[:TITLE_MAX]
    for lesson in spec.lessons:
        lesson.body = _without_title_line(lesson.body) or ""
        lesson.body_en = _without_title_line(lesson.body_en)
    copied, left = _copy_images(spec, course_media(course), actor)
    draft = CourseDraft(slug=new_slug, document=document_of(spec), revisions={}, created_by_id=actor.id,
                        updated_by_id=actor.id)
    draft.editors = [CourseEditor(user_id=actor.id)]
    db.session.add(draft)
    db.session.flush()
    record(actor, "training.course_duplicated", draft, f"{course.title} → {spec.title}", source=course.slug,
           slug=new_slug, images=copied)
    return Duplicated(draft, copied, left)

