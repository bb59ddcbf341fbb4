"""The platform under gunicorn: throughput against a bare hello world, simulated staff, memory, correctness.

    .venv/bin/python bench/load.py [--employees 5000] [--database sqlite|postgresql|both] [--quick]

For each database a fresh organisation is generated (as in bench/pages.py), then:

1. Throughput. bench/hello.py and the platform run in turn under the same gunicorn settings
   (``GUNICORN_WORKERS`` sync workers, bound to 127.0.0.1 on free ports); the load generator runs
   on the same machine. ``wrk`` (Debian's package; installed with apt-get when running as root and
   missing) hammers the hello world and the employee home page signed in as anna (a Lua script
   sends the session cookie and counts every answer other than 200); requests/s, p95 and the ratio.
   Where wrk cannot be had, the asyncio client below does the same (the table says which).
2. Mixed workload, closed loop: ``--mixed-users`` signed-in people act without pause (read home,
   open a lesson, complete a lesson, acknowledge an announcement, answer a survey), measured with
   the asyncio client against the hello world hit by the same client with as many connections.
3. Staff: ``--users`` (200) generated people (password ``demo``) each wait 1 to 5 seconds between
   actions for ``--seconds`` (60): every request must succeed, p95 under 300 ms.
4. Peak resident memory (VmHWM) of every gunicorn worker after the load.
5. Correctness: every lesson completion, acknowledgement and survey response that got a success
   answer is in the database exactly once.

The actions are pluggable (``@action``): one whose ``prepare`` finds nothing to do is left out of
the mix with a note. The survey action answers the surveys open to the simulated people; when
there is none, it opens a short pulse survey for everyone through the surveys feature's services.

PostgreSQL runs use the database ``bench`` (LEARNING_BENCH_DATABASE to choose another), dropped and
created for each run. When other processes take a noticeable share of the CPU while we measure
(someone's tests on a shared machine), a note says so: the figures are then too low.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402

from bench.report import Table, target  # noqa: E402

GUNICORN_WORKERS = 5  # (2 x cores) + 1 on the 2-core reference machine; the sizing guide's recommendation
USER_AGENT = "learning-bench/1"
HOME_SHARE_GOAL = 0.20  # employee home throughput at least 20% of the hello world
STAFF_P95_GOAL_MS = 300
RSS_GOAL_MB = 200
EVERYONE_COURSES = ("digitalisierung-2030", "datenschutz-im-digitalen-alltag", "phishing-und-it-sicherheit")


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(pct) - 1]


# Servers ------------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Gunicorn:
    """A gunicorn master with ``workers`` sync workers on 127.0.0.1, started and stopped by us."""

    def __init__(self, app: str, env: dict[str, str], log: Path, workers: int = GUNICORN_WORKERS,
                 probe: str = "/"):
        self.app, self.env, self.log, self.workers, self.probe = app, env, log, workers, probe
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def command(self) -> list[str]:
        return [str(ROOT / ".venv" / "bin" / "gunicorn"), "--workers", str(self.workers), "--worker-class", "sync",
                "--bind", f"127.0.0.1:{self.port}", "--chdir", str(ROOT), self.app]

    def __enter__(self) -> Gunicorn:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("LEARNING_")}
        env.update(self.env)
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(self.command, env=env, stdout=log, stderr=subprocess.STDOUT,
                                            cwd=ROOT, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn {self.app} ended at start; see {self.log}")
            if len(self.worker_pids()) >= self.workers and probe_status(self.port, self.probe) == 200:
                return
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"gunicorn {self.app} did not answer on port {self.port}; see {self.log}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def worker_pids(self) -> list[int]:
        if self.process is None:
            return []
        return children_of(self.process.pid)

    def worker_memory(self) -> list[tuple[int, float, float]]:
        """(pid, current RSS MB, peak RSS MB) of each worker, from /proc (psutil is not needed)."""
        rows = []
        for pid in self.worker_pids():
            status = proc_status(pid)
            if status:
                rows.append((pid, status.get("VmRSS", 0) / 1024, status.get("VmHWM", 0) / 1024))
        return rows


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if parent == pid:
            found.append(int(entry.name))
    return sorted(found)


def proc_status(pid: int) -> dict[str, int]:
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return {}
    values = {}
    for line in lines:
        name, _, rest = line.partition(":")
        if rest.strip().endswith("kB"):
            values[name] = int(rest.split()[0])
    return values


def cpu_ticks(pids: list[int]) -> dict[int, int]:
    """utime + stime of each process, in clock ticks."""
    ticks = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks[pid] = int(fields[11]) + int(fields[12])
    return ticks


class ServerCPU:
    """CPU time of a gunicorn server's workers and of the PostgreSQL backends of ``database`` since creation."""

    def __init__(self, server: Gunicorn, database: str | None):
        self.server, self.database = server, database
        self.started = self._ticks()

    def _ticks(self) -> tuple[dict[int, int], dict[int, int]]:
        return cpu_ticks(self.server.worker_pids()), cpu_ticks(database_pids(self.database))

    def per_request_ms(self, requests: int) -> tuple[float, float]:
        """The workers' and the database's CPU milliseconds per request since creation."""
        tick = os.sysconf("SC_CLK_TCK")
        return tuple(sum(t - before.get(pid, 0) for pid, t in after.items()) * 1000 / tick / max(1, requests)
                     for before, after in zip(self.started, self._ticks(), strict=True))


