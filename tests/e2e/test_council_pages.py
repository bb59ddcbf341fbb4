"""The pages of the staff council and the admins on a phone and with axe: what is stored about me, the audit
log, the scheduler, the organisation settings (with a logo on the sign-in page)."""

from __future__ import annotations

import io

import pytest

from tests.browser import ARTIFACTS, login_as
from tests.e2e.test_accessibility import run_axe

pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 640}


def _fits_the_phone(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} is {width} px wide"


@pytest.mark.parametrize("language", ["de", "en"])
def test_what_is_stored_about_me_reads_on_a_phone(live_server, new_context, language):
    context, _watcher = new_context(viewport=PHONE, bypass_csp=True, locale="de-DE" if language == "de" else "en-GB")
    page = context.new_page()
    login_as(page, "anna")
    page.goto("/my-data")
    _fits_the_phone(page)
    main = page.locator("main")
    assert main.locator("h2").filter(has_text="Ihr Konto" if language == "de" else "Your account").count() == 1
    text = main.inner_text()
    for column in ("user_id", "password_hash", "completed_at", "created_at", "True", "False"):
        assert column not in text, column
    page.locator("main details").first.evaluate("d => d.open = true")
    assert run_axe(page, language) == []
    page.screenshot(path=str(ARTIFACTS / f"my-data-phone-{language}.png"), full_page=True)


@pytest.mark.parametrize("language", ["de", "en"])
def test_admin_pages_in_words_pass_axe_on_a_phone(live_server, new_context, language):
    context, _watcher = new_context(viewport=PHONE, bypass_csp=True, locale="de-DE" if language == "de" else "en-GB")
    page = context.new_page()
    login_as(page, "admin")
    for path in ("/admin/audit/", "/admin/audit/?category=views", "/admin/scheduler/", "/admin/mail/outbox",
                 "/admin/mail/", "/admin/settings/organisation"):
        page.goto(path)
        page.locator("main details").evaluate_all("all => all.forEach(d => d.open = true)")
        assert run_axe(page, language) == [], path
    page.goto("/admin/audit/")
    assert page.locator("main table td").filter(has_text="hat" if language == "de" else "the").count() > 0


def test_the_logo_is_shown_to_everyone_after_the_upload(live_server, page):
    from PIL import Image

    logo = io.BytesIO()
    Image.new("RGB", (400, 100), (28, 63, 138)).save(logo, format="PNG")
    login_as(page, "admin")
    page.goto("/admin/settings/organisation")
    page.locator("#organisation__name").fill("Stadtverwaltung Musterstadt")
    with page.expect_navigation():
        page.locator("main form").first.locator("button[type=submit]").click()
    page.locator("#logo-logo").set_input_files(files=[{"name": "logo.png", "mimeType": "image/png",
                                                       "buffer": logo.getvalue()}])
    with page.expect_navigation():
        page.locator("main form[enctype] button[type=submit]").click()
    assert page.locator(".site-brand img.site-brand__logo").count() == 1
    assert "Stadtverwaltung Musterstadt" in page.locator(".site-brand").inner_text()
    page.context.clear_cookies()
    page.goto("/login")
    logo_image = page.locator(".site-brand img.site-brand__logo")
    assert logo_image.evaluate("img => img.complete && img.naturalWidth") == 400
