"""Cards that features add to the home page, so that home does not import every feature.

A feature registers a loader with ``@home_panel("feature/_home.html", order=...)`` in its module
``learning/<feature>/cards.py`` (found by ``learning.plugins.discover``); the loader takes the
user and today's date and returns the template's context, or ``None`` when the card does not
concern the user. Each loader runs a fixed number of queries.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from learning.plugins import discover


@dataclass(frozen=True)
class Panel:
    template: str
    load: Callable
    order: int


PANELS: list[Panel] = []


def home_panel(template: str, order: int = 50):
    def register(load: Callable) -> Callable:
        PANELS.append(Panel(template, load, order))
        PANELS.sort(key=lambda panel: (panel.order, panel.template))
        return load

    return register


def panels_for(user, today: date) -> list[tuple[str, dict]]:
    """(template, context) of every card that concerns the user, in order."""
    discover()
    shown = []
    for panel in PANELS:
        context = panel.load(user, today)
        if context is not None:
            shown.append((panel.template, context))
    return shown
