"""Serving media: only to their audience, cached for a year, with range requests for videos."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest

from learning.db import db, utcnow
from learning.media.services import Upload, upload_media
from learning.org.models import User
from learning.training.models import Course
from tests.media import samples


@pytest.fixture
def stored(app, people):
    """Store files straight through the service: ``stored(data, name, course=None, **upload fields)`` → filename."""

    def store(data: bytes, name: str, course: Course | None = None, **fields) -> str:
        with app.test_request_context():
            actor = db.session.get(User, people["admin"].id)
            fields.setdefault("alt_text", "Beschreibung")
            item = upload_media(actor, Upload(io.BytesIO(data), name, course_id=course.id if course else None,
                                              **fields)).item
            db.session.commit()
            return item.filename

    return store


@pytest.fixture
def employee(app, people, login):
    client = app.test_client()
    login(client, people["employee"].username)
    return client


def test_anonymous_visitors_are_sent_to_the_login(client, stored):
    name = stored(samples.png(), "bild.png")
    response = client.get(f"/media/{name}")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_an_image_is_served_with_long_private_caching(employee, stored):
    name = stored(samples.png(), "Bild vom Amt.png")
    response = employee.get(f"/media/{name}")
    assert response.status_code == 200
    assert response.mimetype == "image/png"
    assert response.headers["Cache-Control"] == "private, max-age=31536000, immutable"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["ETag"] == f'"{name.split(".")[0]}"'
    assert response.headers["Content-Disposition"].startswith("inline")
    assert response.data.startswith(b"\x89PNG")
    again = employee.get(f"/media/{name}", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_a_pdf_is_an_attachment(employee, stored):
    name = stored(samples.pdf(), "Handbuch E-Akte.pdf")
    response = employee.get(f"/media/{name}")
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert "Handbuch" in response.headers["Content-Disposition"]


def test_videos_are_served_in_ranges(employee, stored):
    video = samples.mp4(payload=10_000)
    name = stored(video, "film.mp4", captions=io.BytesIO(samples.CAPTIONS))
    whole = employee.get(f"/media/{name}")
    assert whole.status_code == 200 and whole.headers["Accept-Ranges"] == "bytes"
    assert whole.mimetype == "video/mp4" and whole.headers["Content-Disposition"].startswith("inline")

    part = employee.get(f"/media/{name}", headers={"Range": "bytes=100-199"})
    assert part.status_code == 206
    assert part.headers["Content-Range"] == f"bytes 100-199/{len(video)}"
    assert part.data == video[100:200]
    assert part.headers["Cache-Control"] == "private, max-age=31536000, immutable"

    tail = employee.get(f"/media/{name}", headers={"Range": "bytes=-50"})
    assert tail.status_code == 206 and tail.data == video[-50:]
    open_ended = employee.get(f"/media/{name}", headers={"Range": f"bytes={len(video) - 10}-"})
    assert open_ended.status_code == 206 and open_ended.data == video[-10:]

    beyond = employee.get(f"/media/{name}", headers={"Range": f"bytes={len(video) + 10}-{len(video) + 20}"})
    assert beyond.status_code == 416
    assert beyond.headers["Content-Range"] == f"bytes */{len(video)}"


def test_captions_are_served_as_webvtt(employee, stored, app):
    stored(samples.webm(), "film.webm", captions=io.BytesIO(samples.CAPTIONS))
    from learning.media.store import sha256_of

    response = employee.get(f"/media/{sha256_of(samples.CAPTIONS)}.vtt")
    assert response.status_code == 200
    assert response.mimetype == "text/vtt"
    assert response.data == samples.CAPTIONS


def _archive(app, course):
    with app.app_context():
        db.session.get(Course, course.id).archived_at = utcnow() - timedelta(days=1)
        db.session.commit()


def test_who_sees_which_media(app, people, login, stored, make_course, make_assignment, employee):
    open_course, withdrawn, had_it = make_course("offen"), make_course("zurueckgezogen"), make_course("gehabt")
    editorial = stored(samples.png(color=(1, 2, 3)), "alle.png")
    in_open = stored(samples.png(color=(4, 5, 6)), "offen.png", course=open_course)
    in_withdrawn = stored(samples.png(color=(7, 8, 9)), "weg.png", course=withdrawn)
    in_had_it = stored(samples.png(color=(10, 11, 12)), "gehabt.png", course=had_it)
    make_assignment(people["employee"], had_it)
    _archive(app, withdrawn)
    _archive(app, had_it)

    assert employee.get(f"/media/{editorial}").status_code == 200
    assert employee.get(f"/media/{in_open}").status_code == 200
    assert employee.get(f"/media/{in_had_it}").status_code == 200  # a withdrawn course they took
    hidden = employee.get(f"/media/{in_withdrawn}")
    assert hidden.status_code == 404  # not 403: that it exists is not told either
    assert employee.get(f"/media/thumbnails/{in_withdrawn.split('.')[0]}.webp").status_code == 404
    assert employee.get(f"/media/thumbnails/{in_open.split('.')[0]}.webp").status_code == 200

    manager = app.test_client()
    login(manager, people["project_group"].username)
    assert manager.get(f"/media/{in_withdrawn}").status_code == 200


def test_the_same_content_is_visible_if_any_of_its_entries_is(app, stored, make_course, employee):
    withdrawn = make_course("weg")
    hidden_name = stored(samples.png(), "weg.png", course=withdrawn)
    _archive(app, withdrawn)
    assert employee.get(f"/media/{hidden_name}").status_code == 404
    assert stored(samples.png(), "alle.png") == hidden_name
    assert employee.get(f"/media/{hidden_name}").status_code == 200


@pytest.mark.parametrize("path", [
    "/media/" + "0" * 64 + ".png",            # no such content
    "/media/bild.png",                       # not a content hash
    "/media/" + "A" * 64 + ".png",           # upper case is not how the store names files
    "/media/../instance/secret_key",
    "/media/" + "0" * 64 + ".svg",
    "/media/thumbnails/" + "0" * 64 + ".png",
])
def test_unknown_names_are_404(employee, path):
    assert employee.get(path).status_code == 404


def test_a_missing_file_is_404_not_500(app, stored, employee):
    name = stored(samples.png(), "bild.png")
    from pathlib import Path

    (Path(app.config["MEDIA_DIR"]) / name[:2] / name).unlink()
    assert employee.get(f"/media/{name}").status_code == 404


def test_a_wrong_extension_for_the_content_is_404(stored, employee):
    name = stored(samples.png(), "bild.png")
    assert employee.get(f"/media/{name.replace('.png', '.pdf')}").status_code == 404
