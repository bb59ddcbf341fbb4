"""Surveys' items of the start page's *What to do next* list: open surveys not answered yet."""

from __future__ import annotations

from datetime import date

from flask import url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from learning.home.upnext import NextItem, next_source
from learning.org.models import User
from learning.surveys.taking import open_surveys_for


@next_source("surveys", order=30)
def open_surveys(user: User, today: date) -> list[NextItem]:
    """Surveys open today for the person that they have not answered (five queries), due when they close."""
    locale = str(get_locale())
    return [
        NextItem(title=item.survey.localized_title(locale), kind=_("Survey"),
                 url=url_for("surveys.start", survey_id=item.survey.id), action=_("Take part"),
                 due_on=item.wave.closes_on)
        for item in open_surveys_for(user, today) if not item.answered
    ]