def cpu_figure(app_ms: float, db_ms: float) -> str:
    """CPU time per request of the server and its database backends, with the database's share."""
    return f"{app_ms + db_ms:.2f}" + (f" (db {db_ms:.2f})" if db_ms else "")


def database_pids(url: str | None) -> list[int]:
    """PostgreSQL backends serving the database of ``url`` (on this machine), but not this query's own."""
    if not url:
        return []
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(text("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                                          "AND pid <> pg_backend_pid()")).scalars())
    finally:
        engine.dispose()


def probe_status(port: int, path: str) -> int | None:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
            sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
            line = sock.makefile("rb").readline().decode("latin-1").split()
            return int(line[1]) if len(line) > 1 else None
    except OSError:
        return None


def platform_env(database_url: str, instance: Path, **extra: str) -> dict[str, str]:
    """The platform's settings for a benchmark server: its own database, instance folder and key."""
    return {"LEARNING_DATABASE_URL": database_url, "LEARNING_INSTANCE_PATH": str(instance),
            "LEARNING_SECRET_KEY": "bench-" * 8, "LEARNING_BASE_URL": "http://127.0.0.1:5000", **extra}


class OtherProcesses:
    """CPU time used by processes that are not ours while we measure (others' tests on a shared machine)."""

    def __init__(self):
        self.started = time.monotonic()
        self.before = self._times()

    @staticmethod
    def _times() -> dict[int, int]:
        stats, parents = {}, {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                parents[int(entry.name)] = int(fields[1])
                stats[int(entry.name)] = int(fields[11]) + int(fields[12])  # utime + stime (ticks)
        ours = {os.getpid()}
        changed = True
        while changed:
            changed = False
            for pid, parent in parents.items():
                if parent in ours and pid not in ours:
                    ours.add(pid)
                    changed = True
        return {pid: ticks for pid, ticks in stats.items() if pid not in ours}

    def share(self) -> float:
        """Their share of the machine's CPU time since we started counting (0 to 1)."""
        after = self._times()
        used = sum(ticks - self.before.get(pid, 0) for pid, ticks in after.items() if ticks >= self.before.get(pid, 0))
        elapsed = (time.monotonic() - self.started) * (os.cpu_count() or 1) * os.sysconf("SC_CLK_TCK")
        return used / elapsed if elapsed else 0.0


# A small HTTP/1.1 client on asyncio streams: keep-alive where the server allows it, cookies ----------

@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes
    ms: float

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    @property
    def location(self) -> str:
        return urlsplit(self.headers.get("location", "")).path or "/"


class Browser:
    """One person's connection and cookies (what a browser tab keeps), over raw asyncio streams."""

    def __init__(self, port: int, timeout: float = 30.0):
        self.port, self.timeout = port, timeout
        self.cookies: dict[str, str] = {}
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.connections = 0

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            try:
                await self.writer.wait_closed()
            except OSError:
                pass
        self.reader = self.writer = None

    async def get(self, path: str) -> Reply:
        return await self.request("GET", path)

    async def post(self, path: str, form: dict[str, str]) -> Reply:
        return await self.request("POST", path, form)

    async def request(self, method: str, path: str, form: dict[str, str] | list | None = None) -> Reply:
        body = urlencode(form).encode() if form is not None else b""
        lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{self.port}", f"User-Agent: {USER_AGENT}",
                 "Accept: text/html", "Accept-Language: de", "Connection: keep-alive"]
        if self.cookies:
            lines.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        if form is not None:
            lines += ["Content-Type: application/x-www-form-urlencoded", f"Content-Length: {len(body)}"]
        data = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
        started = time.perf_counter()
        reply = await asyncio.wait_for(self._exchange(data), self.timeout)
        reply.ms = (time.perf_counter() - started) * 1000
        return reply

    async def _exchange(self, data: bytes) -> Reply:
        for attempt in (0, 1):
            fresh = self.writer is None
            if fresh:
                self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
                self.connections += 1
            try:
                self.writer.write(data)
                await self.writer.drain()
                head = await self.reader.readuntil(b"\r\n\r\n")
            except (ConnectionError, asyncio.IncompleteReadError) as exc:
                # A kept-alive connection the server had already closed: nothing of the request was
                # read, so sending it again on a new connection is safe. A fresh one failing is an error.
                await self.close()
                if fresh or attempt or (isinstance(exc, asyncio.IncompleteReadError) and exc.partial):
                    raise
                continue
            return await self._read(head)
        raise ConnectionError("unreachable")

    async def _read(self, head: bytes) -> Reply:
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split()[1])
        headers: dict[str, str] = {}
        for line in header_lines:
            if not line:
                continue
            name, _, value = line.partition(":")
            name, value = name.strip().lower(), value.strip()
            if name == "set-cookie":
                self._cookie(value)
            headers[name] = value
        if headers.get("transfer-encoding", "").lower() == "chunked":
            parts = []
            while True:
                size = int((await self.reader.readline()).split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    await self.reader.readuntil(b"\r\n")
                    break
                parts.append(await self.reader.readexactly(size))
                await self.reader.readexactly(2)
            body = b"".join(parts)
        elif "content-length" in headers:
            body = await self.reader.readexactly(int(headers["content-length"]))
        else:
            body = await self.reader.read()
            headers["connection"] = "close"
        if headers.get("connection", "").lower() == "close":
            await self.close()
        return Reply(status, headers, body, 0.0)

    def _cookie(self, value: str) -> None:
        pair, *attributes = value.split(";")
        name, _, content = pair.strip().partition("=")
        expired = any(a.strip().lower() == "max-age=0" or a.strip().lower().startswith("expires=thu, 01 jan 1970")
                      for a in attributes)
        if expired or not content:
            self.cookies.pop(name, None)
        else:
            self.cookies[name] = content


CSRF = re.compile(r'name="csrf_token"[^>]*? value="([^"]+)"')  # every signed-in page has one (sign-out form)


def csrf_token(page: str) -> str | None:
    match = CSRF.search(page)
    return match.group(1) if match else None


def flashed(page: str) -> set[str]:
    """The kinds of the flash messages on a page (success, warning, ...)."""
    start = page.find('class="flash-messages"')
    if start < 0:
        return set()
    end = page.find("<h1", start)
    return set(re.findall(r"kern-alert--(\w+)", page[start:end if end > 0 else None]))


def signed_in(page: str) -> bool:
    return 'name="password"' not in page


async def sign_in(browser: Browser, username: str, password: str = "demo") -> None:
    page = await browser.get("/login")
    token = csrf_token(page.text)
    reply = await browser.post("/login", {"username": username, "password": password, "csrf_token": token or ""})
    if reply.status != 302:
        raise RuntimeError(f"sign-in as {username} failed: HTTP {reply.status}")
    home = await browser.get("/")
    if home.status != 200 or not signed_in(home.text):
        raise RuntimeError(f"sign-in as {username} did not hold (HTTP {home.status})")


# The mixed workload: pluggable actions ------------------------------------------------------------

@dataclass
class Sample:
    step: str
    status: int
    ms: float
    ok: bool


@dataclass
class Person:
    username: str
    user_id: int
    browser: Browser
    samples: list[Sample] = field(default_factory=list)


@dataclass
class Plan:
    """What the actions may use: lessons, announcements, surveys; and what succeeded (for the check)."""

    lessons: list[tuple[str, int, str]]  # (course slug, lesson id, lesson slug)
    announcements: list[int]
    surveys: dict[int, int] = field(default_factory=dict)  # survey id -> open wave id
    completed: set[tuple[int, int]] = field(default_factory=set)  # (user, lesson)
    acknowledged: set[tuple[int, int]] = field(default_factory=set)  # (user, announcement)
    answered: list[tuple[int, int]] = field(default_factory=list)  # (user, survey)
    notes: list[str] = field(default_factory=list)


@dataclass
class Action:
    name: str
    weight: int
    run: Callable[[Person, Plan, random.Random], Awaitable[None]]
    prepare: Callable[[Plan, str, list[Person]], Awaitable[str | None]] | None = None  # a note: left out


ACTIONS: list[Action] = []


def action(name: str, weight: int, prepare=None):
    """Register an action of the mixed workload (``prepare`` returns a note when it cannot run)."""
    def register(run):
        ACTIONS.append(Action(name, weight, run, prepare))
        return run
    return register


async def step(person: Person, name: str, method: str, path: str, form=None, expect=(200,)) -> Reply | None:
    """One request; a failed connection or an unexpected status counts as an error."""
    try:
        reply = await person.browser.request(method, path, form)
    except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError) as exc:
        person.samples.append(Sample(f"{name} ({type(exc).__name__})", 0, 0.0, False))
        await person.browser.close()
        return None
    ok = reply.status in expect and (reply.status != 200 or signed_in(reply.text))
    person.samples.append(Sample(name, reply.status, reply.ms, ok))
    return reply if ok else None


@action("read home", 35)
async def read_home(person: Person, plan: Plan, rng: random.Random) -> None:
    await step(person, "home", "GET", "/")


@action("open lesson", 25)
async def open_lesson(person: Person, plan: Plan, rng: random.Random) -> None:
    course, _lesson_id, lesson = rng.choice(plan.lessons)
    await step(person, "lesson", "GET", f"/learning/courses/{course}/lessons/{lesson}")


@action("complete lesson", 15)
async def complete_lesson(person: Person, plan: Plan, rng: random.Random) -> None:
    course, lesson_id, lesson = rng.choice(plan.lessons)
    page = await step(person, "lesson", "GET", f"/learning/courses/{course}/lessons/{lesson}")
    if page is None:
        return
    done = await step(person, "complete lesson (POST)", "POST", f"/learning/courses/{course}/lessons/{lesson}/done",
                      {"csrf_token": csrf_token(page.text) or ""}, expect=(302,))
    if done is None:
        return
    after = await step(person, "after completing", "GET", done.location)
    if after is not None and "success" in flashed(after.text):
        plan.completed.add((person.user_id, lesson_id))


async def prepare_announcements(plan: Plan, _url: str, _people: list[Person]) -> str | None:
    return None if plan.announcements else "no published announcement asks for an acknowledgement"


@action("acknowledge announcement", 10, prepare_announcements)
async def acknowledge_announcement(person: Person, plan: Plan, rng: random.Random) -> None:
    announcement = rng.choice(plan.announcements)
    page = await step(person, "announcement", "GET", f"/announcements/{announcement}")
    if page is None:
        return
    done = await step(person, "acknowledge (POST)", "POST", f"/announcements/{announcement}/acknowledge",
                      {"csrf_token": csrf_token(page.text) or ""}, expect=(302,))
    if done is None:
        return
    after = await step(person, "after acknowledging", "GET", done.location)
    if after is not None and "success" in flashed(after.text):
        plan.acknowledged.add((person.user_id, announcement))


class SurveyForm(HTMLParser):
    """The answer form of one survey page: hidden fields and the questions' inputs (q<id>)."""

    def __init__(self):
        super().__init__()
        self.hidden: list[tuple[str, str]] = []
        self.choices: dict[str, list[str]] = defaultdict(list)
        self.multiple: set[str] = set()
        self.texts: list[str] = []
        self.nav: str | None = None
        self.inside = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and "/answer" in (a.get("action") or ""):
            self.inside = True
        if not self.inside:
            return
        name = a.get("name") or ""
        if tag == "input" and a.get("type") == "hidden":
            self.hidden.append((name, unescape(a.get("value") or "")))
        elif tag == "input" and a.get("type") in ("radio", "checkbox") and name.startswith("q"):
            self.choices[name].append(a.get("value") or "")
            if a.get("type") == "checkbox":
                self.multiple.add(name)
        elif tag == "textarea" and name.startswith("q"):
            self.texts.append(name)
        elif tag == "button" and name == "nav" and self.nav is None:
            self.nav = a.get("value")

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False

    def answers(self, rng: random.Random) -> list[tuple[str, str]]:
        fields = list(self.hidden)
        for name, values in self.choices.items():
            picked = rng.sample(values, k=min(len(values), 2)) if name in self.multiple else [rng.choice(values)]
            fields += [(name, v) for v in picked]
        fields += [(name, "") for name in self.texts]  # free text: left empty, as most people do
        return fields + [("nav", self.nav or "submit")]


async def prepare_surveys(plan: Plan, url: str, people: list[Person]) -> str | None:
    """Find the surveys open to the simulated people; without one, open a pulse survey (surveys feature)."""
    if not people:
        return "nobody to ask"
    found = await _open_surveys(people[0])
    if not found:
        try:
            created = open_benchmark_survey(url)
        except Exception as exc:  # noqa: BLE001 (a feature still being built: leave the action out, say why)
            return f"no open survey for the people, and none could be opened ({type(exc).__name__}: {exc})"
        found = await _open_surveys(people[0])
        if not found:
            return f"opened survey {created} but it is not offered to the simulated people"
        plan.notes.append(f"survey action: opened a pulse survey (id {created}) for everyone before the run")
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            for survey_id in found:
                wave = conn.execute(text("SELECT max(id) FROM survey_wave WHERE survey_id = :s"),
                                    {"s": survey_id}).scalar()
                plan.surveys[survey_id] = wave
    finally:
        engine.dispose()
    return None


async def _open_surveys(person: Person) -> list[int]:
    page = await person.browser.get("/surveys/")
    if page.status != 200:
        return []
    ids = sorted({int(m) for m in re.findall(r'href="/surveys/(\d+)/answer"', page.text)}
                 | {int(m) for m in re.findall(r'href="/surveys/(\d+)"', page.text)})
    open_ids = []
    for survey_id in ids:
        answer = await person.browser.get(f"/surveys/{survey_id}/answer")
        if answer.status == 200 and 'name="q' in answer.text:
            open_ids.append(survey_id)
    return open_ids


def open_benchmark_survey(url: str) -> int:
    """Create and open a pulse survey for everyone through the surveys feature's own services."""
    from learning import create_app
    from learning.db import db, unit_of_work
    from learning.i18n import local_today
    from learning.org.models import User
    from learning.surveys.building import create_survey
    from learning.surveys.managing import open_survey

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench" * 8, "RATELIMIT_ENABLED": False})
    with app.test_request_context():
        paul = db.session.scalar(db.select(User).where(User.username == "paul"))
        today = local_today()
        with unit_of_work():
            survey = create_survey(paul, "pulse", "Lasttest: Stimmungsbild", None, today)
            open_survey(paul, survey, today)
        survey_id = survey.id
        db.session.remove()
        db.engine.dispose()
    return survey_id


@action("answer survey", 15, prepare_surveys)
async def answer_survey(person: Person, plan: Plan, rng: random.Random) -> None:
    survey_id = rng.choice(sorted(plan.surveys))
    page = await step(person, "survey page", "GET", f"/surveys/{survey_id}/answer", expect=(200, 302))
    if page is None or page.status == 302:
        return  # already answered (or closed): the start page says so; nothing to send
    for _page in range(20):
        form = SurveyForm()
        form.feed(page.text)
        reply = await step(person, "survey (POST)", "POST", f"/surveys/{survey_id}/answer",
                           form.answers(rng), expect=(200, 302))
        if reply is None:
            return
        if reply.status == 302:
            after = await step(person, "after answering", "GET", reply.location)
            if after is not None and "success" in flashed(after.text):
                plan.answered.append((person.user_id, survey_id))
            return
        page = reply


# Running people ------------------------------------------------------------------------------------

async def sign_in_all(port: int, people: list[tuple[str, int]], parallel: int = 8) -> list[Person]:
    gate = asyncio.Semaphore(parallel)

    async def one(username: str, user_id: int) -> Person:
        async with gate:
            browser = Browser(port)
            await sign_in(browser, username)
            return Person(username, user_id, browser)

    return list(await asyncio.gather(*(one(u, i) for u, i in people)))


async def run_people(people: list[Person], plan: Plan, actions: list[Action], seconds: float,
                     think: tuple[float, float] | None, seed: int) -> float:
    """Every person acts until the time is up (waiting ``think`` seconds between actions); return the time."""
    weights = [a.weight for a in actions]
    started = time.perf_counter()
    deadline = started + seconds

    async def live(n: int, person: Person) -> None:
        rng = random.Random(seed * 100_003 + n)
        if think:
            await asyncio.sleep(rng.uniform(0, think[1]))  # people do not all start in the same second
        while time.perf_counter() < deadline:
            chosen = rng.choices(actions, weights)[0]
            await chosen.run(person, plan, rng)
            if think:
                await asyncio.sleep(min(rng.uniform(*think), max(0.0, deadline - time.perf_counter())))

    await asyncio.gather(*(live(n, p) for n, p in enumerate(people)))
    return time.perf_counter() - started


async def hammer(port: int, path: str, connections: int, seconds: float) -> tuple[int, list[float], int]:
    """Closed loop: ``connections`` clients request ``path`` without pause; (answers, latencies, errors)."""
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds

    async def loop() -> None:
        nonlocal errors
        browser = Browser(port)
        while time.perf_counter() < deadline:
            try:
                reply = await browser.get(path)
            except (TimeoutError, OSError, asyncio.IncompleteReadError):
                errors += 1
                await browser.close()
                continue
            if reply.status == 200:
                latencies.append(reply.ms)
            else:
                errors += 1
        await browser.close()

    await asyncio.gather(*(loop() for _ in range(connections)))
    return len(latencies), latencies, errors


# wrk ---------------------------------------------------------------------------------------------

WRK_SCRIPT = """
wrk.headers["User-Agent"] = %(agent)s
%(cookie)s
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) other = 0 end
function response(status, headers, body) if status ~= 200 then other = other + 1 end end
function done(summary, latency, requests)
  local other = 0
  for _, t in ipairs(threads) do other = other + t:get("other") end
  local e = summary.errors
  io.write(string.format("BENCH %%d %%d %%d %%d %%d %%d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(95), other, e.connect + e.read + e.write + e.timeout))
end
"""


def ensure_wrk() -> str | None:
    """wrk from Debian's package: installed with apt-get when we are root and it is missing."""
    found = shutil.which("wrk")
    if found or os.geteuid() != 0 or not shutil.which("apt-get"):
        return found
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True)
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], env=env, capture_output=True)
    return shutil.which("wrk")


