"""``flask directory sync [--dry-run]``: the organisation's directory fills and maintains the platform's people."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from learning.db import unit_of_work
from learning.i18n import in_english

directory_cli = AppGroup("directory", help="The organisation's directory (LDAP / Active Directory).")
commands = (directory_cli,)

MAX_LISTED = 50


@directory_cli.command("sync")
@click.option("--dry-run", is_flag=True, help="Show what the sync would change; change nothing.")
@in_english
def sync_command(dry_run: bool) -> None:
    """Create, update, deactivate and reactivate people from the directory (the README's *Directory sync* section).

    The directory's data is checked first: with any problem, each is listed as DN: reason and nothing
    is written. A run that would deactivate more than the allowed share of active people stops.
    """
    from learning.directory.sync import SyncFailed, SyncNotPossible, run_directory_sync

    try:
        with unit_of_work():  # a refused or stopped run still writes its audit entry
            plan = run_directory_sync(actor=None, dry_run=dry_run)
    except (SyncNotPossible, SyncFailed) as error:
        raise click.ClickException(f"The sync failed and nothing was written: {error}") from None
    if plan.problems:
        for problem in plan.problems:
            click.echo(problem.describe(), err=True)
        raise click.ClickException(f"{len(plan.problems)} problem(s) in the directory; nothing was written.")
    if plan.stopped is not None:
        raise click.ClickException(str(plan.stopped))
    for change in plan.listed(MAX_LISTED):
        click.echo(f"{change.outcome}: {change.name} <{change.email}>: {' '.join(str(r) for r in change.reasons)}")
    prefix = "Dry run, nothing was written: " if dry_run else ""
    click.echo(prefix + plan.summary())
