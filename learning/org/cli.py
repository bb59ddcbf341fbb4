"""``flask users ...``: command-line administration of people."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from learning.db import unit_of_work
from learning.errors import ServiceError
from learning.i18n import in_english
from learning.org.importer import ImportFailed, ImportPlan, apply_import, plan_import

users_cli = AppGroup("users", help="People: import from CSV, create the first administrator.")
commands = (users_cli,)


@users_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, readable=True, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check the file and show what would change; write nothing.")
@click.option("--deactivate-missing", is_flag=True,
              help="Deactivate active people who are not in the file (never the last active admin).")
@in_english
def import_people(file: Path, dry_run: bool, deactivate_missing: bool) -> None:
    """Create or update people from a CSV file (columns: see docs/csv-import.md).

    The whole file is checked first; if any line is wrong, every problem is listed as
    FILE:LINE: reason and nothing is written.
    """
    with file.open("rb") as content:  # read up to the size limit only
        plan = plan_import(content, filename=str(file), actor=None, deactivate_missing=deactivate_missing)
    if not plan.ok:
        for line in plan.problem_lines():
            click.echo(line, err=True)
        raise click.ClickException(f"{len(plan.problems)} problem(s) in {file}; nothing was written.")
    if not dry_run:
        try:
            with unit_of_work(), click.progressbar(length=plan.steps, label="Importing") as bar:
                apply_import(plan, actor=None, on_step=bar.update)
        except ImportFailed as exc:
            raise click.ClickException(f"The import failed and nothing was written: {exc}") from exc
    _echo_report(plan)


@users_cli.command("create-admin")
@click.argument("email")
@click.option("--first-name", required=True)
@click.option("--last-name", required=True)
@click.option("--username", default="", help="Default: derived from the email address.")
@click.option("--invite", is_flag=True, help="Mail a link to set the password instead of asking for it here.")
@in_english
def create_admin(email: str, first_name: str, last_name: str, username: str, invite: bool) -> None:
    """Create an administrator, e.g. the first one of a new installation."""
    from learning.auth.services import send_invitation, validate_new_password
    from learning.mail import MailError
    from learning.org.services import PersonData, create_person
    from learning.roles import Role

    data = PersonData(email=email, first_name=first_name, last_name=last_name, username=username,
                      roles={Role.EMPLOYEE, Role.ADMIN})
    try:
        with unit_of_work():
            user = create_person(data, actor=None)
    except ServiceError as exc:
        raise click.ClickException(str(exc)) from None
    if invite:
        try:
            with unit_of_work():
                send_invitation(user, actor=user)
        except (ServiceError, MailError) as exc:
            raise click.ClickException(f"{user.username} was created, but the mail failed: {exc}") from None
        click.echo(f"Administrator {user.username} created; a link to set the password was mailed to {user.email}.")
        return
    while True:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
        try:
            validate_new_password(user, password)
            break
        except ServiceError as exc:
            click.echo(str(exc), err=True)
    with unit_of_work():
        user.set_password(password)
    click.echo(f"Administrator {user.username} created. Sign in at the platform's address.")


def _echo_report(plan: ImportPlan) -> None:
    separator = {"\t": "tab"}.get(plan.delimiter, plan.delimiter)
    click.echo(f"Read {plan.filename} ({plan.encoding}, separator {separator}): {len(plan.rows)} people.")
    for row in plan.rows:
        click.echo(f"  line {row.line}: {row.outcome} {row.email} ({row.name})")
    for person in plan.deactivated:
        click.echo(f"  deactivated {person.email} ({person.full_name})")
    for kept in plan.kept_active:
        click.echo(f"  kept active {kept.person.email}: {kept.reason}")
    for name in sorted(plan.new_departments.values()):
        click.echo(f"  new department {name}")
    for department, team in sorted(plan.new_teams.values()):
        click.echo(f"  new team {department} / {team}")
    counts = plan.counts
    click.echo(f"created: {counts['created']}, updated: {counts['updated']}, unchanged: {counts['unchanged']}, "
               f"deactivated: {counts['deactivated']}")
    if not plan.applied:
        click.echo("dry run: nothing was written")