@dataclass
class Throughput:
    requests: int
    seconds: float
    p50: float
    p95: float
    other: int  # answers other than 200 (e.g. a redirect to the sign-in page)
    errors: int
    app_cpu_ms: float = float("nan")  # CPU time of the server's workers per request
    db_cpu_ms: float = 0.0  # and of the PostgreSQL backends serving them

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def wrk_run(wrk: str, port: int, path: str, cookie: str | None, seconds: int, connections: int, threads: int,
            workdir: Path) -> Throughput:
    script = workdir / f"wrk-{port}.lua"
    script.write_text(WRK_SCRIPT % {
        "agent": json.dumps(USER_AGENT),
        "cookie": f'wrk.headers["Cookie"] = {json.dumps(cookie)}' if cookie else ""})
    result = subprocess.run([wrk, "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "--timeout", "10s",
                             "-s", str(script), f"http://127.0.0.1:{port}{path}"],
                            capture_output=True, text=True, timeout=seconds + 60)
    line = next((x for x in result.stdout.splitlines() if x.startswith("BENCH ")), None)
    if line is None:
        raise RuntimeError(f"wrk gave no result: {result.stdout} {result.stderr}")
    requests, micros, p50, p95, other, errors = (int(v) for v in line.split()[1:])
    return Throughput(requests, micros / 1e6, p50 / 1000, p95 / 1000, other, errors)


