"""Onboarding in the browser: mara sees her new hire's tasks and chooses a buddy, the new hire ticks a task
off, and every onboarding page passes axe-core in German and English."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from learning.db import db
from learning.onboarding.models import Journey, JourneyTask, JourneyTemplate
from learning.org.models import User
from tests.browser import login_as, screenshot, sign_out
from tests.e2e.test_accessibility import LANGUAGES, _report, _signed_in_context, run_axe

pytestmark = pytest.mark.browser


def _journey_of(app, username: str) -> tuple[int, dict[str, int]]:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        journey = db.session.scalar(select(Journey).where(Journey.new_hire_id == user.id))
        return journey.id, {t.title: t.id for t in journey.tasks}


def test_mara_chooses_a_buddy_and_the_new_hire_ticks_a_task_off(live_server, page):
    app = live_server.app
    journey_id, _tasks = _journey_of(app, "jalbers")

    login_as(page, "mara")
    assert page.locator("#onboarding-tasks-heading").count() == 1  # the home card
    page.goto("/onboarding/")
    row = page.locator("main table tr", has_text="Jana Albers")
    assert row.count() == 1 and "Anna Schmidt" in row.inner_text()
    with page.expect_navigation():
        row.get_by_role("link", name="Jana Albers").click()
    assert urlsplit(page.url).path == f"/onboarding/journeys/{journey_id}"
    main = page.locator("main")
    stages = main.locator("section.kern-task-list h2").evaluate_all("hs => hs.map(h => h.id)")
    assert stages == ["stage-before", "stage-first_day", "stage-first_week", "stage-first_month",
                      "stage-first_100_days"]
    # mara sees every task of the journey, also those of the buddy and of the IT
    text = main.inner_text()
    assert "Arbeitsplatz und Zugänge bereitstellen" in text and "Gemeinsam zu Mittag essen" in text

    select_buddy = page.locator("#buddy_id")
    suggested = select_buddy.locator("optgroup").first.locator("option")
    choice = next(option for option in suggested.all() if option.inner_text() != "Anna Schmidt")
    new_buddy = choice.inner_text()
    select_buddy.select_option(value=choice.get_attribute("value"))
    with page.expect_navigation():
        page.locator("form[action$='/buddy'] button[type=submit]").click()
    assert new_buddy in page.locator(".flash-messages .kern-alert--success").inner_text()
    assert new_buddy in page.locator("main .onboarding-contacts").inner_text()
    screenshot(page, "onboarding-mara-buddy")
    with app.app_context():
        journey = db.session.get(Journey, journey_id)
        assert journey.buddy.full_name == new_buddy
    sign_out(page)

    # Leon started three weeks ago: he ticks off the safety briefing he has since attended.
    leon_journey, leon_tasks = _journey_of(app, "lbrandt")
    login_as(page, "lbrandt")
    page.goto("/onboarding/my-journey")
    task_id = leon_tasks["Sicherheitsunterweisung besuchen"]
    item = page.locator(f"#task-{task_id}")
    assert item.locator(".kern-badge--danger").count() == 1  # overdue
    assert "onboarding-task--overdue" in item.get_attribute("class")
    with page.expect_navigation():
        item.locator("form[action$='/done'] button").click()
    assert urlsplit(page.url).path == "/onboarding/my-journey"
    item = page.locator(f"#task-{task_id}")
    assert item.locator(".kern-badge--success").count() == 1  # done, with the day
    assert item.locator("form[action$='/reopen'] button").count() == 1
    # He cannot tick what others do for him: no button on the IT's tasks.
    it_task = page.locator(f"#task-{leon_tasks['Berechtigungen für die Fachverfahren einrichten']}")
    assert it_task.get_by_role("button").count() == 0
    screenshot(page, "onboarding-leon-ticked")
    with app.app_context():
        task = db.session.get(JourneyTask, task_id)
        assert task.done_at is not None and task.done_by.username == "lbrandt"
    assert leon_journey


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_onboarding_page_passes_axe(live_server, new_context, language):
    app = live_server.app
    jana_journey, _tasks = _journey_of(app, "jalbers")
    with app.app_context():
        template = db.session.scalar(select(JourneyTemplate).where(JourneyTemplate.department_id.is_not(None)))
        template_id = template.id
        task_key = template.tasks[0].key
        jana = db.session.scalar(select(User).where(User.username == "jalbers"))
        jana_id = jana.id
    problems: list[str] = []
    checked: set[str] = set()

    def check(page, path: str) -> None:
        response = page.goto(path)
        assert response.status == 200, path
        assert page.locator("html").get_attribute("lang") == language
        problems.extend(run_axe(page, language))
        checked.add(path)

    def check_form_errors(page, path: str) -> None:
        page.goto(path)
        with page.expect_navigation():
            page.locator("main form[method=post]").first.locator("button[type=submit]").last.click()
        assert page.locator("main .kern-alert--danger, main [aria-invalid=true]").count() >= 1, path
        problems.extend(run_axe(page, language))

    # The new hire who starts next week, and the one three weeks in.
    for username, paths in (("jalbers", ["/", "/onboarding/", "/onboarding/my-journey"]),
                            ("lbrandt", ["/", "/onboarding/my-journey", f"/onboarding/journeys/{jana_journey}"])):
        page, watcher = _signed_in_context(new_context, username, language)
        for path in paths:
            if username == "lbrandt" and path.startswith("/onboarding/journeys/"):
                watcher.expected_failures.add(live_server.url + path)
                assert page.goto(path).status == 404  # not his journey
                continue
            check(page, path)
        page.context.close()

    # The manager, the buddy, an employee taking no part.
    page, _watcher = _signed_in_context(new_context, "mara", language)
    for path in ("/", "/onboarding/", "/onboarding/tasks", "/onboarding/tasks?show=done", "/onboarding/tasks?show=all",
                 f"/onboarding/journeys/{jana_journey}"):
        check(page, path)
    # The buddy form with an error: a value that is not on the list.
    page.goto(f"/onboarding/journeys/{jana_journey}")
    page.evaluate("() => { const s = document.querySelector('#buddy_id'); const o = new Option('x', '999999');"
                  " s.add(o); s.value = '999999'; }")
    with page.expect_navigation():
        page.locator("form[action$='/buddy'] button[type=submit]").click()
    assert page.locator("#buddy_id[aria-invalid=true]").count() == 1
    problems.extend(run_axe(page, language))
    screenshot(page, f"onboarding-buddy-error-{language}")
    page.context.close()

    page, _watcher = _signed_in_context(new_context, "anna", language)
    for path in ("/", "/onboarding/", "/onboarding/tasks", "/onboarding/my-journey",
                 f"/onboarding/journeys/{jana_journey}"):
        check(page, path)
    page.context.close()

    # The project group and the administration: overview, templates, editor, forms with errors.
    page, _watcher = _signed_in_context(new_context, "paul", language)
    for path in ("/onboarding/", "/onboarding/overview", "/onboarding/templates", "/onboarding/templates/new",
                 f"/onboarding/templates/{template_id}", f"/onboarding/templates/{template_id}/settings",
                 f"/onboarding/templates/{template_id}/tasks/new",
                 f"/onboarding/templates/{template_id}/tasks/{task_key}"):
        check(page, path)
    screenshot(page, f"onboarding-task-form-{language}")
    for path in ("/onboarding/templates/new", f"/onboarding/templates/{template_id}/tasks/new"):
        check_form_errors(page, path)
    page.goto(f"/onboarding/templates/{template_id}/tasks/new")
    page.locator("#title").fill("Parkausweis beantragen")
    page.locator("input[name=owner_role][value=it]").check()
    page.locator("#offset_days").fill("-2")
    with page.expect_navigation():
        page.locator("main form[method=post] button[type=submit]").click()
    check(page, f"/onboarding/templates/{template_id}")  # with the "older version" notice
    check(page, f"/onboarding/templates/{template_id}/apply")
    page.context.close()

    page, _watcher = _signed_in_context(new_context, "admin", language)
    for path in ("/onboarding/", "/onboarding/tasks", f"/onboarding/journeys/{jana_journey}",
                 f"/admin/people/{jana_id}"):
        check(page, path)
    page.context.close()

    assert len(checked) >= 15
    assert not problems, _report(problems)
