"""Journeys through a real browser: every demo role signs in, walks its navigation, switches language, signs out."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.browser import ROLES, login_as, screenshot, sign_out, switch_language

pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 740}


def _path(url: str) -> str:
    return urlsplit(url).path


def _nav_links(page) -> list[str]:
    return page.locator("nav.site-nav a").evaluate_all("links => links.map(a => a.getAttribute('href'))")


def _horizontal_overflow(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


@pytest.mark.parametrize("username", ROLES)
def test_role_walks_its_navigation(page, username):
    login_as(page, username)
    assert page.locator("html").get_attribute("lang") == "de"
    assert page.locator("h1").first.is_visible()
    screenshot(page, f"home-{username}")

    links = _nav_links(page)
    assert "/" in links and "/account" in links, links
    if username != "admin":
        assert not [link for link in links if link.startswith("/admin")], f"{username} is offered admin pages"
    for index, href in enumerate(links):
        link = page.locator("nav.site-nav a").nth(index)
        assert link.get_attribute("href") == href, "the navigation differs from page to page"
        with page.expect_navigation() as navigation:
            link.click()
        response = navigation.value
        assert response is not None and response.status == 200, f"{href} as {username}: {response and response.status}"
        assert _path(page.url) == href
        assert page.locator("h1").count() == 1 and page.locator("h1").is_visible(), f"{href} needs one visible h1"
        current = page.locator("nav.site-nav a[aria-current=page]")
        assert current.count() == 1 and current.get_attribute("href") == href, f"{href} is not marked current"

    here = page.url
    switch_language(page, "en")
    assert page.url == here, "the language switch leaves the reader on the same page"
    switch_language(page, "de")
    assert page.url == here

    sign_out(page)
    assert _path(page.url) == "/login"
    assert page.locator("#username").is_visible()
    assert page.locator("nav.site-nav").count() == 0
    page.goto("/")
    assert _path(page.url) == "/login", "after signing out the home page asks for a login again"


def test_login_and_navigation_fit_a_phone(new_context):
    context, _watcher = new_context(viewport=PHONE)
    page = context.new_page()
    page.goto("/login")
    assert _horizontal_overflow(page) <= PHONE["width"], "the login page scrolls sideways at 360 px"
    screenshot(page, "login-360px")

    login_as(page, "admin")  # the admin has the longest navigation
    links = _nav_links(page)
    for index, href in enumerate(links):
        # On a phone the navigation is folded behind the menu button: open it first.
        assert not page.locator("nav.site-nav a").first.is_visible()
        page.locator(".site-menu__button").click()
        link = page.locator("nav.site-nav a").nth(index)
        box = link.bounding_box()
        assert link.is_visible() and box is not None, f"navigation link {href} is hidden at 360 px"
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], f"{href} sticks out at 360 px: {box}"
        assert box["height"] >= 24, f"{href} is too small a target at 360 px: {box}"
        with page.expect_navigation():
            link.click()
        assert _path(page.url) == href
        assert _horizontal_overflow(page) <= PHONE["width"], f"{href} scrolls sideways at 360 px"
    page.goto("/")
    screenshot(page, "home-admin-360px")


def test_skip_link_is_first_and_moves_focus_to_main(page):
    for signed_in in (False, True):
        if signed_in:
            login_as(page, "anna")
        else:
            page.goto("/login")
        page.keyboard.press("Tab")
        focused = page.evaluate("document.activeElement.outerHTML")
        assert page.evaluate("document.activeElement.matches('a.skip-link[href=\"#main\"]')"), (
            f"the first Tab stop is {focused}"
        )
        box = page.locator("a.skip-link").bounding_box()
        assert box is not None and box["y"] >= 0, "the focused skip link must be visible"
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.id") == "main"
        page.keyboard.press("Tab")
        inside = page.evaluate("document.getElementById('main').contains(document.activeElement)")
        assert inside, "the next Tab after the skip link continues inside the main content"
