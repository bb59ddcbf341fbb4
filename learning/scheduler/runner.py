"""``flask scheduler``: APScheduler's BlockingScheduler in a process of its own, acting only while it leads.

The process waits until it holds the leadership (see ``leadership``), then starts a BlockingScheduler
with every registered job; when it loses the leadership, or is asked to stop, it shuts the scheduler
down (letting running jobs finish) and goes back to waiting, or ends. Each job runs in an app context,
checks that this process still leads, and is recorded (``JobRun``).
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime
from zoneinfo import ZoneInfo

from apscheduler.events import EVENT_SCHEDULER_STARTED
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger
from apscheduler.util import undefined
from flask import Flask

from learning.scheduler.leadership import Leadership, leadership_for
from learning.scheduler.registry import ScheduledJob, scheduled_jobs
from learning.scheduler.services import run_recorded

logger = logging.getLogger(__name__)

HEARTBEAT_ID = "scheduler.heartbeat"


class SchedulerProcess:
    def __init__(self, app: Flask, *, leadership: Leadership | None = None, poll_seconds: float | None = None):
        self.app = app
        self.leadership = leadership or leadership_for(app)
        ttl = self.leadership.ttl.total_seconds()
        # A standby tries this often, so it takes over at most the lease plus this long after a leader died.
        self.poll_seconds = poll_seconds if poll_seconds is not None else max(0.2, min(10.0, ttl / 3))
        self.zone = ZoneInfo(app.config["TIMEZONE"])
        self.lost = threading.Event()
        self.terms = 0  # how often this process became the leader

    @property
    def instance(self) -> str:
        return self.leadership.holder

    def run(self, stop: threading.Event) -> None:
        """Lead whenever possible until ``stop`` is set."""
        logger.info("Scheduler %s started; waiting to lead", self.instance)
        while not stop.is_set():
            if self.leadership.acquire():
                self.terms += 1
                logger.info("Scheduler %s leads", self.instance)
                try:
                    self._lead(stop)
                finally:
                    self.leadership.release()
                    logger.info("Scheduler %s stopped leading", self.instance)
            if not stop.is_set():
                stop.wait(self.poll_seconds)
        logger.info("Scheduler %s ended", self.instance)

    # One term of leadership ---------------------------------------------------------------------------

    def build(self, start_now: datetime | None = None) -> BlockingScheduler:
        """The scheduler with every registered job (and the lease heartbeat), not started."""
        scheduler = BlockingScheduler(timezone=self.zone, executors={"default": ThreadPoolExecutor(4)},
                                      job_defaults={"coalesce": True, "max_instances": 1})
        for job in scheduled_jobs():
            scheduler.add_job(
                self._job_runner(job), trigger=job.trigger(self.app.config, self.zone), id=job.id, name=job.id,
                replace_existing=True, coalesce=True, max_instances=1, misfire_grace_time=job.misfire_grace_time,
                next_run_time=(start_now or datetime.now(self.zone)) if job.run_at_start else undefined)
        ttl = self.leadership.ttl.total_seconds()
        scheduler.add_job(
            self._heartbeat, trigger=IntervalTrigger(seconds=max(ttl / 3, 0.1), timezone=self.zone), id=HEARTBEAT_ID,
            name=HEARTBEAT_ID, replace_existing=True, coalesce=True, max_instances=1,
            misfire_grace_time=max(int(ttl / 3), 1))
        return scheduler

    def _lead(self, stop: threading.Event) -> None:
        self.lost.clear()
        scheduler = self.build()
        started = threading.Event()
        scheduler.add_listener(lambda event: started.set(), EVENT_SCHEDULER_STARTED)
        watcher = threading.Thread(target=self._watch, args=(scheduler, started, stop), name="scheduler-watch",
                                   daemon=True)
        watcher.start()
        scheduler.start()  # blocks until the watcher shuts it down
        watcher.join(timeout=5)

    def _watch(self, scheduler: BlockingScheduler, started: threading.Event, stop: threading.Event) -> None:
        """Shut the scheduler down when asked to stop or when the leadership is lost."""
        while not (stop.is_set() or self.lost.is_set()):
            stop.wait(0.2)
        started.wait()
        scheduler.shutdown(wait=True)  # running jobs finish; no new ones start

    def _heartbeat(self) -> None:
        if not self.leadership.renew():
            logger.warning("Scheduler %s lost the leadership", self.instance)
            self.lost.set()

    def _job_runner(self, job: ScheduledJob):
        def run() -> None:
            if not self.leadership.is_leader():  # never act without the lock, even for a moment
                logger.warning("Job %s skipped: %s does not lead", job.id, self.instance)
                self.lost.set()
                return
            with self.app.app_context():
                run_recorded(job.id, job.func, self.instance)

        run.__name__ = job.id.replace(".", "_")
        return run
