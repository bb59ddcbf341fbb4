"""``flask retention run``: delete what has passed its retention period (what the daily job runs)."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from learning.i18n import in_english

retention_cli = AppGroup("retention", help="Data retention: delete raw individual records after their period.")
commands = (retention_cli,)


@retention_cli.command("run")
@click.option("--dry-run", is_flag=True, help="Only count what would be deleted.")
@in_english
def run_command(dry_run: bool) -> None:
    """Delete expired records as set on the admin settings page; aggregates are kept."""
    from learning.db import unit_of_work
    from learning.transparency.retention import apply_retention

    if dry_run:  # outside a unit of work: nothing is committed
        counts = apply_retention(dry_run=True)
    else:
        with unit_of_work():
            counts = apply_retention()
    verb = "would delete" if dry_run else "deleted"
    for name, count in counts.items():
        click.echo(f"{name}: {verb} {count}")
