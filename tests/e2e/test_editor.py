"""The course editor in a real browser: the project group writes a lesson with the toolbar, the language tabs and
the live preview under the app's CSP; axe-core finds nothing on the editor's pages in German and English, on a
desktop and at 360 px."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from learning.db import db
from tests.browser import login_as, screenshot, switch_language
from tests.e2e.test_accessibility import _report, run_axe
from tests.e2e.test_journeys import PHONE, _horizontal_overflow

pytestmark = pytest.mark.browser


def test_paul_writes_a_lesson_with_the_toolbar_tabs_and_live_preview(page, live_server):
    login_as(page, "paul")
    page.goto("/")
    page.locator("a[href='/learning/author/']").first.click()  # in the navigation (folded or not)
    page.wait_for_url("**/learning/author/")
    page.locator("#title").fill("Fristen im Bürgerbüro")
    with page.expect_navigation():
        page.get_by_role("button", name="Kurs anlegen").click()
    assert page.url.endswith("/learning/author/fristen-im-buergerbuero")
    page.locator("#lesson_title").fill("Erste Schritte")
    with page.expect_navigation():
        page.get_by_role("button", name="Lektion hinzufügen").click()
    assert page.url.endswith("/learning/author/fristen-im-buergerbuero/lessons/erste-schritte")

    # The two language sections became tabs; German is open.
    tabs = page.get_by_role("tab")
    assert tabs.count() == 2
    assert page.locator("#language-de").is_visible() and not page.locator("#language-en").is_visible()

    # The toolbar writes Markdown; the live preview shows it as learners will see it.
    toolbar = page.locator("[data-toolbar-for=body]")
    assert toolbar.is_visible()
    page.locator("#body").click()
    toolbar.get_by_role("button", name="Überschrift").click()
    page.locator("#body").press("End")
    page.locator("#body").press("Enter")
    toolbar.get_by_role("button", name="Hinweiskasten").click()
    toolbar.get_by_role("button", name="Tabelle").click()
    body = page.locator("#body").input_value()
    assert body.startswith("## Überschrift") and '!!! tip "Hinweis"' in body and "| --- | --- |" in body
    live = page.locator("[data-live-output]")
    live.locator("div.admonition.tip").wait_for()
    assert live.locator("h2").first.inner_text() == "Überschrift"
    assert live.locator("table th").count() == 2

    # The toolbar is one stop in the tab order; the arrow keys move within it.
    first = toolbar.get_by_role("button").first
    first.focus()
    page.keyboard.press("ArrowRight")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Fett"

    # The English tab, by keyboard.
    tabs.first.focus()
    page.keyboard.press("ArrowRight")
    assert page.locator("#language-en").is_visible() and not page.locator("#language-de").is_visible()
    page.locator("#title_en").fill("First steps")
    page.locator("#body_en").fill("## Signing in\n\nWith your user name.")
    live.locator("h2", has_text="Signing in").wait_for()

    with page.expect_navigation():
        page.get_by_role("button", name="Lektion speichern").click()
    assert "Die Lektion wurde gespeichert." in page.locator(".flash-messages").inner_text()
    assert '!!! tip "Hinweis"' in page.locator("#body").input_value()
    assert page.locator("#body_en").input_value() == "## Signing in\n\nWith your user name."

    # The preview button: the server renders what is in the form, nothing is saved.
    page.locator("#language-de-tab").click()
    page.locator("#body").fill("## Nur eine Vorschau\n\n- eins\n- zwei")
    with page.expect_navigation():
        page.get_by_role("button", name="Vorschau", exact=True).click()
    assert page.locator("#preview h2", has_text="Nur eine Vorschau").count() == 1
    assert page.locator("#preview li").count() == 2
    screenshot(page, "editor-lesson-preview")
    page.goto("/learning/author/fristen-im-buergerbuero/lessons/erste-schritte")
    assert "Nur eine Vorschau" not in page.locator("#body").input_value()


def _seed(app) -> dict[str, str]:
    """A draft with two lessons (one with a callout and a table) and a course managed as files."""
    from learning.org.models import User
    from learning.training.authoring.drafts import LessonText, add_lesson, create_course, save_lesson
    from learning.training.models import Course, CourseSource

    with app.test_request_context():
        paul = db.session.scalar(select(User).where(User.username == "paul"))
        draft = create_course(paul, "Barrierefrei schreiben")
        add_lesson(draft, 0, "Überschriften", paul)
        add_lesson(draft, 1, "Tabellen", paul)
        save_lesson(draft, "ueberschriften", 0, LessonText(
            "Überschriften", "## Gliederung\n\n!!! warning \"Wichtig\"\n    Keine Ebene überspringen.\n\n"
            "| Ebene | Zeichen |\n| --- | --- |\n| 2 | ## |"), paul)
        files = db.session.scalar(select(Course).where(Course.source == CourseSource.FILES,
                                                       Course.archived_at.is_(None)).order_by(Course.id))
        lesson = files.active_lessons[0].slug
        db.session.commit()
        paths = {"home": "/learning/author/", "hub": f"/learning/author/{draft.slug}",
                 "lesson": f"/learning/author/{draft.slug}/lessons/ueberschriften",
                 "editors": f"/learning/author/{draft.slug}/editors",
                 "files": f"/learning/author/{files.slug}",
                 "files_lesson": f"/learning/author/{files.slug}/lessons/{lesson}"}
        db.session.remove()
    return paths


@pytest.mark.parametrize("language", ["de", "en"])
def test_the_editor_pages_pass_axe_on_a_desktop_and_at_360_px(live_server, new_context, language):
    paths = _seed(live_server.app)
    problems = []
    context, _watcher = new_context(bypass_csp=True)
    page = context.new_page()
    login_as(page, "paul")
    if language != "de":
        switch_language(page, language)  # in the header, before the phone folds it away
    for viewport in ({"width": 1280, "height": 900}, PHONE):
        page.set_viewport_size(viewport)
        phone = viewport == PHONE
        for name, path in paths.items():
            page.goto(path)
            assert page.locator("html").get_attribute("lang") == language
            if name == "lesson":
                page.locator("[data-toolbar-for=body]").wait_for()  # the toolbar and tabs are on the page
                page.locator("[data-live-output] div.admonition").wait_for()
                assert page.get_by_role("tab").count() == 2
            problems += run_axe(page, language)
            if phone:
                width = _horizontal_overflow(page)
                assert width <= PHONE["width"], f"{path} is {width} px wide at 360 px"
                if name == "lesson":
                    screenshot(page, f"editor-lesson-360px-{language}")
        # An error state: the settings sent without a title.
        page.goto(paths["hub"])
        page.locator("#title").fill("")
        with page.expect_navigation():
            page.locator("form:has(#title) button[type=submit]").click()
        assert page.locator("#title[aria-invalid=true]").count() == 1
        problems += run_axe(page, language)
    assert not problems, _report(problems)
