"""CSV import of people: checking a file, and the dry-run page, at 1,000 and 10,000 lines; files over the limits.

    .venv/bin/python bench/import.py [--rows 1000 10000] [--people 2000] [--database sqlite|postgresql|both]
                                     [--database-url URL] [--profile]

For each database a fresh one is migrated and filled by ``learning.demo.generate`` (an
organisation of ``--people``). Each file names every existing person once more (a tenth of them
with a changed last name) and new people after them, in German headers with semicolons as Excel
writes them, with departments, teams and start dates (no roles column: roles stay). Then:

- the check (``plan_import``: read, validate, plan; writes nothing) is timed; target: 10,000
  lines in at most 5 s;
- the admin's dry run on the *Import* page is timed through the WSGI app in-process (form,
  check, page), with the size of the page; target: at most 200 KB whatever the file;
- a file over the row limit and one over the size limit (a third larger than it; the request
  limit of 8 MB refuses anything larger before the import sees it) are uploaded and refused;
  target: refused within 2 s, after reading no more than the limit.

``--profile`` prints the 25 most expensive functions of the largest check (cProfile).
PostgreSQL uses the database ``bench_import`` on LEARNING_BENCH_POSTGRES (default
postgresql+psycopg://postgres@127.0.0.1:5432), dropped and created for the run; ``--database-url``
(or LEARNING_BENCH_DATABASE_URL) uses the given database instead (its data is replaced).
This is a benchmark that prints figures; it is not part of the test suite.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, select, text  # noqa: E402

from bench.pages import settle  # noqa: E402
from bench.report import Table, target  # noqa: E402

POSTGRES = os.environ.get("LEARNING_BENCH_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432")
DATABASE = "bench_import"
CHECK_TARGET_S = 5.0  # for 10,000 lines ("a few seconds")
PAGE_TARGET_KB = 200
REFUSE_TARGET_S = 2.0
HEADER = "E-Mail;Vorname;Nachname;Personalnummer;Abteilung;Team;Eintrittsdatum;Sprache;Aktiv"


def fresh_database(kind: str, workdir: Path) -> str:
    if kind == "sqlite":
        path = workdir / "import.db"
        path.unlink(missing_ok=True)
        return f"sqlite:///{path}"
    admin = create_engine(f"{POSTGRES}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)"))
        conn.execute(text(f"CREATE DATABASE {DATABASE}"))
    admin.dispose()
    return f"{POSTGRES}/{DATABASE}"


def build(url: str, workdir: Path, people: int):
    from flask_migrate import upgrade

    from bench.reminders import empty_schema
    from learning import create_app
    from learning.demo.generate import generate
    from learning.i18n import local_today

    if "bench_import" not in url and not url.startswith("sqlite:///" + str(workdir)):
        empty_schema(url)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": str(workdir / "instance"),
                      "SECRET_KEY": "bench" * 8, "RATELIMIT_ENABLED": False, "SESSION_COOKIE_SECURE": False})
    with app.app_context():
        upgrade()
        generate(people, seed=2030, today=local_today())
    settle(url)
    return app


def people_file(app, rows: int) -> bytes:
    """Every existing person once (a tenth renamed), then new people, up to ``rows`` lines."""
    from learning.db import db
    from learning.org.models import Department, Team, User

    with app.app_context():
        existing = db.session.execute(
            select(User.email, User.first_name, User.last_name, Department.name, Team.name)
            .join(Team, Team.id == User.team_id).join(Department, Department.id == Team.department_id)
            .where(User.active.is_(True)).order_by(User.id)).all()
        units = db.session.execute(select(Department.name, Team.name).join(Team.department)).all()
        db.session.remove()
    lines = [HEADER]
    for n, (email, first, last, department, team) in enumerate(existing[:rows]):
        lines.append(f"{email};{first};{last + ' Neu' if n % 10 == 0 else last};;{department};{team};;;ja")
    for n in range(rows - len(lines) + 1):
        department, team = units[n % len(units)]
        lines.append(f"neu.person{n}@gemeinde.example;Neue;Person {n};{900000 + n};{department};{team};"
                     f"{1 + n % 28:02d}.{1 + n % 12:02d}.2026;de;ja")
    return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8")


def admin_client(app):
    client = app.test_client()
    page = client.get("/login")
    token = page.get_data(as_text=True).split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    assert client.post("/login", data={"username": "admin", "password": "demo", "csrf_token": token}).status_code == 302
    return client


def dry_run(client, content: bytes) -> tuple[float, int, str]:
    page = client.get("/admin/people/import", headers={"Accept-Language": "en"}).get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    started = time.perf_counter()
    response = client.post("/admin/people/import", headers={"Accept-Language": "en"}, data={
        "csrf_token": token, "dry_run": "y", "file": (io.BytesIO(content), "personal.csv")})
    seconds = time.perf_counter() - started
    assert response.status_code == 200, response.status_code
    return seconds, len(response.data), response.get_data(as_text=True)


def measure(app, name: str, sizes: list[int], profile: bool, checks: Table, pages: Table, refused: Table) -> None:
    from learning.db import db
    from learning.org.importer import plan_import

    client = admin_client(app)
    for rows in sizes:
        content = people_file(app, rows)
        with app.test_request_context():
            profiler = cProfile.Profile() if profile and rows == max(sizes) else None
            started = time.perf_counter()
            if profiler:
                profiler.enable()
            plan = plan_import(content, "personal.csv")
            if profiler:
                profiler.disable()
            seconds = time.perf_counter() - started
            db.session.remove()
        assert plan.ok, plan.problem_lines()[:5]
        counts = plan.counts
        bound = CHECK_TARGET_S * max(1, rows / 10_000)  # 5 s for 10,000 lines, and for fewer
        goal = target(seconds <= bound, f"≤ {bound:.0f} s")
        checks.add(name, f"{rows:,}", f"{len(content) / 1024 / 1024:.1f}", f"{seconds:.2f}",
                   f"{rows / seconds:,.0f}", counts["created"], counts["updated"], counts["unchanged"], goal)
        page_seconds, size, _page = dry_run(client, content)
        pages.add(name, f"{rows:,}", f"{page_seconds:.2f}", f"{size / 1024:.0f}",
                  target(size <= PAGE_TARGET_KB * 1024, f"≤ {PAGE_TARGET_KB} KB"))
        if profiler:
            print(f"\n{name}: the check of {rows:,} lines, by cumulative time")
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
    limit, megabytes = app.config["IMPORT_MAX_ROWS"], app.config["IMPORT_MAX_MB"]
    over_size = people_file(app, 1000)
    over_size += over_size.split(b"\r\n", 1)[1] * (int(megabytes * 1.3 * 1024 * 1024 / len(over_size)) + 1)
    over_size_lines = over_size.count(b"\n") - 1
    for label, content in ((f"{limit + 1:,} lines (row limit {limit:,})", people_file(app, limit + 1)),
                           (f"{over_size_lines:,} lines (size limit {megabytes} MB)", over_size)):
        seconds, size, page = dry_run(client, content)
        assert "The file was not imported" in page
        refused.add(name, label, f"{len(content) / 1024 / 1024:.1f}", f"{seconds:.2f}", f"{size / 1024:.0f}",
                    target(seconds <= REFUSE_TARGET_S, f"≤ {REFUSE_TARGET_S:.0f} s"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--people", type=int, default=2000, help="organisation size before the import")
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--database-url", default=os.environ.get("LEARNING_BENCH_DATABASE_URL"),
                        help="use this database (its data is replaced) instead of fresh ones")
    parser.add_argument("--profile", action="store_true", help="profile the largest check (cProfile)")
    args = parser.parse_args()

    checks = Table(f"Checking a CSV file against {args.people:,} people (plan_import, writes nothing)",
                   ["database", "lines", "MB", "seconds", "lines/s", "create", "update", "unchanged", "target"])
    pages = Table("Dry run on the Import page (in-process: form, check, page)",
                  ["database", "lines", "seconds", "page KB", "target"])
    refused = Table("Files over the limits, uploaded for a dry run", ["database", "file", "MB", "seconds",
                                                                     "page KB", "target"])
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        if args.database_url:
            targets = [(args.database_url.split(":", 1)[0], args.database_url)]
        else:
            kinds = {"sqlite": ["sqlite"], "postgresql": ["postgresql"], "both": ["sqlite", "postgresql"]}
            targets = [("SQLite" if k == "sqlite" else "PostgreSQL", fresh_database(k, workdir))
                       for k in kinds[args.database]]
        for name, url in targets:
            print(f"{name}: generating {args.people:,} people ...", flush=True)
            app = build(url, workdir, args.people)
            measure(app, name, sorted(args.rows), args.profile, checks, pages, refused)
            with app.app_context():
                from learning.db import db

                db.engine.dispose()
            for table in (checks, pages, refused):
                table.print()


if __name__ == "__main__":
    main()
