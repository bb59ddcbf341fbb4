"""``flask metrics snapshot``: store the day's acceptance metrics (what the daily job runs)."""

from __future__ import annotations

from datetime import date, timedelta

import click
from flask.cli import AppGroup

from learning.db import unit_of_work
from learning.i18n import in_english, local_today

metrics_cli = AppGroup("metrics", help="Acceptance metrics: daily snapshots for dashboards and trends.")
commands = (metrics_cli,)


def _day(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)", param_hint=option) from None


@metrics_cli.command("snapshot")
@click.option("--date", "day", metavar="YYYY-MM-DD", help="The day to compute (default: today).")
@click.option("--backfill", metavar="YYYY-MM-DD", help="Compute every day from this one up to --date.")
@in_english
def snapshot_command(day: str | None, backfill: str | None) -> None:
    """Compute every metric as of a day and store it; running it again replaces that day's figures."""
    from learning.metrics.services import snapshot

    last = _day(day, "--date") or local_today()
    first = _day(backfill, "--backfill") or last
    if first > last:
        raise click.BadParameter("must not be after --date", param_hint="--backfill")
    if last > local_today():
        raise click.BadParameter("lies in the future", param_hint="--date")
    current = first
    while current <= last:
        with unit_of_work():
            count = snapshot(current)
        click.echo(f"{current.isoformat()}: {count} figures stored")
        current += timedelta(days=1)