def client_run(port: int, path: str, cookie: str | None, seconds: int, connections: int) -> Throughput:
    """The asyncio client as the load generator (where wrk cannot be had)."""
    async def go():
        latencies: list[float] = []
        errors = other = 0
        deadline = time.perf_counter() + seconds

        async def loop():
            nonlocal errors, other
            browser = Browser(port)
            if cookie:
                browser.cookies.update(dict(c.split("=", 1) for c in cookie.split("; ")))
            while time.perf_counter() < deadline:
                try:
                    reply = await browser.get(path)
                except (TimeoutError, OSError, asyncio.IncompleteReadError):
                    errors += 1
                    await browser.close()
                    continue
                latencies.append(reply.ms)
                other += reply.status != 200
            await browser.close()

        started = time.perf_counter()
        await asyncio.gather(*(loop() for _ in range(connections)))
        return latencies, errors, other, time.perf_counter() - started

    latencies, errors, other, took = asyncio.run(go())
    return Throughput(len(latencies), took, percentile(latencies, 50), percentile(latencies, 95), other, errors)


# The benchmark --------------------------------------------------------------------------------------

BENCH_DATABASE = os.environ.get("LEARNING_BENCH_DATABASE", "bench")


def fresh_database(kind: str, workdir: Path, size: int) -> str:
    """A new empty database: a file for SQLite; on PostgreSQL ``bench`` (or LEARNING_BENCH_DATABASE), recreated."""
    from bench.pages import POSTGRES
    from bench.pages import fresh_database as fresh_pages_database

    if kind == "sqlite":
        return fresh_pages_database(kind, workdir, size)
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", BENCH_DATABASE) or BENCH_DATABASE in ("test", "postgres"):
        raise SystemExit(f"LEARNING_BENCH_DATABASE must be a plain name other than test and postgres, "
                         f"not {BENCH_DATABASE!r}")
    admin = create_engine(f"{POSTGRES}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {BENCH_DATABASE} WITH (FORCE)"))
        conn.execute(text(f"CREATE DATABASE {BENCH_DATABASE}"))
    admin.dispose()
    return f"{POSTGRES}/{BENCH_DATABASE}"


