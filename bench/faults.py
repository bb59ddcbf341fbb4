"""Fault drills: PostgreSQL restarted under load, and the active scheduler killed while it sends.

    .venv/bin/python bench/faults.py [--employees 2000] [--drill restart|scheduler|both] [--quick]

Both drills use the database ``bench`` (or LEARNING_BENCH_DATABASE) on the local PostgreSQL (trust
auth, user postgres; see LEARNING_BENCH_POSTGRES in bench/pages.py), dropped and created for each
drill; never ``test``. The restart cuts every connection to the cluster: when other databases are
in use (someone's tests), the drill is not run unless ``--force-restart`` is given.

Restart: signed-in people read pages under gunicorn while the cluster is restarted with
``pg_ctlcluster --skip-systemctl-redirect <version> main restart``. The app must answer again
within seconds after the database is back (the engine pings pooled connections before use) and
answer no 500 after it has recovered. Printed: time to recovery and the answers before, during
and after the restart.

Scheduler takeover: two ``flask scheduler`` processes (one leads, one waits) plan and send the
reminders of a generated organisation to a local SMTP sink (aiosmtpd) that takes a little time per
message; the leader is killed with SIGKILL while it sends. The standby must take over, and in the
end every reminder is planned once, every sent one arrived, and no mail arrived twice. A mail the
leader had handed to the server when it died counts as sent, "not confirmed" (not sent again).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from email import message_from_bytes
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402

from bench.load import (  # noqa: E402
    BENCH_DATABASE,
    Browser,
    Gunicorn,
    free_port,
    fresh_database,
    platform_env,
    sign_in,
)
from bench.report import Table, target  # noqa: E402

RECOVERY_GOAL_S = 10  # "answers again within seconds after the database is back"
CLAIM_SECONDS = 30  # the drill's outbox claim lease: a dead leader's rows go out again this long later


def postgres_version() -> str:
    versions = sorted(os.listdir("/etc/postgresql"))
    if not versions:
        raise RuntimeError("no PostgreSQL cluster under /etc/postgresql")
    return versions[-1]


def restart_postgres() -> float:
    """Restart the local cluster; return how long the command took (it waits for the server)."""
    started = time.monotonic()
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", postgres_version(), "main", "restart"],
                   check=True, capture_output=True, timeout=120)
    return time.monotonic() - started


def wait_for_database(url: str, timeout: float = 60) -> float:
    """Seconds until a new connection to ``url`` succeeds."""
    started = time.monotonic()
    engine = create_engine(url, pool_pre_ping=True)
    try:
        while time.monotonic() - started < timeout:
            try:
                with engine.connect() as conn:
                    conn.execute(text("SELECT 1"))
                return time.monotonic() - started
            except Exception:  # noqa: BLE001 (still starting)
                time.sleep(0.05)
        raise RuntimeError(f"database not back after {timeout} s")
    finally:
        engine.dispose()


def fresh_platform(size: int, workdir: Path) -> str:
    from bench.pages import build

    url = fresh_database("postgresql", workdir, size)
    app, generated, _ = build(url, workdir, size)
    with app.app_context():
        from learning.db import db

        db.engine.dispose()
    print(f"PostgreSQL: {size} people generated in {generated:.1f} s", flush=True)
    return url


# PostgreSQL restarted during load -----------------------------------------------------------------

def others_connected() -> dict[str, int]:
    """Connections to databases of the cluster other than ours (whom a restart would cut off)."""
    from bench.pages import POSTGRES

    engine = create_engine(f"{POSTGRES}/postgres")
    try:
        with engine.connect() as conn:
            return dict(conn.execute(text(
                "SELECT datname, count(*) FROM pg_stat_activity WHERE datname IS NOT NULL AND datname <> :ours "
                "AND pid <> pg_backend_pid() GROUP BY datname"), {"ours": BENCH_DATABASE}).all())
    finally:
        engine.dispose()


def restart_drill(size: int, workdir: Path, people: int, before: float, after: float, workers: int,
                  force: bool = False) -> Table:
    table = Table("PostgreSQL restarted under load (gunicorn, signed-in people reading pages)",
                  ["phase", "seconds", "requests", "answers", "target"])
    others = wait_until(lambda: not others_connected(), 60, 2) is None and others_connected()
    if others and not force:
        table.add("restart drill", "", "", "not run: other databases are in use (" + ", ".join(
            f"{name}: {n} connections" for name, n in others.items()) + "); --force-restart runs it anyway",
            "MISSED (drill not run)")
        return table
    url = fresh_platform(size, workdir)
    with Gunicorn("wsgi:app", platform_env(url, workdir / "instance"), workdir / "logs" / "restart.log",
                  workers, probe="/healthz") as server:
        events, marks = asyncio.run(_restart_under_load(server.port, url, people, before, after))
    back = marks["database back"]
    recovered_at = next((t for t, status in events if t >= back and status == 200), None)
    phases = [("before the restart", 0.0, marks["restart"]),
              ("restart until the database is back", marks["restart"], back),
              ("database back until the app answers", back, recovered_at if recovered_at is not None else back),
              ("after recovery", recovered_at if recovered_at is not None else float("inf"), float("inf"))]
    for label, start, end in phases:
        answers = Counter(status for t, status in events if start <= t < end)
        seconds = (min(end, events[-1][0]) - start) if events and end > start else 0.0
        goal = "–"
        if label == "after recovery":
            bad = sum(n for status, n in answers.items() if status != 200)
            goal = target(recovered_at is not None and bad == 0, "no 500, no error")
        if label == "database back until the app answers":
            goal = target(recovered_at is not None and recovered_at - back <= RECOVERY_GOAL_S,
                          f"≤ {RECOVERY_GOAL_S} s after the database is back")
        table.add(label, f"{max(seconds, 0):.1f}", sum(answers.values()),
                  ", ".join(f"{k}: {v}" for k, v in sorted(answers.items(), key=lambda kv: str(kv[0]))) or "–", goal)
    recovery = f"{recovered_at - back:.2f} s" if recovered_at is not None else "never"
    table.add("time to recovery", "", "", f"restart command {marks['restart took']:.1f} s; first 200 {recovery} "
              "after the database accepted connections", "")
    return table


async def _restart_under_load(port: int, url: str, count: int, before: float, after: float):
    browsers = []
    for n in range(count):
        browser = Browser(port, timeout=15)
        await sign_in(browser, f"p{n + 1:06d}")
        browsers.append(browser)
    events: list[tuple[float, int | str]] = []
    marks: dict[str, float] = {}
    started = time.monotonic()
    stop = asyncio.Event()

    async def reader(n: int, browser: Browser) -> None:
        rng = random.Random(n)
        while not stop.is_set():
            path = rng.choice(("/", "/learning/", "/announcements/"))
            try:
                reply = await browser.get(path)
                events.append((time.monotonic() - started, reply.status))
            except (TimeoutError, OSError, asyncio.IncompleteReadError) as exc:
                events.append((time.monotonic() - started, type(exc).__name__))
                await browser.close()
            await asyncio.sleep(rng.uniform(0.05, 0.3))

    tasks = [asyncio.create_task(reader(n, b)) for n, b in enumerate(browsers)]
    await asyncio.sleep(before)
    marks["restart"] = time.monotonic() - started
    marks["restart took"] = await asyncio.to_thread(restart_postgres)
    await asyncio.to_thread(wait_for_database, url)
    marks["database back"] = time.monotonic() - started
    await asyncio.sleep(after)
    stop.set()
    await asyncio.gather(*tasks)
    for browser in browsers:
        await browser.close()
    events.sort(key=lambda e: e[0])
    return events, marks


# The active scheduler killed while it sends -------------------------------------------------------

def scheduler_available() -> str | None:
    """None when ``flask scheduler`` and the outbox exist; otherwise what is missing."""
    missing = [path for path in ("learning/scheduler/cli.py", "learning/scheduler/runner.py",
                                 "learning/messaging/outbox.py") if not (ROOT / path).exists()]
    if missing:
        return "missing: " + ", ".join(missing)
    try:
        from learning.messaging.models import Outbox  # noqa: F401
        from learning.messaging.outbox import claim_lease, message_id_for  # noqa: F401
    except ImportError as exc:
        return f"the outbox cannot be imported: {exc}"
    return None


class MailSink:
    """An SMTP server on 127.0.0.1 that keeps the Message-ID and recipient of every mail and answers slowly."""

    def __init__(self, delay: float):
        self.delay = delay
        self.received: list[tuple[str, str, float]] = []  # (message id, recipient, when)
        self.lock = threading.Lock()
        self.port = free_port()
        self.controller = None

    def __enter__(self) -> MailSink:
        from aiosmtpd.controller import Controller

        sink = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                message = message_from_bytes(envelope.original_content or envelope.content)
                with sink.lock:  # as a mail server queues a message once it has the final dot ...
                    sink.received.append((message.get("Message-ID", ""), ",".join(envelope.rcpt_tos),
                                          time.monotonic()))
                await asyncio.sleep(sink.delay)  # ... and takes its time to answer: widens the window for the kill
                return "250 OK"

        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()

    def count(self) -> int:
        with self.lock:
            return len(self.received)


def scheduler_env(url: str, workdir: Path, smtp_port: int) -> dict[str, str]:
    return platform_env(
        url, workdir / "instance", LEARNING_SMTP_URL=f"smtp://127.0.0.1:{smtp_port}",
        LEARNING_MAIL_HOURS="0-24", LEARNING_MAIL_WEEKENDS="1", LEARNING_REMINDER_DIGEST="immediate",
        LEARNING_MAIL_DAILY_CAP="50", LEARNING_OUTBOX_SEND_SECONDS="5", LEARNING_REMINDER_PLAN_MINUTES="1",
        LEARNING_SCHEDULER_LEASE_SECONDS="10", LEARNING_OUTBOX_CLAIM_SECONDS=str(CLAIM_SECONDS))


def start_scheduler(env: dict[str, str], log: Path) -> subprocess.Popen:
    full = {k: v for k, v in os.environ.items() if not k.startswith("LEARNING_")}
    full.update(env)
    with open(log, "ab") as out:
        return subprocess.Popen([str(ROOT / ".venv" / "bin" / "flask"), "--app", "wsgi", "scheduler"], env=full,
                                cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def lease_holder(engine) -> str | None:
    with engine.connect() as conn:
        return conn.execute(text("SELECT holder FROM scheduler_lease WHERE name = 'scheduler'")).scalar()


def outbox_counts(engine) -> dict[str, int]:
    with engine.connect() as conn:
        return dict(conn.execute(text("SELECT status, count(*) FROM outbox GROUP BY status")).all())


def unfinished(engine) -> int:
    """Rows still to be handled now: queued and due, or claimed (a dead sender's claim runs out)."""
    with engine.connect() as conn:
        return conn.execute(text(
            "SELECT count(*) FROM outbox WHERE status = 'sending' OR (status = 'queued' AND next_attempt_at <= now())"
        )).scalar()


def wait_until(condition, timeout: float, step: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(step)
    return None


def scheduler_takeover_drill(size: int, workdir: Path, delay: float, kill_after_mails: int) -> Table:
    """Kill the leading ``flask scheduler`` while it sends; the standby finishes, nothing lost or doubled."""
    missing = scheduler_available()
    table = Table("Scheduler takeover: the leading `flask scheduler` killed (SIGKILL) while it sends",
                  ["check", "figure", "target"])
    if missing:
        table.add("scheduler takeover drill", f"not run: `flask scheduler` or the outbox is not there ({missing})",
                  "MISSED (drill not run)")
        return table
    url = fresh_platform(size, workdir)
    engine = create_engine(url)
    logs = workdir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    with MailSink(delay) as sink:
        env = scheduler_env(url, workdir, sink.port)
        first = start_scheduler(env, logs / "scheduler-a.log")
        second = None
        try:
            holder = wait_until(lambda: (lease_holder(engine) or "").endswith(f":{first.pid}"), 60)
            if not holder:
                raise RuntimeError(f"the first scheduler did not lead; see {logs / 'scheduler-a.log'}")
            second = start_scheduler(env, logs / "scheduler-b.log")
            time.sleep(2)  # the standby is up and polling
            if not wait_until(lambda: sink.count() >= kill_after_mails, 300):
                raise RuntimeError("the leader sent no mail; see the scheduler logs")
            os.killpg(first.pid, signal.SIGKILL)
            killed = time.monotonic()
            first.wait()
            mails_at_kill = sink.count()
            at_kill = outbox_counts(engine)
            took_over = wait_until(lambda: (lease_holder(engine) or "").endswith(f":{second.pid}"), 120, 0.1)
            takeover = time.monotonic() - killed if took_over else None
            # The dead leader's claimed rows wait for their claim lease, then the new leader sends them.
            settle = CLAIM_SECONDS + 120
            print(f"Scheduler drill: leader killed after {mails_at_kill} mails; waiting up to {settle:.0f} s for "
                  "the standby to finish (the dead leader's claims run out first)", flush=True)
            time.sleep(8)  # at least one planning and one sending round of the new leader
            done = wait_until(lambda: unfinished(engine) == 0, settle, 2)
            finished = time.monotonic() - killed
            time.sleep(3)
        finally:
            for process in (first, second):
                if process is not None and process.poll() is None:
                    process.send_signal(signal.SIGTERM)
                    try:
                        process.wait(timeout=30)
                    except subprocess.TimeoutExpired:
                        os.killpg(process.pid, signal.SIGKILL)
                        process.wait()
        received = list(sink.received)

    with engine.connect() as conn:
        rows = conn.execute(text("SELECT id, status, outcome, message_id, user_id, kind, subject_key, period_key "
                                 "FROM outbox")).all()
        doubled_notifications = conn.execute(text(
            "SELECT count(*) FROM (SELECT outbox_id FROM notification WHERE outbox_id IS NOT NULL "
            "GROUP BY outbox_id HAVING count(*) > 1) d")).scalar()
        runs = conn.execute(text("SELECT job_id, count(*) FROM job_run GROUP BY job_id ORDER BY job_id")).all()
    engine.dispose()
    statuses = Counter(r.status for r in rows)
    planned_twice = sum(n > 1 for n in Counter((r.user_id, r.kind, r.subject_key, r.period_key) for r in rows).values())
    arrived = Counter(mid for mid, _rcpt, _t in received)
    sent_ids = {r.message_id for r in rows if r.status == "sent"}
    lost = [mid for mid in sent_ids if mid not in arrived]
    doubled = {mid: n for mid, n in arrived.items() if n > 1}
    left = statuses.get("queued", 0) + statuses.get("sending", 0)

    table.add("reminders planned (outbox rows)", f"{len(rows)}: " + ", ".join(f"{k} {v}" for k, v in
                                                                             sorted(statuses.items())), "–")
    table.add("leader killed", f"after {mails_at_kill} mails; outbox then: " + ", ".join(
        f"{k} {v}" for k, v in sorted(at_kill.items())), "–")
    table.add("standby took over", f"{takeover:.1f} s after the kill" if takeover is not None else "no",
              target(takeover is not None, "takes over"))
    table.add("all reminders handled", f"{finished:.0f} s after the kill" if done else
              f"not within {settle:.0f} s ({left} queued or claimed)", target(bool(done) and left == 0,
                                                                              "nothing left queued or claimed"))
    table.add("planned twice (same person, kind, subject, period)", planned_twice, target(planned_twice == 0, "0"))
    table.add("sent but never arrived", len(lost), target(not lost, "0 lost"))
    unconfirmed = [r.message_id for r in rows if r.status == "sent" and r.outcome == "not confirmed"]
    table.add("handed to the mail server as the leader died (sent, not confirmed, not sent again)",
              f"{len(set(unconfirmed))} mail(s) with {len(unconfirmed)} reminder(s)", "–")
    table.add("mails received", f"{len(received)} ({len(arrived)} distinct Message-IDs)", "–")
    first_arrival = {}
    for mid, _rcpt, when in received:
        first_arrival.setdefault(mid, when)
    around_kill = ", ".join(f"first copy {first_arrival[mid] - killed:+.2f} s from the kill" for mid in doubled)
    table.add("mails that arrived twice (same Message-ID)",
              f"{len(doubled)}" + (f" ({around_kill})" if doubled else ""), target(not doubled, "0 duplicated"))
    table.add("in-app notifications made twice", doubled_notifications, target(doubled_notifications == 0, "0"))
    table.add("job runs recorded", ", ".join(f"{job} {n}" for job, n in runs), "–")
    return table


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--employees", type=int, default=2000)
    parser.add_argument("--drill", choices=("restart", "scheduler", "both"), default="both")
    parser.add_argument("--people", type=int, default=20, help="signed-in people reading during the restart")
    parser.add_argument("--before", type=float, default=10, help="seconds of load before the restart")
    parser.add_argument("--after", type=float, default=20, help="seconds of load after the database is back")
    parser.add_argument("--workers", type=int, default=5)
    parser.add_argument("--force-restart", action="store_true", help="restart PostgreSQL even if others use it")
    parser.add_argument("--mail-delay", type=float, default=0.02, help="seconds the SMTP sink takes per mail")
    parser.add_argument("--kill-after", type=int, default=50, help="kill the leader after this many mails")
    parser.add_argument("--quick", action="store_true", help="small and short, for trying it out")


def apply_quick(args) -> None:
    if args.quick:
        args.employees = min(args.employees, 500)
        args.before, args.after, args.people = min(args.before, 4), min(args.after, 8), min(args.people, 10)
        args.kill_after = min(args.kill_after, 20)


def main(argv: list[str] | None = None) -> list[Table]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    args = parser.parse_args(argv)
    apply_quick(args)
    out = []
    with tempfile.TemporaryDirectory(prefix="learning-faults-") as tmp:
        if args.drill in ("restart", "both"):
            out.append(restart_drill(args.employees, Path(tmp) / "restart", args.people, args.before, args.after,
                                     args.workers, args.force_restart))
        if args.drill in ("scheduler", "both"):
            out.append(scheduler_takeover_drill(args.employees, Path(tmp) / "scheduler", args.mail_delay,
                                                args.kill_after))
    for table in out:
        table.print()
    return out


if __name__ == "__main__":
    main()
