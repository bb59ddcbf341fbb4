"""Onboarding's items of the start page's *What to do next* list: the person's own open tasks."""

from __future__ import annotations

from datetime import date

from flask import current_app, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from learning.home.upnext import NextItem, next_source
from learning.onboarding.access import shows_in_navigation
from learning.onboarding.journeys import my_journey
from learning.onboarding.tasks import my_tasks
from learning.org.models import User

FROM_EACH = 3  # the next few tasks of the own journey and of those for new colleagues


@next_source("onboarding", order=40)
def open_tasks(user: User, today: date) -> list[NextItem]:
    """The next tasks of the person's own first weeks and of the new colleagues they help.

    A fixed number of queries: one to see whether onboarding concerns the person at all, then the
    own journey with its tasks and the first page of tasks for new colleagues.
    """
    if not shows_in_navigation(user):
        return []
    authored = current_app.config["DEFAULT_LOCALE"]
    lang = authored if str(get_locale()) != authored else None
    items = []
    journey = my_journey(user, today)
    if journey is not None:
        items += [NextItem(title=item.task.title, kind=_("My first weeks"), url=url_for("onboarding.my_journey"),
                           action=_("Open my first weeks"), due_on=item.due_on, lang=lang)
                  for item in journey.next_items[:FROM_EACH]]
    tasks = my_tasks(user, today, show="open", per_page=FROM_EACH)
    items += [NextItem(title=item.task.title, kind=_("Onboarding task"), url=url_for("onboarding.my_tasks"),
                       action=_("Open task"), due_on=item.due_on,
                       detail=_("for %(name)s", name=item.journey.new_hire.full_name), lang=lang)
              for item in tasks.items if not item.done]
    return items
