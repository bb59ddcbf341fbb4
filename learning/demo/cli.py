"""``flask demo load``: the demo municipality for trying the platform out."""

from datetime import datetime
from zoneinfo import ZoneInfo

import click
from flask import current_app
from flask.cli import AppGroup

from learning.demo.data import demo_exists, load_demo

demo_cli = AppGroup("demo", help="Demo municipality “Gemeinde Musterhausen”.")


@demo_cli.command("load")
@click.option("--if-empty", is_flag=True, help="Do nothing (and succeed) when people exist already.")
def load_command(if_empty: bool) -> None:
    """Create the demo municipality with its four demo logins (password: demo)."""
    if demo_exists():
        if if_empty:
            click.echo("Demo data: the database already holds people; nothing loaded.")
            return
        raise click.ClickException("the database already holds people; the demo loads only into an empty one")
    today = datetime.now(ZoneInfo(current_app.config["TIMEZONE"])).date()
    counts = load_demo(today)
    click.echo(
        "Demo municipality Gemeinde Musterhausen loaded: {departments} departments, {teams} teams, "
        "{people} people, {phases} rollout phases, {courses} courses, {rules} assignment rules, "
        "{announcements} announcements, {feedback_posts} feedback posts. "
        "Sign in as anna, mara, paul or admin with the password 'demo'.".format(**counts)
    )
