"""The personal calendar feed (ICS): dates that features contribute through ``calendar_source``.

A feature registers a source in its ``learning/<feature>/calendar.py`` module (see ``learning.plugins``)::

    @calendar_source("onboarding.tasks", order=20)
    def onboarding_task_events(user: User, today: date) -> Iterable[CalendarEvent]:
        ...  # a fixed number of queries; texts in the reader's language (flask_babel.get_locale())

Events are all-day events on a date, or timed events between two aware datetimes. Each has a
UID that stays the same while the thing it stands for exists, so calendar programs update it in
place when its date moves.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from icalendar import Calendar, Event

from learning.db import utcnow
from learning.mail import absolute_url
from learning.plugins import discover

logger = logging.getLogger(__name__)

FEED_DAYS_BACK = 90  # past events kept in the feed, so that calendars keep recent history


@dataclass(frozen=True)
class CalendarEvent:
    uid: str  # unique within the platform, e.g. "assignment-17"; the host name is added
    start: date | datetime
    summary: str
    description: str = ""
    end: date | datetime | None = None  # default: one day (all-day) or one hour (timed)
    endpoint: str | None = None  # the page for the event: url_for(endpoint, **values)
    values: dict = field(default_factory=dict)
    categories: tuple[str, ...] = ()


Source = Callable[..., Iterable[CalendarEvent]]


@dataclass(frozen=True)
class CalendarSource:
    name: str
    load: Source
    order: int


_SOURCES: dict[str, CalendarSource] = {}


def calendar_source(name: str, order: int = 50):
    """Register ``load(user, today) -> Iterable[CalendarEvent]`` as a source of the calendar feed (decorator)."""

    def register(load: Source) -> Source:
        _SOURCES[name] = CalendarSource(name, load, order)
        return load

    return register


def calendar_sources() -> list[CalendarSource]:
    discover()
    return sorted(_SOURCES.values(), key=lambda s: (s.order, s.name))


def events_for(user, today: date) -> list[CalendarEvent]:
    events = []
    for source in calendar_sources():
        events.extend(source.load(user, today))
    return events


def build_calendar(user, today: date) -> bytes:
    """The person's calendar in their language as an iCalendar document."""
    config = current_app.config
    host = urlsplit(config["BASE_URL"]).hostname or "localhost"
    with force_locale(user.locale or config["DEFAULT_LOCALE"]):
        events = events_for(user, today)
        calendar = Calendar()
        calendar.add("prodid", "-//Lernplattform//Kalender//DE")
        calendar.add("version", "2.0")
        calendar.add("calscale", "GREGORIAN")
        calendar.add("method", "PUBLISH")
        name = _("Learning platform: %(name)s", name=user.full_name)
        calendar.add("x-wr-calname", name)
        calendar.add("name", name)
        calendar.add("x-wr-timezone", config["TIMEZONE"])
        calendar.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
        calendar.add("x-published-ttl", "PT1H")
        stamp = utcnow()
        for item in events:
            event = Event()
            event.add("uid", f"{item.uid}@{host}")
            event.add("dtstamp", stamp)
            event.add("summary", item.summary)
            event.add("dtstart", item.start)
            if item.end is not None:
                event.add("dtend", item.end)
            elif isinstance(item.start, datetime):
                event.add("dtend", item.start + timedelta(hours=1))
            else:
                event.add("dtend", item.start + timedelta(days=1))
            event.add("transp", "TRANSPARENT")  # a due date does not make anyone busy
            url = absolute_url(item.endpoint, **item.values) if item.endpoint else None
            description = "\n\n".join(part for part in (item.description, url) if part)
            if description:
                event.add("description", description)
            if url:
                event.add("url", url)
            if item.categories:
                event.add("categories", list(item.categories))
            calendar.add_component(event)
    return calendar.to_ical()
