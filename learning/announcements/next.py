"""Announcements' items of the start page's *What to do next* list: those waiting for confirmation."""

from __future__ import annotations

from datetime import date

from flask import url_for
from flask_babel import gettext as _

from learning.announcements.services import visible_announcements
from learning.home.upnext import NextItem, next_source
from learning.org.models import User


@next_source("announcements", order=20)
def to_confirm(user: User, today: date) -> list[NextItem]:
    """Announcements the person is asked to confirm and has not (two queries)."""
    return [
        NextItem(title=item.announcement.title,
                 kind=_("Announcement, changed") if item.changed_since_ack else _("Announcement"),
                 url=url_for("announcements.detail", announcement_id=item.announcement.id),
                 action=_("Read and confirm"))
        for item in visible_announcements(user) if item.needs_ack
    ]
