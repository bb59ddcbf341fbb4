"""axe-core on every page each role can reach, in German and English, with zero WCAG 2.1 A/AA violations.

Pages are found by crawling from the start page, one URL per route, so a new page is checked
as soon as it is linked. Error states (a refused login, a person form sent empty, a 404) are
checked as well, because that is where accessibility bugs hide. axe is injected as a script,
which the app's CSP rightly forbids, so these contexts bypass the CSP; the journeys keep it on.
"""

from __future__ import annotations

from collections import deque
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from playwright.sync_api import Error as PlaywrightError
from sqlalchemy import select

from learning.auth.services import RESET, make_token, send_invitation
from learning.db import db
from learning.org.models import User
from tests.browser import ARTIFACTS, ROLES, login_as, screenshot, switch_language

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
LANGUAGES = ["de", "en"]
MISSING_PAGE = "/this-page-does-not-exist"
SKIPPED_PATHS = ("/logout",)
SKIPPED_PREFIXES = ("/static/",)

# Pages the crawl must reach, so that a broken link or an empty crawl cannot pass unnoticed.
MUST_REACH = {
    "anonymous": {"auth.login", "auth.forgot_password", "auth.reset_password", "home.accessibility",
                  "transparency.report"},
    "user": {"home.index", "home.account", "home.accessibility", "training.my_learning", "training.catalogue",
             "training.course", "training.lesson", "training.quiz", "phases.roadmap", "phases.phase",
             "announcements.index", "announcements.detail", "feedback.index", "feedback.channel", "feedback.post",
             "feedback.new_post", "feedback.done", "transparency.my_data", "transparency.report",
             "surveys.index", "surveys.start", "notifications.index", "notifications.preferences"},
    "anna": {"onboarding.index", "onboarding.my_tasks"},  # anna is the demo new hire's buddy
    "mara": {"metrics.team", "surveys.team_results", "onboarding.index", "onboarding.journey"},
    "paul": {"metrics.programme", "surveys.new", "surveys.manage", "surveys.questions",
             "surveys.preview", "surveys.edit", "surveys.question_new", "surveys.question_edit",
             "surveys.section_edit", "surveys.answer", "onboarding.overview", "onboarding.templates",
             "training.manage_courses"},
    "admin": {"org.users", "org.user_new", "org.user_edit", "org.units", "org.import_people", "audit.log",
              "messaging.captured_mail", "training.rules", "training.rule_edit", "training.rule_people",
              "training.certificate", "training.manage_courses", "announcements.manage", "announcements.manage_new",
              "announcements.manage_detail", "phases.edit", "phases.faq", "metrics.programme", "settings.index",
              "transparency.barrier_reports", "onboarding.journey", "onboarding.overview", "onboarding.templates",
              "onboarding.template", "onboarding.template_new", "onboarding.template_settings",
              "onboarding.template_task", "onboarding.template_task_new", "messaging.outbox", "scheduler.runs"},
}


def run_axe(page, language: str) -> list[str]:
    """Run axe on the page as it is now; return one readable line per violation."""
    if not AXE.exists():
        pytest.fail(f"axe-core is missing at {AXE}: run `npm ci` in the project folder")
    if not page.evaluate("typeof window.axe === 'object'"):
        page.add_script_tag(path=str(AXE))
    violations = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})"
        ".then(result => result.violations)",
        WCAG_TAGS,
    )
    lines = []
    for violation in violations:
        nodes = violation["nodes"]
        targets = ", ".join(" ".join(node["target"]) if isinstance(node["target"], list) else str(node["target"])
                            for node in nodes[:3])
        more = f" (+{len(nodes) - 3} more)" if len(nodes) > 3 else ""
        summary = [line.strip() for line in (nodes[0].get("failureSummary") or "").splitlines()[1:2]] if nodes else []
        lines.append(
            f"{violation['id']} [{violation['impact']}] on {urlsplit(page.url).path} ({language}): "
            f"{violation['help']} -- at {targets}{more} -- {' '.join(summary)} -- {violation['helpUrl']}"
        )
    if lines:
        screenshot(page, f"axe-{language}-{urlsplit(page.url).path}")
    return lines


