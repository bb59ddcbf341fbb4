"""``flask courses ...``: sync courses from their files and assign them by the rules."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from learning.org.cli import in_english

courses_cli = AppGroup("courses", help="Courses: sync them from files, assign them by the rules.")
commands = (courses_cli,)


@courses_cli.command("sync")
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option("--check", is_flag=True, help="Only check the course files; write nothing.")
@in_english
def sync(directory: Path | None, check: bool) -> None:
    """Check every course in DIRECTORY (default: the courses folder), then sync them into the database.

    Every problem is printed as FILE:LINE: reason; with any problem nothing is written.
    """
    from learning.training.sync import known_phases, read_courses, sync_courses

    root = directory or Path(current_app.config["COURSES_DIR"])
    specs, problems = read_courses(root, known_phases())
    for problem in problems:
        click.echo(str(problem), err=True)
    if problems:
        raise click.ClickException(f"{len(problems)} problem(s) in {root}; nothing was written.")
    if check:
        click.echo(f"{len(specs)} course(s) in {root} checked: no problems.")
        return
    result = sync_courses(specs)
    click.echo(f"Courses from {root}: {result.summary()}")


@courses_cli.command("assign")
@in_english
def assign() -> None:
    """Apply the assignment rules to everyone and print what changed (safe to run any time)."""
    from learning.i18n import local_today
    from learning.training.rules import apply_rules

    result = apply_rules(local_today())
    click.echo(f"created: {result.created}, updated: {result.updated}, withdrawn: {result.withdrawn}, "
               f"kept (started, no longer matching): {result.kept_unmatched}")
