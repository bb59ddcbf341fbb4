"""``flask courses ...``: sync courses from their files, export and import course zips, assign them by the rules."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from learning.i18n import in_english

courses_cli = AppGroup("courses", help="Courses: sync them from files, export and import them as zips, assign them.")
commands = (courses_cli,)


@courses_cli.command("sync")
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option("--check", is_flag=True, help="Only check the course files; write nothing.")
@in_english
def sync(directory: Path | None, check: bool) -> None:
    """Check every course in DIRECTORY (default: the courses folder), then sync them into the database.

    Every problem is printed as FILE:LINE: reason; with any problem nothing is written. The
    accessibility check of the lessons is part of the check: its errors are problems, its warnings
    are printed. A course naming a rollout phase the database does not know is loaded without the
    phase link (a warning). Courses uploaded in the browser are never touched: a folder of the
    same name is skipped (a warning), and they are not archived when no folder names them.
    With --check no database is needed: phase references are checked only where one with the
    schema is reachable.
    """
    from learning.db import unit_of_work
    from learning.training.sync import Problem, known_phases, phases_if_available, read_courses, sync_courses

    root = directory or Path(current_app.config["COURSES_DIR"])
    phases = phases_if_available() if check else known_phases()
    warnings: list[Problem] = []
    specs, problems = read_courses(root, phases, warnings)
    for problem in (*problems, *warnings):
        click.echo(str(problem), err=True)
    if problems:
        raise click.ClickException(f"{len(problems)} problem(s) in {root}; nothing was written.")
    if check:
        if phases is None:
            click.echo("Rollout phase references were not checked: no reachable database with the schema "
                       "(run `flask db upgrade` to check them too).")
        click.echo(f"{len(specs)} course(s) in {root} checked: no problems"
                   + (f", {len(warnings)} warning(s)." if warnings else "."))
        return
    with unit_of_work():
        result = sync_courses(specs)
    for slug in result.skipped:
        click.echo(f"{root / slug}: warning: course {slug!r} was uploaded in the browser and is not managed as "
                   "files: this folder is not synced (rename it, or archive the uploaded course first)", err=True)
    click.echo(f"Courses from {root}: {result.summary()}")


@courses_cli.command("export")
@click.argument("slug")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True, path_type=Path),
              help="Where to write the zip (default: SLUG.zip in the current folder).")
@in_english
def export(slug: str, output: Path | None) -> None:
    """Export course SLUG as a zip in the courses/ folder format (for an upload or the courses folder)."""
    from learning.errors import ServiceError
    from learning.training.exchange import course_for_exchange, export_course

    try:
        data = export_course(course_for_exchange(slug))
    except ServiceError as error:
        raise click.ClickException(str(error)) from None
    output = output or Path(f"{slug}.zip")
    output.write_bytes(data)
    click.echo(f"Course {slug} exported to {output} ({len(data)} bytes).")


@courses_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@in_english
def import_zip(file: Path) -> None:
    """Import a course zip as an upload in the browser does: checked like `sync --check`, all or nothing.

    A course managed as files (from the courses folder) is never overwritten by an import.
    """
    from learning.db import unit_of_work
    from learning.training.exchange import CourseImportError, ZipLimits, import_course

    limits = ZipLimits.from_config(current_app.config)
    if file.stat().st_size > limits.max_bytes:
        raise click.ClickException(f"{file} is larger than {limits.max_bytes // (1024 * 1024)} MB "
                                   "(LEARNING_COURSE_ZIP_MAX_MB).")
    try:
        with file.open("rb") as data, unit_of_work():
            result = import_course(data, limits=limits)
    except CourseImportError as error:
        for line in (*error.problems, *error.warnings):
            click.echo(line, err=True)
        raise click.ClickException(f"{error} ({file})") from None
    for line in result.warnings:
        click.echo(line, err=True)
    click.echo(f"Imported {file}: {result.summary()}")


@courses_cli.command("assign")
@in_english
def assign() -> None:
    """Apply the assignment rules to everyone and print what changed (safe to run any time)."""
    from learning.db import unit_of_work
    from learning.i18n import local_today
    from learning.training.rules import apply_rules

    with unit_of_work():
        result = apply_rules(local_today())
    click.echo(f"created: {result.created}, updated: {result.updated}, withdrawn: {result.withdrawn}, "
               f"kept (started, no longer matching): {result.kept_unmatched}")


@courses_cli.command("allow-attempts")
@click.argument("username")
@click.argument("slug")
@click.option("--count", default=1, show_default=True, type=click.IntRange(1, 100),
              help="How many further quiz attempts to allow.")
@in_english
def allow_attempts(username: str, slug: str, count: int) -> None:
    """Allow USERNAME further attempts at the quiz of course SLUG beyond the course's limit."""
    from sqlalchemy import select

    from learning.db import db, unit_of_work
    from learning.errors import ServiceError
    from learning.org.models import User
    from learning.training.models import Course
    from learning.training.quiz import grant_attempts

    user = db.session.scalar(select(User).where(User.username == username))
    course = db.session.scalar(select(Course).where(Course.slug == slug))
    if user is None:
        raise click.ClickException(f"No person with the user name {username!r}.")
    if course is None:
        raise click.ClickException(f"No course {slug!r}.")
    try:
        with unit_of_work():
            assignment = grant_attempts(user, course, count)
    except ServiceError as error:
        raise click.ClickException(str(error)) from None
    total = course.max_attempts + assignment.extra_attempts if course.max_attempts else "unlimited"
    click.echo(f"{username} may now make {total} attempt(s) in all at the quiz of {slug}.")
