"""In a real browser: an admin finds the people without a password, ticks one by keyboard, checks the preview
and sends the link; every page on the way, and the team form with the person picker, passes axe-core."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from learning.db import db
from learning.messaging.models import Outbox
from learning.org.models import Team, User
from tests.browser import login_as, screenshot, switch_language
from tests.e2e.test_accessibility import _report, run_axe

pytestmark = pytest.mark.browser


def _newcomers(app) -> int:
    """Two people without a password in a demo team; returns that team's id."""
    with app.app_context():
        team = db.session.scalar(select(Team).order_by(Team.id))
        for n, (first, last) in enumerate([("Nele", "Aaneu"), ("Nils", "Abneu")]):
            user = User(username=f"neu{n}", email=f"neu{n}@example.org", first_name=first, last_name=last,
                        team_id=team.id)
            user.roles = set()
            db.session.add(user)
        db.session.commit()
        team_id = team.id
        db.session.remove()
    return team_id


@pytest.mark.parametrize("language", ["de", "en"])
def test_an_admin_sends_a_first_password_link_by_keyboard_and_every_page_passes_axe(
        live_server, new_context, language):
    team_id = _newcomers(live_server.app)
    context, _watcher = new_context(bypass_csp=True)
    page = context.new_page()
    login_as(page, "admin")
    if language != "de":
        switch_language(page, language)
    problems = []

    page.goto("/admin/people?password=none&q=neu")
    problems += run_axe(page, language)
    first = page.locator("input[name=user_id]").first
    first.focus()
    page.keyboard.press("Space")
    assert first.is_checked()
    with page.expect_navigation():
        page.locator("#invite-chosen button[type=submit]").click()
    assert page.locator("#invite-count").inner_text() == "1"
    problems += run_axe(page, language)
    screenshot(page, f"invite-preview-{language}")
    with page.expect_navigation():
        page.locator("main form[method=post] button[type=submit]").click()
    assert "/admin/people" in page.url and page.locator(".kern-alert").count() >= 1
    problems += run_axe(page, language)

    page.goto("/admin/people/invite?scope=filtered&password=none&q=neu")  # one link waits: the other is skipped
    assert page.locator("#skip-count").inner_text() == "1"
    problems += run_axe(page, language)

    page.goto(f"/admin/units/teams/{team_id}")
    page.locator("[data-person-picker] input[type=text]").fill("Abn")
    page.locator("[role=listbox] [role=option]").first.wait_for()
    problems += run_axe(page, language)
    assert not problems, _report(problems)
    with live_server.app.app_context():
        links = select(func.count()).select_from(Outbox).where(Outbox.kind == "org.first_password")
        assert db.session.scalar(links) == 1
        db.session.remove()
