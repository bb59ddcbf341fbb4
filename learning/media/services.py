"""Use cases of the media store: upload, describe, serve, insert into Markdown, record usage, delete.

For the course editor (and any other feature that shows media):

- ``upload_media(actor, Upload(...))`` checks a file by its content and stores it (``learning.media.inspect``);
- ``markdown_for(item, alt)`` is the only way an image gets into a text: never without alternative text;
- ``player_for(item)`` gives what the video player (``templates/media/_player.html``) needs;
- ``set_usages(kind, ref_id, label, items)`` / ``set_usages_from_markdown(...)`` record where items are
  used; an item in use cannot be deleted;
- ``may_see_media(user, item)`` and ``may_manage_media(user)`` are the two permission checks.

Services only flush; the caller's unit of work commits. Files are written before the commit and
removed again if it rolls back (``learning.media.store``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload, selectinload

from learning.audit.services import record
from learning.content import MEDIA_PATH
from learning.db import after_commit, db
from learning.errors import NotFound, ServiceError
from learning.media import inspect, store
from learning.media.models import (
    ALT_MAX,
    NAME_MAX,
    TRANSCRIPT_MAX,
    USAGE_KIND_MAX,
    USAGE_LABEL_MAX,
    MediaItem,
    MediaKind,
    MediaUsage,
)
from learning.org.models import User
from learning.pagination import Page, paginate
from learning.roles import Role
from learning.training.models import Course
from learning.training.services import may_see as may_see_course

# Who may open the media library, upload and delete. The course editor adds its author role here
# (and, if authors may only manage their own courses' media, a rule in ``may_manage_media``).
LIBRARY_ROLES = (Role.PROJECT_GROUP, Role.ADMIN, Role.AUTHOR)  # authors put images into their lessons
CAPTION_LANGUAGES = ("de", "en")
PER_PAGE = 20
FILENAME_RE = re.compile(r"^([0-9a-f]{64})\.(png|jpg|webp|pdf|mp4|webm|vtt)$")
THUMBNAIL_RE = re.compile(r"^([0-9a-f]{64})\.webp$")
MARKDOWN_MEDIA_RE = re.compile(re.escape(MEDIA_PATH) + r"([0-9a-f]{64})\.(?:png|jpg|webp|pdf|mp4|webm)\b")
CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


# Permissions --------------------------------------------------------------------------------

def may_manage_media(user) -> bool:
    """Whether ``user`` may use the media library: upload, describe and delete media."""
    return bool(getattr(user, "is_authenticated", False)) and user.has_role(*LIBRARY_ROLES)


def may_see_media(user, item: MediaItem) -> bool:
    """Editorial media: every signed-in person; a course's: whoever may see the course; library roles: all."""
    if not getattr(user, "is_authenticated", False):
        return False
    if item.course_id is None or may_manage_media(user):
        return True
    return item.course is not None and may_see_course(user, item.course)


# Reading ------------------------------------------------------------------------------------

def media_for(user, media_id: int) -> MediaItem:
    """An item for the library (with course, usages and uploader); ``NotFound`` if missing or not to be seen."""
    item = db.session.scalar(
        select(MediaItem).where(MediaItem.id == media_id).options(
            joinedload(MediaItem.course), joinedload(MediaItem.uploaded_by), selectinload(MediaItem.usages)))
    if item is None or not may_see_media(user, item):
        raise NotFound(_("This media item does not exist."))
    return item


def library_page(user, *, q: str = "", kind: str = "", page: int | None = None) -> Page:
    """One page of the library, newest first: three statements whatever the page holds."""
    if not may_manage_media(user):
        raise NotFound(_("This media item does not exist."))
    statement = (select(MediaItem)
                 .options(joinedload(MediaItem.course), selectinload(MediaItem.usages))
                 .order_by(MediaItem.created_at.desc(), MediaItem.id.desc()))
    if kind in set(MediaKind):
        statement = statement.where(MediaItem.kind == kind)
    if q:
        pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        statement = statement.where(or_(MediaItem.name.ilike(pattern, escape="\\"),
                                        MediaItem.alt_text.ilike(pattern, escape="\\")))
    return paginate(statement, per_page=PER_PAGE, page=page)


def course_choices() -> list[tuple[int, str]]:
    """Courses an item can belong to (open ones), by title."""
    rows = db.session.execute(select(Course.id, Course.title).where(Course.archived_at.is_(None))
                              .order_by(Course.title, Course.id)).all()
    return [(row.id, row.title) for row in rows]


