"""*What to do next*: the one prioritised list that leads the start page, filled by the features.

A feature adds what a person has to do with ``@next_source("feature", order=...)`` in its module
``learning/<feature>/next.py`` (found by ``learning.plugins.discover``). A source takes the user
and today's date and returns :class:`NextItem` s; it reads them with a fixed number of set-based
queries (one statement for all of the person's items, never one per item), so the list costs the
same whatever the data size (``bench/pages.py`` prints its cost). A source may stop at its
``SHOWN`` most urgent items: no more are shown, and the cards below the list have the rest.

The list is ordered by urgency (:meth:`NextItem.sort_key`):

1. overdue items of any kind, the longest overdue first (an onboarding task a week late comes
   before a mandatory course due in six days);
2. anything due within ``SOON_DAYS``, by due date;
3. the rest in the sources' order (training, announcements to confirm, open surveys, onboarding
   tasks, ...), then by due date.

Within the same due date, mandatory items come first, then the sources' order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from learning.plugins import discover

SOON_DAYS = 14
SHOWN = 5  # items shown on the start page; the rest is counted


@dataclass(frozen=True)
class NextItem:
    """One thing the person should do: what, until when, and the one button that does it."""

    title: str
    kind: str  # what it is, in the reader's language ("Mandatory course", "Announcement", ...)
    url: str
    action: str  # the button's label ("Continue", "Read and confirm", ...)
    due_on: date | None = None
    mandatory: bool = False
    detail: str = ""  # a short second line (for whom, where)
    lang: str | None = None  # the language of the title, when it is authored text in another language

    def urgency(self, today: date) -> int:
        """0 overdue, 1 due within ``SOON_DAYS``, 2 the rest."""
        if self.overdue(today):
            return 0
        if self.due_on is not None and self.due_on <= today + timedelta(days=SOON_DAYS):
            return 1
        return 2

    def sort_key(self, today: date, position: int) -> tuple:
        """Overdue and due-soon items by date (the longest overdue first); the rest by source, then date."""
        urgency = self.urgency(today)
        due = self.due_on or date.max
        if urgency < 2:
            return (urgency, due, not self.mandatory, position, self.title.casefold())
        return (urgency, position, due, not self.mandatory, self.title.casefold())

    def overdue(self, today: date) -> bool:
        return self.due_on is not None and self.due_on < today


@dataclass(frozen=True)
class Source:
    name: str
    load: Callable[..., Iterable[NextItem]]
    order: int


SOURCES: list[Source] = []


def next_source(name: str, order: int = 50):
    """Register a loader ``(user, today) -> Iterable[NextItem]`` for the *What to do next* list."""

    def register(load: Callable) -> Callable:
        SOURCES[:] = [source for source in SOURCES if source.name != name]
        SOURCES.append(Source(name, load, order))
        SOURCES.sort(key=lambda source: (source.order, source.name))
        return load

    return register


@dataclass
class NextList:
    items: list[NextItem]  # the ones shown, in the order of ``NextItem.sort_key``
    more: int  # how many further items the sources returned (a source may stop at SHOWN)

    def __bool__(self) -> bool:
        return bool(self.items)


def next_items(user, today: date, limit: int = SHOWN) -> NextList:
    """The person's next things to do, most urgent first; at most ``limit`` of them, and how many more."""
    discover()
    ranked = []
    for position, source in enumerate(SOURCES):
        for item in source.load(user, today):
            ranked.append((item.sort_key(today, position), item))
    ranked.sort(key=lambda pair: pair[0])
    items = [item for _key, item in ranked]
    return NextList(items=items[:limit], more=max(len(items) - limit, 0))
