"""Signed-in devices in a browser: the account page's list passes axe, fits a phone, works by keyboard."""

from __future__ import annotations

import pytest

from tests.browser import login_as, switch_language
from tests.e2e.test_accessibility import _report, run_axe
from tests.e2e.test_journeys import PHONE, _horizontal_overflow, _path

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("language", ["de", "en"])
def test_devices_on_the_account_page_pass_axe_and_sign_out_by_keyboard(new_context, language):
    other_context, _ = new_context()
    other = other_context.new_page()
    login_as(other, "anna")
    context, _watcher = new_context(bypass_csp=True, viewport=PHONE)
    page = context.new_page()
    login_as(page, "anna")
    if language != "de":
        switch_language(page, language)
    page.goto("/account")
    rows = page.locator("#devices-heading ~ * table tbody tr")
    assert rows.count() == 2
    assert rows.locator(".kern-badge").count() == 1, "this device is marked"
    problems = run_axe(page, language)
    assert not problems, _report(problems)
    assert _horizontal_overflow(page) <= PHONE["width"], "the account page scrolls sideways at 360 px"

    button = rows.filter(has_not=page.locator(".kern-badge")).locator("button[type=submit]")
    button.focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert _path(page.url) == "/account"
    assert page.locator("#devices-heading ~ * table tbody tr").count() == 1
    other.goto("/account")
    assert _path(other.url) == "/login", "the signed-out device is asked to sign in again"

    with page.expect_navigation():
        page.get_by_role("button", name="Überall abmelden" if language == "de" else "Sign out everywhere").click()
    assert _path(page.url) == "/login"
    page.goto("/account")
    assert _path(page.url) == "/login"
