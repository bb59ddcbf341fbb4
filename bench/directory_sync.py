"""Directory sync of a large directory: planning (and applying) the first sync and an unchanged one.

    .venv/bin/python bench/directory_sync.py [--people 50000] [--database sqlite|postgresql] [--no-apply]

The directory is generated in memory as the list of ``DirectoryPerson`` that reading the directory
returns (``learning.directory.sync_read``), and goes through the same planning and applying as
``flask directory sync`` (``plan_sync``, ``apply_sync``, the ``people_changed`` receivers included).
Reading itself is not measured: seeding 50,000 entries into the test slapd takes longer than the
sync, and the network time depends on the directory server (paged search, 1,000 per page in AD).

The people sit in 20 departments (OUs) of 10 teams each, a tenth have a manager attribute, a
hundredth are in the admin group (nested through a second group), a fiftieth in the project group.
Printed: the time to plan and to apply the first sync (everybody created), to plan the next one
(nothing changed), to plan one after 1 % of the people changed, and the process's peak memory.
Targets of the issue: first sync of 50,000 in at most 120 s, an unchanged one in at most 20 s,
memory below 300 MB. PostgreSQL uses the database ``bench_directory`` on LEARNING_BENCH_POSTGRES
(dropped and created). This is a benchmark that prints figures; it is not part of the test suite.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402

POSTGRES = os.environ.get("LEARNING_BENCH_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432")
DATABASE = "bench_directory"
BASE = "ou=staff,dc=kommune,dc=local"
GROUPS = "ou=groups,dc=kommune,dc=local"
MAPPING = f"""
[people]
employee_number = "employeeID"
start_date = "extensionAttribute1"
[disabled]
user_account_control = true
[groups]
base = "{GROUPS}"
nested = "walk"
[department]
from = "ou"
[team]
from = "ou"
[managers]
attribute = "manager"
[roles]
admin = ["cn=lp-admins,{GROUPS}"]
project_group = ["cn=lp-projekt,{GROUPS}"]
"""


def fresh_database(kind: str, workdir: Path) -> str:
    if kind == "sqlite":
        return f"sqlite:///{workdir / 'directory.db'}"
    admin = create_engine(f"{POSTGRES}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)"))
        conn.execute(text(f"CREATE DATABASE {DATABASE}"))
    admin.dispose()
    return f"{POSTGRES}/{DATABASE}"


def directory(size: int, changed: int = 0) -> list:
    """``size`` people as reading the directory returns them; the first ``changed`` have a new surname."""
    from learning.directory.mapping import normal_dn
    from learning.directory.sync_read import DirectoryPerson

    people = []
    for n in range(size):
        department, team = n % 20, (n // 20) % 10
        dn = f"cn=person {n},ou=Team {team},ou=Amt {department},{BASE}"
        manager = f"cn=person {n % 2000},ou=Team {team},ou=Amt {department},{BASE}" if n % 10 == 1 else ""
        groups = set()
        if n % 100 == 0:
            groups.add(normal_dn(f"cn=lp-admins,{GROUPS}"))
        if n % 50 == 0:
            groups.add(normal_dn(f"cn=lp-projekt,{GROUPS}"))
        people.append(DirectoryPerson(
            dn=dn, subject=f"{n:08d}-0000-4000-8000-000000000000", login=f"p{n}", first_name="Person",
            last_name=f"Nummer {n}{' neu' if n < changed else ''}", email=f"person{n}@kommune.example",
            employee_number=str(100000 + n), start_date=f"20{10 + n % 15}-0{1 + n % 9}-01",
            department=f"Amt {department}", team=f"Team {team}", manager=normal_dn(manager) if manager else "",
            groups=frozenset(groups)))
    return people


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--people", type=int, default=50000)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--no-apply", action="store_true", help="plan only (no first sync written)")
    parser.add_argument("--next-run", metavar="URL", help=argparse.SUPPRESS)  # the unchanged run, own process
    args = parser.parse_args()

    from flask_migrate import upgrade

    from learning import create_app
    from learning.db import unit_of_work, utcnow
    from learning.directory.mapping import read_mapping
    from learning.directory.sync_apply import apply_sync
    from learning.directory.sync_plan import plan_sync

    workdir = Path(tempfile.mkdtemp(prefix="bench-directory-"))
    url = args.next_run or fresh_database(args.database, workdir)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": str(workdir / "instance"),
                      "SECRET_KEY": "bench" * 8, "RATELIMIT_ENABLED": False})
    mapping = read_mapping(MAPPING, "bench.toml")
    rows = []

    def plan(people):
        return plan_sync(people, mapping, source="ldaps://bench", now=utcnow(), grace_days=7, max_share=0.1)

    if args.next_run:  # the nightly run after the first sync: a process of its own, as the scheduler's job
        with app.test_request_context():
            people = directory(args.people)
            started = time.perf_counter()
            again = plan(people)
            seconds = time.perf_counter() - started
        print(f"  {'plan an unchanged sync':32} {seconds:8.1f} s  {again.summary()} (target ≤ 20 s)")
        print(f"  {'  its process':32} {peak_mb():8.0f} MB  peak memory (target < 300 MB)")
        return 0
    with app.app_context():
        upgrade()
    rows.append(("start (app, schema)", 0.0, f"peak so far {peak_mb():.0f} MB"))
    with app.test_request_context():
        people = directory(args.people)
        started = time.perf_counter()
        first = plan(people)
        rows.append(("plan the first sync", time.perf_counter() - started, f"{first.summary()} ({peak_mb():.0f} MB)"))
        assert not first.problems, first.problems[:3]
        del people  # as in run_directory_sync: the entries are gone once the plan is made
        if args.no_apply:
            return print_rows(args, rows)
        started = time.perf_counter()
        with unit_of_work():
            apply_sync(first)
        rows.append(("apply the first sync", time.perf_counter() - started, f"peak so far {peak_mb():.0f} MB"))
        rows.append(("first sync in all", rows[1][1] + rows[2][1], "target ≤ 120 s"))
        del first
    print_rows(args, rows)
    rows.clear()
    sys.stdout.flush()
    import subprocess

    subprocess.run([sys.executable, __file__, "--people", str(args.people), "--next-run", url], check=True)
    print("  in this process again:")
    for label, changed in (("plan an unchanged sync", 0), ("plan a sync with 1 % changed", args.people // 100)):
        with app.test_request_context():
            people = directory(args.people, changed)
            started = time.perf_counter()
            again = plan(people)
            rows.append((label, time.perf_counter() - started,
                         again.summary() + (" (target ≤ 20 s)" if not changed else "") + f" ({peak_mb():.0f} MB)"))
            del people
            if changed:
                started = time.perf_counter()
                with unit_of_work():
                    apply_sync(again)
                rows.append(("apply it", time.perf_counter() - started, ""))
            del again
    return print_rows(args, rows)


def print_rows(args, rows) -> int:
    if rows and rows[0][0].startswith("start"):
        print(f"Directory sync of {args.people} people on {args.database} (generated entries, same planning and "
              f"apply)")
    for label, seconds, note in rows:
        print(f"  {label:32} {seconds:8.1f} s  {note}")
    print(f"  peak memory of the process        {peak_mb():8.0f} MB  (target < 300 MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