def _same_origin_links(page, origin: str) -> list[str]:
    links = []
    for href in page.locator("a[href]:not([download])").evaluate_all("links => links.map(a => a.href)"):
        parts = urlsplit(href)
        if f"{parts.scheme}://{parts.netloc}" != origin:
            continue
        if parts.path in SKIPPED_PATHS or parts.path.startswith(SKIPPED_PREFIXES):
            continue
        links.append(urlunsplit(parts._replace(fragment="")))
    return links


def crawl(page, live_server, start: list[str], language: str, missing: str | None = None):
    """Visit the start URLs and everything they link to, one URL per route; return reached endpoints and problems.

    A URL that matches no route is visited under its own path, so a broken link shows up as a non-200.
    """
    queue = deque(live_server.url + path for path in start)
    visited: set = set()
    endpoints: set[str] = set()
    problems: list[str] = []
    while queue:
        url = queue.popleft()
        key = live_server.endpoint(url) or ("no route", urlsplit(url).path)
        if key in visited:
            continue
        visited.add(key)
        try:
            response = page.goto(url)
        except PlaywrightError as exc:
            if "Download is starting" in str(exc):
                continue  # a file to download (an export), not a page
            raise
        landed = live_server.endpoint(page.url) or ("no route", urlsplit(page.url).path)
        if landed != key:
            if landed in visited:
                continue  # a redirect to a page already checked
            visited.add(landed)
        expected = 404 if missing and url == live_server.url + missing else 200
        if response is None or response.status != expected:
            problems.append(f"{url} answered {response and response.status}, expected {expected}")
            continue
        if "text/html" not in (response.headers.get("content-type") or ""):
            continue
        lang = page.locator("html").get_attribute("lang")
        if lang != language:
            problems.append(f"{page.url} is in {lang!r}, expected {language!r}")
        problems.extend(run_axe(page, language))
        endpoints.add(landed[0])
        queue.extend(_same_origin_links(page, live_server.url))
    return endpoints, problems


def _report(problems: list[str]) -> str:
    return f"{len(problems)} accessibility problem(s); screenshots in {ARTIFACTS}:\n  " + "\n  ".join(problems)


def _seed_activity(app) -> str:
    """Give the admin pages something to show (a captured mail, an audit entry); return a reset-link path."""
    with app.test_request_context():
        admin = db.session.scalar(select(User).where(User.username == "admin"))
        anna = db.session.scalar(select(User).where(User.username == "anna"))
        send_invitation(anna, admin)
        path = f"/password/reset/{make_token(anna, RESET)}"
        db.session.remove()
    return path


def _signed_in_context(new_context, username: str, language: str):
    context, watcher = new_context(bypass_csp=True)
    page = context.new_page()
    login_as(page, username)
    if language != "de":
        switch_language(page, language)
    return page, watcher


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("role", ["anonymous", *ROLES])
def test_every_reachable_page_passes_axe(live_server, new_context, role, language):
    reset_link = _seed_activity(live_server.app)
    if role == "anonymous":
        context, watcher = new_context(bypass_csp=True, locale="de-DE" if language == "de" else "en-US")
        page = context.new_page()
        start = ["/login", "/password/forgot", "/accessibility", reset_link]
    else:
        page, watcher = _signed_in_context(new_context, role, language)
        start = ["/", "/login/confirm"]  # the second is where an expired session asks for the password again
    watcher.expected_failures.add(live_server.url + MISSING_PAGE)

    endpoints, problems = crawl(page, live_server, [*start, MISSING_PAGE], language, missing=MISSING_PAGE)

    must_reach = MUST_REACH["anonymous"] if role == "anonymous" else MUST_REACH["user"]
    if role in ("anna", "mara", "paul", "admin"):
        must_reach = must_reach | MUST_REACH[role]
    assert must_reach <= endpoints, f"the crawl as {role} did not reach {sorted(must_reach - endpoints)}"
    assert not problems, _report(problems)


def submit_empty(page, path: str, expect_errors: bool = True) -> None:
    """Open ``path`` and send its first form as it is, which should come back with errors."""
    page.goto(path)
    with page.expect_navigation():
        page.locator("main form[method=post]").first.locator("button[type=submit]").last.click()
    if expect_errors:
        errors = page.locator("main .kern-alert--danger, main [aria-invalid=true]").count()
        assert errors >= 1, f"sending the form of {path} as it is shows no error"


