"""The service API the course editor uses, and files and rows that never part company."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from learning.content import Profile, render
from learning.db import db, unit_of_work
from learning.errors import ServiceError
from learning.media import store
from learning.media.models import MediaItem
from learning.media.services import (
    Upload,
    clear_usages,
    delete_media,
    markdown_for,
    media_in_markdown,
    player_for,
    set_usages_from_markdown,
    upload_media,
    url_of,
)
from learning.org.models import User
from tests.media import samples
from tests.media.conftest import item_count, stored_files


@pytest.fixture
def admin(app, people, ctx):
    return db.session.get(User, people["admin"].id)


def _upload(actor, data=None, name="bild.png", **fields) -> MediaItem:
    fields.setdefault("alt_text", "Die Suchmaske der E-Akte")
    return upload_media(actor, Upload(io.BytesIO(data or samples.png()), name, **fields)).item


def test_markdown_for_an_image_carries_its_alternative_text(admin):
    item = _upload(admin)
    assert markdown_for(item) == f"![Die Suchmaske der E-Akte]({url_of(item)})"
    assert markdown_for(item, "Feld [Aktenzeichen]") == f"![Feld \\[Aktenzeichen\\]]({url_of(item)})"
    html = render(markdown_for(item), Profile.EDITORIAL)  # editorial texts resolve the store's paths
    assert f'src="{url_of(item)}"' in html and 'alt="Die Suchmaske der E-Akte"' in html
    assert f'src="{url_of(item)}"' in render(markdown_for(item), Profile.COURSE, image_src=None)


@pytest.mark.parametrize("alt", ["", "   ", "\n"])
def test_an_image_without_alternative_text_cannot_be_inserted(admin, alt):
    item = _upload(admin)
    with pytest.raises(ServiceError) as refused:
        markdown_for(item, alt)
    assert refused.value.field == "alt_text"


def test_a_pdf_becomes_a_link_and_a_video_a_player(admin):
    document = _upload(admin, samples.pdf(), "handbuch.pdf", alt_text="Handbuch zur E-Akte")
    assert markdown_for(document).startswith("[Handbuch zur E-Akte (PDF, ")
    video = _upload(admin, samples.mp4(), "film.mp4", alt_text="Eine Akte anlegen",
                    captions=io.BytesIO(samples.CAPTIONS), captions_language="en")
    assert markdown_for(video) == f"![Eine Akte anlegen]({url_of(video)})"  # a lesson shows it in the player
    player = player_for(video)
    assert player.src == url_of(video) and player.captions_src.endswith(".vtt")
    assert (player.captions_language, player.title) == ("en", "Eine Akte anlegen")


def test_an_employee_cannot_upload(app, people, ctx):
    employee = db.session.get(User, people["employee"].id)
    with pytest.raises(ServiceError):
        _upload(employee)


def test_usage_is_recorded_from_markdown_and_blocks_deletion(app, admin, media_dir):
    item = _upload(admin)
    other = _upload(admin, samples.png(color=(0, 0, 0)), "anders.png")
    text = f"Siehe {markdown_for(item)} und nochmals {markdown_for(item, 'Nochmal')}"
    assert media_in_markdown(text) == [item]
    with unit_of_work():
        set_usages_from_markdown("lesson", 7, "Kurs E-Akte › Lektion 1", text, None)
    assert [u.label for u in item.usages] == ["Kurs E-Akte › Lektion 1"]
    with pytest.raises(ServiceError, match="still used in Kurs E-Akte"):
        with unit_of_work():
            delete_media(admin, item)
    assert db.session.get(MediaItem, item.id) is not None

    with unit_of_work():
        set_usages_from_markdown("lesson", 7, "Kurs E-Akte › Lektion 1", markdown_for(other))
    db.session.refresh(item)
    assert item.usages == [] and [u.kind for u in other.usages] == ["lesson"]
    with unit_of_work():
        clear_usages("lesson", 7)
        delete_media(admin, item)
    assert not list(media_dir.rglob(item.filename))
    assert not list(media_dir.rglob(f"{item.sha256}.webp"))


def test_a_file_shared_by_two_entries_stays_until_the_last_goes(app, admin, media_dir, make_course):
    course = make_course("geteilt")
    with unit_of_work():
        editorial = _upload(admin)
    with unit_of_work():
        in_course = _upload(admin, course_id=course.id)
    assert editorial.sha256 == in_course.sha256
    with unit_of_work():
        delete_media(admin, editorial)
    assert list(media_dir.rglob(in_course.filename))
    with unit_of_work():
        delete_media(admin, db.session.get(MediaItem, in_course.id))
    assert stored_files(media_dir) == []


def test_a_rolled_back_upload_leaves_no_file(app, admin, media_dir):
    with pytest.raises(RuntimeError):
        with unit_of_work():
            _upload(admin)
            _upload(admin, samples.mp4(), "film.mp4", transcript="Gesprochener Text")
            assert len(stored_files(media_dir)) == 3  # image, its thumbnail, the video
            raise RuntimeError("the transaction fails after the files were written")
    assert stored_files(media_dir) == []
    assert item_count(app) == 0


def test_a_failed_commit_leaves_no_file(app, admin, media_dir, monkeypatch):
    def failing_commit():
        raise RuntimeError("the database refused the commit")

    monkeypatch.setattr(db.session(), "commit", failing_commit)
    with pytest.raises(RuntimeError):
        with unit_of_work():
            _upload(admin)
    assert stored_files(media_dir) == []


def test_a_failed_write_leaves_no_row_and_no_partial_file(app, admin, media_dir, monkeypatch):
    def full_disk(source, target):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(store.os, "replace", full_disk)
    with pytest.raises(OSError):
        with unit_of_work():
            _upload(admin)
    assert item_count(app) == 0
    assert stored_files(media_dir) == []


def test_a_rolled_back_delete_keeps_the_file(app, admin, media_dir):
    with unit_of_work():
        item = _upload(admin)
    with pytest.raises(RuntimeError):
        with unit_of_work():
            delete_media(admin, item)
            raise RuntimeError("fails before the commit")
    assert item_count(app) == 1
    assert (Path(app.config["MEDIA_DIR"]) / item.sha256[:2] / item.filename).exists()


def test_a_rolled_back_upload_keeps_a_file_another_entry_uses(app, admin, media_dir, make_course):
    course = make_course("behalten")
    with unit_of_work():
        kept = _upload(admin)
    with pytest.raises(RuntimeError):
        with unit_of_work():
            _upload(admin, course_id=course.id)
            raise RuntimeError
    assert (media_dir / kept.sha256[:2] / kept.filename).exists()


def test_a_decompression_bomb_is_refused_before_decoding(make_app, people):
    app = make_app(MEDIA_MAX_IMAGE_PIXELS=1_000_000)
    with app.test_request_context(headers={"Accept-Language": "en"}):
        admin = db.session.get(User, people["admin"].id)
        with pytest.raises(ServiceError, match="too many pixels"):
            _upload(admin, samples.png(size=(1200, 1000)))
        _upload(admin, samples.png(size=(1000, 1000)))


def test_flask_media_check_finds_missing_and_unused_files(app, admin, media_dir, runner):
    with unit_of_work():
        kept = _upload(admin)
        gone = _upload(admin, samples.png(color=(0, 0, 0)), "weg.png")
    (media_dir / gone.sha256[:2] / gone.filename).unlink()
    stray = media_dir / "ab" / ("ab" + "0" * 62 + ".png")
    stray.parent.mkdir(parents=True, exist_ok=True)
    stray.write_bytes(b"left by a crash")
    result = runner.invoke(args=["media", "check"])
    assert result.exit_code == 1
    assert f"missing: {gone.sha256[:2]}/{gone.filename}" in result.output
    assert f"unused: {stray}" in result.output and kept.filename not in result.output
    runner.invoke(args=["media", "check", "--remove"])
    assert not stray.exists() and (media_dir / kept.sha256[:2] / kept.filename).exists()


@pytest.mark.parametrize(("data", "name", "fields"), [
    (samples.png(), "bild.png", {}),
    (samples.mp4(), "film.mp4", {"transcript": "Text"}),
])
def test_content_that_went_while_uploading_it_again_is_put_back(app, admin, media_dir, make_course, data, name,
                                                                 fields):
    course = make_course("zugleich")
    with unit_of_work():
        first = _upload(admin, data, name, **fields)
    path = media_dir / first.sha256[:2] / first.filename
    with unit_of_work():
        second = _upload(admin, data, name, course_id=course.id, **fields)
        path.unlink()  # the other entry's deletion removed the file at this very moment
    assert second.sha256 == first.sha256
    assert path.read_bytes()[:4] == data[:4]
    assert not [p for p in stored_files(media_dir) if p.name.startswith(".partial-")]


def test_a_rolled_back_upload_of_known_content_leaves_no_partial_file(app, admin, media_dir, make_course):
    course = make_course("zurueck")
    with unit_of_work():
        _upload(admin, samples.mp4(), "film.mp4", transcript="Text")
    with pytest.raises(RuntimeError):
        with unit_of_work():
            _upload(admin, samples.mp4(), "film.mp4", transcript="Text", course_id=course.id)
            raise RuntimeError
    assert not [p for p in stored_files(media_dir) if p.name.startswith(".partial-")]
    assert len(stored_files(media_dir)) == 1


def test_flask_media_check_keeps_the_files_of_uploaded_courses(app, admin, media_dir, runner):
    """A course zip's images live in the same folder: the check counts them as used and never removes them."""
    from tests.training.test_exchange import course_zip, upload

    with app.test_request_context():
        upload(course_zip())
    course_files = [path for path in media_dir.rglob("*") if path.is_file()]
    assert course_files
    result = runner.invoke(args=["media", "check", "--remove"])
    assert "unused" not in result.output.replace("0 unused", "")
    assert all(path.exists() for path in course_files)
