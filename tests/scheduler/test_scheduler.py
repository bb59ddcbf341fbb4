"""The scheduler: its jobs' settings, recorded runs, the database lock, and several instances at once.

On SQLite the lock is the lease row; with LEARNING_TEST_DATABASE_URL pointing at PostgreSQL the same
tests run against the advisory lock.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from flask import current_app
from sqlalchemy import func, select

from learning.db import db, utcnow
from learning.messaging.models import Outbox
from learning.scheduler import registry
from learning.scheduler.leadership import LeaseLeadership, leadership_for
from learning.scheduler.models import JobRun, SchedulerLease
from learning.scheduler.runner import HEARTBEAT_ID, SchedulerProcess
from tests.messaging.conftest import OPEN_BUDGET

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def jobs(monkeypatch):
    """A private copy of the job registry for test jobs."""
    registry.scheduled_jobs()
    monkeypatch.setattr(registry, "_JOBS", dict(registry._JOBS))
    return registry


def _runs(app) -> list[tuple[str, str, str]]:
    with app.app_context():
        return [(r.job_id, r.instance, r.result) for r in db.session.scalars(select(JobRun).order_by(JobRun.id))]


# Jobs -------------------------------------------------------------------------------------------------------------

def test_every_job_has_an_id_coalesce_one_instance_a_misfire_grace_time_and_the_time_zone(app):
    app.config["TIMEZONE"] = "Europe/Vienna"
    process = SchedulerProcess(app, leadership=LeaseLeadership(app, holder="inspector"))
    scheduler = process.build()
    pending = {job.id: (job, replace) for job, _store, replace in scheduler._pending_jobs}
    assert {"reminders.plan", "outbox.send", "retention.apply", "scheduler.prune_runs", HEARTBEAT_ID} <= set(pending)
    for job_id, (job, replace_existing) in pending.items():
        assert job.id == job_id and job.name == job_id
        assert replace_existing is True
        assert job.coalesce is True and job.max_instances == 1
        assert isinstance(job.misfire_grace_time, int) and job.misfire_grace_time > 0
        assert job.trigger.timezone == ZoneInfo("Europe/Vienna")
    assert scheduler.timezone == ZoneInfo("Europe/Vienna")
    plan_job = pending["reminders.plan"][0]
    assert plan_job.trigger.interval == timedelta(minutes=app.config["REMINDER_PLAN_MINUTES"])


def test_a_job_runs_in_an_app_context_and_its_run_is_recorded(app, jobs):
    seen = {}

    @jobs.scheduled_job("test.counting", every=timedelta(minutes=5), misfire_grace_time=30)
    def counting():
        seen["app"] = current_app.name
        return {"counted": 3}

    @jobs.scheduled_job("test.failing", every=timedelta(minutes=5), misfire_grace_time=30)
    def failing():
        raise RuntimeError("database gone")

    process = SchedulerProcess(app, leadership=LeaseLeadership(app, holder="leader"))
    assert process.leadership.acquire()
    for job in jobs.scheduled_jobs():
        if job.id.startswith("test."):
            process._job_runner(job)()  # what APScheduler calls, in its worker thread
    assert seen == {"app": app.name}
    runs = _runs(app)
    assert runs == [("test.counting", "leader", "ok"), ("test.failing", "leader", "error")]
    with app.app_context():
        counting_run, failing_run = db.session.scalars(select(JobRun).order_by(JobRun.id)).all()
        assert counting_run.counts == {"counted": 3} and counting_run.finished_at >= counting_run.started_at
        assert "database gone" in failing_run.message


def test_a_job_does_nothing_without_the_lead(app, jobs):
    ran = []

    @jobs.scheduled_job("test.never", every=timedelta(minutes=5), misfire_grace_time=30)
    def never():
        ran.append(1)

    process = SchedulerProcess(app, leadership=LeaseLeadership(app, holder="standby"))
    process._job_runner(registry._JOBS["test.never"])()
    assert ran == [] and _runs(app) == [] and process.lost.is_set()


def test_scheduler_list_shows_the_jobs(runner):
    result = runner.invoke(args=["scheduler", "--list"])
    assert result.exit_code == 0
    assert "reminders.plan" in result.output and "every 10 minutes" in result.output
    assert "daily at 03:40" in result.output


# The lease (SQLite's lock) -------------------------------------------------------------------------------------------

def test_the_lease_goes_to_one_instance_and_to_another_only_when_it_has_expired(app):
    first = LeaseLeadership(app, holder="first", lease_seconds=30)
    second = LeaseLeadership(app, holder="second", lease_seconds=30)
    start = utcnow()
    with time_machine.travel(start, tick=False):
        assert first.acquire() and not second.acquire()
        assert first.is_leader() and not second.is_leader()
    with time_machine.travel(start + timedelta(seconds=20), tick=False):
        assert first.renew() and not second.acquire()  # renewed: good for another 30 seconds
    with time_machine.travel(start + timedelta(seconds=45), tick=False):
        assert not second.acquire()
    with time_machine.travel(start + timedelta(seconds=51), tick=False):
        assert not first.is_leader()  # it could not renew: it stops acting before the lease is gone
        assert second.acquire()  # expired: taken over
        assert not first.renew()
    with app.app_context():
        assert db.session.get(SchedulerLease, "scheduler").holder == "second"


def test_a_released_lease_is_taken_over_at_once(app):
    first = LeaseLeadership(app, holder="first", lease_seconds=30)
    second = LeaseLeadership(app, holder="second", lease_seconds=30)
    assert first.acquire()
    first.release()
    assert not first.is_leader() and second.acquire()


# Several schedulers ---------------------------------------------------------------------------------------------

@pytest.fixture
def due_today(app, make_user, make_course, make_assignment):
    from learning.i18n import local_today

    app.config.update(OPEN_BUDGET)
    with app.app_context():
        today = local_today()
    course = make_course("pflicht")
    people = [make_user(f"person{n}") for n in range(20)]
    for person in people:
        make_assignment(person, course, due_on=today)
    return people


def _sent(app) -> int:
    with app.app_context():
        count = db.session.scalar(select(func.count(Outbox.id)).where(Outbox.status == "sent"))
        db.session.remove()
        return count


def test_two_schedulers_started_at_once_one_acts_and_every_message_goes_out_once(app, mail_server, due_today):
    app.config.update(SMTP_URL=mail_server.url, OUTBOX_SEND_SECONDS=1)
    stop = threading.Event()
    processes = [SchedulerProcess(app, leadership=leadership_for(app, holder=name, lease_seconds=3))
                 for name in ("scheduler-a", "scheduler-b")]
    threads = [threading.Thread(target=p.run, args=(stop,), daemon=True) for p in processes]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and len(mail_server.messages) < 20:
        time.sleep(0.2)
    time.sleep(1.5)  # time for a second send run, which must find nothing
    stop.set()
    for thread in threads:
        thread.join(timeout=20)
    assert not any(thread.is_alive() for thread in threads)
    assert len(mail_server.messages) == 20
    assert len({m["Message-ID"] for m in mail_server.messages}) == 20
    assert _sent(app) == 20
    actors = {instance for _job, instance, _result in _runs(app)}
    assert len(actors) == 1  # exactly one acted
    assert sorted(p.terms for p in processes) == [0, 1]
    assert {result for _job, _instance, result in _runs(app)} == {"ok"}


def _scheduler_process(database_url: str, tmp_path: Path, name: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEARNING_")}
    env.update(LEARNING_DATABASE_URL=database_url, LEARNING_INSTANCE_PATH=str(tmp_path / name),
               LEARNING_SECRET_KEY="test", LEARNING_SCHEDULER_LEASE_SECONDS="5", LEARNING_MAIL_HOURS="0-24",
               LEARNING_MAIL_WEEKENDS="1", LEARNING_OUTBOX_SEND_SECONDS="5", LEARNING_OUTBOX_CLAIM_SECONDS="5",
               LEARNING_REMINDER_DIGEST="immediate")
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "scheduler"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)


def _holder(app) -> str | None:
    with app.app_context():
        lease = db.session.get(SchedulerLease, "scheduler")
        result = lease.holder if lease is not None and lease.expires_at > utcnow() else None
        db.session.remove()
        return result


def _wait_for(condition, seconds: float) -> float:
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        if condition():
            return time.monotonic() - start
        time.sleep(0.1)
    raise AssertionError(f"not within {seconds} s")


def _diagnosis(app, process: subprocess.Popen) -> str:
    """What the outbox and the job runs looked like, and what the process said, when the work did not get done."""
    with app.app_context():
        rows = db.session.execute(select(Outbox.id, Outbox.status, Outbox.outcome, Outbox.claimed_by,
                                         Outbox.lease_until, Outbox.next_attempt_at, Outbox.last_error)).all()
        runs = db.session.execute(select(JobRun.job_id, JobRun.instance, JobRun.result, JobRun.counts,
                                         JobRun.message).order_by(JobRun.id)).all()
        now = utcnow()
        db.session.remove()
    try:
        said = process.communicate(timeout=20)[1].decode()[-3000:]
    except subprocess.TimeoutExpired:
        said = "(no answer)"
    return f"not all sent; now {now}\noutbox: {rows}\nruns: {runs}\nstandby said: {said}"


def test_a_standby_process_takes_over_when_the_leader_is_killed(app, database_url, tmp_path, due_today):
    leader = _scheduler_process(database_url, tmp_path, "a")
    standby = None
    try:
        _wait_for(lambda: (_holder(app) or "").endswith(f":{leader.pid}"), 30)
        standby = _scheduler_process(database_url, tmp_path, "b")
        time.sleep(3)
        assert _holder(app).endswith(f":{leader.pid}")  # the standby waits
        os.kill(leader.pid, signal.SIGKILL)  # no goodbye: the lease (or the connection) just ends
        leader.wait(timeout=10)
        took = _wait_for(lambda: (_holder(app) or "").endswith(f":{standby.pid}"), 30)
        assert took < 5 + 5 / 3 + 3  # within the lease and one poll (plus start-up slack); far within a minute
        try:
            _wait_for(lambda: _sent(app) == 20, 60)  # and it does the work, incl. rows the leader held when it died
        except AssertionError:
            standby.send_signal(signal.SIGTERM)
            raise AssertionError(_diagnosis(app, standby)) from None
        standby.send_signal(signal.SIGTERM)  # a clean stop hands the lease back
        assert standby.wait(timeout=20) == 0, standby.stderr.read().decode()[-2000:]
        assert _holder(app) is None
    finally:
        for process in (leader, standby):
            if process is not None and process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
    with app.app_context():
        instances = set(db.session.scalars(select(JobRun.instance)))
    assert instances == {i for i in instances if i.endswith((f":{leader.pid}", f":{standby.pid}"))}


# The admin page -----------------------------------------------------------------------------------------------------

@pytest.fixture
def recorded_runs(app):
    def add(count: int) -> None:
        with app.app_context():
            for n in range(count):
                db.session.add(JobRun(job_id="outbox.send" if n % 2 else "reminders.plan", instance="host:1",
                                      started_at=utcnow() - timedelta(minutes=n), finished_at=utcnow(),
                                      result="error" if n == 3 else "ok", counts={"sent": n},
                                      message="SMTP down" if n == 3 else ""))
            db.session.commit()

    return add


def test_the_scheduler_page_shows_the_leader_the_jobs_and_the_runs(app, client, login, people, recorded_runs):
    recorded_runs(5)
    login(client, "admin")
    page = client.get("/admin/scheduler/").get_data(as_text=True)
    assert "No scheduler is running" in page
    assert "reminders.plan" in page and "outbox.send" in page and "retention.apply" in page
    assert "SMTP down" in page and "sent: 4" in page
    LeaseLeadership(app, holder="server-1:4711").acquire()
    page = client.get("/admin/scheduler/?job=outbox.send&result=error").get_data(as_text=True)
    assert "server-1:4711" in page and "No scheduler is running" not in page
    runs = page.split('id="runs-heading"')[1]
    assert "SMTP down" in runs and "reminders.plan</code>" not in runs.split("<tbody")[1]


def test_the_scheduler_page_runs_a_fixed_number_of_queries(client, login, people, recorded_runs, count_queries):
    login(client, "admin")
    recorded_runs(2)
    with count_queries() as few:
        assert client.get("/admin/scheduler/").status_code == 200
    recorded_runs(40)
    with count_queries() as many:
        assert client.get("/admin/scheduler/").status_code == 200
    assert len(few) == len(many)


@pytest.mark.parametrize("role", ["employee", "manager", "project_group"])
def test_only_admins_see_the_scheduler(client, login, people, role):
    login(client, people[role].username)
    assert client.get("/admin/scheduler/").status_code == 403


def test_the_scheduler_page_says_in_words_what_each_run_did(app, client, login, people):
    with app.app_context():
        db.session.add_all([
            JobRun(job_id="reminders.plan", instance="host:1", started_at=utcnow(), finished_at=utcnow(),
                   result="ok", counts={"considered": 128, "queued": 0}),
            JobRun(job_id="outbox.send", instance="host:1", started_at=utcnow(), finished_at=utcnow(),
                   result="ok", counts={}),
            JobRun(job_id="retention.apply", instance="host:1", started_at=utcnow(), finished_at=utcnow(),
                   result="ok", counts={"audit_log": 3, "outbox": 0}),
        ])
        db.session.commit()
    login(client, "admin")
    page = client.get("/admin/scheduler/", headers={"Accept-Language": "de"}).get_data(as_text=True)
    runs = page.split('id="runs-heading"')[1]
    assert "128 mögliche Erinnerungen geprüft, 0 neu geplant" in runs
    assert "nichts war fällig" in runs and "gelöscht: 3 Protokolleinträge" in runs
    assert ">Erinnerungen planen<" in runs  # the job's name, its id only in the technical detail
    assert "<summary>Technische Angaben</summary>" in runs and "<code>reminders.plan</code>" in runs
