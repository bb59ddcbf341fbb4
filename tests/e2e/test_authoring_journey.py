"""Issue 16's journey in a real browser: paul (project group) writes a course with two lessons, an image from the
media library and a quiz, previews it as a learner, publishes it and assigns it by rule; anna completes it and gets
her certificate; paul publishes a substantive change and anna has to take the course again."""

from __future__ import annotations

import io
import re
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from learning.db import db, unit_of_work
from tests.browser import login_as, screenshot, sign_out
from tests.e2e.test_journeys import PHONE, _horizontal_overflow
from tests.media.samples import png

pytestmark = pytest.mark.browser

SLUG = "termine-im-buergerbuero"
IMAGE = "schalter.png"
ALT = "Der Schalter des Bürgerbüros mit Wartenummer-Anzeige"


def _library_image(app) -> None:
    """An image with alternative text in the media library, as the project group uploads it at /admin/media/."""
    from learning.media.services import Upload, upload_media
    from learning.org.models import User

    with app.test_request_context():
        paul = db.session.scalar(select(User).where(User.username == "paul"))
        with unit_of_work():  # the files are placed after the commit
            upload_media(paul, Upload(io.BytesIO(png(size=(120, 80))), IMAGE, ALT))
        db.session.remove()


def _submit(page, name: str) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name=name, exact=True).click()


def _flash(page) -> str:
    return page.locator(".flash-messages").inner_text()


def _write_lesson(page, title: str, body: str, *, image: bool = False) -> None:
    """Add a lesson on the course page, write its text and save it."""
    page.get_by_label("Titel der neuen Lektion").fill(title)
    _submit(page, "Lektion hinzufügen")
    page.get_by_label("Text (Markdown)", exact=True).fill(body)
    if image:
        page.get_by_label("Text (Markdown)", exact=True).press("End")
        page.get_by_role("button", name=f"Bild {IMAGE} einfügen").click()  # the media picker, by its button
        assert f"![{ALT}](" in page.get_by_label("Text (Markdown)", exact=True).input_value()
    _submit(page, "Lektion speichern")
    assert "Die Lektion wurde gespeichert." in _flash(page)
    with page.expect_navigation():
        page.get_by_role("link", name="Zurück zum Kurs").click()
    assert urlsplit(page.url).path == f"/learning/author/{SLUG}"


def _publish(page, summary: str, *, substantive: bool = False) -> None:
    page.goto(f"/learning/author/{SLUG}")
    with page.expect_navigation():
        page.get_by_role("link", name="Prüfen und veröffentlichen").click()
    page.get_by_label("Was sich in dieser Fassung geändert hat").fill(summary)
    if substantive:
        page.get_by_label(re.compile("^Wesentliche Änderung")).check()
    _submit(page, "Veröffentlichen")
    assert urlsplit(page.url).path == f"/learning/author/{SLUG}/versions"
    assert page.get_by_text(summary).is_visible()


def _complete_as_learner(page) -> None:
    """anna opens her course from her list, marks both lessons done and passes the quiz."""
    page.goto("/learning/")
    with page.expect_navigation():
        page.locator("main").get_by_role("link", name="Termine im Bürgerbüro").first.click()
    with page.expect_navigation():
        page.locator("main").get_by_role("link", name="Wartezeiten").first.click()
    _submit(page, "Als erledigt markieren und weiter")
    _submit(page, "Als erledigt markieren")
    assert "Es fehlt noch das Quiz" in _flash(page)
    with page.expect_navigation():
        page.locator("main").get_by_role("link", name="Quiz starten").click()
    with page.expect_navigation():
        page.locator("main").get_by_role("button", name="Versuch 1 von 3 starten").click()
    page.get_by_label("Online vorher einen Termin buchen").check()
    _submit(page, "Antworten absenden")
    result = page.locator("main").inner_text()
    assert "Bestanden" in result and "(100 %) und das Quiz bestanden" in result, result


