"""Images in lessons written in the browser: the media library knows where each is shown and keeps it."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from learning.db import db, unit_of_work
from learning.errors import ServiceError
from learning.media.models import MediaItem, MediaUsage
from learning.media.services import Upload, delete_media, upload_media
from learning.org.models import User
from learning.roles import Role
from learning.training.authoring.models import CourseDraft
from learning.training.models import Course
from tests.media import samples
from tests.training.authoring.test_publish import edit_lesson, publish


@pytest.fixture
def author(make_user):
    return make_user("autorin", roles={Role.AUTHOR}, first_name="Lena", last_name="Autorin")


@pytest.fixture
def picture(app, people):
    """An image in the media library; its Markdown path."""
    with app.test_request_context():
        actor = db.session.get(User, people["admin"].id)
        item = upload_media(actor, Upload(io.BytesIO(samples.png()), "ablauf.png", alt_text="Der Ablauf")).item
        db.session.commit()
        return item.id, f"![Der Ablauf](/media/{item.filename})"


def usages(app, media_id: int) -> list[tuple[str, str]]:
    with app.app_context():
        return [(u.kind, u.label) for u in db.session.scalars(
            select(MediaUsage).where(MediaUsage.media_id == media_id).order_by(MediaUsage.kind, MediaUsage.id))]


def try_delete(app, people, media_id: int) -> str | None:
    with app.test_request_context(headers={"Accept-Language": "en"}):
        try:
            with unit_of_work():
                delete_media(db.session.get(User, people["admin"].id), db.session.get(MediaItem, media_id))
        except ServiceError as error:
            return str(error)
    return None


def test_an_image_saved_in_a_draft_lesson_cannot_be_deleted_from_the_library(app, people, author, make_draft,
                                                                            picture):
    media_id, markdown = picture
    make_draft("bildkurs", title="Bilder im Kurs", editors=[author])
    edit_lesson(app, "bildkurs", 0, f"## Ablauf\n\n{markdown}\n", author)
    assert [kind for kind, _ in usages(app, media_id)] == ["course_draft"]
    message = try_delete(app, people, media_id)
    assert message is not None and "is still used in" in message and "Bilder im Kurs" in message
    with app.app_context():
        assert db.session.get(MediaItem, media_id) is not None


def test_publishing_moves_the_usage_to_the_lesson_and_a_removed_image_may_then_be_deleted(
        app, client, login, people, author, make_draft, picture):
    media_id, markdown = picture
    make_draft("bildkurs", title="Bilder im Kurs", editors=[author])
    edit_lesson(app, "bildkurs", 1, f"Text.\n\n{markdown}\n", author)
    login(client, "autorin")
    assert publish(client, "bildkurs", "Erste Fassung").status_code == 302
    assert usages(app, media_id) == [("lesson", "Bilder im Kurs › Lektion 2")]
    with app.app_context():
        lesson = db.session.scalar(select(Course).where(Course.slug == "bildkurs")).active_lessons[1]
        assert (lesson.id,) == db.session.execute(
            select(MediaUsage.ref_id).where(MediaUsage.media_id == media_id)).one()
    assert try_delete(app, people, media_id) is not None

    edit_lesson(app, "bildkurs", 1, "Text ohne Bild.\n", author)  # the draft no longer shows it; the lesson does
    assert [kind for kind, _ in usages(app, media_id)] == ["lesson"]
    assert publish(client, "bildkurs", "Bild entfernt").status_code == 302
    assert usages(app, media_id) == []
    assert try_delete(app, people, media_id) is None
    with app.app_context():
        assert db.session.get(MediaItem, media_id) is None
        assert db.session.scalar(select(CourseDraft).where(CourseDraft.slug == "bildkurs")).document is None
