"""Server-side latency and query count of the key pages at several organisation sizes.

    .venv/bin/python bench/pages.py [--employees 5000 50000] [--database sqlite|postgresql|both]

For each database and size: a fresh database is migrated and filled by ``flask demo generate``
(timed), the metric snapshot is computed (timed), then each page is requested through the WSGI
app in-process (no network) as the role that uses it: warm-up, then ``--requests`` timed
requests; p50/p95 in milliseconds and the number of SQL statements per request are printed.
PostgreSQL uses the database ``bench`` on LEARNING_BENCH_POSTGRES (default: 127.0.0.1, trust
auth), which is dropped and created for each size.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, event, text  # noqa: E402

from bench.report import Table, target  # noqa: E402
from learning.db import unit_of_work  # noqa: E402

POSTGRES = os.environ.get("LEARNING_BENCH_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432")

# (label, who, path, target p95 in ms at 50,000 people on PostgreSQL)
PAGES = [
    ("employee home (kept page)", "anna", "/", 50),
    ("employee home (rendered; a query string is never kept)", "anna", "/?fresh=1", 50),
    ("my learning", "anna", "/learning/", 50),
    ("lesson", "anna", "/learning/courses/datenschutz-im-digitalen-alltag/lessons/{lesson}", 50),
    ("lesson of a course written in the browser", "anna", "/learning/courses/{web_course}/lessons/einstieg", 50),
    ("phase page", "anna", "/phases/e-akte", 50),
    ("feedback channel", "anna", "/feedback/e-akte", 50),
    ("team readiness", "mara", "/readiness", 50),
    ("programme dashboard", "paul", "/programme", 150),
]
EXTRA_PAGES: list[tuple[str, str, str, int]] = []  # features add theirs (e.g. survey results)
LESSON_CPU_MS = 5  # a lesson page shows HTML rendered at publishing: at most this much CPU (p50, in-process)
WEB_COURSE = "bench-reisekosten-online"
WEB_LESSON = """## Worum es geht

Ab dem 1. Juli beantragen Sie Reisekosten **nur noch online**. Der Antrag ersetzt das Papierformular;
Belege laden Sie als Foto oder PDF hoch. Die Abrechnung prüft die Reisekostenstelle wie bisher.

### Die Schritte

