"""``flask media check``: the media folder and the library agree (run it after restoring a backup)."""

from __future__ import annotations

import time

import click
from flask.cli import AppGroup

from learning.media.store import check_store

media_cli = AppGroup("media", help="The media store (LEARNING_MEDIA_DIR).")
commands = (media_cli,)


@media_cli.command("check")
@click.option("--remove", is_flag=True, help="Remove files no library entry refers to and stale partial uploads.")
def check_command(remove: bool) -> None:
    """List files the library lacks, files nothing refers to and uploads left half written."""
    report = check_store(time.time())
    for name in report.missing:
        click.echo(f"missing: {name} (the library refers to it; restore it from the backup)")
    for path in [*report.orphans, *report.partials]:
        click.echo(f"{'removed' if remove else 'unused'}: {path}")
        if remove:
            path.unlink(missing_ok=True)
    click.echo(f"{len(report.missing)} missing, {len(report.orphans)} unused, {len(report.partials)} partial.")
    if report.missing:
        raise SystemExit(1)