@dataclass(frozen=True)
class ServedFile:
    path: Path
    mime_type: str
    etag: str
    download_name: str
    as_attachment: bool


def served_file(user, filename: str) -> ServedFile:
    """The file behind ``/media/<filename>`` if ``user`` may see an item with that content; else ``NotFound``.

    The same content may belong to several items (a picture in two courses): one visible item suffices.
    """
    match = FILENAME_RE.match(filename)
    if match is None:
        raise NotFound(_("This media item does not exist."))
    sha256, extension = match.groups()
    if extension == "vtt":
        where = MediaItem.captions_sha256 == sha256
    else:
        where = (MediaItem.sha256 == sha256) & (MediaItem.extension == extension)
    item = _first_visible(user, where)
    path = store.path_for(sha256, extension)
    if item is None or not path.is_file():
        raise NotFound(_("This media item does not exist."))
    stem = _safe_stem(item.name)
    if extension == "vtt":
        return ServedFile(path, "text/vtt; charset=utf-8", sha256, f"{stem}.{item.captions_language or 'de'}.vtt",
                          False)
    return ServedFile(path, item.mime_type, sha256, f"{stem}.{extension}", extension == "pdf")


def served_thumbnail(user, filename: str) -> ServedFile:
    """The preview of an image (``/media/thumbnails/<hash>.webp``), to whoever may see the image."""
    match = THUMBNAIL_RE.match(filename)
    if match is None:
        raise NotFound(_("This media item does not exist."))
    sha256 = match.group(1)
    item = _first_visible(user, (MediaItem.sha256 == sha256) & (MediaItem.kind == MediaKind.IMAGE))
    path = store.thumbnail_path(sha256)
    if item is None or not path.is_file():
        raise NotFound(_("This media item does not exist."))
    return ServedFile(path, "image/webp", f"thumbnail-{sha256}", f"{_safe_stem(item.name)}.webp", False)


def _first_visible(user, where) -> MediaItem | None:
    items = db.session.scalars(select(MediaItem).where(where).options(joinedload(MediaItem.course))
                               .order_by(MediaItem.id)).unique().all()
    return next((item for item in items if may_see_media(user, item)), None)


def _safe_stem(name: str) -> str:
    stem = PurePosixPath(name).stem if "." in name else name
    return stem.strip()[:100] or "media"


# Uploading ----------------------------------------------------------------------------------

@dataclass
class Upload:
    """What the upload form (or the editor) hands over; streams are read here, never trusted by name."""

    stream: BinaryIO
    filename: str
    alt_text: str
    course_id: int | None = None
    captions: BinaryIO | None = None
    captions_language: str = "de"
    transcript: str = ""


@dataclass
class Uploaded:
    item: MediaItem
    created: bool  # False: the same content was already in the library for the same audience


def upload_media(actor: User, upload: Upload) -> Uploaded:
    """Check, clean and store an uploaded file and its library entry (flushed, not committed).

    The same content uploaded again for the same audience is not added twice: the entry there is
    returned with ``created=False``.
    """
    if not may_manage_media(actor):
        raise NotFound(_("This media item does not exist."))
    alt_text = _alt_text(upload.alt_text)
    course = _course(upload.course_id)
    head = upload.stream.read(inspect.HEAD_BYTES)
    extension = inspect.sniff(head)
    if extension is None:
        raise inspect.unsupported_type(head, upload.filename or "")
    if extension not in inspect.VIDEO_EXTENSIONS and (upload.captions is not None or (upload.transcript or "").strip()):
        raise ServiceError(_("Captions and transcripts belong to videos; this file is an image.")
                           if extension in inspect.IMAGE_EXTENSIONS else
                           _("Captions and transcripts belong to videos; this file is a PDF document."),
                           field="captions")
    store_image = _store_image if extension in inspect.IMAGE_EXTENSIONS else _store_file
    item = store_image(upload, head, extension, course)
    if item.id is not None:  # an entry that was stored before
        return Uploaded(item, False)
    item.name = display_name(upload.filename)
    item.alt_text = alt_text
    item.course = course
    item.uploaded_by_id = actor.id
    db.session.add(item)
    db.session.flush()
    record(actor, "media.upload", item, item.name, kind=item.kind, sha256=item.sha256, course_id=item.course_id)
    return Uploaded(item, True)


