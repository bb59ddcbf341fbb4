"""The shared form components in a browser: the person picker (combobox) and the due-rule component.

Both on a 360 px phone, by keyboard, with the app's CSP in force (the watcher fails the test on a
CSP violation), and axe-core with no violations in German and English.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from learning.db import db
from learning.phases.models import RolloutPhase
from learning.training.models import AssignmentRule, Course
from tests.browser import login_as, switch_language
from tests.e2e.test_accessibility import _report, run_axe
from tests.e2e.test_journeys import PHONE, _horizontal_overflow

pytestmark = pytest.mark.browser


def _axe(new_context, username: str, paths: list[str]) -> list[str]:
    context, _watcher = new_context(bypass_csp=True)
    page = context.new_page()
    login_as(page, username)
    problems = []
    for language in ("de", "en"):
        page.set_viewport_size({"width": 1280, "height": 800})
        if language == "en":
            switch_language(page, "en")
        page.set_viewport_size(PHONE)
        for path in paths:
            problems += _check(page, path, language)
    context.close()
    return problems


def _check(page, path: str, language: str) -> list[str]:
    page.goto(path)
    problems = run_axe(page, language)
    assert _horizontal_overflow(page) <= PHONE["width"], f"{path} is wider than 360 px ({language})"
    return problems


def test_the_person_picker_chooses_a_contact_by_keyboard(new_context, live_server):
    context, _watcher = new_context(viewport=PHONE)  # CSP on: the script comes from our static files
    page = context.new_page()
    login_as(page, "paul")
    page.goto("/phases/e-akte/edit")
    search = page.locator("#contact_ids-q")
    assert search.get_attribute("role") == "combobox" and search.get_attribute("aria-expanded") == "false"
    assert page.locator("button[name=contact_ids-search]").count() == 0  # the fallback button goes away
    assert page.locator("input[name=contact_ids]:checked").count() == 2  # Paul Neumann and Mara Hoffmann
    search.focus()
    page.keyboard.type("Schmidt")
    option = page.locator("#contact_ids-listbox [role=option]").first
    option.wait_for()
    assert search.get_attribute("aria-expanded") == "true"
    assert "Anna Schmidt" in option.inner_text() and "@" not in page.locator("#contact_ids-listbox").inner_text()
    page.keyboard.press("ArrowDown")
    assert search.get_attribute("aria-activedescendant") == option.get_attribute("id")
    page.keyboard.press("Enter")  # chooses; does not send the form
    assert page.url.endswith("/phases/e-akte/edit")
    assert search.get_attribute("aria-expanded") == "false" and search.input_value() == ""
    assert page.locator("input[name=contact_ids]:checked").count() == 3
    assert "Anna Schmidt" in page.locator("[data-picker-status]").inner_text()
    assert _horizontal_overflow(page) <= PHONE["width"]
    with page.expect_navigation():
        page.locator("main form[method=post] button[type=submit]").last.click()
    assert "Anna Schmidt" in page.locator("main").inner_text()
    with live_server.app.app_context():
        phase = db.session.scalar(select(RolloutPhase).where(RolloutPhase.slug == "e-akte"))
        assert "Anna Schmidt" in {u.full_name for u in phase.contacts}
        db.session.remove()


def test_the_due_rule_component_is_a_number_and_two_choices(new_context, live_server):
    with live_server.app.app_context():
        course_id = db.session.scalar(select(Course.id).where(Course.slug == "e-akte-grundlagen"))
        db.session.remove()
    context, _watcher = new_context(viewport=PHONE)
    page = context.new_page()
    login_as(page, "paul")
    page.goto("/learning/rules/new")
    page.locator("#course_id").select_option(str(course_id))
    page.locator("#due_rule-days").fill("7")
    page.locator("#due_rule-direction").select_option("before")
    page.locator("#due_rule-anchor").select_option("golive")
    assert page.locator("label[for=due_rule-days]").inner_text() == "Tage"
    assert _horizontal_overflow(page) <= PHONE["width"]
    with page.expect_navigation():
        page.locator("main form[method=post] button[type=submit]").first.click()
    with live_server.app.app_context():
        rule = db.session.scalar(select(AssignmentRule).where(AssignmentRule.course_id == course_id)
                                 .order_by(AssignmentRule.id.desc()))
        assert rule.due_rule == "golive-7"
        db.session.remove()
    page.goto("/learning/rules")
    listing = page.locator("main").inner_text()
    assert "7 Tage vor Go-live" in listing or "7 Tage vor dem Go-live" in listing, listing
    assert "golive-7" not in listing


def test_the_changed_forms_pass_axe(new_context, live_server):
    with live_server.app.app_context():
        rule_id = db.session.scalar(select(AssignmentRule.id).order_by(AssignmentRule.id))
        db.session.remove()
    problems = _axe(new_context, "paul", ["/phases/e-akte/edit", "/learning/rules/new", f"/learning/rules/{rule_id}"])
    assert not problems, _report(problems)
