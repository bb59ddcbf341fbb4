"""``flask scheduler``: the scheduler process (run one or more; only one acts at a time)."""

from __future__ import annotations

import signal
import threading

import click
from flask import current_app
from flask.cli import with_appcontext

from learning.db import require_schema
from learning.i18n import in_english


@click.command("scheduler")
@click.option("--list", "list_jobs", is_flag=True, help="List the scheduled jobs and exit.")
@with_appcontext
@in_english
def scheduler_command(list_jobs: bool) -> None:
    """Run the scheduled jobs (reminders, outbox, retention) until stopped with Ctrl-C or SIGTERM.

    Several instances may run (e.g. one per server): one leads and acts, the others wait and take
    over within a minute when it ends.
    """
    from learning.scheduler.registry import scheduled_jobs
    from learning.scheduler.runner import SchedulerProcess

    app = current_app._get_current_object()
    if list_jobs:
        for job in scheduled_jobs():
            click.echo(f"{job.id:28} {job.schedule(app.config):22} {job.description}")
        return
    require_schema()  # without one it would wait for a lease it can never take
    stop = threading.Event()

    def request_stop(signum, frame):
        stop.set()  # the main thread only sets a flag; the watcher thread shuts the scheduler down

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    process = SchedulerProcess(app)
    click.echo(f"Scheduler {process.instance}: time zone {app.config['TIMEZONE']}; waiting for the lead "
               "(stop with Ctrl-C)")
    process.run(stop)


commands = (scheduler_command,)
