"""The media store: uploaded images, PDF attachments and short videos, and where they are used.

A file is stored once under the SHA-256 of its bytes (``learning.media.store``); a ``MediaItem`` is
what people see in the library: the file's hash and type, a name, its alternative text and who
may see it (a course's audience, or every signed-in person for editorial content). Two items may
share a file (the same picture in two courses); the file goes when the last of them does.
"""

from __future__ import annotations

import enum

from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from learning.db import TimestampMixin, db
from learning.org.models import User
from learning.pagecache import Shown
from learning.training.models import Course

NAME_MAX = 200
ALT_MAX = 500
TRANSCRIPT_MAX = 20_000
USAGE_KIND_MAX = 40
USAGE_LABEL_MAX = 200


class MediaKind(enum.StrEnum):
    IMAGE = "image"
    PDF = "pdf"
    VIDEO = "video"

    @property
    def label(self) -> str:
        return str(KIND_LABELS[self])


KIND_LABELS = {
    MediaKind.IMAGE: _l("Image"),
    MediaKind.PDF: _l("PDF document"),
    MediaKind.VIDEO: _l("Video"),
}

# The stored type of each file extension the store writes; nothing else is ever served.
MIME_TYPES = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "webp": "image/webp",
    "pdf": "application/pdf",
    "mp4": "video/mp4",
    "webm": "video/webm",
    "vtt": "text/vtt",
}


class MediaItem(TimestampMixin, db.Model):
    """One entry of the media library: a stored file with its description and audience."""

    __tablename__ = "media_item"
    # Kept pages show stored HTML with a file's path, not the entry; uploads are rare, so a change
    # simply counts for everyone (never stale should the editor show entries on a kept page).
    __page_cache__ = Shown.EVERYONE

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    extension: Mapped[str] = mapped_column(String(5))
    size: Mapped[int]  # bytes of the stored file
    width: Mapped[int | None]
    height: Mapped[int | None]
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    # What the image shows; for a PDF or a video the text of its link or its title. Never empty.
    alt_text: Mapped[str] = mapped_column(String(ALT_MAX))
    # None: editorial content, for every signed-in person; else the course's audience.
    course_id: Mapped[int | None] = mapped_column(ForeignKey("course.id"), index=True)
    # Videos: a WebVTT captions file (stored under its own hash) and/or a transcript.
    captions_sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    captions_language: Mapped[str | None] = mapped_column(String(5))
    transcript: Mapped[str | None] = mapped_column(Text)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    course: Mapped[Course | None] = relationship()
    uploaded_by: Mapped[User | None] = relationship()
    usages: Mapped[list[MediaUsage]] = relationship(back_populates="media", order_by="MediaUsage.id",
                                                    passive_deletes="all")

    def __str__(self) -> str:
        return self.name

    @property
    def media_kind(self) -> MediaKind:
        return MediaKind(self.kind)

    @property
    def mime_type(self) -> str:
        return MIME_TYPES[self.extension]

    @property
    def filename(self) -> str:
        """The name under which the store serves the file: its hash and extension."""
        return f"{self.sha256}.{self.extension}"

    @property
    def captions_filename(self) -> str | None:
        return f"{self.captions_sha256}.vtt" if self.captions_sha256 else None

    @property
    def is_image(self) -> bool:
        return self.kind == MediaKind.IMAGE

    @property
    def is_video(self) -> bool:
        return self.kind == MediaKind.VIDEO


class MediaUsage(db.Model):
    """Where a media item is used (a lesson, an announcement ...): it cannot be deleted while it is.

    The course editor records a usage when it saves a text that shows the item
    (``learning.media.services.set_usages``); ``kind`` and ``ref_id`` name the text, ``label`` is
    what the library shows.
    """

    __tablename__ = "media_usage"
    __page_cache__ = Shown.EVERYONE
    __table_args__ = (UniqueConstraint("media_id", "kind", "ref_id"),
                      Index("ix_media_usage_kind_ref_id", "kind", "ref_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    media_id: Mapped[int] = mapped_column(ForeignKey("media_item.id"), index=True)
    kind: Mapped[str] = mapped_column(String(USAGE_KIND_MAX))
    ref_id: Mapped[int]
    label: Mapped[str] = mapped_column(String(USAGE_LABEL_MAX))

    media: Mapped[MediaItem] = relationship(back_populates="usages")
