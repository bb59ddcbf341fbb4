"""The start page on a 360 × 640 phone: *What to do next* in the first screen, the menu folded away.

The demo employee (anna) has an overdue mandatory course, a survey and onboarding tasks, so the
list is long; its first item and its button must still be visible without scrolling. The menu is
a ``<details>`` that opens and closes with the keyboard and works without JavaScript.
"""

from __future__ import annotations

import pytest

from tests.browser import login_as, screenshot, switch_language
from tests.e2e.test_accessibility import run_axe

pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 640}
DESKTOP = {"width": 1280, "height": 900}


def _in_first_screen(page, selector: str) -> bool:
    box = page.locator(selector).first.bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"]


def test_phone_start_page_shows_the_first_next_item_without_scrolling(new_context):
    context, _watcher = new_context(viewport=PHONE)
    page = context.new_page()
    login_as(page, "anna")
    first = page.locator(".next-list .next-item").first
    assert "überfällig" in first.inner_text()  # the overdue mandatory course leads
    assert _in_first_screen(page, ".next-list .next-item")
    assert _in_first_screen(page, ".next-list .next-item .kern-btn")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    # The navigation is folded: its links are hidden, the menu button is in the first line below the header.
    assert page.locator(".site-menu__button").is_visible()
    assert not page.locator(".site-nav__link").first.is_visible()
    screenshot(page, "home-phone-de")
    with page.expect_navigation():
        first.locator(".kern-btn").click()
    assert "/courses/" in page.url


def test_menu_opens_and_closes_with_the_keyboard(new_context):
    context, _watcher = new_context(viewport=PHONE, java_script_enabled=False)
    page = context.new_page()
    login_as(page, "anna")
    button = page.locator(".site-menu__button")
    page.locator("body").focus()
    for _ in range(10):  # skip link, brand, language, notifications, sign out, then the menu
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.classList.contains('site-menu__button')"):
            break
    assert page.evaluate("document.activeElement.classList.contains('site-menu__button')")
    page.keyboard.press("Enter")
    assert page.locator(".site-menu").get_attribute("open") is not None
    link = page.locator(".site-nav__link", has_text="Mein Lernen")
    assert link.is_visible()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.classList.contains('site-nav__link')")
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Enter")
    assert page.locator(".site-menu").get_attribute("open") is None
    assert not link.is_visible()
    button.click()  # and by pointer
    with page.expect_navigation():
        link.click()
    assert page.url.endswith("/learning/")


def test_wide_screens_show_the_navigation_without_a_menu_button(new_context):
    context, _watcher = new_context(viewport=DESKTOP)
    page = context.new_page()
    login_as(page, "anna")
    assert not page.locator(".site-menu__button").is_visible()
    assert page.locator(".site-nav__link", has_text="Mein Lernen").is_visible()
    screenshot(page, "home-desktop-de")


@pytest.mark.parametrize("language", ["de", "en"])
@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_start_page_passes_axe(new_context, language, viewport):
    context, _watcher = new_context(viewport=viewport, bypass_csp=True)
    page = context.new_page()
    login_as(page, "anna")
    if language != "de":
        switch_language(page, language)
    assert not run_axe(page, language)
    if viewport is PHONE:  # and with the menu open
        page.locator(".site-menu__button").click()
        assert not run_axe(page, language)