def _store_image(upload: Upload, head: bytes, extension: str, course: Course | None) -> MediaItem:
    """The cleaned image and its thumbnail on disk, and a new entry for them; or the entry that has them."""
    config = current_app.config
    data = head + _read_at_most(upload.stream, config["MEDIA_MAX_IMAGE_BYTES"] - len(head), "image")
    image = inspect.clean_image(data, extension, max_pixels=config["MEDIA_MAX_IMAGE_PIXELS"],
                                max_edge=config["MEDIA_MAX_IMAGE_EDGE"])
    sha256 = store.sha256_of(image.data)
    existing = _existing(sha256, extension, course)
    if existing is not None:
        return existing
    session = db.session()
    store.put_bytes(session, image.data, sha256, store.path_for(sha256, extension))
    store.put_bytes(session, image.thumbnail, sha256, store.thumbnail_path(sha256))
    return MediaItem(kind=MediaKind.IMAGE, sha256=sha256, extension=extension, size=len(image.data),
                     width=image.width, height=image.height)


def _store_file(upload: Upload, head: bytes, extension: str, course: Course | None) -> MediaItem:
    """A checked PDF or video (with its captions) on disk, and a new entry for it; or the entry that has it."""
    kind = MediaKind.PDF if extension == "pdf" else MediaKind.VIDEO
    limit = current_app.config["MEDIA_MAX_PDF_BYTES" if kind == MediaKind.PDF else "MEDIA_MAX_VIDEO_BYTES"]
    try:
        spool = store.Spool(upload.stream, head, limit)
    except store.TooLarge:
        raise _too_large(kind.value, limit) from None
    try:
        with spool.open() as received:
            if kind == MediaKind.PDF:
                inspect.check_pdf(received, spool.size)
            else:
                inspect.check_video(received, spool.size, extension)
        captions, transcript = _captions_or_transcript(upload) if kind == MediaKind.VIDEO else (None, "")
        existing = _existing(spool.sha256, extension, course)
        if existing is not None:
            return existing
        item = MediaItem(kind=kind, sha256=spool.sha256, extension=extension, size=spool.size,
                         transcript=transcript or None)
        if captions is not None:
            item.captions_sha256 = _store_captions(db.session(), captions)
            item.captions_language = _language(upload.captions_language)
        spool.place(db.session(), store.path_for(spool.sha256, extension))
        return item
    finally:
        spool.discard()


def _existing(sha256: str, extension: str, course: Course | None) -> MediaItem | None:
    course_id = course.id if course is not None else None
    return db.session.scalar(select(MediaItem).where(
        MediaItem.sha256 == sha256, MediaItem.extension == extension,
        MediaItem.course_id.is_(None) if course_id is None else MediaItem.course_id == course_id,
    ).order_by(MediaItem.id).limit(1))


def _read_at_most(stream: BinaryIO, limit: int, kind: str) -> bytes:
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise _too_large(kind, limit)
    return data


