"""Uploads through the library form: hostile files are refused with a reason and leave nothing behind."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from tests.media import samples
from tests.media.conftest import item_count, only_item, stored_files

NOT_A_FILE_WE_TAKE = "is not an image (PNG, JPEG, WebP), a PDF document or a video"
DAMAGED = "damaged or incomplete, or it contains more than its type allows"

HOSTILE = {
    "html named .png": (samples.HTML, "bild.png", {}, NOT_A_FILE_WE_TAKE),
    "html sent as image/png": (samples.HTML, "bild.png", {"content_type": "image/png"}, NOT_A_FILE_WE_TAKE),
    "zip named .pdf": (samples.zip_archive(), "handbuch.pdf", {}, NOT_A_FILE_WE_TAKE),
    "png with a zip appended": (samples.png() + samples.zip_archive(), "bild.png", {}, DAMAGED),
    "png with html appended": (samples.png() + samples.HTML, "bild.png", {}, DAMAGED),
    "jpeg that is also a pdf": (samples.jpeg() + samples.pdf(), "foto.jpg", {}, DAMAGED),
    "jpeg with a pdf in a comment": (samples.jpeg_with_pdf_inside(), "foto.jpg", {}, DAMAGED),
    "png with html in a text chunk": (samples.png_with_html_chunk(), "bild.png", {}, DAMAGED),
    "webp with bytes appended": (samples.webp() + b"<script>x</script>", "bild.webp", {}, DAMAGED),
    "svg with a script": (samples.SVG_WITH_SCRIPT, "logo.svg", {}, "SVG images are not accepted"),
    "svg named .png": (samples.SVG_WITH_SCRIPT, "logo.png", {}, "SVG images are not accepted"),
    "decompression bomb": (samples.png_bomb(), "bombe.png", {}, "too many pixels"),
    "truncated png": (samples.png(size=(300, 200))[:-40], "halb.png", {}, DAMAGED),
    "truncated jpeg": (samples.jpeg(size=(300, 200))[:-200], "halb.jpg", {}, DAMAGED),
    "png with a broken checksum": (samples.png()[:-5] + b"\x00" + samples.png()[-4:], "kaputt.png", {}, DAMAGED),
    "pdf with javascript": (samples.pdf_with_javascript(), "formular.pdf", {}, "contains scripts"),
    "pdf with a zip after its end": (samples.pdf() + samples.zip_archive(), "doc.pdf", {}, DAMAGED),
    "pdf without an end": (samples.pdf()[:-7], "doc.pdf", {}, DAMAGED),
    "mp4 with a zip appended": (samples.mp4() + samples.zip_archive(), "film.mp4",
                                {"captions": (samples.CAPTIONS, "film.vtt")}, DAMAGED),
    "mp4 without a movie box": (samples.mp4()[:32] + b"\x00\x00\x00\x10mdat" + b"\x00" * 8, "film.mp4",
                                {"captions": (samples.CAPTIONS, "film.vtt")}, DAMAGED),
    "quicktime named .mp4": (b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00qt  " + b"\x00" * 40, "film.mp4",
                             {"captions": (samples.CAPTIONS, "film.vtt")}, "video format is not accepted"),
    "video without captions or transcript": (samples.mp4(), "film.mp4", {}, "needs captions"),
    "captions that are SRT, not WebVTT": (samples.webm(), "film.webm", {"captions": (samples.SRT, "film.vtt")},
                                          "not a WebVTT file"),
    "captions that are not UTF-8": (samples.webm(), "film.webm",
                                    {"captions": ("WEBVTT\n\n00:00.000 --> 00:01.000\nGrüße\n".encode("latin-1"),
                                                  "film.vtt")}, "not saved as UTF-8"),
    "captions on an image": (samples.png(), "bild.png", {"captions": (samples.CAPTIONS, "x.vtt")},
                             "belong to videos"),
    "image without alternative text": (samples.png(), "bild.png", {"alt_text": "   "}, "Please describe the file"),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_a_hostile_upload_is_refused_and_nothing_is_stored(app, librarian, upload, media_dir, case):
    data, filename, options, reason = HOSTILE[case]
    response = upload(librarian, data, filename, **options)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Please check your entries" in page
    assert reason in page.replace("&#39;", "'"), case
    assert item_count(app) == 0
    assert stored_files(media_dir) == []


def test_too_large_files_are_refused_with_the_limit(make_app, people, login, upload):
    app = make_app(MEDIA_MAX_IMAGE_BYTES=2000, MEDIA_MAX_VIDEO_BYTES=3000)
    client = app.test_client()
    login(client, people["project_group"].username)
    big = Image.effect_noise((200, 200), 80).convert("RGB")
    buffer = io.BytesIO()
    big.save(buffer, "PNG")
    page = upload(client, buffer.getvalue(), "rauschen.png").get_data(as_text=True)
    assert "The image is too large (at most 1 MB)" in page
    page = upload(client, samples.mp4(payload=8000), "film.mp4", captions=(samples.CAPTIONS, "f.vtt"))
    assert "The video is too large" in page.get_data(as_text=True)
    assert item_count(app) == 0
    assert stored_files(Path(app.config["MEDIA_DIR"])) == []


def test_a_request_above_every_limit_is_answered_413_with_the_limits(make_app, people, login, upload):
    app = make_app(MEDIA_MAX_IMAGE_BYTES=1024, MEDIA_MAX_PDF_BYTES=1024, MEDIA_MAX_VIDEO_BYTES=1024)
    client = app.test_client()
    login(client, people["project_group"].username)
    response = upload(client, b"\x00" * (3 * 1024 * 1024), "riesig.mp4")
    assert response.status_code == 413
    assert "Images may have at most" in response.get_data(as_text=True)
    assert item_count(app) == 0


def test_an_employee_cannot_send_a_large_request(app, people, login, upload):
    client = app.test_client()
    login(client, people["employee"].username)
    response = upload(client, b"\x00" * (9 * 1024 * 1024), "riesig.png")
    assert response.status_code == 413  # the platform's own limit: the library's is only for its people


def test_exif_and_gps_are_removed(app, librarian, upload, media_dir):
    original = samples.jpeg_with_gps()
    with Image.open(io.BytesIO(original)) as photo:
        assert photo.getexif().get_ifd(0x8825)  # the test photo does carry a location
    response = upload(librarian, original, "urlaub.jpg", alt_text="Ein blaues Feld")
    assert response.status_code == 302
    item = only_item(app)
    stored = (media_dir / item.sha256[:2] / f"{item.sha256}.jpg").read_bytes()
    assert b"Exif" not in stored and b"Fotohandy" not in stored
    with Image.open(io.BytesIO(stored)) as image:
        assert image.format == "JPEG"
        assert not image.getexif()
        assert "exif" not in image.info and "icc_profile" not in image.info


def test_the_exif_orientation_is_kept_in_the_pixels(app, librarian, upload):
    upload(librarian, samples.jpeg_with_gps(orientation=6), "hochkant.jpg")  # 80 × 40, to be turned
    item = only_item(app)
    assert (item.width, item.height) == (40, 80)


def test_large_images_are_scaled_to_the_longest_edge(app, librarian, upload, media_dir):
    upload(librarian, samples.png(size=(3200, 1000)), "breit.png")
    item = only_item(app)
    assert (item.width, item.height) == (1600, 500)
    with Image.open(media_dir / item.sha256[:2] / item.filename) as image:
        assert image.size == (1600, 500)
    with Image.open(media_dir / "thumbnails" / item.sha256[:2] / f"{item.sha256}.webp") as thumbnail:
        assert max(thumbnail.size) == 320


@pytest.mark.parametrize(("data", "filename", "extension", "kind"), [
    (samples.png(), "bild.png", "png", "image"),
    (samples.jpeg(), "foto.jpeg", "jpg", "image"),
    (samples.webp(), "bild.webp", "webp", "image"),
    (samples.png(), "bild.pdf", "png", "image"),  # the name does not decide
    (samples.pdf(), "handbuch.pdf", "pdf", "pdf"),
])
def test_accepted_files_are_typed_by_content(app, librarian, upload, data, filename, extension, kind):
    response = upload(librarian, data, filename, content_type="application/octet-stream")
    assert response.status_code == 302
    item = only_item(app)
    assert (item.extension, item.kind, item.name) == (extension, kind, filename)


def test_a_video_with_captions_or_a_transcript_is_stored(app, librarian, upload, media_dir):
    assert upload(librarian, samples.mp4(), "film.mp4", alt_text="Akte anlegen",
                  captions=(b"\xef\xbb\xbf" + samples.CAPTIONS, "film.vtt")).status_code == 302
    assert upload(librarian, samples.webm(), "film.webm", alt_text="Akte suchen",
                  transcript="Sprecherin: So suchen Sie eine Akte.").status_code == 302
    assert item_count(app) == 2
    captions = list(media_dir.rglob("*.vtt"))
    assert len(captions) == 1 and captions[0].read_bytes() == samples.CAPTIONS  # stored without the BOM


def test_the_same_content_is_stored_once(app, librarian, upload, media_dir, make_course):
    course = make_course("akten")
    first = upload(librarian, samples.png(), "eins.png")
    again = upload(librarian, samples.png(), "zwei.png")
    assert first.headers["Location"] == again.headers["Location"]
    assert item_count(app) == 1
    assert upload(librarian, samples.png(), "kurs.png", course_id=course.id).status_code == 302
    assert item_count(app) == 2  # another audience: another entry, the same file
    assert len([p for p in stored_files(media_dir) if p.suffix == ".png"]) == 1


def test_no_partial_upload_is_left_behind(app, librarian, upload, media_dir):
    upload(librarian, samples.mp4() + b"junk", "film.mp4", captions=(samples.CAPTIONS, "f.vtt"))
    assert not list((media_dir / "incoming").glob("*"))
