"""Browser fixtures, a plug-in of tests/conftest.py for tests/e2e and every feature's browser tests:
the demo municipality on a live server, one Chromium per run, watched pages.

Every page a test opens is watched: a request to any origin but the live server, a console
error (Chromium reports CSP violations there) or an uncaught script error fails the test.
Chromium is Debian's (/usr/bin/chromium); no browser is ever downloaded.
"""

from __future__ import annotations

import re
import shutil
import sqlite3
import threading
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import create_engine, make_url, text
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect
from werkzeug.serving import WSGIRequestHandler, make_server

from learning import create_app
from learning.db import db
from learning.demo.data import DEMO_PASSWORD, load_demo
from tests.conftest import _test_config

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
]
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
ROLES = ("anna", "mara", "paul", "admin")  # the demo logins: employee, manager, project group, admin
LOCAL_SCHEMES = {"data", "blob", "about"}


@dataclass
class LiveServer:
    app: object
    url: str

    def endpoint(self, url: str) -> tuple[str, str] | None:
        """The endpoint and URL rule a GET of ``url`` reaches, or None when no route matches."""
        try:
            rule, _args = self.app.url_map.bind("localhost").match(urlsplit(url).path, method="GET",
                                                                   return_rule=True)
        except (RequestRedirect, HTTPException):  # a redirect to add a slash, a 404 or a 405
            return None
        return rule.endpoint, rule.rule


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code="-", size="-") -> None:
        """Keep the access log out of test reports; errors are still logged."""


def _admin_engine(url):
    """A connection to PostgreSQL's maintenance database, for CREATE and DROP DATABASE."""
    return create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")


def _recreate_database(url, name: str, template: str | None = None) -> None:
    engine = _admin_engine(url)
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")))
    engine.dispose()


def _copy_sqlite(source: str, target: str) -> None:
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    src.close()
    dst.close()


@pytest.fixture(scope="session")
def demo_instance(tmp_path_factory) -> Path:
    """The instance folder the demo is loaded with: its media files (lena's diagram) go to every live server."""
    return tmp_path_factory.mktemp("demo-instance")


@pytest.fixture(scope="session")
def demo_database(_schema, demo_instance):
    """The demo municipality, loaded once per run into a database of its own that each browser
    test copies (SQLite: a file copy; PostgreSQL: CREATE DATABASE … TEMPLATE)."""
    url = make_url(_schema)
    if url.get_backend_name() == "postgresql":
        template = f"{url.database}_demo_template"
        _recreate_database(_schema, template)
        template_url = url.set(database=template).render_as_string(hide_password=False)
        app = create_app(_test_config(template_url, demo_instance, DEMO=True))
        from flask_migrate import upgrade

        with app.app_context():
            upgrade()
    else:
        template_url = f"sqlite:///{demo_instance / 'demo.db'}"
        _copy_sqlite(url.database, make_url(template_url).database)  # the empty, migrated schema
        app = create_app(_test_config(template_url, demo_instance, DEMO=True))
    with app.app_context():
        load_demo(date.today())
        db.session.remove()
        db.engine.dispose()
    yield template_url
    if url.get_backend_name() == "postgresql":
        engine = _admin_engine(_schema)
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)'))
            conn.execute(text(f'DROP DATABASE IF EXISTS "{url.database}_demo" WITH (FORCE)'))
        engine.dispose()


@pytest.fixture
def demo_copy(demo_database, tmp_path) -> str:
    """A fresh copy of the demo database for one test; its URL."""
    url = make_url(demo_database)
    if url.get_backend_name() == "postgresql":
        name = url.database.removesuffix("_template")
        _recreate_database(demo_database, name, template=url.database)
        return url.set(database=name).render_as_string(hide_password=False)
    target = tmp_path / "demo.db"
    _copy_sqlite(url.database, str(target))
    return f"sqlite:///{target}"


