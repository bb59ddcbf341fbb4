"""The files of the media store on disk: one file per content hash, never half written, never orphaned.

Layout under ``MEDIA_DIR``: ``ab/abcdef….png`` (the SHA-256 of the bytes, fanned out by its first two
characters), ``thumbnails/ab/abcdef….webp`` (an image's small preview, named after the image) and
``incoming/`` (uploads being received). A file is written to a temporary name in the same folder,
flushed to disk and renamed into place, so a reader sees the whole file or none; the same content
uploaded twice lands on the same name and is stored once.

Files are written before the transaction that records them commits. The names written in a
transaction are kept in the session; if it rolls back, the new ones are removed again (unless a
row committed meanwhile by someone else refers to the same content). A file whose last row was
deleted is removed after the deleting transaction committed (``discard_unused``).

An upload whose content is on disk already writes nothing, but checks again after its commit:
if the file went meanwhile (the last other entry with that content was deleted, or the upload
that wrote it rolled back, at the same moment), it is put back from the bytes received.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from flask import current_app
from sqlalchemy import event, or_, select
from sqlalchemy.orm import Session

from learning.db import after_commit, read_outside_transaction
from learning.media.models import MediaItem
from learning.training.exchange import media_path as course_file_path
from learning.training.models import CourseFile

logger = logging.getLogger(__name__)

WRITTEN = "learning.media.written"  # in Session.info: (hash, path) of the files this transaction created
KEPT = "learning.media.kept"  # in Session.info: received copies of content already on disk, until the commit
COPY_CHUNK = 1024 * 1024


class TooLarge(Exception):
    """The stream held more bytes than allowed."""


def media_dir() -> Path:
    return Path(current_app.config["MEDIA_DIR"])


def path_for(sha256: str, extension: str) -> Path:
    return media_dir() / sha256[:2] / f"{sha256}.{extension}"


def thumbnail_path(sha256: str) -> Path:
    return media_dir() / "thumbnails" / sha256[:2] / f"{sha256}.webp"


def _new_temporary(folder: Path) -> tuple[int, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=folder, prefix=".partial-")
    return fd, Path(name)


def _place(temporary: Path, target: Path, session: Session, sha256: str) -> bool:
    """Rename ``temporary`` to ``target`` unless that exists (same name, same bytes); whether it was new.

    If it exists, ``temporary`` is kept until the commit and then either dropped or, if ``target``
    went meanwhile, renamed into its place.
    """
    if target.exists():
        session.info.setdefault(KEPT, []).append(str(temporary))
        after_commit(lambda: _settle(temporary, target))
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(temporary, target)
    session.info.setdefault(WRITTEN, []).append((sha256, str(target)))
    return True


def _settle(temporary: Path, target: Path) -> None:
    if target.exists():
        temporary.unlink(missing_ok=True)
    else:
        logger.warning("Media file %s went while an upload of the same content committed; put back", target.name)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(temporary, target)


def _write_if_gone(data: bytes, target: Path) -> None:
    if not target.exists():
        logger.warning("Media file %s went while an upload of the same content committed; put back", target.name)
        put_bytes(None, data, "", target)


def put_bytes(session: Session | None, data: bytes, sha256: str, target: Path) -> bool:
    """Store ``data`` at ``target`` atomically; whether a new file was written (``session``: to undo on rollback)."""
    if target.exists():
        if session is not None:
            after_commit(lambda: _write_if_gone(data, target))
        return False
    fd, temporary = _new_temporary(target.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        if session is None:
            os.replace(temporary, target)
            return True
        return _place(temporary, target, session, sha256)
    finally:
        if temporary.exists() and str(temporary) not in (session.info.get(KEPT, ()) if session else ()):
            temporary.unlink(missing_ok=True)


class Spool:
    """An upload copied into ``incoming/`` while it is hashed and counted; removed unless placed."""

    def __init__(self, stream: BinaryIO, head: bytes, limit: int):
        self.path: Path | None = None
        fd, self.path = _new_temporary(media_dir() / "incoming")
        digest = hashlib.sha256(head)
        self.size = len(head)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(head)
                while chunk := stream.read(COPY_CHUNK):
                    self.size += len(chunk)
                    if self.size > limit:
                        raise TooLarge
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
        except BaseException:
            self.discard()
            raise
        self.sha256 = digest.hexdigest()

    def open(self) -> BinaryIO:
        return open(self.path, "rb")  # noqa: SIM115  (the caller closes it)

    def place(self, session: Session, target: Path) -> bool:
        """Move the upload to ``target`` (same file system: a rename); whether a new file was written."""
        placed = _place(self.path, target, session, self.sha256)
        self.path = None
        return placed

    def discard(self) -> None:
        if self.path is not None:
            self.path.unlink(missing_ok=True)
            self.path = None


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def referenced(sha256: str) -> bool:
    """Whether a committed row refers to the content (read on a connection of its own)."""
    statement = select(MediaItem.id).where(
        or_(MediaItem.sha256 == sha256, MediaItem.captions_sha256 == sha256)).limit(1)
    return bool(read_outside_transaction(statement))


def discard_unused(sha256: str, *paths: Path) -> None:
    """Remove the files of content no row refers to any more (after the commit that deleted the last one)."""
    if referenced(sha256):
        return
    for path in paths:
        try:
            path.unlink(missing_ok=True)
        except OSError:
            logger.exception("Could not remove the unused media file %s", path)


@dataclass
class StoreReport:
    missing: list[str]  # stored names that rows refer to but the folder lacks
    orphans: list[Path]  # files no row refers to (left by a process that died before its commit)
    partials: list[Path]  # half-written files older than ``stale_seconds``


def check_store(now: float, stale_seconds: float = 3600) -> StoreReport:
    """Compare the folder with the rows: what is missing, what nobody refers to, what was left half written."""
    rows = read_outside_transaction(select(MediaItem.sha256, MediaItem.extension, MediaItem.kind,
                                           MediaItem.captions_sha256))
    expected: set[Path] = set()
    for sha256, extension, kind, captions in rows:
        expected.add(path_for(sha256, extension))
        if kind == "image":
            expected.add(thumbnail_path(sha256))
        if captions:
            expected.add(path_for(captions, "vtt"))
    # The files of courses uploaded as a zip live in the same folder (learning.training.exchange).
    expected.update(course_file_path(sha256) for (sha256,) in read_outside_transaction(select(CourseFile.sha256)))
    root = media_dir()
    present = {path for path in root.rglob("*") if path.is_file()} if root.exists() else set()
    partials = sorted(path for path in present
                      if path.name.startswith(".partial-") and now - path.stat().st_mtime > stale_seconds)
    orphans = sorted(path for path in present - expected if not path.name.startswith(".partial-"))
    missing = sorted(str(path.relative_to(root)) for path in expected - present)
    return StoreReport(missing, orphans, partials)


@event.listens_for(Session, "after_commit")
def _keep_written(session: Session) -> None:
    session.info.pop(WRITTEN, None)
    session.info.pop(KEPT, None)  # the unit of work's after-commit effects settle them now


@event.listens_for(Session, "after_soft_rollback")
def _remove_written(session: Session, previous_transaction) -> None:
    """The transaction that should have recorded these files rolled back: remove the files it created."""
    if previous_transaction.parent is not None:
        return
    for name in session.info.pop(KEPT, ()):
        Path(name).unlink(missing_ok=True)
    for sha256, name in session.info.pop(WRITTEN, ()):
        path = Path(name)
        try:
            if not referenced(sha256):
                path.unlink(missing_ok=True)
        except Exception:  # the database may be what failed; keep the file rather than lose one in use
            logger.exception("Could not remove %s after a rolled-back upload", path)
