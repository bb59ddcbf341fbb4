"""``flask content rerender``: render every stored Markdown text again after the renderer changed."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from learning.i18n import in_english

content_cli = AppGroup("content", help="Authored Markdown: its stored HTML.")
commands = (content_cli,)


@content_cli.command("rerender")
@click.option("--all", "everything", is_flag=True, help="Render every text, not only those of older renderer versions.")
@in_english
def rerender_command(everything: bool) -> None:
    """Store the HTML of every text written with an older renderer version (or of all, with --all).

    Run it after ``flask db upgrade`` whenever an update raised ``RENDERER_VERSION``; it changes
    nothing when everything is current, so deployments may always run it.
    """
    from learning.content import RENDERER_VERSION, rerender
    from learning.db import db

    with db.engine.begin() as connection:
        counts = rerender(connection, everything=everything)
    total = sum(counts.values())
    for table, count in counts.items():
        if count:
            click.echo(f"{table}: {count} rendered")
    click.echo(f"{total} texts rendered with renderer version {RENDERER_VERSION}.")
