"""Courses exchanged as zip files in the ``courses/<slug>/`` folder format: export any course, import one.

An import is checked exactly as ``flask courses sync --check`` checks a folder (``read_courses``,
the accessibility check included): every problem as ``FILE:LINE: reason``, and all or nothing. A zip
is hostile input: it is unpacked into a temporary folder only after every entry passed the checks
(no ``..``, no absolute paths, no links or other special files, no duplicates, limits on entries,
unpacked size and compression ratio), and nothing is stored when anything is refused. Media of an
uploaded course go to the media store (``MEDIA_DIR``) under their content hash; a row per file keeps
its path in the course folder. An upload never overwrites a course managed as files, and a sync
never touches an uploaded course.

Longer than most modules (about 600 lines) on purpose: the zip's entry checks, its unpacking and the
writing of the same format are one contract, kept in one place so that export and import cannot drift.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import stat
import tempfile
import unicodedata
import zipfile
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import IO

from flask import current_app
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from learning.audit.services import record
from learning.db import db, utcnow
from learning.errors import NotFound, ServiceError
from learning.phases.models import RolloutPhase
from learning.training.accessibility import IMAGE_RE, LINK_RE, VIDEO_SUFFIXES
from learning.training.models import Course, CourseFile, CourseSource, Lesson, Question, QuestionKind
from learning.training.sync import (
    LESSON_RE,
    CourseSpec,
    Problem,
    apply_course,
    known_phases,
    quiz_of,
    read_courses,
)

# What an uploaded course may contain besides course.toml, quiz.toml, quiz.en.toml and its lessons,
# each checked by its content: the first bytes must fit the name.
MEDIA_SIGNATURES = {
    ".png": lambda head: head.startswith(b"\x89PNG\r\n\x1a\n"),
    ".jpg": lambda head: head.startswith(b"\xff\xd8\xff"),
    ".jpeg": lambda head: head.startswith(b"\xff\xd8\xff"),
    ".gif": lambda head: head.startswith((b"GIF87a", b"GIF89a")),
    ".webp": lambda head: head[:4] == b"RIFF" and head[8:12] == b"WEBP",
    ".pdf": lambda head: head.startswith(b"%PDF-"),
    ".mp4": lambda head: head[4:8] == b"ftyp",
    ".webm": lambda head: head.startswith(b"\x1a\x45\xdf\xa3"),
    ".vtt": lambda head: head.removeprefix(b"\xef\xbb\xbf").startswith(b"WEBVTT"),
}
MEDIA_KINDS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".gif": "GIF", ".webp": "WebP", ".pdf": "PDF",
               ".mp4": "MP4", ".webm": "WebM", ".vtt": "WebVTT"}
COURSE_TEXT_FILES = {"course.toml", "quiz.toml", "quiz.en.toml"}
# Left behind by the system that packed the zip; skipped without a word.
PACKING_LEFTOVERS = {".ds_store", "thumbs.db", "desktop.ini"}
RATIO_FLOOR = 100_000  # bytes: smaller entries may compress as well as they like
CHUNK = 64 * 1024
MB = 1024 * 1024
SCHEME_RE = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


@dataclass(frozen=True)
class ZipLimits:
    """How much a course zip may hold; from ``COURSE_ZIP_*`` in the configuration."""

    max_bytes: int
    max_entries: int
    max_unpacked: int
    max_ratio: int

    @classmethod
    def from_config(cls, config: Mapping) -> ZipLimits:
        return cls(max_bytes=config["COURSE_ZIP_MAX_MB"] * MB, max_entries=config["COURSE_ZIP_MAX_ENTRIES"],
                   max_unpacked=config["COURSE_ZIP_MAX_UNPACKED_MB"] * MB, max_ratio=config["COURSE_ZIP_MAX_RATIO"])


class CourseImportError(ServiceError):
    """A refused course zip: the message, and every problem (``FILE:LINE: reason``) and warning found."""

    def __init__(self, message: str, problems=(), warnings=()):
        super().__init__(message, field="file")
        self.problems = [str(problem) for problem in problems]
        self.warnings = [str(warning) for warning in warnings]


@dataclass
class ImportResult:
    """What an import changed, for the page and the command line."""

    slug: str
    title: str = ""
    created: bool = False
    unchanged: bool = False
    restored: bool = False  # the course had been archived and is published again
    settings_changed: bool = False
    lessons_added: list[str] = field(default_factory=list)
    lessons_changed: list[str] = field(default_factory=list)
    lessons_archived: list[str] = field(default_factory=list)
    quiz_changed: bool = False
    media_added: list[str] = field(default_factory=list)
    media_changed: list[str] = field(default_factory=list)
    media_removed: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """In English, for the command line; the page words it in the reader's language."""
        if self.created:
            return f"{self.slug}: new course with {len(self.lessons_added)} lesson(s)"
        if self.unchanged:
            return f"{self.slug}: unchanged"
        return (f"{self.slug}: updated{' and restored from the archive' if self.restored else ''}; lessons added: "
                f"{len(self.lessons_added)}, changed: {len(self.lessons_changed)}, archived: "
                f"{len(self.lessons_archived)}; quiz {'changed' if self.quiz_changed else 'unchanged'}; settings "
                f"{'changed' if self.settings_changed else 'unchanged'}; media added: {len(self.media_added)}, "
                f"changed: {len(self.media_changed)}, removed: {len(self.media_removed)}")


