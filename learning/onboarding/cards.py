"""Onboarding's card on the home page."""

from __future__ import annotations

from datetime import date

from learning.home.panels import home_panel
from learning.onboarding.access import shows_in_navigation
from learning.onboarding.journeys import my_journey
from learning.onboarding.tasks import my_tasks, overdue_count
from learning.org.models import User


@home_panel("onboarding/_home.html", order=20)
def home_card(user: User, today: date) -> dict | None:
    """The new hire's first weeks, and the open tasks of those who help them (nothing for anyone else)."""
    if not shows_in_navigation(user):
        return None
    journey = my_journey(user, today)
    tasks = my_tasks(user, today, show="open", per_page=3)
    if journey is None and not tasks.total and not tasks.needs_buddy:
        return None
    overdue = overdue_count(user, today) if tasks.total else 0
    return {"journey": journey, "tasks": tasks, "overdue": overdue}
