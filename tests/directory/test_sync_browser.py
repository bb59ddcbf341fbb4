"""The directory sync page in a real browser: the preview and the result of applying it pass axe in German
and English and fit a 360 px phone screen, by keyboard too (run with ``-m browser``)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from learning.db import db
from learning.directory.mapping import read_mapping
from learning.directory.models import LDAP, ExternalIdentity
from tests.browser import login_as, screenshot
from tests.directory.slapd import STAFF_DN
from tests.directory.test_browser import PHONE, _fits
from tests.directory.test_sync import ENABLED, MAPPING
from tests.e2e.test_accessibility import _report, run_axe

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("language", ["de", "en"])
def test_the_sync_preview_and_result_pass_axe_and_fit_a_phone(live_server, new_context, staff, language):
    app = live_server.app
    app.config.update(staff.app_config(LDAP_BASE_DN=STAFF_DN))
    app.extensions["directory_mapping"] = read_mapping(MAPPING)
    context, _watcher = new_context(bypass_csp=True, viewport=PHONE, locale="de-DE" if language == "de" else "en-US")
    page = context.new_page()
    login_as(page, "admin")
    page.goto("/admin/directory/")
    with page.expect_navigation():
        page.locator("a[href='/admin/directory/sync']").click()
    problems = run_axe(page, language) + _fits(page)
    assert page.locator("table").count() == 1
    screenshot(page, f"directory-sync-preview-{language}")

    button = page.locator("form[action='/admin/directory/sync'] button[type=submit]")
    button.focus()  # by keyboard
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator(".kern-alert--success").count() == 1
    problems += run_axe(page, language) + _fits(page)
    screenshot(page, f"directory-sync-result-{language}")
    assert not problems, _report(problems)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ExternalIdentity)
                                 .where(ExternalIdentity.source == LDAP)) == len(ENABLED)
