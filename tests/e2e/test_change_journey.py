"""The change journey in the browser: an announcement to acknowledge and an anonymous concern answered."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from learning.db import db
from learning.org.models import User
from tests.browser import login_as, screenshot, sign_out

TITLE = "Neue Telefonanlage ab Montag"


@pytest.mark.browser
def test_paul_announces_and_anna_acknowledges(live_server, page):
    login_as(page, "paul")
    page.goto("/announcements/manage/new")
    page.locator("#title").fill(TITLE)
    page.locator("#body").fill("Ab **Montag** telefonieren alle Teams über die neue Anlage.\n\n"
                               "<script>alert(1)</script>")
    with page.expect_navigation():
        page.locator("button[name=preview]").click()
    preview = page.locator("#preview").inner_html()
    assert "<strong>Montag</strong>" in preview and "<script" not in preview
    page.locator("input[name=publication][value=now]").check()
    page.locator("#requires_ack").check()
    with page.expect_navigation():
        page.locator("main form button[type=submit]:not([name=preview])").last.click()
    screenshot(page, "announcement-saved")
    sign_out(page)

    login_as(page, "anna")
    home = page.locator("main").inner_text()
    assert TITLE in home
    page.goto("/announcements/")
    first = page.locator("main article, main li").filter(has_text=TITLE).first
    assert first.count() == 1
    screenshot(page, "announcements-anna")
    with page.expect_navigation():
        first.locator("form[action$='/acknowledge'] button[type=submit]").click()
    page.goto("/announcements/")
    item = page.locator("main article, main li").filter(has_text=TITLE).first
    assert item.locator("form[action$='/acknowledge']").count() == 0  # acknowledged: no button any more
    with live_server.app.app_context():
        from learning.announcements.models import Acknowledgement, Announcement

        announcement = db.session.scalar(select(Announcement).where(Announcement.title == TITLE))
        anna = db.session.scalar(select(User).where(User.username == "anna"))
        assert db.session.scalar(select(Acknowledgement).where(
            Acknowledgement.announcement_id == announcement.id, Acknowledgement.user_id == anna.id)) is not None
    assert urlsplit(page.url).path.startswith("/announcements")


CONCERN = "Zu wenig Scanner im Bürgerbüro"


@pytest.mark.browser
def test_anonymous_concern_is_answered_and_planned(live_server, page):
    login_as(page, "anna")
    page.goto("/feedback/e-akte/new")
    page.locator("input[name=kind][value=concern]").check()
    page.locator("#title").fill(CONCERN)
    page.locator("#body").fill("Für den Posteingang haben wir nur einen Scanner; zu Stoßzeiten stauen sich die Briefe.")
    page.locator("#anonymous").check()
    with page.expect_navigation():
        page.locator("main form button[type=submit]").last.click()
    assert CONCERN in page.locator("main").inner_text()
    with live_server.app.app_context():
        from learning.feedback.models import FeedbackPost

        post = db.session.scalar(select(FeedbackPost).where(FeedbackPost.title == CONCERN))
        assert post.author_id is None
        post_id = post.id
    sign_out(page)

    login_as(page, "paul")
    page.goto(f"/feedback/e-akte/{post_id}")
    assert "Anna" not in page.locator("main").inner_text()  # nothing shows who wrote it
    page.locator("form[action$='/comments'] textarea").fill("Danke! Wir beschaffen zwei weitere Scanner.")
    page.locator("form[action$='/comments'] input[type=checkbox]").check()  # an official reply
    with page.expect_navigation():
        page.locator("form[action$='/comments'] button[type=submit]").click()
    page.locator("#status-status").select_option("planned")
    with page.expect_navigation():
        page.locator("form[action$='/status'] button[type=submit]").click()
    screenshot(page, "feedback-post-planned")
    text = page.locator("main").inner_text()
    assert "Wir beschaffen zwei weitere Scanner" in text
    with live_server.app.app_context():
        from learning.feedback.models import FeedbackPost

        assert db.session.get(FeedbackPost, post_id).status == "planned"
    page.goto("/feedback/e-akte/done")
    assert CONCERN in page.locator("main").inner_text()
