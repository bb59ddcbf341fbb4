"""``flask demo load``: the demo municipality for trying the platform out."""

from datetime import datetime
from zoneinfo import ZoneInfo

import click
from flask import current_app
from flask.cli import AppGroup

from learning.demo.data import demo_exists, load_demo

demo_cli = AppGroup("demo", help="Demo municipality “Gemeinde Musterhausen”.")
commands = (demo_cli,)


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
        "{announcements} announcements, {feedback_posts} feedback posts, {journeys} onboarding journeys, "
        "{surveys} surveys with {survey_responses} responses, {reminders} reminders. "
        "Sign in as anna, mara, paul, lena or admin with the password 'demo'.".format(**counts)
    )


@demo_cli.command("generate")
@click.option("--employees", type=click.IntRange(10, 500_000), required=True, help="How many people to create.")
@click.option("--seed", type=int, default=2030, show_default=True, help="The same seed gives the same data.")
def generate_command(employees: int, seed: int) -> None:
    """Create a realistic organisation of EMPLOYEES people with activity (for benchmarks and sizing).

    Works only on an empty database, like ``demo load``; the logins anna, mara, paul and admin
    (password: demo) exist in it.
    """
    import time

    from learning.demo.generate import generate

    if demo_exists():
        raise click.ClickException("the database already holds people; generate only into an empty one")
    today = datetime.now(ZoneInfo(current_app.config["TIMEZONE"])).date()
    started = time.perf_counter()
    with click.progressbar(length=employees, label="Generating", show_pos=True) as bar:
        seen = {"people": 0}

        def progress(label: str, rows: int) -> None:
            bar.label = f"{label:<20}"
            if label == "people":
                seen["people"] += rows
                bar.update(rows)
            else:
                bar.render_progress()

        counts = generate(employees, seed, today, progress)
    seconds = time.perf_counter() - started
    click.echo(", ".join(f"{name}: {count}" for name, count in counts.items()))
    click.echo(f"Generated in {seconds:.1f} s.")
