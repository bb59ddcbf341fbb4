"""The surveys card of the home page: open surveys the person has not answered yet."""

from __future__ import annotations

from datetime import date

from learning.home.panels import home_panel
from learning.org.models import User
from learning.surveys.taking import open_surveys_for


@home_panel("surveys/_home.html", order=30)
def home_surveys(user: User, today: date) -> dict | None:
    """The open surveys the person has not answered yet, for the home page card."""
    pending = [item for item in open_surveys_for(user, today) if not item.answered]
    return {"surveys": pending} if pending else None
