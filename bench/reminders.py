"""Reminders at scale: planning for 50,000 people, and sending to a local SMTP server.

    .venv/bin/python bench/reminders.py [--people 50000] [--database sqlite|postgresql|both]
                                        [--database-url URL] [--send 3000]

For each database a fresh one is migrated and filled by ``learning.demo.generate`` (Core bulk
inserts: people, teams with managers, assignments in every state, announcements to confirm,
feedback). Then:

- planning is timed three times: the first plan (it queues), the same plan again (everything is
  there already: conflict-ignore), and a dry run; target under 10 s each at 50,000 people;
- sending is timed against aiosmtpd running in a process of its own on a free local port (a sink
  that accepts everything), with the mail budget open (any hour, no digest): claim, re-check,
  notify, compose text and HTML, deliver over one SMTP connection per run, mark sent; target at
  least 100 messages per second. ``--send`` limits how many people's mail is sent.

PostgreSQL uses the database ``bench_reminders`` on LEARNING_BENCH_POSTGRES (default
postgresql+psycopg://postgres@127.0.0.1:5432), dropped and created for the run; ``--database-url``
(or LEARNING_BENCH_DATABASE_URL) uses the given database instead (its data is replaced).
This is a benchmark that prints figures; it is not part of the test suite.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, func, select, text  # noqa: E402

from bench.pages import settle  # noqa: E402
from bench.report import Table, target  # noqa: E402

POSTGRES = os.environ.get("LEARNING_BENCH_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432")
DATABASE = "bench_reminders"
PLAN_TARGET_S = 10.0
SEND_TARGET_PER_S = 100.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fresh_database(kind: str, workdir: Path) -> str:
    if kind == "sqlite":
        path = workdir / "reminders.db"
        path.unlink(missing_ok=True)
        return f"sqlite:///{path}"
    admin = create_engine(f"{POSTGRES}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)"))
        conn.execute(text(f"CREATE DATABASE {DATABASE}"))
    admin.dispose()
    return f"{POSTGRES}/{DATABASE}"


def empty_schema(url: str) -> None:
    """For a given database URL: start from nothing (PostgreSQL schema or SQLite file)."""
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
        return
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def build(url: str, workdir: Path, people: int):
    from flask_migrate import upgrade

    from learning import create_app
    from learning.demo.generate import generate
    from learning.i18n import local_today

    app = create_app({
        "SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": str(workdir / "instance"), "SECRET_KEY": "bench" * 8,
        "SMTP_URL": "", "MAIL_HOURS": (0, 24), "MAIL_WEEKENDS": True, "REMINDER_DIGEST": "immediate",
        "MAIL_DAILY_CAP": 50, "BASE_URL": "https://lernen.example.de",
    })
    with app.app_context():
        upgrade()
        started = time.perf_counter()
        counts = generate(people, seed=2030, today=local_today())
        generated = time.perf_counter() - started
    settle(url)
    return app, generated, counts


def timed(function, *args, **kwargs):
    started = time.perf_counter()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - started


def measure_planning(app) -> tuple[list[tuple[str, float, int, int]], dict[str, int]]:
    from learning.db import db
    from learning.messaging.reminders import plan_reminders

    rows = []
    with app.app_context():
        first, seconds = timed(plan_reminders)
        rows.append(("first plan (queues)", seconds, first.considered, first.new))
        db.session.remove()
        again, seconds = timed(plan_reminders)
        rows.append(("same plan again (nothing new)", seconds, again.considered, again.new))
        db.session.remove()
        dry, seconds = timed(plan_reminders, dry_run=True)
        rows.append(("dry run", seconds, dry.considered, dry.new))
        db.session.remove()
        per_kind = {plan.kind.name: plan.new for plan in first.kinds}
    return rows, per_kind


def start_smtp_sink(port: int) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}", "-c", "aiosmtpd.handlers.Sink"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("aiosmtpd did not start")


def measure_sending(app, send_people: int) -> tuple[int, int, int, float]:
    from learning.db import db
    from learning.messaging.models import Outbox
    from learning.messaging.outbox import PEOPLE_PER_BATCH, send_due

    port = free_port()
    sink = start_smtp_sink(port)
    try:
        app.config["SMTP_URL"] = f"smtp://127.0.0.1:{port}"
        with app.app_context():
            batches = max(1, -(-send_people // PEOPLE_PER_BATCH))
            report, seconds = timed(send_due, max_batches=batches)
            sent_rows = db.session.scalar(select(func.count(Outbox.id)).where(Outbox.status == "sent"))
            db.session.remove()
    finally:
        sink.terminate()
        sink.wait(timeout=10)
    return report.mails, sent_rows, report.notified, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=50_000)
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--database-url", default=os.environ.get("LEARNING_BENCH_DATABASE_URL"),
                        help="use this database (its data is replaced) instead of fresh ones")
    parser.add_argument("--send", type=int, default=3000, help="people whose mail is sent (0: all)")
    args = parser.parse_args()

    planning = Table(f"Planning reminders for {args.people:,} people",
                     ["database", "run", "seconds", "due", "queued", "target"])
    sending = Table("Sending to a local aiosmtpd (one SMTP connection per run)",
                    ["database", "mails", "reminders", "notifications", "seconds", "mails/s", "target"])
    setup = Table("Generated data", ["database", "generate s", "people", "assignments", "queued per kind"])
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        if args.database_url:
            empty_schema(args.database_url)
            targets = [(args.database_url.split(":", 1)[0], args.database_url)]
        else:
            kinds = {"sqlite": ["sqlite"], "postgresql": ["postgresql"], "both": ["sqlite", "postgresql"]}
            targets = [("SQLite" if k == "sqlite" else "PostgreSQL", fresh_database(k, workdir))
                       for k in kinds[args.database]]
        for name, url in targets:
            print(f"{name}: generating {args.people:,} people ...", flush=True)
            app, generated, counts = build(url, workdir, args.people)
            rows, per_kind = measure_planning(app)
            for label, seconds, considered, new in rows:
                planning.add(name, label, f"{seconds:.2f}", considered, new,
                             target(seconds < PLAN_TARGET_S, f"< {PLAN_TARGET_S:.0f} s"))
            setup.add(name, f"{generated:.1f}", counts.get("people", args.people), counts.get("assignments", "?"),
                      ", ".join(f"{k.split('.', 1)[1]}={v}" for k, v in per_kind.items() if v))
            print(f"{name}: sending ...", flush=True)
            mails, sent, notified, seconds = measure_sending(app, args.send or 10**9)
            rate = mails / seconds if seconds else 0.0
            sending.add(name, mails, sent, notified, f"{seconds:.2f}", f"{rate:.0f}",
                        target(rate >= SEND_TARGET_PER_S, f">= {SEND_TARGET_PER_S:.0f}/s"))
            with app.app_context():
                from learning.db import db

                db.engine.dispose()
            for table in (setup, planning, sending):  # after each database, so that a later failure keeps these
                table.print()


if __name__ == "__main__":
    main()