@pytest.mark.parametrize("language", LANGUAGES)
def test_sign_in_and_password_errors_pass_axe(live_server, new_context, language):
    reset_link = _seed_activity(live_server.app)
    context, _watcher = new_context(bypass_csp=True, locale="de-DE" if language == "de" else "en-US")
    page = context.new_page()
    problems = []

    submit_empty(page, "/login")
    problems += run_axe(page, language)

    page.locator("#username").fill("anna")
    page.locator("#password").fill("not the password")
    with page.expect_navigation():
        page.locator("form:has(#password) button[type=submit]").click()
    assert page.locator("#password[aria-invalid=true]").count() == 1, "a wrong password is flagged on the field"
    assert page.locator("html").get_attribute("lang") == language
    problems += run_axe(page, language)
    screenshot(page, f"login-error-{language}")

    for path in ("/password/forgot", reset_link):
        submit_empty(page, path)
        problems += run_axe(page, language)
    assert not problems, _report(problems)


@pytest.mark.parametrize("language", LANGUAGES)
def test_account_form_errors_pass_axe(new_context, language):
    page, _watcher = _signed_in_context(new_context, "anna", language)
    problems = []
    submit_empty(page, "/account/password")
    problems += run_axe(page, language)

    page.goto("/login/confirm")
    page.locator("#password").fill("not the password")
    with page.expect_navigation():
        page.locator("form:has(#password) button[type=submit]").click()
    assert page.locator("#password[aria-invalid=true]").count() == 1, "a wrong password is flagged on the field"
    problems += run_axe(page, language)
    assert not problems, _report(problems)


@pytest.mark.parametrize("language", LANGUAGES)
def test_admin_form_errors_pass_axe(new_context, language):
    page, _watcher = _signed_in_context(new_context, "admin", language)
    problems = []
    for path in ("/admin/people/new", "/admin/units/departments/new", "/admin/units/teams/new"):
        submit_empty(page, path)
        problems += run_axe(page, language)
        if path == "/admin/people/new":
            screenshot(page, f"person-form-errors-{language}")
    submit_empty(page, "/admin/people/import")
    problems += run_axe(page, language)
    page.goto("/admin/people?q=nobody-is-called-like-this")  # the empty result of a search
    problems += run_axe(page, language)
    assert not problems, _report(problems)


@pytest.mark.parametrize("language", LANGUAGES)
def test_audience_widget_errors_pass_axe(new_context, language):
    """The audience widget of the rule and the announcement form, refusing departments ticked for everyone."""
    page, _watcher = _signed_in_context(new_context, "admin", language)
    problems = []
    for path in ("/learning/rules/new", "/announcements/manage/new"):
        page.goto(path)
        page.locator("input[name=audience][value=everyone]").check()
        page.locator("input[name=department_ids]").first.check()
        with page.expect_navigation():
            page.locator("main form[method=post] button[type=submit]:not([name=preview])").last.click()
        assert page.locator("#department_ids[aria-describedby*=department_ids-error]").count() == 1, path
        assert page.locator("#department_ids-error").count() == 1, path
        problems += run_axe(page, language)
        screenshot(page, f"audience-error-{language}-{path.strip('/').replace('/', '-')}")
    assert not problems, _report(problems)


@pytest.mark.parametrize("language", LANGUAGES)
def test_course_upload_errors_pass_axe(new_context, language):
    """The course upload sent without a file, then with a zip whose course has problems and warnings."""
    import io
    import zipfile

    page, _watcher = _signed_in_context(new_context, "paul", language)
    problems = []
    submit_empty(page, "/learning/manage/courses")
    problems += run_axe(page, language)

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("neuer-kurs/course.toml", 'title = "Neu"\nsummary = "Neu."\nminutes = 10\n')
        archive.writestr("neuer-kurs/01-start.md", "# Start\n\n### Zu tief\n\nMehr [hier](https://example.org).\n")
    page.locator("input[type=file]").set_input_files(
        files=[{"name": "neuer-kurs.zip", "mimeType": "application/zip", "buffer": buffer.getvalue()}])
    with page.expect_navigation():
        page.locator("main form[method=post]").first.locator("button[type=submit]").click()
    assert page.locator("#upload-problems li").count() == 1, "the course's problem is listed"
    assert page.locator("#upload-warnings li").count() == 1, "the course's warning is listed"
    problems += run_axe(page, language)
    screenshot(page, f"course-upload-problems-{language}")
    assert not problems, _report(problems)