def _too_large(kind: str, limit: int) -> ServiceError:
    megabytes = max(1, limit // (1024 * 1024))
    messages = {
        "image": _("The image is too large (at most %(mb)d MB). Please scale it down or save it with more "
                   "compression.", mb=megabytes),
        "pdf": _("The PDF document is too large (at most %(mb)d MB). Please save it with smaller images.",
                 mb=megabytes),
        "video": _("The video is too large (at most %(mb)d MB). Please shorten it or save it with a lower "
                   "resolution.", mb=megabytes),
    }
    return ServiceError(messages[kind], field="file")


def _alt_text(value: str | None) -> str:
    text = " ".join((value or "").split())
    if not text:
        raise ServiceError(_("Please describe the file: what an image shows, or what a document or video is "
                             "about."), field="alt_text")
    if len(text) > ALT_MAX:
        raise ServiceError(_("Please keep the description to %(max)d characters.", max=ALT_MAX), field="alt_text")
    return text


def _course(course_id: int | None) -> Course | None:
    if not course_id:
        return None
    course = db.session.get(Course, course_id)
    if course is None:
        raise ServiceError(_("This course does not exist."), field="course_id")
    return course


def _language(value: str | None) -> str:
    return value if value in CAPTION_LANGUAGES else "de"


def display_name(filename: str | None) -> str:
    """The name the library shows: the uploaded file's name without folders or control characters."""
    name = CONTROL_RE.sub("", (filename or "").replace("\\", "/").rsplit("/", 1)[-1]).strip()
    return name[:NAME_MAX] or _("Unnamed file")


def _captions_or_transcript(upload: Upload) -> tuple[bytes | None, str]:
    captions = None
    if upload.captions is not None:
        limit = current_app.config["MEDIA_MAX_CAPTIONS_BYTES"]
        captions = inspect.check_captions(upload.captions.read(limit + 1), limit)
    transcript = _transcript(upload.transcript)
    if captions is None and not transcript:
        raise ServiceError(_("A video needs captions (a WebVTT file) or a transcript, so that people who cannot "
                             "hear it can follow it."), field="captions")
    return captions, transcript


def _transcript(value: str | None) -> str:
    text = (value or "").replace("\r\n", "\n").strip()
    if len(text) > TRANSCRIPT_MAX:
        raise ServiceError(_("Please keep the transcript to %(max)d characters.", max=TRANSCRIPT_MAX),
                           field="transcript")
    return text


def _store_captions(session, captions: bytes) -> str:
    sha256 = store.sha256_of(captions)
    store.put_bytes(session, captions, sha256, store.path_for(sha256, "vtt"))
    return sha256


# Changing -----------------------------------------------------------------------------------

@dataclass
class Description:
    name: str
    alt_text: str
    course_id: int | None = None
    captions: BinaryIO | None = None
    captions_language: str = "de"
    remove_captions: bool = False
    transcript: str = ""


def describe_media(actor: User, item: MediaItem, change: Description) -> MediaItem:
    """Change an item's name, description, audience and (videos) captions or transcript."""
    if not may_manage_media(actor):
        raise NotFound(_("This media item does not exist."))
    name = " ".join(CONTROL_RE.sub("", change.name or "").split())
    if not name:
        raise ServiceError(_("Please enter a name."), field="name")
    item.name = name[:NAME_MAX]
    item.alt_text = _alt_text(change.alt_text)
    item.course = _course(change.course_id)
    old_captions = item.captions_sha256
    if item.is_video:
        transcript = _transcript(change.transcript)
        captions = None
        if change.captions is not None:
            limit = current_app.config["MEDIA_MAX_CAPTIONS_BYTES"]
            captions = inspect.check_captions(change.captions.read(limit + 1), limit)
        keeps_captions = captions is not None or (item.captions_sha256 and not change.remove_captions)
        if not keeps_captions and not transcript:
            raise ServiceError(_("A video needs captions (a WebVTT file) or a transcript, so that people who "
                                 "cannot hear it can follow it."), field="captions")
        if captions is not None:
            item.captions_sha256 = _store_captions(db.session(), captions)
            item.captions_language = _language(change.captions_language)
        elif change.remove_captions:
            item.captions_sha256 = item.captions_language = None
        elif item.captions_sha256:
            item.captions_language = _language(change.captions_language)
        item.transcript = transcript or None
    elif change.captions is not None or (change.transcript or "").strip():
        raise ServiceError(_("Captions and transcripts belong to videos."), field="captions")
    db.session.flush()
    if old_captions and old_captions != item.captions_sha256:
        after_commit(lambda: store.discard_unused(old_captions, store.path_for(old_captions, "vtt")))
    record(actor, "media.describe", item, item.name, course_id=item.course_id)
    return item


def delete_media(actor: User, item: MediaItem) -> None:
    """Delete an item that nothing uses; its file goes after the commit unless another item has the same content."""
    if not may_manage_media(actor):
        raise NotFound(_("This media item does not exist."))
    if item.usages:
        raise ServiceError(_("“%(name)s” is still used in %(places)s and cannot be deleted. Remove it there "
                             "first.", name=item.name, places=", ".join(u.label for u in item.usages[:5])))
    sha256, extension, captions = item.sha256, item.extension, item.captions_sha256
    record(actor, "media.delete", item, item.name, sha256=sha256)
    db.session.delete(item)
    db.session.flush()
    paths = [store.path_for(sha256, extension), store.thumbnail_path(sha256)]
    after_commit(lambda: store.discard_unused(sha256, *paths))
    if captions:
        after_commit(lambda: store.discard_unused(captions, store.path_for(captions, "vtt")))


# For the editor: inserting and showing ------------------------------------------------------

def url_of(item: MediaItem) -> str:
    """The path under which the store serves the item (allowed as an image in editorial and course Markdown)."""
    return f"{MEDIA_PATH}{item.filename}"


def _markdown_text(text: str) -> str:
    return re.sub(r"([\\\[\]])", r"\\\1", " ".join(text.split()))


def markdown_for(item: MediaItem, alt: str | None = None) -> str:
    """The Markdown that shows ``item`` in a text: an image with its alternative text, a link to a PDF, a video
    (in a lesson: the player with its captions and transcript; ``learning.training.lesson_html``).

    ``alt`` overrides the item's alternative text for this one place (the same picture can mean
    different things in two lessons). An image without alternative text is refused.
    """
    text = " ".join((alt if alt is not None else item.alt_text or "").split())
    if item.kind == MediaKind.IMAGE:
        if not text:
            raise ServiceError(_("An image needs an alternative text before it can be inserted: describe what it "
                                 "shows."), field="alt_text")
        return f"![{_markdown_text(text)}]({url_of(item)})"
    if item.kind == MediaKind.PDF:
        label = _("%(name)s (PDF, %(size)s)", name=text or item.name, size=human_size(item.size))
        return f"[{_markdown_text(label)}]({url_of(item)})"
    if item.kind == MediaKind.VIDEO and text:  # a lesson shows it in the player, with its captions and transcript
        return f"![{_markdown_text(text)}]({url_of(item)})"
    raise ServiceError(_("A video needs a title before it can be inserted: say what it shows."), field="alt_text")


def human_size(size: int) -> str:
    if size < 1024 * 1024:
        return _("%(kb)s KB", kb=max(1, round(size / 1024)))
    return _("%(mb).1f MB", mb=size / (1024 * 1024))


@dataclass(frozen=True)
class VideoPlayer:
    src: str
    mime_type: str
    title: str
    captions_src: str | None
    captions_language: str | None
    transcript: str | None


def player_for(item: MediaItem) -> VideoPlayer:
    """What ``templates/media/_player.html`` needs to show a video with its captions and transcript."""
    if not item.is_video:
        raise ServiceError(_("This media item is not a video."), field="media")
    return VideoPlayer(url_of(item), item.mime_type, item.alt_text,
                       f"{MEDIA_PATH}{item.captions_filename}" if item.captions_sha256 else None,
                       item.captions_language, item.transcript)


# Usage --------------------------------------------------------------------------------------

def media_in_markdown(text: str | None) -> list[MediaItem]:
    """The items a Markdown text refers to by their store path (in order of their first mention)."""
    hashes = list(dict.fromkeys(MARKDOWN_MEDIA_RE.findall(text or "")))
    if not hashes:
        return []
    items = db.session.scalars(select(MediaItem).where(MediaItem.sha256.in_(hashes))
                               .order_by(MediaItem.id)).all()
    first = {}
    for item in items:
        first.setdefault(item.sha256, item)
    return [first[h] for h in hashes if h in first]


def set_usages(kind: str, ref_id: int, label: str, items: Iterable[MediaItem]) -> None:
    """Record that the text ``kind``/``ref_id`` (e.g. ``"lesson"``, 17) uses exactly ``items`` now.

    Usages of items no longer in the list are removed; ``label`` (e.g. "Kurs X › Lektion 2") is what
    the library shows. Call it in the unit of work that saves the text.
    """
    kind = kind[:USAGE_KIND_MAX]
    label = " ".join(label.split())[:USAGE_LABEL_MAX]
    wanted = {item.id: item for item in items}
    current = {usage.media_id: usage for usage in db.session.scalars(
        select(MediaUsage).where(MediaUsage.kind == kind, MediaUsage.ref_id == ref_id))}
    for media_id, usage in current.items():
        if media_id not in wanted:
            db.session.delete(usage)
        else:
            usage.label = label
    for media_id, item in wanted.items():
        if media_id not in current:
            db.session.add(MediaUsage(media=item, kind=kind, ref_id=ref_id, label=label))
    db.session.flush()


def set_usages_from_markdown(kind: str, ref_id: int, label: str, *texts: str | None) -> list[MediaItem]:
    """``set_usages`` with the items the texts (e.g. a lesson's German and English body) refer to."""
    items = {item.id: item for text in texts for item in media_in_markdown(text)}
    set_usages(kind, ref_id, label, items.values())
    return list(items.values())


def clear_usages(kind: str, ref_id: int) -> None:
    """The text ``kind``/``ref_id`` was deleted: it uses nothing any more."""
    set_usages(kind, ref_id, "", ())