1. Öffnen Sie das [Formular Reisekosten](https://intranet.example.de/reisekosten).
2. Tragen Sie Reisezweck, Ziel und Zeitraum ein.
3. Laden Sie die Belege hoch: Fahrkarten, Hotelrechnung, Tagungsgebühren.
4. Senden Sie den Antrag ab; Sie erhalten eine Bestätigung per E-Mail.

| Frist | Was | Wer |
|---|---|---|
| 6 Monate nach Reiseende | Antrag stellen | Reisende |
| 4 Wochen | Prüfung | Reisekostenstelle |
| 2 Wochen | Auszahlung | Kasse |

!!! tip "Tipp"
    Fotografieren Sie Belege gleich unterwegs; das Original bewahren Sie sechs Monate auf.

### Häufige Fragen

- *Muss ich das Papierformular noch ausfüllen?* Nein.
- *Was ist mit Dienstreisen ins Ausland?* Dasselbe Formular; wählen Sie „Ausland“.
- *Wer hilft?* Die Reisekostenstelle, Telefon 1234.
"""


def database_urls(choice: str) -> list[tuple[str, str]]:
    urls = []
    if choice in ("sqlite", "both"):
        urls.append(("SQLite", "sqlite"))
    if choice in ("postgresql", "both"):
        urls.append(("PostgreSQL", "postgresql"))
    return urls


def fresh_database(kind: str, workdir: Path, size: int) -> str:
    if kind == "sqlite":
        path = workdir / f"bench-{size}.db"
        path.unlink(missing_ok=True)
        return f"sqlite:///{path}"
    admin = create_engine(f"{POSTGRES}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("DROP DATABASE IF EXISTS bench WITH (FORCE)"))
        conn.execute(text("CREATE DATABASE bench"))
    admin.dispose()
    return f"{POSTGRES}/bench"


def settle(url: str) -> None:
    """Bring a freshly generated PostgreSQL database to the state of one in use: VACUUM ANALYZE.

    Autovacuum would otherwise vacuum the bulk-loaded tables while we measure (its insert threshold)
    and take CPU from the pages; a database in use has its tables vacuumed and its statistics.
    """
    if not url.startswith("postgresql"):
        return
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("VACUUM ANALYZE"))
    engine.dispose()


def build(url: str, workdir: Path, size: int):
    from flask_migrate import upgrade

    from learning import create_app
    from learning.demo.generate import generate
    from learning.i18n import local_today
    from learning.metrics.services import snapshot

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": str(workdir / "instance"),
                      "SECRET_KEY": "bench" * 8, "RATELIMIT_ENABLED": False, "SESSION_COOKIE_SECURE": False})
    with app.app_context():
        upgrade()
        started = time.perf_counter()
        generate(size, seed=2030, today=local_today())
        generated = time.perf_counter() - started
    settle(url)
    with app.test_request_context():
        started = time.perf_counter()
        with unit_of_work():
            snapshot(local_today())
        snapshotted = time.perf_counter() - started
    publish_web_course(app)
    return app, generated, snapshotted


def publish_web_course(app) -> None:
    """Publish a course written in the browser (by the demo's project group) for the lesson page of such a course."""
    from sqlalchemy import select

    from learning.db import db
    from learning.org.models import User
    from learning.training.authoring.documents import document_of
    from learning.training.authoring.models import CourseDraft
    from learning.training.authoring.publishing import publish_draft
    from learning.training.sync import AnswerSpec, CourseSpec, LessonSpec, QuestionSpec

    spec = CourseSpec(
        slug=WEB_COURSE, title="Reisekosten online", summary="Reisekosten im Browser beantragen.", minutes=15,
        lessons=[LessonSpec(slug=slug, position=n, title=title, body=WEB_LESSON)
                 for n, (slug, title) in enumerate((("einstieg", "Der Antrag"), ("belege", "Belege"),
                                                    ("fragen", "Fragen")), start=1)],
        questions=[QuestionSpec(kind="single", text="Bis wann stellen Sie den Antrag?", explanation="Sechs Monate.",
                                answers=[AnswerSpec(text="6 Monate nach Reiseende", correct=True),
                                         AnswerSpec(text="Eine Woche", correct=False)])])
    with app.test_request_context():
        author = db.session.scalar(select(User).where(User.username == "paul"))
        with unit_of_work():
            draft = CourseDraft(slug=WEB_COURSE, document=document_of(spec), revisions={})
            db.session.add(draft)
            db.session.flush()
            publish_draft(draft, author, "Erste Fassung", False)


def measure(app, requests: int) -> list[tuple[str, float, float, float, int, int]]:
    from learning.db import db
    from learning.training.models import Course

    with app.app_context():
        engine = db.engine
        course = db.session.query(Course).filter_by(slug="datenschutz-im-digitalen-alltag").one()
        lesson = course.active_lessons[0].slug
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    clients = {}
    results = []
    for label, who, path, goal in PAGES + EXTRA_PAGES:
        if who not in clients:
            client = app.test_client()
            page = client.get("/login")
            token = page.get_data(as_text=True).split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
            response = client.post("/login", data={"username": who, "password": "demo", "csrf_token": token})
            assert response.status_code == 302, f"login as {who} failed"
            clients[who] = client
        client = clients[who]
        url = path.format(lesson=lesson, web_course=WEB_COURSE)
        for _ in range(3):
            assert client.get(url).status_code == 200, url
        timings, cpu, counts = [], [], []
        for _ in range(requests):
            statements.clear()
            started, started_cpu = time.perf_counter(), time.process_time()
            response = client.get(url)
            timings.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - started_cpu) * 1000)
            counts.append(len(statements))
            assert response.status_code == 200, url
        p95 = statistics.quantiles(timings, n=20)[-1]
        results.append((label, statistics.median(timings), p95, statistics.median(cpu), max(counts), goal))
    return results