def people_to_simulate(url: str, count: int) -> list[tuple[str, int]]:
    """Generated people (not the demo logins), evenly spaced over the whole list.

    The generator makes the first member of every team its manager and every 500th person a
    member of the project group, so taking the first ``count`` people would simulate managers
    only; spacing them out gives the organisation's own mix of roles.
    """
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT username, id FROM \"user\" WHERE username LIKE 'p%' AND active "
                                 "ORDER BY username")).all()
    engine.dispose()
    step = max(1, len(rows) // max(1, count))
    return [(u, i) for u, i in rows[::step][:count]]


def workload_plan(url: str) -> Plan:
    engine = create_engine(url)
    with engine.connect() as conn:
        slugs = ", ".join(f"'{slug}'" for slug in EVERYONE_COURSES)  # constants, not input
        lessons = conn.execute(text(
            "SELECT c.slug, l.id, l.slug FROM lesson l JOIN course c ON c.id = l.course_id "
            f"WHERE l.archived_at IS NULL AND c.archived_at IS NULL AND c.slug IN ({slugs}) ORDER BY l.id")).all()
        announcements = conn.execute(text(
            "SELECT id FROM announcement WHERE requires_ack AND publish_at IS NOT NULL AND publish_at <= :now "
            "AND withdrawn_at IS NULL AND audience = 'everyone' ORDER BY id"), {"now": _utc_now()}).scalars().all()
    engine.dispose()
    return Plan(lessons=[tuple(r) for r in lessons], announcements=list(announcements))


def _utc_now():
    from learning.db import utcnow

    return utcnow()


def row_counts(url: str, plan: Plan, user_ids: list[int]) -> dict[str, dict]:
    """Rows per (user, lesson), (user, announcement), (user, survey wave) for the simulated people."""
    engine = create_engine(url)
    ids = ", ".join(str(i) for i in user_ids) or "0"
    counts: dict[str, dict] = {}
    with engine.connect() as conn:
        counts["lessons"] = {(u, lesson): n for u, lesson, n in conn.execute(text(
            f"SELECT user_id, lesson_id, count(*) FROM lesson_completion WHERE user_id IN ({ids}) "
            "GROUP BY user_id, lesson_id"))}
        counts["acks"] = {(u, a): n for u, a, n in conn.execute(text(
            f"SELECT user_id, announcement_id, count(*) FROM announcement_acknowledgement WHERE user_id IN ({ids}) "
            "GROUP BY user_id, announcement_id"))}
        counts["surveys"], counts["responses"] = {}, {}
        for survey_id, wave_id in plan.surveys.items():
            for u, n in conn.execute(text(
                    f"SELECT user_id, count(*) FROM survey_participation WHERE user_id IN ({ids}) "
                    "AND survey_id = :s AND wave_id = :w GROUP BY user_id"), {"s": survey_id, "w": wave_id}):
                counts["surveys"][(u, survey_id)] = n
            counts["responses"][survey_id] = conn.execute(text(
                "SELECT count(*) FROM survey_response WHERE survey_id = :s AND wave_id = :w"),
                {"s": survey_id, "w": wave_id}).scalar()
    engine.dispose()
    return counts


def check_correctness(before: dict, after: dict, plan: Plan) -> list[tuple[str, int, int, str]]:
    """(what, successes, of those exactly once in the database, verdict)."""
    rows = []
    good = sum(after["lessons"].get(k) == 1 for k in plan.completed)
    rows.append(("lesson completions", len(plan.completed), good, target(good == len(plan.completed), "exactly once")))
    good = sum(after["acks"].get(k) == 1 for k in plan.acknowledged)
    rows.append(("acknowledgements", len(plan.acknowledged), good,
                 target(good == len(plan.acknowledged), "exactly once")))
    if plan.surveys:
        answered = Counter(plan.answered)
        good = sum(after["surveys"].get(k) == 1 and before["surveys"].get(k, 0) == 0 and n == 1
                   for k, n in answered.items())
        rows.append(("survey participations", len(plan.answered), good,
                     target(good == len(plan.answered), "exactly once")))
        per_survey = Counter(s for _u, s in plan.answered)
        new = sum(after["responses"][s] - before["responses"].get(s, 0) for s in plan.surveys)
        rows.append(("survey responses (anonymous)", sum(per_survey.values()), new,
                     target(new == sum(per_survey.values()), "one new response per success")))
    return rows


def summarise(samples: list[Sample]) -> tuple[int, int, float, float]:
    ok = [s.ms for s in samples if s.ok]
    return len(samples), sum(not s.ok for s in samples), percentile(ok, 50), percentile(ok, 95)


def run(kind: str, name: str, size: int, args, workdir: Path, throughput: Table, staff: Table, memory: Table,
        correct: Table, steps: Table, notes: list[str]) -> None:
    from bench.pages import build

    url = fresh_database(kind, workdir, size)
    app, generated, _snapshot = build(url, workdir, size)
    with app.app_context():
        from learning.db import db

        db.engine.dispose()
    print(f"{name}: {size} people generated in {generated:.1f} s", flush=True)
    env = platform_env(url, workdir / "instance")
    logs = workdir / "logs"
    database = url if kind == "postgresql" else None  # whose backends' CPU time counts
    wrk = None if args.no_wrk else ensure_wrk()
    generator = "wrk" if wrk else "asyncio client"

    def measure(server: Gunicorn, path: str, cookie: str | None, database: str | None = None) -> Throughput:
        """Throughput, and the CPU time the workers (and PostgreSQL's backends) spent per request."""
        cpu = ServerCPU(server, database)
        if wrk:
            result = wrk_run(wrk, server.port, path, cookie, args.throughput_seconds, args.connections,
                             args.wrk_threads, workdir)
        else:
            result = client_run(server.port, path, cookie, args.throughput_seconds, args.connections)
        if result.requests:
            result.app_cpu_ms, result.db_cpu_ms = cpu.per_request_ms(result.requests)
        return result

    # 1 and 2 against the hello world, served by the same gunicorn settings.
    others = OtherProcesses()
    with Gunicorn("bench.hello:app", {}, logs / "hello.log", args.workers) as hello:
        hello_wrk = measure(hello, "/", None)
        count, latencies, errors = asyncio.run(hammer(hello.port, "/", args.mixed_users, args.mixed_seconds))
        hello_mixed = Throughput(count, args.mixed_seconds, percentile(latencies, 50), percentile(latencies, 95), 0,
                                 errors)
        hello_memory = hello.worker_memory()

    plan = workload_plan(url)
    with Gunicorn("wsgi:app", env, logs / f"platform-{kind}.log", args.workers, probe="/healthz") as server:
        async def home_cookie() -> str:
            browser = Browser(server.port)
            await sign_in(browser, "anna")
            await browser.close()
            return "; ".join(f"{k}={v}" for k, v in browser.cookies.items())

        cookie = asyncio.run(home_cookie())
        home = measure(server, "/", cookie, database)

        async def workloads():
            everyone = people_to_simulate(url, max(args.users, args.mixed_users))
            people = await sign_in_all(server.port, everyone)
            actions = []
            for candidate in ACTIONS:
                note = await candidate.prepare(plan, url, people) if candidate.prepare else None
                if note:
                    notes.append(f"{name}: action “{candidate.name}” left out: {note}")
                else:
                    actions.append(candidate)
            before = row_counts(url, plan, [p.user_id for p in people])
            mixed = people[:args.mixed_users]
            started = ServerCPU(server, database)
            took = await run_people(mixed, plan, actions, args.mixed_seconds, None, seed=1)
            mixed_samples = [s for p in mixed for s in p.samples]
            cpu["mixed"] = started.per_request_ms(len(mixed_samples))
            for p in people:
                p.samples.clear()
            staff_people = people[:args.users]
            started = ServerCPU(server, database)
            staff_took = await run_people(staff_people, plan, actions, args.seconds, (1.0, 5.0), seed=2)
            staff_samples = [s for p in staff_people for s in p.samples]
            cpu["staff"] = started.per_request_ms(len(staff_samples))
            for p in people:
                await p.browser.close()
            return before, mixed_samples, took, staff_samples, staff_took, actions

        cpu: dict[str, tuple[float, float]] = {}  # CPU ms per request: the workers', the database's

        before, mixed_samples, took, staff_samples, staff_took, actions = asyncio.run(workloads())
        platform_memory = server.worker_memory()
    after = row_counts(url, plan, sorted({u for u, _ in plan.completed} | {u for u, _ in plan.acknowledged}
                                         | {u for u, _ in plan.answered}))
    notes += [f"{name}: {n}" for n in plan.notes]
    share_of_others = others.share()
    if share_of_others > 0.05:
        notes.append(f"{name}: other processes on this machine used {share_of_others:.0%} of its CPU time during "
                     "the measurements: the figures are lower than on an idle machine")

    share = home.rate / hello_wrk.rate if hello_wrk.rate else 0
    throughput.add(name, size, "hello world", generator, f"{hello_wrk.rate:.0f}", f"{hello_wrk.p95:.1f}",
                   hello_wrk.other + hello_wrk.errors, cpu_figure(hello_wrk.app_cpu_ms, hello_wrk.db_cpu_ms), "–", "–")
    throughput.add(name, size, "employee home (anna)", generator, f"{home.rate:.0f}", f"{home.p95:.1f}",
                   home.other + home.errors,
                   cpu_figure(home.app_cpu_ms, home.db_cpu_ms), f"{share:.0%}",
                   target(share >= HOME_SHARE_GOAL and home.other + home.errors == 0,
                          f"≥ {HOME_SHARE_GOAL:.0%}, no errors"))
    mixed_total, mixed_errors, _p50, mixed_p95 = summarise(mixed_samples)
    mixed_rate = mixed_total / took
    hello_rate = hello_mixed.rate
    throughput.add(name, size, "hello world", f"asyncio, {args.mixed_users} conn.", f"{hello_rate:.0f}",
                   f"{hello_mixed.p95:.1f}", hello_mixed.errors, "", "–", "–")
    throughput.add(name, size, f"mixed workload ({args.mixed_users} people, no pause)",
                   f"asyncio, {args.mixed_users} conn.", f"{mixed_rate:.0f}", f"{mixed_p95:.1f}", mixed_errors,
                   cpu_figure(*cpu["mixed"]),
                   f"{mixed_rate / hello_rate:.0%}" if hello_rate else "–", "(no target)")

    total, errors, p50, p95 = summarise(staff_samples)
    staff.add(name, size, args.users, f"{args.seconds} s", ", ".join(a.name for a in actions), total,
              f"{total / staff_took:.0f}", cpu_figure(*cpu["staff"]), errors, f"{p50:.0f}", f"{p95:.0f}",
              target(errors == 0 and p95 < STAFF_P95_GOAL_MS, f"0 errors, p95 < {STAFF_P95_GOAL_MS} ms"))
    by_step: dict[str, list[Sample]] = defaultdict(list)
    for s in staff_samples:
        by_step[s.step].append(s)
    for label, samples in sorted(by_step.items()):
        count, bad, p50, p95 = summarise(samples)
        statuses = Counter(s.status for s in samples)
        steps.add(name, size, label, count, bad, f"{p50:.0f}", f"{p95:.0f}",
                  ", ".join(f"{k}: {v}" for k, v in sorted(statuses.items())))

    for label, rows in (("hello world", hello_memory), ("platform", platform_memory)):
        peak = max((r[2] for r in rows), default=0)
        memory.add(name, size, label, len(rows), ", ".join(f"{r[1]:.0f}" for r in rows),
                   ", ".join(f"{r[2]:.0f}" for r in rows),
                   target(peak <= RSS_GOAL_MB, f"≤ {RSS_GOAL_MB} MB") if label == "platform" else "–")
    for what, successes, good, verdict in check_correctness(before, after, plan):
        correct.add(name, size, what, successes, good, verdict)


def tables() -> dict[str, Table]:
    return {
        "throughput": Table(
            f"Throughput under gunicorn ({GUNICORN_WORKERS} sync workers unless --workers), load generator on the "
            "same machine; CPU ms: server (and PostgreSQL) CPU time per request",
            ["database", "people", "page", "load generator", "requests/s", "p95 ms", "errors", "CPU ms",
             "of hello world", "target"]),
        "staff": Table("Simulated staff: each person waits 1–5 s between actions",
                       ["database", "people", "users", "for", "actions", "requests", "requests/s", "CPU ms",
                        "errors", "p50 ms", "p95 ms", "target"]),
        "steps": Table("Simulated staff per request kind", ["database", "people", "request", "count", "errors",
                                                            "p50 ms", "p95 ms", "statuses"]),
        "memory": Table("Resident memory of each gunicorn worker after the load (MB, from /proc)",
                        ["database", "people", "app", "workers", "RSS now", "peak RSS", "target"]),
        "correct": Table("After the load: what got a success answer is in the database exactly once",
                         ["database", "people", "what", "successes", "exactly once", "verdict"]),
    }


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--employees", type=int, default=5000)
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--workers", type=int, default=GUNICORN_WORKERS)
    parser.add_argument("--users", type=int, default=200, help="simulated people, 1–5 s between actions")
    parser.add_argument("--seconds", type=int, default=60, help="how long the simulated people act")
    parser.add_argument("--mixed-users", type=int, default=10, help="people acting without pause")
    parser.add_argument("--mixed-seconds", type=int, default=20)
    parser.add_argument("--throughput-seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=16, help="wrk connections")
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--no-wrk", action="store_true", help="use the asyncio client for the throughput too")
    parser.add_argument("--quick", action="store_true", help="small and short, for trying it out")


def apply_quick(args) -> None:
    if args.quick:
        args.employees = min(args.employees, 500)
        args.users, args.seconds = min(args.users, 50), min(args.seconds, 15)
        args.mixed_seconds, args.throughput_seconds = min(args.mixed_seconds, 5), min(args.throughput_seconds, 5)


def main(argv: list[str] | None = None) -> dict[str, Table]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    args = parser.parse_args(argv)
    apply_quick(args)
    from bench.pages import database_urls

    out = tables()
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="learning-load-") as tmp:
        for name, kind in database_urls(args.database):
            run(kind, name, args.employees, args, Path(tmp), out["throughput"], out["staff"], out["memory"],
                out["correct"], out["steps"], notes)
    for table in out.values():
        table.print()
    for note in notes:
        print(f"Note: {note}")
    return out


if __name__ == "__main__":
    main()
