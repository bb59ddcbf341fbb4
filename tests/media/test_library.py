"""The media library page: who may open it, its statements, describing and deleting."""

from __future__ import annotations

import io

from learning.db import db
from learning.media.models import MediaItem
from learning.media.services import Upload, set_usages, upload_media
from learning.org.models import User
from tests.media import samples
from tests.media.conftest import item_count, only_item


def _fill(app, people, count: int, start: int = 0) -> None:
    with app.test_request_context():
        actor = db.session.get(User, people["admin"].id)
        for n in range(start, start + count):
            item = upload_media(actor, Upload(io.BytesIO(samples.png(color=(n, 0, 0))), f"bild-{n}.png",
                                              f"Bild {n}")).item
            set_usages("lesson", n, f"Lektion {n}", [item])
        db.session.commit()


def test_only_the_library_roles_open_it(app, people, login):
    for role, status in [("employee", 403), ("manager", 403), ("project_group", 200), ("admin", 200)]:
        client = app.test_client()
        login(client, people[role].username)
        assert client.get("/admin/media/").status_code == status, role


def test_the_list_shows_thumbnail_name_type_size_description_and_use(app, people, librarian, make_course):
    _fill(app, people, 1)
    page = librarian.get("/admin/media/").get_data(as_text=True)
    item = only_item(app)
    assert f"/media/thumbnails/{item.sha256}.webp" in page
    for shown in ("bild-0.png", "Image", "Bild 0", "Everyone signed in", "Used in 1 place"):
        assert shown in page


def test_the_library_runs_a_fixed_number_of_statements(app, people, librarian, count_queries):
    _fill(app, people, 2)
    librarian.get("/admin/media/")
    with count_queries() as few:
        assert librarian.get("/admin/media/").status_code == 200
    _fill(app, people, 20, start=2)
    with count_queries() as many:
        assert librarian.get("/admin/media/").status_code == 200
    assert len(many) == len(few)
    second = librarian.get("/admin/media/?page=2").get_data(as_text=True)
    assert "bild-0.png" in second and "Page 2 of 2" in second


def test_search_and_filter(app, people, librarian):
    _fill(app, people, 3)
    page = librarian.get("/admin/media/?q=bild-1&kind=image").get_data(as_text=True)
    assert "bild-1.png" in page and "bild-2.png" not in page
    assert "No files match" in librarian.get("/admin/media/?kind=video").get_data(as_text=True)


def test_an_upload_leads_to_the_item_with_its_markdown(app, librarian, upload):
    response = upload(librarian, samples.png(), "maske.png", alt_text="Die Suchmaske")
    page = librarian.get(response.headers["Location"]).get_data(as_text=True)
    item = only_item(app)
    assert "has been added to the library" in page
    assert f"![Die Suchmaske](/media/{item.filename})" in page
    assert 'alt="Die Suchmaske"' in page


def test_describing_an_item(app, librarian, upload, make_course):
    course = make_course("beschreiben")
    upload(librarian, samples.png(), "maske.png")
    item = only_item(app)
    response = librarian.submit(f"/admin/media/{item.id}", {"name": "Suchmaske", "alt_text": "Neue Beschreibung",
                                                            "course_id": str(course.id), "captions_language": "de"})
    assert response.status_code == 302
    changed = only_item(app)
    assert (changed.name, changed.alt_text, changed.course_id) == ("Suchmaske", "Neue Beschreibung", course.id)
    refused = librarian.submit(f"/admin/media/{item.id}", {"name": "Suchmaske", "alt_text": " ", "course_id": "0"})
    assert "Please check your entries" in refused.get_data(as_text=True)
    assert only_item(app).alt_text == "Neue Beschreibung"


def test_a_video_keeps_captions_or_a_transcript(app, librarian, upload):
    upload(librarian, samples.mp4(), "film.mp4", alt_text="Film", transcript="Alles Gesagte.")
    item = only_item(app)
    page = librarian.get(f"/admin/media/{item.id}").get_data(as_text=True)
    assert "<video" in page and "Alles Gesagte." in page
    refused = librarian.submit(f"/admin/media/{item.id}", {"name": "Film", "alt_text": "Film", "course_id": "0",
                                                           "transcript": ""})
    assert "needs captions" in refused.get_data(as_text=True)
    added = librarian.submit(f"/admin/media/{item.id}", {
        "name": "Film", "alt_text": "Film", "course_id": "0", "transcript": "", "captions_language": "en",
        "captions": (io.BytesIO(samples.CAPTIONS), "film.vtt")}, content_type="multipart/form-data")
    assert added.status_code == 302
    page = librarian.get(f"/admin/media/{item.id}").get_data(as_text=True)
    assert '<track kind="captions"' in page and 'srclang="en"' in page


def test_deleting_an_unused_item_and_refusing_a_used_one(app, people, librarian):
    _fill(app, people, 1)
    item = only_item(app)
    refused = librarian.submit(f"/admin/media/{item.id}/delete", follow_redirects=True)
    assert "is still used in Lektion 0" in refused.get_data(as_text=True)
    assert item_count(app) == 1
    with app.app_context():
        set_usages("lesson", 0, "", [])
        db.session.commit()
    deleted = librarian.submit(f"/admin/media/{item.id}/delete", follow_redirects=True)
    assert "has been deleted" in deleted.get_data(as_text=True)
    assert item_count(app) == 0
    assert librarian.submit(f"/admin/media/{item.id}/delete").status_code == 404


def test_refusals_come_in_german(app, librarian, upload):
    librarian.environ_base["HTTP_ACCEPT_LANGUAGE"] = "de"
    page = upload(librarian, samples.SVG_WITH_SCRIPT, "logo.svg").get_data(as_text=True)
    assert "SVG-Grafiken werden nicht angenommen" in page
    page = upload(librarian, samples.mp4(), "film.mp4").get_data(as_text=True)
    assert "Untertitel" in page
    with app.app_context():
        assert db.session.query(MediaItem).count() == 0


def test_every_form_needs_its_csrf_token(app, people, librarian):
    _fill(app, people, 1)
    item = only_item(app)
    for url in ("/admin/media/", f"/admin/media/{item.id}", f"/admin/media/{item.id}/delete"):
        assert librarian.post(url, data={"alt_text": "x", "name": "x"}).status_code == 400, url
    assert item_count(app) == 1


def test_a_pdf_item_offers_its_link(app, librarian, upload):
    upload(librarian, samples.pdf(), "handbuch.pdf", alt_text="Handbuch zur E-Akte")
    item = only_item(app)
    page = librarian.get(f"/admin/media/{item.id}").get_data(as_text=True)
    assert f"[Handbuch zur E-Akte (PDF, 1 KB)](/media/{item.filename})" in page
    assert f'href="/media/{item.filename}"' in page
