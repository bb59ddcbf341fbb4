"""``flask reminders plan`` and ``flask outbox send``: what the scheduler's jobs call, by hand."""

from __future__ import annotations

from collections import Counter

import click
from flask.cli import AppGroup

from learning.i18n import in_english

reminders_cli = AppGroup("reminders", help="Reminders: plan what is due into the outbox.")
outbox_cli = AppGroup("outbox", help="The outbox: send what is due, show and retry.")
commands = (reminders_cli, outbox_cli)

SAMPLE = 5


@reminders_cli.command("plan")
@click.option("--dry-run", is_flag=True, help="Print what would be queued; queue nothing.")
@click.option("--verbose", "-v", is_flag=True, help="Also list a few reminders of each kind.")
@in_english
def plan_command(dry_run: bool, verbose: bool) -> None:
    """Plan every due reminder into the outbox (a reminder already there is never queued again)."""
    from learning.messaging.reminders import plan_reminders
    from learning.scheduler.leadership import instance_name
    from learning.scheduler.services import run_recorded

    if dry_run:
        result = plan_reminders(dry_run=True)
    else:
        holder = {}
        run_recorded("reminders.plan", lambda: holder.setdefault("result", plan_reminders()).counts(),
                     f"command line {instance_name()}")
        result = holder.get("result")
        if result is None:
            raise click.ClickException("planning failed; see the log and the scheduler page")
    verb = "would be queued" if dry_run else "queued"
    click.echo(f"Reminders at {result.at.now:%Y-%m-%d %H:%M} UTC (local day {result.at.today}):")
    for plan in result.kinds:
        click.echo(f"  {plan.kind.name:32} {len(plan.planned):6} due, {plan.new:6} {verb}")
        if verbose:
            for row in plan.planned[:SAMPLE]:
                click.echo(f"      user {row.user_id}: {row.subject_key} {row.period_key}")
    click.echo(f"Total: {result.considered} due, {result.new} {verb}.")


@outbox_cli.command("send")
@click.option("--now", "ignore_schedule", is_flag=True,
              help="Mail at once, ignoring digests, mail hours and the daily cap.")
@in_english
def send_command(ignore_schedule: bool) -> None:
    """Send what is due: re-check, notify in-app, mail within each person's budget."""
    from learning.messaging.outbox import send_due
    from learning.scheduler.leadership import instance_name
    from learning.scheduler.services import run_recorded

    holder = {}
    run = run_recorded("outbox.send", lambda: holder.setdefault("report", send_due(
        ignore_schedule=ignore_schedule)).counts(), f"command line {instance_name()}")
    report = holder.get("report")
    if report is None:
        raise click.ClickException(f"sending failed: {run.message}")
    click.echo(f"Outbox: {report.claimed} claimed, {report.mails} mail(s) with {report.sent} reminder(s), "
               f"{report.notified} notification(s), {report.dropped} dropped, {report.waiting} waiting, "
               f"{report.retrying} to retry, {report.failed} failed, {report.unconfirmed} not confirmed.")
    if report.smtp_unavailable:
        raise click.ClickException("the SMTP server could not be reached; the messages wait and are retried")


@outbox_cli.command("status")
@in_english
def status_command() -> None:
    """Count the outbox rows by status and list the latest failures."""
    from sqlalchemy import select

    from learning.db import db
    from learning.messaging.models import Outbox, OutboxStatus
    from learning.messaging.outbox import status_counts

    counts = status_counts()
    click.echo(", ".join(f"{status}: {count}" for status, count in counts.items()))
    failed = db.session.scalars(select(Outbox).where(Outbox.status == OutboxStatus.FAILED.value)
                                .order_by(Outbox.id.desc()).limit(10)).all()
    for row in failed:
        click.echo(f"  failed #{row.id} user {row.user_id} {row.kind}: {row.last_error}")
    waiting = Counter(row for row in db.session.scalars(
        select(Outbox.kind).where(Outbox.status == OutboxStatus.QUEUED.value)))
    for kind, count in sorted(waiting.items()):
        click.echo(f"  queued {kind}: {count}")


@outbox_cli.command("retry-failed")
@in_english
def retry_failed_command() -> None:
    """Queue every failed message again, with fresh attempts."""
    from learning.db import unit_of_work
    from learning.messaging.outbox import retry_all_failed

    with unit_of_work():
        count = retry_all_failed(None)
    click.echo(f"{count} failed message(s) queued again.")
