"""Directory sign-in in a real browser: the login page's refusals, the pending links and the directory page
pass axe in German and English and fit a 360 px phone screen (run with ``-m browser``; the browser fixtures
come from tests/browser.py)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from learning.db import db
from learning.directory.models import LDAP, ExternalIdentity
from learning.org.models import User
from tests.browser import login_as, screenshot
from tests.directory.slapd import free_port
from tests.e2e.test_accessibility import _report, run_axe

pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 740}


def _fits(page) -> list[str]:
    width = page.evaluate("document.documentElement.scrollWidth")
    return [] if width <= PHONE["width"] else [f"{urlsplit(page.url).path} scrolls sideways at 360 px ({width} px)"]


def _sign_in(page, login: str, password: str) -> None:
    page.goto("/login")
    page.locator("#username").fill(login)
    page.locator("#password").fill(password)
    with page.expect_navigation():
        page.locator("form:has(#password) button[type=submit]").click()


@pytest.mark.parametrize("language", ["de", "en"])
def test_directory_pages_pass_axe_and_fit_a_phone(live_server, new_context, slapd, language):
    app = live_server.app
    app.config.update(slapd.app_config())
    with app.app_context():
        db.session.add(User(username="karla", email="karla@example.org", first_name="Karla", last_name="Lokal"))
        db.session.commit()
    context, _watcher = new_context(bypass_csp=True, viewport=PHONE, locale="de-DE" if language == "de" else "en-US")
    page = context.new_page()
    problems = []

    page.goto("/login")  # the hint to use the directory account
    problems += run_axe(page, language) + _fits(page)

    _sign_in(page, "kkollision", "karla-directory-pw")  # same e-mail as a local account: waits for an admin
    assert page.locator("main .kern-alert--danger").count() == 1
    problems += run_axe(page, language) + _fits(page)
    screenshot(page, f"directory-pending-{language}")

    app.config["LDAP_URL"] = f"ldap://127.0.0.1:{free_port()}"  # the directory goes down
    _sign_in(page, "jdoe", "jana-directory-pw")
    expected = "vorübergehend nicht möglich" if language == "de" else "temporarily not possible"
    assert expected in page.locator("main").inner_text()
    problems += run_axe(page, language) + _fits(page)
    screenshot(page, f"directory-unavailable-{language}")

    login_as(page, "admin")  # the break-glass admin signs in locally meanwhile
    for path in ("/admin/directory/", "/admin/people", "/admin/settings/"):
        page.goto(path)
        problems += run_axe(page, language) + _fits(page)
    page.goto("/admin/people")
    assert page.locator("#pending-links-heading").count() == 1
    screenshot(page, f"directory-pending-links-{language}")

    app.config["LDAP_URL"] = slapd.ldap_url  # back up: the admin confirms, and Karla signs in to her account
    with page.expect_navigation():
        page.locator("#pending-links-heading ~ div form[action$='/confirm'] button").first.click()
    problems += run_axe(page, language) + _fits(page)
    assert not problems, _report(problems)
    with app.app_context():
        karla = db.session.scalar(select(User).where(User.username == "karla"))
        assert db.session.scalar(select(ExternalIdentity.user_id).where(ExternalIdentity.source == LDAP)) == karla.id
