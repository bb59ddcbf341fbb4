"""Training's items of the start page's *What to do next* list: the person's open courses."""

from __future__ import annotations

from datetime import date

from flask import url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import exists, select

from learning.db import db
from learning.home.upnext import NextItem, next_source
from learning.org.models import User
from learning.training.models import Assignment, Course, CourseCompletion


@next_source("training", order=10)
def open_courses(user: User, today: date) -> list[NextItem]:
    """Assigned courses not yet completed (one query): overdue mandatory ones lead the list."""
    completed = exists().where(CourseCompletion.user_id == Assignment.user_id,
                               CourseCompletion.course_id == Assignment.course_id)
    rows = db.session.execute(
        select(Course.slug, Course.title, Course.title_en, Assignment.due_on, Assignment.mandatory,
               Assignment.started_at)
        .join(Course, Course.id == Assignment.course_id)
        .where(Assignment.user_id == user.id, Assignment.completed_at.is_(None), Course.archived_at.is_(None),
               ~completed)
    ).all()
    english = str(get_locale()) == "en"
    return [
        NextItem(title=(title_en if english and title_en else title),
                 kind=_("Mandatory course") if mandatory else _("Course"),
                 url=url_for("training.course", slug=slug),
                 action=_("Continue course") if started_at else _("Start course"),
                 due_on=due_on, mandatory=mandatory)
        for slug, title, title_en, due_on, mandatory, started_at in rows
    ]
