"""A video of the media library in a lesson written in the browser: learners get the player with captions and
transcript; the editor offers the video like an image."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import select

from learning.db import db
from learning.media.services import Upload, markdown_for, upload_media
from learning.org.models import User
from learning.roles import Role
from learning.training.models import Course
from tests.media import samples
from tests.training.authoring.test_publish import edit_lesson, publish


@pytest.fixture
def author(make_user):
    return make_user("autorin", roles={Role.AUTHOR}, first_name="Lena", last_name="Autorin")


@pytest.fixture
def video(app, people):
    """Upload a video: ``video(captions=True, transcript="")`` → (Markdown, item's sha256, captions' sha256)."""

    def upload(*, captions: bool = True, transcript: str = "", name: str = "akte.mp4"):
        with app.test_request_context():
            actor = db.session.get(User, people["admin"].id)
            item = upload_media(actor, Upload(
                io.BytesIO(samples.mp4()), name, alt_text="So legen Sie eine Akte an",
                captions=io.BytesIO(samples.CAPTIONS) if captions else None, transcript=transcript)).item
            db.session.commit()
            return markdown_for(item), item.sha256, item.captions_sha256

    return upload


def lesson_page(app, client, slug: str, position: int = 1) -> str:
    with app.app_context():
        course = db.session.scalar(select(Course).where(Course.slug == slug))
        lesson = course.active_lessons[position - 1].slug
    response = client.get(f"/learning/courses/{slug}/lessons/{lesson}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_the_editor_inserts_a_video_as_it_inserts_an_image(video):
    markdown, sha256, _captions = video()
    assert markdown == f"![So legen Sie eine Akte an](/media/{sha256}.mp4)"


def test_a_published_lesson_shows_the_video_in_a_player_with_captions(app, client, login, author, make_draft, video):
    markdown, sha256, captions = video()
    make_draft("filmkurs", title="Akten anlegen", editors=[author])
    edit_lesson(app, "filmkurs", 0, f"## Im Film\n\n{markdown}\n\nDanach geht es weiter.\n", author)
    login(client, "autorin")
    assert publish(client, "filmkurs", "Mit Film").status_code == 302

    page = lesson_page(app, client, "filmkurs")
    player = re.search(r'<figure class="media-player">.*?</figure>', page, re.S).group(0)
    assert '<video controls preload="metadata" title="So legen Sie eine Akte an"' in player
    assert f'<source src="/media/{sha256}.mp4" type="video/mp4">' in player
    assert f'<track kind="captions" src="/media/{captions}.vtt" srclang="de" label="Deutsch" default>' in player
    assert f'<img alt="So legen Sie eine Akte an" src="/media/{sha256}.mp4"' not in page  # no broken image
    assert "<p><figure" not in page  # the figure replaces the paragraph it stood in
    with app.app_context():
        stored = db.session.scalar(select(Course).where(Course.slug == "filmkurs")).active_lessons[0].body_html
    assert "media-player" in stored  # rendered once, at publishing


def test_a_transcript_is_offered_below_the_player_in_the_readers_language(app, client, login, author, make_draft,
                                                                         video):
    markdown, _sha, _captions = video(captions=False, transcript="Sprecherin: Guten Tag.\nSo legen Sie eine Akte an.")
    make_draft("filmkurs", title="Akten anlegen", editors=[author])
    edit_lesson(app, "filmkurs", 0, f"{markdown}\n", author)
    login(client, "autorin")
    publish(client, "filmkurs", "Mit Film")
    page = lesson_page(app, client, "filmkurs")
    assert "<track" not in page
    transcript = re.search(r'<details class="media-transcript">.*?</details>', page, re.S).group(0)
    assert "<summary" in transcript and "Transkript" in transcript
    assert "Sprecherin: Guten Tag.\nSo legen Sie eine Akte an." in transcript


def test_a_video_path_that_is_not_in_the_library_gets_no_player(app):
    from learning.training.authoring.editor_views import preview_html

    with app.test_request_context():
        html = preview_html("filmkurs", "de", f"Ein Film: ![Film](/media/{'a' * 64}.mp4)")
    assert "<video" not in html and f'src="/media/{"a" * 64}.mp4"' in html
