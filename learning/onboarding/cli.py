"""``flask onboarding``: catch up on journeys and install the starter template."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import select

from learning.db import db, unit_of_work
from learning.errors import ServiceError
from learning.guards import FIRST_DAY, LAST_DAY
from learning.i18n import local_today
from learning.onboarding.models import JOURNEY_WINDOW_DAYS, JourneyTemplate
from learning.onboarding.starter import DEFAULT_DESCRIPTION, DEFAULT_NAME, DEFAULT_TASKS, install
from learning.onboarding.sync import sync_journeys

onboarding_cli = AppGroup("onboarding", help="Onboarding journeys for new staff.")
commands = (onboarding_cli,)


@onboarding_cli.command("sync")
def sync_command() -> None:
    """Start, move and close journeys to match people's start dates and status.

    The platform does this by itself whenever people are created, changed or imported; run this
    after installing onboarding, or if that ever failed (the log says so).
    """
    with unit_of_work():
        result = sync_journeys(None, local_today())
    click.echo(f"Onboarding journeys: {result.started} started, {result.moved} moved, {result.closed} closed, "
               f"{result.reopened} reopened (people whose start date is at most {JOURNEY_WINDOW_DAYS} days ago).")
    if result.skipped:
        click.echo(f"Skipped {len(result.skipped)} person(s) whose start date is outside {FIRST_DAY} … {LAST_DAY} "
                   f"(ids {', '.join(map(str, result.skipped))}); correct it on their page.", err=True)


@onboarding_cli.command("starter-template")
def starter_template_command() -> None:
    """Install a German default template with tasks for the first 100 days, if there is no default yet."""
    if db.session.scalar(select(JourneyTemplate.id).where(JourneyTemplate.department_id.is_(None),
                                                          JourneyTemplate.active.is_(True))) is not None:
        click.echo("There is a default template already; nothing installed.")
        return
    try:
        with unit_of_work():
            template = install(DEFAULT_NAME, DEFAULT_DESCRIPTION, DEFAULT_TASKS)
    except ServiceError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Default template “{template.name}” installed with {len(DEFAULT_TASKS)} tasks. "
               "Adapt it on the page Onboarding > Journey templates.")