# Loading ------------------------------------------------------------------------------------------

def course_for_exchange(slug: str) -> Course:
    """A course with everything an export needs (archived ones too); else ``NotFound``."""
    course = db.session.scalar(
        select(Course).where(Course.slug == slug).options(
            joinedload(Course.phase), selectinload(Course.lessons), selectinload(Course.files),
            selectinload(Course.questions).selectinload(Question.answers)))
    if course is None:
        raise NotFound(_("This course does not exist."))
    return course


def managed_courses() -> list[tuple[Course, int]]:
    """Every course with its number of lessons, current ones first (two queries whatever the number)."""
    lessons = (select(Lesson.course_id, func.count().label("lessons")).where(Lesson.archived_at.is_(None))
               .group_by(Lesson.course_id).subquery())
    rows = db.session.execute(
        select(Course, func.coalesce(lessons.c.lessons, 0)).outerjoin(lessons, lessons.c.course_id == Course.id)
        .order_by(Course.archived_at.is_not(None), Course.title, Course.slug))
    return [(course, count) for course, count in rows]


# Export -------------------------------------------------------------------------------------------

def _toml(value) -> str:
    """A TOML value: JSON's string escapes are TOML's, except DEL, which TOML wants escaped."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(item) for item in value) + "]"
    return json.dumps(str(value), ensure_ascii=False).replace("\x7f", "\\u007f")


def _pause(minutes: int) -> str:
    if not minutes:
        return "0"
    for unit, size in (("d", 24 * 60), ("h", 60)):
        if minutes % size == 0:
            return f"{minutes // size}{unit}"
    return f"{minutes}m"


def course_toml(course: Course) -> str:
    lines = [f"title = {_toml(course.title)}", f"summary = {_toml(course.summary)}"]
    if course.phase is not None:
        lines.append(f"phase = {_toml(course.phase.slug)}")
    if course.tags:
        lines.append(f"tags = {_toml(list(course.tags))}")
    lines += [f"minutes = {course.minutes}", f"mandatory = {_toml(bool(course.mandatory))}"]
    if course.default_due:
        lines.append(f"due = {_toml(course.default_due)}")
    lines += [
        f"pass_mark = {course.pass_mark}",
        f"max_attempts = {course.max_attempts if course.max_attempts else _toml('unlimited')}",
        f"attempt_pause = {_toml(_pause(course.attempt_pause_minutes))}",
        f"show_answers = {_toml(course.show_answers)}",
        f"language = {_toml(course.language or 'de')}",
    ]
    if course.quiz_draw:
        lines.append(f"quiz_draw = {course.quiz_draw}")
    if course.title_en or course.summary_en or course.tags_en:
        lines += ["", "[en]"]
        if course.title_en:
            lines.append(f"title = {_toml(course.title_en)}")
        if course.summary_en:
            lines.append(f"summary = {_toml(course.summary_en)}")
        if course.tags_en:
            lines.append(f"tags = {_toml(list(course.tags_en))}")
    return "\n".join(lines) + "\n"


def quiz_toml(course: Course, english: bool = False) -> str:
    """quiz.toml (or quiz.en.toml): choice questions with their answers, true/false statements with ``correct``."""
    blocks = []
    for question in course.questions:
        text = (question.text_en or "") if english else question.text
        explanation = (question.explanation_en or "") if english else (question.explanation or "")
        block = ["[[questions]]", f"text = {_toml(text)}"]
        if not english:
            block.append(f"kind = {_toml(question.kind)}")
        block.append(f"explanation = {_toml(explanation)}")
        if question.kind == QuestionKind.TRUE_FALSE:
            if not english:
                block.append(f"correct = {_toml(bool(question.answers[0].correct))}")
            for answer, key in zip(question.answers, ("feedback_true", "feedback_false"), strict=False):
                feedback = answer.feedback_en if english else answer.feedback
                if feedback:
                    block.append(f"{key} = {_toml(feedback)}")
            blocks.append("\n".join(block))
            continue
        for answer in question.answers:
            text = (answer.text_en or "") if english else answer.text
            block += ["", "[[questions.answers]]", f"text = {_toml(text)}"]
            if not english:
                block.append(f"correct = {_toml(bool(answer.correct))}")
            feedback = answer.feedback_en if english else answer.feedback
            if feedback:
                block.append(f"feedback = {_toml(feedback)}")
        blocks.append("\n".join(block))
    return "\n\n".join(blocks) + "\n"


def has_english_quiz(course: Course) -> bool:
    """Whether any question has English text (a true/false statement's own "True"/"False" do not count)."""
    return any(q.text_en or q.explanation_en or any(a.feedback_en for a in q.answers)
               or (q.kind != QuestionKind.TRUE_FALSE and any(a.text_en for a in q.answers))
               for q in course.questions)


def lesson_file_stem(lesson: Lesson) -> str:
    """The lesson's file name without ``.md``: its slug where that is a file name of its position."""
    match = LESSON_RE.match(lesson.slug)
    if match and int(match.group(1)) == lesson.position:
        return lesson.slug
    rest = re.sub(r"[^a-z0-9]+", "-", lesson.slug.lower()).strip("-") or "lektion"
    return f"{lesson.position:02d}-{rest}"


def _lesson_text(title: str | None, body: str) -> str:
    return body if body.lstrip("\ufeff").startswith("# ") else f"# {title or ''}\n\n{body}"


def _referenced_files(course: Course) -> set[str]:
    """Paths of the course folder that lessons show or link (images, attachments, videos with their captions)."""
    found: set[str] = set()
    for lesson in course.active_lessons:
        for body in (lesson.body, lesson.body_en or ""):
            for pattern in (IMAGE_RE, LINK_RE):
                for _text, target in pattern.findall(body):
                    target = target.split("#")[0].split("?")[0].removeprefix("./")
                    if not target or target.startswith("/") or SCHEME_RE.match(target):
                        continue
                    found.add(target)
                    if target.lower().endswith(VIDEO_SUFFIXES):
                        found.add(target.rsplit(".", 1)[0] + ".vtt")
    return found


def media_path(sha256: str) -> Path:
    """Where the media store keeps a file with this content."""
    return Path(current_app.config["MEDIA_DIR"]) / "courses" / sha256[:2] / sha256


def course_file(course: Course, path: str) -> CourseFile | None:
    """The stored media file of an uploaded course at ``path`` in its folder."""
    return db.session.scalar(select(CourseFile).where(CourseFile.course_id == course.id, CourseFile.path == path))


def course_media(course: Course) -> dict[str, bytes]:
    """The media files of a course by their path in its folder."""
    if not course.managed_as_files:
        media = {}
        for item in course.files:
            try:
                media[item.path] = media_path(item.sha256).read_bytes()
            except FileNotFoundError:
                raise ServiceError(_("The file %(path)s of this course is missing from the media store.",
                                     path=item.path)) from None
        return media
    folder = (Path(current_app.config["COURSES_DIR"]) / course.slug).resolve()
    media = {}
    for name in sorted(_referenced_files(course)):
        path = (folder / name).resolve()
        if path.is_relative_to(folder) and path.is_file():
            media[path.relative_to(folder).as_posix()] = path.read_bytes()
    return media


def course_files(course: Course) -> dict[str, bytes]:
    """Every file of the course's folder, by path below it, as ``flask courses sync`` reads it."""
    files = {"course.toml": course_toml(course).encode()}
    for lesson in course.active_lessons:
        stem = lesson_file_stem(lesson)
        files[f"{stem}.md"] = _lesson_text(lesson.title, lesson.body).encode()
        if lesson.body_en:
            files[f"{stem}.en.md"] = _lesson_text(lesson.title_en, lesson.body_en).encode()
    if course.questions:
        files["quiz.toml"] = quiz_toml(course).encode()
        if has_english_quiz(course):
            files["quiz.en.toml"] = quiz_toml(course, english=True).encode()
    for path, content in course_media(course).items():
        files.setdefault(path, content)
    return files


def export_course(course: Course) -> bytes:
    """The course as a zip holding its folder ``<slug>/``, ready for ``courses/`` or an upload."""
    buffer = io.BytesIO()
    stamp = (course.updated_at or utcnow()).timetuple()[:6]
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path, content in course_files(course).items():
            info = zipfile.ZipInfo(f"{course.slug}/{path}", date_time=max(stamp, (1980, 1, 1, 0, 0, 0)))
            info.external_attr = (stat.S_IFREG | 0o644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, content)
    return buffer.getvalue()


# Reading a zip ------------------------------------------------------------------------------------

def _entry_problem(info: zipfile.ZipInfo) -> str | None:
    """Why an entry may not be unpacked, or None."""
    name = info.filename
    if any(unicodedata.category(char) == "Cc" for char in name):
        return _("a file name with control characters")
    if "\\" in name:
        return _("a backslash in the file name (paths in a zip use /)")
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        return _("an absolute path")
    parts = name.rstrip("/").split("/")
    if ".." in parts:
        return _("a path leading out of the folder (..)")
    if "" in parts or "." in parts:
        return _("an empty path part")
    kind = stat.S_IFMT(info.external_attr >> 16)
    if kind == stat.S_IFLNK:
        return _("a link (symlink)")
    if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
        return _("not an ordinary file")
    if info.flag_bits & 0x1:
        return _("an encrypted file")
    return None


def _leftover(name: str) -> bool:
    parts = name.rstrip("/").split("/")
    return parts[0] == "__MACOSX" or parts[-1].lower() in PACKING_LEFTOVERS or parts[-1].startswith("._")


def _refuse(message: str, problems=()) -> CourseImportError:
    return CourseImportError(message, problems)


def unpack(data: IO[bytes], root: Path, limits: ZipLimits) -> Path:
    """Check every entry of the zip, then unpack it below ``root``; return the one course folder."""
    try:
        size = data.seek(0, os.SEEK_END)
        data.seek(0)
    except (AttributeError, OSError):
        size = 0
    if size > limits.max_bytes:
        raise _refuse(_("The zip is %(size)d MB; at most %(limit)d MB are allowed.",
                        size=-(-size // MB), limit=limits.max_bytes // MB))
    try:
        archive = zipfile.ZipFile(data)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise _refuse(_("The file is not a zip archive.")) from None
    with archive:
        infos = archive.infolist()
        if len(infos) > limits.max_entries:
            raise _refuse(_("The zip holds %(count)d entries; at most %(limit)d are allowed.",
                            count=len(infos), limit=limits.max_entries))
        refused, seen, tops, files = [], set(), set(), []
        declared = compressed = 0
        for info in infos:
            problem = _entry_problem(info)
            if problem:
                refused.append(f"{info.filename}: {problem}")
                continue
            if _leftover(info.filename):
                continue
            key = unicodedata.normalize("NFC", info.filename.rstrip("/")).casefold()
            if key in seen:
                refused.append(f"{info.filename}: {_('the name appears twice in the zip')}")
                continue
            seen.add(key)
            parts = info.filename.rstrip("/").split("/")
            tops.add(parts[0] if len(parts) > 1 or info.is_dir() else "")
            if info.is_dir():
                continue
            if info.file_size > RATIO_FLOOR and info.file_size > limits.max_ratio * max(info.compress_size, 1):
                refused.append(f"{info.filename}: " + _("unpacks %(ratio)d times larger than it is packed (at most "
                                                        "%(limit)d times)",
                                                        ratio=info.file_size // max(info.compress_size, 1),
                                                        limit=limits.max_ratio))
            declared += info.file_size
            compressed += info.compress_size
            files.append(info)
        if refused:
            raise _refuse(_("The zip was refused; nothing was stored."), refused)
        if declared > limits.max_unpacked:
            raise _refuse(_("The zip unpacks to %(size)d MB; at most %(limit)d MB are allowed.",
                            size=-(-declared // MB), limit=limits.max_unpacked // MB))
        if declared > RATIO_FLOOR and declared > limits.max_ratio * max(compressed, 1):
            raise _refuse(_("The zip unpacks %(ratio)d times larger than it is packed; at most %(limit)d times are "
                            "allowed.", ratio=declared // max(compressed, 1), limit=limits.max_ratio))
        if len(tops) != 1 or "" in tops or next(iter(tops)).startswith((".", "_")) or not files:
            raise _refuse(_("The zip must hold exactly one course folder, named like the course (for example "
                            "e-akte-grundlagen/), with course.toml and the lessons inside."))
        written = 0
        try:
            for info in files:
                target = root.joinpath(*info.filename.split("/"))
                target.parent.mkdir(parents=True, exist_ok=True)
                size = 0
                with archive.open(info) as source, open(target, "xb") as out:
                    while chunk := source.read(CHUNK):
                        size += len(chunk)
                        written += len(chunk)
                        if size > info.file_size or written > limits.max_unpacked:
                            raise _refuse(_("The zip unpacks to more than it declares or is allowed; nothing was "
                                            "stored."))
                        out.write(chunk)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError, OSError, ValueError):
            raise _refuse(_("The zip is damaged or uses a packing method that is not supported.")) from None
    return root / tops.pop()


def _media_problems(folder: Path) -> list[Problem]:
    """Files that are no part of a course, and media whose content does not fit their name."""
    problems = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        name = path.relative_to(folder).as_posix()
        suffix = path.suffix.lower()
        if name in COURSE_TEXT_FILES or (suffix == ".md" and "/" not in name):
            continue
        if suffix == ".md":
            problems.append(Problem(path, 1, "lessons belong directly in the course folder, not in a subfolder"))
        elif suffix == ".svg":
            problems.append(Problem(path, 1, "SVG images are not accepted in an upload (they can carry scripts); "
                                             "save the image as PNG or WebP"))
        elif suffix not in MEDIA_SIGNATURES:
            problems.append(Problem(path, 1, "files of this kind are not accepted in a course; allowed are "
                                             "lessons (.md), course.toml, quiz.toml and "
                                             + ", ".join(sorted({k.lstrip('.') for k in MEDIA_SIGNATURES}))))
        else:
            with path.open("rb") as handle:
                head = handle.read(16)
            if not MEDIA_SIGNATURES[suffix](head):
                problems.append(Problem(path, 1, f"the content is not {MEDIA_KINDS[suffix]}, as the name says"))
    return problems


def read_course_zip(data: IO[bytes], root: Path, limits: ZipLimits,
                    phases: set[str] | None) -> tuple[CourseSpec, Path, list[Problem]]:
    """Unpack and check a course zip below ``root`` as ``flask courses sync --check`` checks a folder.

    Returns the course, its unpacked folder and the warnings; any problem refuses the whole zip,
    each named ``<slug>/FILE:LINE: reason``.
    """
    folder = unpack(data, root, limits)
    warnings: list[Problem] = []
    specs, problems = read_courses(root, phases, warnings)
    problems += _media_problems(folder)

    def relative(problem: Problem) -> Problem:
        return replace(problem, path=problem.path.relative_to(root))

    if problems or not specs:
        problems = [relative(problem) for problem in problems]
        raise CourseImportError(ngettext("The course has %(num)d problem; nothing was stored.",
                                         "The course has %(num)d problems; nothing was stored.",
                                         len(problems)), problems, [relative(w) for w in warnings])
    return specs[0], folder, [relative(warning) for warning in warnings]


# Importing ----------------------------------------------------------------------------------------

def _settings(course: Course | None) -> dict:
    if course is None:
        return {}
    return {"title": course.title, "title_en": course.title_en, "summary": course.summary,
            "summary_en": course.summary_en, "minutes": course.minutes, "mandatory": course.mandatory,
            "pass_mark": course.pass_mark, "language": course.language, "show_answers": course.show_answers,
            "max_attempts": course.max_attempts or None, "attempt_pause": course.attempt_pause_minutes,
            "tags": list(course.tags or []), "tags_en": list(course.tags_en or []), "due": course.default_due,
            "phase_id": course.phase_id}


def _spec_settings(spec: CourseSpec, phase_id: int | None) -> dict:
    return {"title": spec.title, "title_en": spec.title_en, "summary": spec.summary, "summary_en": spec.summary_en,
            "minutes": spec.minutes, "mandatory": spec.mandatory, "pass_mark": spec.pass_mark,
            "language": spec.language, "show_answers": spec.show_answers, "max_attempts": spec.max_attempts,
            "attempt_pause": spec.attempt_pause, "tags": spec.tags, "tags_en": spec.tags_en, "due": spec.due,
            "phase_id": phase_id}


def _hash_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _store_media_file(source: Path, sha256: str) -> None:
    """Copy a file into the media store under its hash (written once; the same content is shared)."""
    target = media_path(sha256)
    if target.is_file():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
    try:
        with os.fdopen(handle, "wb") as out, source.open("rb") as data:
            shutil.copyfileobj(data, out)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def import_course(data: IO[bytes], actor=None, *, limits: ZipLimits | None = None) -> ImportResult:
    """Publish or update an uploaded course from a zip; the caller's unit of work commits.

    Refused (``CourseImportError``) with every problem when the zip or the course is not in order,
    and when the slug belongs to a course managed as files; nothing is stored then. Learners keep
    their progress on lessons that stay (matched by file name); removed lessons are archived.
    """
    limits = limits or ZipLimits.from_config(current_app.config)
    with tempfile.TemporaryDirectory(prefix="course-zip-") as temporary:
        spec, folder, warnings = read_course_zip(data, Path(temporary), limits, known_phases())
        course = db.session.scalar(
            select(Course).where(Course.slug == spec.slug).options(
                selectinload(Course.lessons), selectinload(Course.files),
                selectinload(Course.questions).selectinload(Question.answers)))
        if course is not None and course.managed_as_files:
            raise CourseImportError(_(
                "The course “%(slug)s” is managed as files on the server (courses/%(slug)s/): it is changed there, "
                "never by an upload. To keep a copy that can be changed here, give the folder in the zip another "
                "name.", slug=spec.slug))
        phase_id = db.session.scalar(select(RolloutPhase.id).where(RolloutPhase.slug == spec.phase)) \
            if spec.phase else None
        media = {path.relative_to(folder).as_posix(): path for path in sorted(folder.rglob("*"))
                 if path.is_file() and path.suffix.lower() in MEDIA_SIGNATURES}
        hashes = {name: _hash_file(path) for name, path in media.items()}
        result = _changes(course, spec, phase_id, hashes)
        result.warnings = [str(warning) for warning in warnings]
        if result.unchanged:
            return result
        for name, path in media.items():
            _store_media_file(path, hashes[name])
        if course is None:
            course = Course(slug=spec.slug, source=CourseSource.UPLOAD)
            db.session.add(course)
        apply_course(course, spec, phase_id, utcnow())
        rows = {item.path: item for item in course.files}
        course.files = [_file_row(rows.get(name), name, hashes[name], media[name].stat().st_size)
                        for name in sorted(media)]
        db.session.flush()
        record(actor, "training.course_created" if result.created else "training.course_updated", course,
               result.summary())
    return result


def _file_row(row: CourseFile | None, path: str, sha256: str, size: int) -> CourseFile:
    row = row or CourseFile(path=path)
    row.sha256, row.size = sha256, size
    return row


def _changes(course: Course | None, spec: CourseSpec, phase_id: int | None, hashes: dict[str, str]) -> ImportResult:
    result = ImportResult(slug=spec.slug, title=spec.title)
    if course is None:
        result.created = True
        result.lessons_added = [lesson.slug for lesson in spec.lessons]
        result.media_added = sorted(hashes)
        return result
    active = {lesson.slug: lesson for lesson in course.lessons if lesson.archived_at is None}
    for lesson in spec.lessons:
        if lesson.slug not in active:
            result.lessons_added.append(lesson.slug)
        elif active[lesson.slug].content_hash != lesson.content_hash:
            result.lessons_changed.append(lesson.slug)
    result.lessons_archived = sorted(active.keys() - {lesson.slug for lesson in spec.lessons})
    result.quiz_changed = (quiz_of(course) != [asdict(question) for question in spec.questions]
                           or course.quiz_draw != spec.quiz_draw)
    result.settings_changed = _settings(course) != _spec_settings(spec, phase_id)
    stored = {item.path: item.sha256 for item in course.files}
    result.media_added = sorted(hashes.keys() - stored.keys())
    result.media_removed = sorted(stored.keys() - hashes.keys())
    result.media_changed = sorted(name for name in hashes.keys() & stored.keys() if hashes[name] != stored[name])
    result.restored = course.archived_at is not None
    result.unchanged = not (result.restored or result.settings_changed or result.quiz_changed or result.lessons_added
                            or result.lessons_changed or result.lessons_archived or result.media_added
                            or result.media_changed or result.media_removed)
    return result


# Archive and restore ------------------------------------------------------------------------------

def set_course_archived(course: Course, archived: bool, actor=None) -> bool:
    """Archive or restore an uploaded course; learners' assignments, progress and certificates stay.

    Returns whether anything changed. A course managed as files is archived by removing its folder
    (the next sync would undo a change made here), so it is refused.
    """
    if course.managed_as_files:
        raise ServiceError(_("“%(slug)s” is managed as files on the server: it is archived by removing its folder "
                             "from courses/ and running the sync.", slug=course.slug))
    if (course.archived_at is not None) == archived:
        return False
    course.archived_at = utcnow() if archived else None
    db.session.flush()
    record(actor, "training.course_archived" if archived else "training.course_restored", course, course.slug)
    return True
