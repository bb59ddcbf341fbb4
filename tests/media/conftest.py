"""Fixtures for the media store: a signed-in project group member and an upload helper."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from sqlalchemy import func, select

from learning.db import db
from learning.media.models import MediaItem
from tests.media import samples


@pytest.fixture
def media_dir(app) -> Path:
    return Path(app.config["MEDIA_DIR"])


@pytest.fixture
def librarian(app, people, login):
    """A client signed in as the project group member."""
    client = app.test_client()
    login(client, people["project_group"].username)
    return client


@pytest.fixture
def upload():
    """Send the library's upload form; ``files`` as name → (bytes, filename) or (bytes, filename, content type)."""

    def send(client, data: bytes, filename: str, *, alt_text: str = "Ein Bild", content_type=None, course_id=0,
             captions: tuple[bytes, str] | None = None, transcript: str = "", **fields):
        form = {"alt_text": alt_text, "course_id": str(course_id), "captions_language": "de",
                "transcript": transcript, "file": (io.BytesIO(data), filename, content_type), **fields}
        if captions is not None:
            form["captions"] = (io.BytesIO(captions[0]), captions[1])
        return client.submit("/admin/media/", form, content_type="multipart/form-data")

    return send


def stored_files(media_dir: Path) -> list[Path]:
    """Every file in the store (uploads half received included)."""
    return sorted(path for path in media_dir.rglob("*") if path.is_file()) if media_dir.exists() else []


def item_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(MediaItem))


def only_item(app) -> MediaItem:
    with app.app_context():
        items = db.session.scalars(select(MediaItem)).all()
        assert len(items) == 1
        db.session.expunge(items[0])
        return items[0]


@pytest.fixture
def sample():
    return samples
