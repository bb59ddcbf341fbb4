"""The media library in a real browser: axe finds nothing in German and English, also with errors, at 360 px."""

from __future__ import annotations

import pytest

from tests.browser import login_as, switch_language
from tests.e2e.test_accessibility import run_axe
from tests.media import samples

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("language", ["de", "en"])
def test_the_library_passes_axe_and_fits_a_phone(live_server, new_context, language, tmp_path):  # noqa: F811
    context, watcher = new_context(bypass_csp=True)
    page = context.new_page()
    login_as(page, "paul")
    if language != "de":
        switch_language(page, language)
    page.set_viewport_size({"width": 360, "height": 800})
    problems = []
    page.goto("/admin/media/")
    before = page.locator("main img.media-thumb").count()  # the demo's pictures (lena's diagram)
    problems += run_axe(page, language)

    with page.expect_navigation():  # sent empty: the error summary and the field errors
        page.locator("main form[enctype] button[type=submit]").click()
    assert page.locator("main .kern-alert--danger").count() == 1
    problems += run_axe(page, language)

    image = tmp_path / "maske.png"
    image.write_bytes(samples.png(size=(1200, 800)))
    page.locator("#file").set_input_files(str(image))
    page.locator("#alt_text").fill("Die Suchmaske der E-Akte")
    with page.expect_navigation():
        page.locator("main form[enctype] button[type=submit]").click()
    assert "/admin/media/" in page.url and page.locator("main img[alt='Die Suchmaske der E-Akte']").count() == 1
    problems += run_axe(page, language)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360, "the item page scrolls sideways at 360 px"

    page.goto("/admin/media/")
    assert page.locator("main img.media-thumb").count() == before + 1
    problems += run_axe(page, language)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360, "the library scrolls sideways at 360 px"
    assert not problems, "\n".join(problems)
    assert not watcher.problems, watcher.problems