def test_paul_writes_publishes_and_assigns_a_course_anna_completes_it_and_retakes_it(live_server, new_context):
    _library_image(live_server.app)
    context, watcher = new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()

    # paul creates the course in the browser.
    login_as(page, "paul")
    with page.expect_navigation():
        page.locator("a[href='/learning/author/']").first.click()
    page.get_by_label("Titel des Kurses").fill("Termine im Bürgerbüro")
    _submit(page, "Kurs anlegen")
    assert urlsplit(page.url).path == f"/learning/author/{SLUG}"

    # Two lessons, the first with an image from the media library (its alternative text comes along).
    _write_lesson(page, "Wartezeiten", "## Wartezeiten verkürzen\n\nTermine bucht man online.\n\n", image=True)
    _write_lesson(page, "Am Schalter", "## Am Schalter\n\nDen Ausweis bereithalten.")
    lessons = page.locator("#lessons ol li a")
    assert [lessons.nth(i).inner_text() for i in range(lessons.count())] == ["Wartezeiten", "Am Schalter"]

    # A quiz with one single-choice question.
    with page.expect_navigation():
        page.get_by_role("link", name="Quiz bearbeiten").click()
    with page.expect_navigation():
        page.get_by_role("link", name="Einfachauswahl-Frage hinzufügen").click()
    page.get_by_label("Frage", exact=True).fill("Wie vermeiden Sie Wartezeit im Bürgerbüro?")
    first = page.get_by_role("group", name="Antwort 1", exact=True)
    first.get_by_label("Antwort", exact=True).fill("Online vorher einen Termin buchen")
    first.get_by_label("Diese Antwort ist richtig").check()
    page.get_by_role("group", name="Antwort 2", exact=True).get_by_label("Antwort", exact=True).fill(
        "Ohne Termin zur Mittagszeit kommen")
    _submit(page, "Frage speichern")
    assert "Frage 1 wurde gespeichert." in _flash(page)

    # The preview as a learner: the lesson with its image and alternative text, nothing published yet.
    page.goto(f"/learning/author/{SLUG}")
    with page.expect_navigation():
        page.get_by_role("link", name="Vorschau als Lernende").first.click()
    assert page.get_by_text("Vorschau – nicht veröffentlicht").is_visible()
    with page.expect_navigation():
        page.locator("main").get_by_role("link", name="Wartezeiten").first.click()
    image = page.get_by_role("img", name=ALT)
    assert image.is_visible()
    assert page.evaluate("img => img.complete && img.naturalWidth > 0", image.element_handle())

    # Publishing, with a summary of the changes.
    _publish(page, "Erste Fassung")

    # An assignment rule: the team Bürgerbüro gets the course, due 14 days after the assignment.
    page.goto("/learning/rules")
    with page.expect_navigation():
        page.get_by_role("link", name="Regel hinzufügen").click()
    page.get_by_label("Kurs", exact=True).select_option(label="Termine im Bürgerbüro")
    page.get_by_label("Ausgewählte Teams").check()
    page.get_by_label(re.compile(r"/ Bürgerbüro$")).check()
    due = page.get_by_role("group", name=re.compile("^Fälligkeit"))
    due.get_by_label("Tage", exact=True).fill("14")
    due.get_by_label("Gezählt ab").select_option(label="Zuweisung")
    _submit(page, "Speichern und anwenden")
    assert "Die Regel wurde gespeichert und angewendet." in _flash(page)
    assert re.search(r"Zuweisungen: [1-9]\d* angelegt", _flash(page)), _flash(page)
    sign_out(page)

    # anna finds the course on her list, reads both lessons (one at 360 px), passes the quiz.
    learner, _watcher = new_context(viewport={"width": 1280, "height": 900})
    anna = learner.new_page()
    login_as(anna, "anna")
    anna.set_viewport_size(PHONE)
    anna.goto(f"/learning/courses/{SLUG}/lessons/wartezeiten")
    assert anna.get_by_role("img", name=ALT).is_visible()
    assert _horizontal_overflow(anna) <= PHONE["width"]
    screenshot(anna, "authoring-journey-lesson-360px")
    anna.set_viewport_size({"width": 1280, "height": 900})
    _complete_as_learner(anna)
    with anna.expect_navigation():
        anna.get_by_role("link", name="Mein Zertifikat anzeigen").click()
    assert "Anna Schmidt" in anna.locator("main").inner_text()
    assert "Termine im Bürgerbüro" in anna.locator("main").inner_text()

    # paul changes a lesson and publishes the change as substantive.
    login_as(page, "paul")
    page.goto(f"/learning/author/{SLUG}/lessons/am-schalter")
    page.get_by_label("Text (Markdown)", exact=True).fill(
        "## Am Schalter\n\nDen Ausweis bereithalten. Neu: Auch die Meldebescheinigung mitbringen.")
    _submit(page, "Lektion speichern")
    _publish(page, "Meldebescheinigung ist jetzt Pflicht", substantive=True)
    assert "1 Personen, die den Kurs abgeschlossen hatten, wurden gebeten, ihn erneut zu absolvieren." in _flash(page)

    # anna is asked to take the course again: a new notice with a due date, and the course open again.
    anna.goto("/notifications/")
    notices = anna.locator("main li, main article").filter(has_text="Neue Schulung zugewiesen").filter(
        has_text="Termine im Bürgerbüro")
    assert notices.count() == 2, anna.locator("main").inner_text()  # the first assignment's and this one
    newest = notices.first.inner_text()
    assert "Ungelesen" in newest and re.search(r"Fällig am .+ \(in \d+ Tagen\)", newest), newest
    assert "(in 14 Tagen)" in notices.nth(1).inner_text()  # the rule's due date: 14 days after the assignment
    anna.goto(f"/learning/courses/{SLUG}")
    course = anna.locator("main").inner_text()
    assert "Nicht begonnen" in course and "0 von 2" in course, course
    assert re.search(r"Fälligkeit\s+\d\d\.\d\d\.\d{4} \(in \d+ Tagen\)", course), course
    with anna.expect_navigation():
        anna.get_by_role("link", name="Am Schalter").click()
    assert anna.get_by_text("Auch die Meldebescheinigung mitbringen.").is_visible()
