"""Onboarding's items of the start page's *What to do next* list: open tasks the person owns."""

from __future__ import annotations

from datetime import date

from flask import current_app, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import aliased

from learning.db import db
from learning.home.upnext import SHOWN, NextItem, next_source
from learning.onboarding.access import owned_by, shows_in_navigation, task_done
from learning.onboarding.models import Journey, JourneyTask, task_due_on
from learning.org.models import User


@next_source("onboarding", order=40)
def open_tasks(user: User, today: date) -> list[NextItem]:
    """The most urgent open tasks the person owns, in their own first weeks and in new colleagues'.

    One query (the navigation's check whether onboarding concerns the person is kept per request).
    """
    if not shows_in_navigation(user):
        return []
    new_hire = aliased(User)
    due = task_due_on().label("due")
    rows = db.session.execute(
        select(JourneyTask.title, Journey.new_hire_id, new_hire.first_name, new_hire.last_name, due)
        .join(Journey, JourneyTask.journey_id == Journey.id)
        .join(new_hire, Journey.new_hire_id == new_hire.id)
        .where(Journey.closed_at.is_(None), owned_by(user, new_hire), ~task_done())
        .order_by(due, JourneyTask.position, JourneyTask.id).limit(SHOWN)
    ).all()
    authored = current_app.config["DEFAULT_LOCALE"]
    lang = authored if str(get_locale()) != authored else None
    items = []
    for title, new_hire_id, first_name, last_name, due_on in rows:
        if new_hire_id == user.id:
            items.append(NextItem(title=title, kind=_("My first weeks"), url=url_for("onboarding.my_journey"),
                                  action=_("Open my first weeks"), due_on=due_on, lang=lang))
        else:
            items.append(NextItem(title=title, kind=_("Onboarding task"), url=url_for("onboarding.my_tasks"),
                                  action=_("Open task"), due_on=due_on,
                                  detail=_("for %(name)s", name=f"{first_name} {last_name}"), lang=lang))
    return items