def measure_next(app, requests: int, who: str = "anna") -> tuple[float, float, int, int]:
    """CPU time (process time, ms) of the start page's *What to do next* list alone, and its queries.

    Read in-process as the person would see it (a request context signed in as ``who``); p50, p95,
    statements per read and items found. Target: at most 10 ms of CPU at 50,000 people on PostgreSQL.
    """
    from flask_login import login_user
    from sqlalchemy import select

    from learning.db import db
    from learning.home.upnext import next_items
    from learning.i18n import local_today
    from learning.org.models import User

    statements: list[str] = []
    with app.app_context():
        engine = db.engine
    listen = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listen)
    timings, counts, found = [], [], 0
    try:
        for run in range(requests + 3):
            with app.test_request_context("/"):
                user = db.session.scalar(select(User).where(User.username == who))
                login_user(user)
                user.roles  # noqa: B018  (what load_user has read before the page)
                statements.clear()
                started = time.process_time()
                listed = next_items(user, local_today())
                elapsed = (time.process_time() - started) * 1000
                if run >= 3:  # after a warm-up
                    timings.append(elapsed)
                    counts.append(len(statements))
                found = len(listed.items) + listed.more
                db.session.remove()
    finally:
        event.remove(engine, "before_cursor_execute", listen)
    return statistics.median(timings), statistics.quantiles(timings, n=20)[-1], max(counts), found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--employees", type=int, nargs="+", default=[5000, 50000])
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--requests", type=int, default=50)
    args = parser.parse_args()
    table = Table("Key pages: server-side latency (in-process, no network) and SQL statements per request",
                  ["database", "people", "page", "p50 ms", "p95 ms", "p50 CPU ms", "queries", "target p95",
                   "target CPU"])
    upnext = Table("The start page's 'What to do next' list alone: CPU time per read (process time)",
                   ["database", "people", "items", "p50 CPU ms", "p95 CPU ms", "queries", "target p95"])
    setup = Table("Data generation and daily metric snapshot",
                  ["database", "people", "generate s", "snapshot s", "target snapshot"])
    query_counts: dict[tuple[str, str], set[int]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        for name, kind in database_urls(args.database):
            for size in args.employees:
                url = fresh_database(kind, workdir, size)
                app, generated, snapshotted = build(url, workdir, size)
                large = size >= 50000 and kind == "postgresql"
                setup.add(name, size, f"{generated:.1f}", f"{snapshotted:.1f}",
                          target(snapshotted <= 20, "≤ 20 s") if large else "–")
                for label, p50, p95, cpu, queries, goal in measure(app, args.requests):
                    query_counts.setdefault((name, label), set()).add(queries)
                    lesson_page = label.startswith("lesson")
                    table.add(name, size, label, f"{p50:.1f}", f"{p95:.1f}", f"{cpu:.1f}", queries,
                              target(p95 <= goal, f"≤ {goal}") if large else f"({goal})",
                              target(cpu <= LESSON_CPU_MS, f"≤ {LESSON_CPU_MS}") if lesson_page else "–")
                p50, p95, queries, found = measure_next(app, args.requests)
                upnext.add(name, size, found, f"{p50:.1f}", f"{p95:.1f}", queries,
                           target(p95 <= 10, "≤ 10") if large else "(10)")
                with app.app_context():
                    from learning.db import db

                    db.engine.dispose()
    setup.print()
    table.print()
    upnext.print()
    fixed = Table("Queries per page independent of size", ["database", "page", "query counts seen", "fixed"])
    for (name, label), seen in query_counts.items():
        fixed.add(name, label, ", ".join(map(str, sorted(seen))), target(len(seen) == 1, "same at every size"))
    fixed.print()


if __name__ == "__main__":
    main()
