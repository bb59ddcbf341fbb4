"""Single sign-on in a real browser with the app's CSP in force: the provider's own login page and back to the
deep link, and sign-out through the provider's end-session page; the login page with the button and the
directory page pass axe in German and English and fit a 360 px screen (run with ``-m browser``)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.browser import login_as, screenshot
from tests.directory.oidc import OidcProvider
from tests.directory.slapd import free_port
from tests.directory.test_browser import PHONE, _fits
from tests.e2e.test_accessibility import _report, run_axe

pytestmark = pytest.mark.browser


@pytest.fixture
def provider(live_server):
    """A provider whose client redirects to this live server; the app signs people in through it."""
    server = OidcProvider([live_server.url]).start()
    live_server.app.config.update(server.app_config())
    yield server
    server.stop()


def _outside_problems_are_the_providers(watcher, provider) -> None:
    """The provider's pages are another site by design: requests to it and its own console are not ours."""
    watcher.problems[:] = [p for p in watcher.problems
                           if not p.startswith((f"external request: GET {provider.issuer}/",
                                                f"external request: POST {provider.issuer}/",
                                                f"console error on {provider.issuer}/"))]


def test_sign_in_through_the_provider_back_to_the_deep_link_and_sign_out_there(live_server, new_context, provider):
    context, watcher = new_context()  # German, with the app's CSP
    page = context.new_page()
    page.goto("/learning/")  # the page the person wanted
    assert urlsplit(page.url).path == "/login"
    with page.expect_navigation(url=f"{provider.issuer}/**"):
        page.get_by_role("link", name="Anmelden mit Dienstkonto").click()

    page.locator("input[name=login]").fill("jana")  # the provider's own login page
    page.locator("input[name=password]").fill("any password")
    with page.expect_navigation(url=f"{live_server.url}/learning/"):
        page.locator("button[type=submit]").click()
    assert "Anmelden" not in page.locator("h1").inner_text()
    screenshot(page, "oidc-signed-in")

    # Sign-out: the platform's form, then the provider's end-session page (its session ends too).
    with page.expect_navigation(url=f"{provider.issuer}/session/end**"):
        page.locator("form[action$='/logout'] button[type=submit]").first.click()
    with page.expect_navigation(url=f"{live_server.url}/login**"):
        page.get_by_role("button", name="Yes, sign me out").click()
    assert page.locator("#username").count() == 1

    # A new start shows the provider's login page again: its session is over.
    with page.expect_navigation(url=f"{provider.issuer}/**"):
        page.get_by_role("link", name="Anmelden mit Dienstkonto").click()
    page.locator("input[name=login]").wait_for()
    assert page.locator("input[name=login]").count() == 1
    _outside_problems_are_the_providers(watcher, provider)


@pytest.mark.parametrize("language", ["de", "en"])
def test_oidc_pages_pass_axe_and_fit_a_phone(live_server, new_context, provider, language):
    context, watcher = new_context(bypass_csp=True, viewport=PHONE, locale="de-DE" if language == "de" else "en-US")
    page = context.new_page()
    problems = []
    page.goto("/login?next=/learning/")  # the button
    assert page.locator("a[href='/login/oidc?next=/learning/']").count() == 1
    problems += run_axe(page, language) + _fits(page)
    screenshot(page, f"oidc-login-{language}")

    # Signed in through the provider and out again: the page between the two sign-outs (held there).
    page.locator("a[href^='/login/oidc']").click()
    page.locator("input[name=login]").fill("jana")
    page.locator("input[name=password]").fill("any password")
    with page.expect_navigation(url=f"{live_server.url}/learning/"):
        page.locator("button[type=submit]").click()
    page.route(f"{provider.issuer}/session/end**", lambda route: route.fulfill(status=204))
    page.locator("form[action$='/logout'] button[type=submit]").first.click()
    page.wait_for_url("**/logout")
    link = page.locator(f"main a[href^='{provider.issuer}/session/end?']")
    assert link.count() == 1
    problems += run_axe(page, language) + _fits(page)
    screenshot(page, f"oidc-signing-out-{language}")
    page.unroute(f"{provider.issuer}/session/end**")

    page.goto("/login?next=/learning/")
    live_server.app.config["OIDC_ISSUER"] = f"http://127.0.0.1:{free_port()}"  # the provider goes down
    page.locator("a[href^='/login/oidc']").click()
    page.wait_for_url("**/login?next=/learning/")
    expected = "vorübergehend nicht möglich" if language == "de" else "temporarily not possible"
    assert expected in page.locator("main").inner_text()
    problems += run_axe(page, language) + _fits(page)
    screenshot(page, f"oidc-unavailable-{language}")

    login_as(page, "admin")
    page.goto("/admin/directory/")
    assert page.locator("#oidc-heading").count() == 1
    problems += run_axe(page, language) + _fits(page)
    live_server.app.config["OIDC_ISSUER"] = provider.issuer
    with page.expect_navigation():
        page.locator("form[action$='/oidc/test'] button").click()
    assert page.locator("main .kern-alert--success").count() >= 1
    problems += run_axe(page, language) + _fits(page)
    screenshot(page, f"oidc-directory-{language}")
    assert not problems, _report(problems)
    _outside_problems_are_the_providers(watcher, provider)
