"""The course editor's lessons: add, move, remove, the Markdown editor with its preview, the lock per lesson."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from learning.db import db
from learning.roles import Role


@pytest.fixture
def author(make_user):
    return make_user("autorin", roles={Role.AUTHOR}, first_name="Lena", last_name="Berg")


def _spec(app, slug):
    from learning.training.authoring.documents import draft_spec
    from learning.training.authoring.models import CourseDraft

    with app.app_context():
        return draft_spec(db.session.scalar(select(CourseDraft).where(CourseDraft.slug == slug)))


def _titles(app, slug):
    return [(lesson.position, lesson.title) for lesson in _spec(app, slug).lessons]


def _flash(client, response) -> str:
    return client.get(response.headers["Location"]).get_data(as_text=True)


def _lesson(body="## Abschnitt\n\nText.", **changes):
    return {"revision": "0", "title": "Lektion 1", "body": body, "title_en": "", "body_en": "", **changes}


# The list of lessons ------------------------------------------------------------------------

def test_lessons_are_added_moved_and_removed(app, client, login, author, make_draft):
    make_draft("kurs", editors=[author])
    login(client, "autorin")
    response = client.submit("/learning/author/kurs/add-lesson", {"revision": "0", "lesson_title": "Fristen & Ämter"})
    assert response.status_code == 302 and response.headers["Location"].endswith(
        "/learning/author/kurs/lessons/fristen-aemter")
    assert _titles(app, "kurs") == [(1, "Lektion 1"), (2, "Lektion 2"), (3, "Fristen & Ämter")]
    response = client.submit("/learning/author/kurs/move-lesson",
                             {"revision": "1", "lesson": "fristen-aemter", "direction": "up"})
    assert response.status_code == 302
    assert _titles(app, "kurs") == [(1, "Lektion 1"), (2, "Fristen & Ämter"), (3, "Lektion 2")]
    response = client.submit("/learning/author/kurs/remove-lesson", {"revision": "2", "lesson": "lektion-1"})
    assert "has been removed from the draft" in _flash(client, response)
    assert _titles(app, "kurs") == [(1, "Fristen & Ämter"), (2, "Lektion 2")]


def test_a_lesson_title_used_before_gets_its_own_slug(app, client, login, author, make_draft):
    make_draft("kurs", editors=[author])
    login(client, "autorin")
    client.submit("/learning/author/kurs/add-lesson", {"revision": "0", "lesson_title": "Lektion 1"})
    assert [lesson.slug for lesson in _spec(app, "kurs").lessons] == ["lektion-1", "lektion-2", "lektion-1-2"]


@pytest.mark.parametrize("url, data, message", [
    ("move-lesson", {"lesson": "lektion-1", "direction": "up"}, "This lesson is the first already."),
    ("move-lesson", {"lesson": "lektion-2", "direction": "down"}, "This lesson is the last already."),
    ("move-lesson", {"lesson": "lektion-1", "direction": "sideways"}, "Please use the buttons"),
    ("move-lesson", {"lesson": "../etc/passwd", "direction": "down"}, "This lesson does not exist"),
    ("remove-lesson", {"lesson": "gibt-es-nicht"}, "This lesson does not exist"),
    ("add-lesson", {"lesson_title": ""}, "Please enter a title."),
    ("add-lesson", {"lesson_title": "x" * 201}, "The title may have at most 200 characters."),
    ("move-lesson", {"lesson": "lektion-2", "direction": "up", "revision": "7"}, "Someone else changed the list"),
    ("remove-lesson", {"lesson": "lektion-2", "revision": "abc"}, "Someone else changed the list"),
])
def test_a_bad_change_of_the_list_is_refused_with_a_message_and_changes_nothing(app, client, login, author,
                                                                               make_draft, url, data, message):
    make_draft("kurs", editors=[author])
    before = _spec(app, "kurs")
    login(client, "autorin")
    response = client.submit(f"/learning/author/kurs/{url}", {"revision": "0", **data})
    assert response.status_code == 302
    assert message in _flash(client, response)
    assert _spec(app, "kurs") == before


def test_the_hub_offers_no_move_beyond_the_ends(app, client, login, author, make_draft):
    make_draft("kurs", lessons=3, editors=[author])
    login(client, "autorin")
    page = client.get("/learning/author/kurs").get_data(as_text=True)
    assert "Move up: Lektion 1" not in page and "Move down: Lektion 1" in page
    assert "Move up: Lektion 3" in page and "Move down: Lektion 3" not in page


# The Markdown editor ------------------------------------------------------------------------

def test_a_lesson_is_saved_with_its_english_version(app, client, login, author, make_draft):
    make_draft("kurs", editors=[author])
    login(client, "autorin")
    page = client.get("/learning/author/kurs/lessons/lektion-1").get_data(as_text=True)
    assert "## Abschnitt 1" in page and 'src="/static/js/editor.js"' in page
    assert "<script>" not in page and " style=" not in page  # the CSP allows neither
    response = client.submit("/learning/author/kurs/lessons/lektion-1", _lesson(
        title="Erste Schritte", body="## Anmelden\n\nMit **Kennung**.", title_en="First steps",
        body_en="## Signing in\n\nWith your **user name**."))
    assert response.status_code == 302
    lesson = _spec(app, "kurs").lessons[0]
    assert (lesson.title, lesson.body, lesson.title_en, lesson.body_en) == (
        "Erste Schritte", "## Anmelden\n\nMit **Kennung**.", "First steps", "## Signing in\n\nWith your **user name**.")
    assert _spec(app, "kurs").lessons[1].body == "## Abschnitt 2\n\nInhalt 2."  # the other lesson untouched


def test_the_preview_button_renders_as_learners_see_it_and_saves_nothing(app, client, login, author, make_draft):
    from learning.training.lesson_html import lesson_html

    make_draft("kurs", editors=[author])
    before = _spec(app, "kurs")
    login(client, "autorin")
    body = ("## Abschnitt\n\n<script>alert(1)</script>\n\n[Handbuch](https://example.org/handbuch)\n\n"
            "!!! warning \"Achtung\"\n    Frist beachten.\n\n| A | B |\n| --- | --- |\n| 1 | 2 |")
    response = client.submit("/learning/author/kurs/lessons/lektion-1", _lesson(body=body, preview="1"))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    with app.test_request_context():
        from types import SimpleNamespace

        expected = lesson_html({"course": SimpleNamespace(slug="kurs", language="de")}, body)
    assert expected in page  # the same renderer and sanitiser as the lesson page
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    assert '<div class="admonition warning">' in page and '<div class="table-scroll"' in page
    assert 'rel="noopener noreferrer nofollow"' in page
    assert _spec(app, "kurs") == before


def test_the_live_preview_answers_sanitised_html_and_needs_the_token(app, client, login, author):
    login(client, "autorin")
    response = client.submit("/learning/author/_preview", {"text": "## Hallo\n\n<img src=x onerror=alert(1)>",
                                                           "language": "de", "slug": "kurs"})
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert html.startswith("<h2>Hallo</h2>") and "<img" not in html  # raw HTML is shown as text, never run
    assert response.headers["Cache-Control"] == "no-store"
    refused = client.post("/learning/author/_preview", data={"text": "## Hallo"})
    assert refused.status_code == 400


def test_the_live_preview_renders_the_english_text_with_its_own_link_marker(app, client, login, author):
    login(client, "autorin")
    response = client.submit("/learning/author/_preview", {"text": "[Guide](https://example.org)", "language": "en"})
    assert "(external link)" in response.get_data(as_text=True)
    response = client.submit("/learning/author/_preview", {"text": "[Leitfaden](https://example.org)",
                                                           "language": "de"},
                             headers={"Accept-Language": "en"})
    assert "(externer Link)" in response.get_data(as_text=True)


@pytest.mark.parametrize("changes, field_message", [
    ({"title": ""}, "Please enter a title."),
    ({"body": "x" * 50_001}, "The text may have at most 50000 characters (it has 50001)."),
    ({"body": "*a* " * 3001}, "too many lines or formatting characters"),
    ({"body": "# Titel\n\nText"}, "which learners would not see"),
    ({"body_en": "Some text"}, "Please enter the English title as well"),
    ({"body_en": "x" * 50_001, "title_en": "T"}, "The text may have at most 50000 characters"),
])
def test_a_bad_lesson_is_refused_on_the_form_and_changes_nothing(app, client, login, author, make_draft, changes,
                                                                  field_message):
    make_draft("kurs", editors=[author])
    before = _spec(app, "kurs")
    login(client, "autorin")
    response = client.submit("/learning/author/kurs/lessons/lektion-1", _lesson(**changes))
    assert response.status_code == 200
    assert field_message in response.get_data(as_text=True)
    assert _spec(app, "kurs") == before


def test_a_tampered_lesson_slug_is_404_and_changes_nothing(app, client, login, author, make_draft):
    make_draft("kurs", editors=[author])
    before = _spec(app, "kurs")
    login(client, "autorin")
    assert client.submit("/learning/author/kurs/lessons/gibt-es-nicht", _lesson()).status_code == 404
    assert client.submit("/learning/author/kurs/lessons/..%2Flektion-1", _lesson()).status_code == 404
    assert _spec(app, "kurs") == before


def test_the_second_save_of_a_lesson_is_refused_with_409_and_shows_both_texts(app, client, login, author,
                                                                             make_user, make_draft):
    other = make_user("zweite", roles={Role.AUTHOR})
    make_draft("kurs", editors=[author, other])
    first, second = client, app.test_client()
    login(first, "autorin")
    login(second, "zweite")
    assert first.submit("/learning/author/kurs/lessons/lektion-1", _lesson(body="Text von Lena.")).status_code == 302
    response = second.submit("/learning/author/kurs/lessons/lektion-1", _lesson(body="Text von Zora."))
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "Someone else saved this part while you were editing it." in page
    assert 'id="theirs-body" rows="12" readonly>Text von Lena.</textarea>' in page  # theirs, read-only
    assert re.search(r'name="body"[^>]*>\s*Text von Zora\.</textarea>', page)  # mine, in the text area
    assert 'name="revision" type="hidden" value="1"' in page
    assert _spec(app, "kurs").lessons[0].body == "Text von Lena."
    # Another lesson saved from the same starting point is no conflict.
    assert second.submit("/learning/author/kurs/lessons/lektion-2",
                         _lesson(title="Lektion 2", body="Zweite Lektion.")).status_code == 302
    # Saving again from the conflict page overwrites, knowingly.
    assert second.submit("/learning/author/kurs/lessons/lektion-1",
                         _lesson(body="Text von Zora.", revision="1")).status_code == 302
    assert [lesson.body for lesson in _spec(app, "kurs").lessons] == ["Text von Zora.", "Zweite Lektion."]


def test_the_lesson_editor_offers_library_images_with_their_alternative_text(app, client, login, author,
                                                                             make_draft):
    from learning.media.models import MediaItem

    make_draft("kurs", editors=[author])
    with app.app_context():
        db.session.add_all([
            MediaItem(sha256="a" * 64, kind="image", extension="png", size=10, name="Plan", alt_text="Der Zeitplan"),
            MediaItem(sha256="b" * 64, kind="pdf", extension="pdf", size=10, name="Handbuch", alt_text="Handbuch")])
        db.session.commit()
    login(client, "autorin")
    page = client.get("/learning/author/kurs/lessons/lektion-1").get_data(as_text=True)
    assert f'value="![Der Zeitplan](/media/{"a" * 64}.png)"' in page
    assert "Handbuch" not in page
    assert f'src="/media/thumbnails/{"a" * 64}.webp" alt=""' in page


def test_the_lesson_editor_runs_a_fixed_number_of_statements(app, client, login, author, make_draft, count_queries):
    from learning.media.models import MediaItem

    small = make_draft(lessons=1, editors=[author], published=True)
    large = make_draft(lessons=15, editors=[author], published=True)
    login(client, "autorin")

    def count(slug) -> int:
        with count_queries() as statements:
            assert client.get(f"/learning/author/{slug}/lessons/lektion-1").status_code == 200
        return len(statements)

    few = count(small.slug)
    with app.app_context():
        db.session.add_all([MediaItem(sha256=f"{n:064x}", kind="image", extension="png", size=10, name=f"Bild {n}",
                                      alt_text=f"Bild {n}") for n in range(8)])
        db.session.commit()
    assert count(large.slug) == few


def test_the_lesson_editor_speaks_german(app, client, login, author, make_draft):
    make_draft("kurs", editors=[author])
    login(client, "autorin")
    page = client.get("/learning/author/kurs/lessons/lektion-1", headers={"Accept-Language": "de"}).get_data(
        as_text=True)
    for words in ("Vorschau", "Lektion speichern", "Deutsch", "Englisch", "Hinweiskasten", "Tabelle",
                  "Bilder und Videos aus der Mediathek", "Zurück zum Kurs"):
        assert words in page, words


def test_editing_a_published_course_starts_from_the_published_version_and_avoids_archived_slugs(
        app, client, login, author, make_draft):
    from learning.training.authoring.models import CourseDraft
    from learning.training.models import Course, Lesson

    make_draft("kurs", editors=[author], published=True)
    with app.app_context():  # a lesson removed in an earlier version: archived, with learners' progress
        course = db.session.scalar(select(Course).where(Course.slug == "kurs"))
        db.session.add(Lesson(course_id=course.id, slug="alt", position=9, title="Alt", body="Alt.",
                              content_hash="x", archived_at=course.created_at))
        db.session.commit()
    login(client, "autorin")
    assert client.submit("/learning/author/kurs/add-lesson", {"revision": "0", "lesson_title": "Alt"}
                         ).status_code == 302
    spec = _spec(app, "kurs")
    assert [lesson.slug for lesson in spec.lessons] == ["lektion-1", "lektion-2", "alt-2"]
    assert spec.lessons[0].body == "## Abschnitt 1\n\nInhalt 1." and len(spec.questions) == 1
    with app.app_context():
        draft = db.session.scalar(select(CourseDraft).where(CourseDraft.slug == "kurs"))
        assert draft.has_changes and draft.course.title == "Webkurs kurs"  # the published course is untouched
        assert [lesson.slug for lesson in draft.course.active_lessons] == ["lektion-1", "lektion-2"]


def test_a_preview_of_a_text_over_the_limits_says_so_instead_of_rendering(app, client, login, author):
    login(client, "autorin")
    response = client.submit("/learning/author/_preview", {"text": "*a* " * 3001, "language": "de"})
    assert response.status_code == 200
    assert response.get_data(as_text=True).startswith('<p class="kern-error">The text has too many lines')