@pytest.fixture
def live_server(make_app, demo_copy, demo_instance):
    """The demo municipality served over HTTP on 127.0.0.1 for one test, on its own copy (media files too)."""
    app = make_app(DEMO=True, SQLALCHEMY_DATABASE_URI=demo_copy)
    if (demo_instance / "media").is_dir():
        shutil.copytree(demo_instance / "media", app.config["MEDIA_DIR"], dirs_exist_ok=True)
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
    url = f"http://127.0.0.1:{server.server_port}"
    app.config["BASE_URL"] = url
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    yield LiveServer(app, url)
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the whole run."""
    if not CHROMIUM.exists():  # `make test` installs it; without it the browser tests fail, never skip
        pytest.fail(f"browser tests need Debian's Chromium at {CHROMIUM}: run `make chromium` as root "
                    "or `apt-get install chromium`", pytrace=False)
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
    yield chromium
    chromium.close()
    playwright.stop()


@dataclass
class Watcher:
    """Collects what must never happen on a page: foreign requests, console and script errors."""

    origin: str
    problems: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)  # every request, in order, to read when a test fails
    expected_failures: set[str] = field(default_factory=set)  # URLs that are meant to answer with an error

    def attach(self, context) -> None:
        context.on("request", self._request)
        context.on("page", self.watch_page)
        # Chromium logs CSP violations to the console anyway; this names the directive as well.
        context.add_init_script(
            "document.addEventListener('securitypolicyviolation', e => console.error("
            "'CSP violation: ' + e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline') +"
            "' at ' + e.sourceFile + ':' + e.lineNumber));"
        )

    def watch_page(self, page) -> None:
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"uncaught script error on {page.url}: {error}"))

    def _request(self, request) -> None:
        self.requests.append(f"{request.method} {request.url}")
        parts = urlsplit(request.url)
        if parts.scheme in LOCAL_SCHEMES:
            return
        if f"{parts.scheme}://{parts.netloc}" != self.origin:
            try:
                source = request.frame.url
            except Exception:  # a worker's request has no frame
                source = "?"
            self.problems.append(f"external request: {request.method} {request.url} (from {source})")

    def _console(self, message) -> None:
        if message.type != "error":
            return
        where = (message.location or {}).get("url", "")
        if where in self.expected_failures and "Failed to load resource" in message.text:
            return
        self.problems.append(f"console error on {where or '?'}: {message.text}")


WATCHERS = pytest.StashKey[list]()


def _new_context(browser, live_server, request, **options):
    context = browser.new_context(base_url=live_server.url, locale=options.pop("locale", "de-DE"), **options)
    context.set_default_timeout(10_000)
    watcher = Watcher(live_server.url)
    watcher.attach(context)
    request.node.stash[WATCHERS] = [*request.node.stash.get(WATCHERS, []), watcher]
    return context, watcher


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """Fail the test itself (not its teardown) when a watched page misbehaved."""

    def problems() -> list[str]:
        return [p for watcher in item.stash.get(WATCHERS, []) for p in watcher.problems]

    try:
        result = yield
    except BaseException as exc:
        for problem in problems():
            exc.add_note(f"the browser also saw: {problem}")
        raise
    if problems():
        pytest.fail("the browser saw problems:\n  " + "\n  ".join(problems()), pytrace=False)
    return result


@pytest.fixture
def new_context(browser, live_server, request):
    """Open further watched browser contexts: ``new_context(viewport=..., bypass_csp=...)``."""
    contexts = []

    def factory(**options):
        context, watcher = _new_context(browser, live_server, request, **options)
        contexts.append(context)
        return context, watcher

    yield factory
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_context):
    """A fresh German-speaking browser tab with the app's CSP in force."""
    context, _watcher = new_context()
    return context.new_page()


def login_as(page, username: str, password: str = DEMO_PASSWORD) -> None:
    """Sign in through the login form, finding fields by id so that any UI language works."""
    page.goto("/login")
    page.locator("#username").fill(username)
    page.locator("#password").fill(password)
    with page.expect_navigation():
        page.locator("form:has(#password) button[type=submit]").click()
    assert urlsplit(page.url).path == "/", f"{username} did not land on the home page but on {page.url}"


def switch_language(page, code: str) -> None:
    """Press the header's language button for ``code`` and wait for the page to come back in it."""
    with page.expect_navigation():
        page.locator(f"form.language-switch button[name=language][value={code}]").click()
    assert page.locator("html").get_attribute("lang") == code


def sign_out(page) -> None:
    with page.expect_navigation():
        page.locator("form[action='/logout'] button[type=submit]").click()


def screenshot(page, name: str) -> Path:
    """Save a full-page PNG into test-artifacts/ (git-ignored) for people to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / (re.sub(r"[^A-Za-z0-9_.]+", "-", name).strip("-") + ".png")
    page.screenshot(path=str(path), full_page=True)
    return path
