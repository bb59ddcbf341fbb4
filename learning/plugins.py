"""Every extension point of the platform, and the one discovery that fills them.

A feature plugs into another through a registry that the *consuming* feature defines (home shows
cards, the scheduler runs jobs, ...). The *providing* feature writes its plug-ins into a module
with a fixed name inside its own folder, ``learning/<feature>/<module>.py``, and nothing else
imports that module for its side effect: ``discover()`` imports every such module of every
feature, eagerly and once per process. ``create_app`` calls it, so do the CLI (through the app),
the scheduler's threads and every registry before it is read, so each code path sees the same
plug-ins whatever it imported before.

The extension points (``EXTENSION_POINTS`` below lists them for tools and tests):

``reminders.py`` — reminder kinds, ``learning.messaging.reminders``::

    kind = reminder_kind("feature.name", label=_l(...), description=_l(...), optional=True,
                         order=50, lookback_days=31)
    @kind.planner      (ctx: PlanContext) -> Iterable[Planned]
    @kind.checker      (items: Sequence[Pending], ctx: PlanContext) -> dict[int, dict]
    @kind.describer    (details: dict, today: date) -> Entry
    @kind.planned      (ctx: PlanContext, planned: list[Planned]) -> None           optional
    @kind.shown_while  (notification, today: date) -> SQL condition                optional

``jobs.py`` — scheduled jobs, ``learning.scheduler.registry``::

    @scheduled_job("feature.name", every=timedelta(...) | cron="m h * * *", misfire_grace_time=...,
                   run_at_start=False, description=_l(...))
    def job() -> dict[str, int] | None            runs inside the runner's unit of work

``metrics.py`` — metric sources, ``learning.metrics.services``::

    @metric_source(METRIC, ..., order=50)
    def source(day: date) -> Iterable[Value]

``calendar.py`` — calendar feed sources, ``learning.notifications.calendar``::

    @calendar_source("feature.name", order=50)
    def source(user, today: date) -> Iterable[CalendarEvent]

``cards.py`` — cards on the home page, ``learning.home.panels``::

    @home_panel("feature/_home.html", order=50)
    def card(user, today: date) -> dict | None     the template's context; None: not for this person

``next.py`` — items of the start page's *What to do next* list, ``learning.home.upnext``::

    @next_source("feature", order=50)
    def items(user, today: date) -> Iterable[NextItem]     a fixed number of set-based queries

``retention.py`` — records deleted after a period, ``learning.transparency.retention``::

    @retention_rule("name", "settings.key_days", order=50)
    def purge(cutoff: datetime, dry_run: bool) -> int      rows deleted (counted in a dry run)

``roadmap.py`` — figures in a phase's line on the roadmap, ``learning.phases.services``::

    @roadmap_figure(order=50)
    def figure(phases: list[RolloutPhase]) -> dict[int, Figure]

``receivers.py`` — receivers of another feature's signals, e.g. ``learning.org.signals``::

    @people_changed.connect
    def receiver(sender, user_ids: set[int] = (), **extra) -> None
        runs inside the sender's unit of work: flush, never commit; raising rolls the whole unit back

Where several plug-ins are shown or run in sequence, ``order`` (then the name) decides, never the
order in which modules happened to be imported. Demo data (``flask demo load`` and ``generate``)
is not an extension point: ``learning/demo/`` writes every feature's demo data itself.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from importlib import import_module
from importlib.util import find_spec


@dataclass(frozen=True)
class ExtensionPoint:
    module: str  # the module name inside a feature folder
    registry: str  # "module:decorator" of the consuming feature
    registers: str  # what a plug-in is


EXTENSION_POINTS = (
    ExtensionPoint("reminders", "learning.messaging.reminders:reminder_kind", "a reminder kind"),
    ExtensionPoint("jobs", "learning.scheduler.registry:scheduled_job", "a scheduled job"),
    ExtensionPoint("metrics", "learning.metrics.services:metric_source", "a metric source"),
    ExtensionPoint("calendar", "learning.notifications.calendar:calendar_source", "a calendar source"),
    ExtensionPoint("cards", "learning.home.panels:home_panel", "a card on the home page"),
    ExtensionPoint("next", "learning.home.upnext:next_source", "items of the What to do next list"),
    ExtensionPoint("retention", "learning.transparency.retention:retention_rule", "a retention rule"),
    ExtensionPoint("roadmap", "learning.phases.services:roadmap_figure", "a figure on the roadmap"),
    ExtensionPoint("receivers", "learning.org.signals:people_changed.connect", "a receiver of a signal"),
)
MODULES = tuple(point.module for point in EXTENSION_POINTS)

_discovered = False
_discovering = threading.RLock()


def plugin_modules() -> list[str]:
    """The dotted names of every feature's plug-in modules that exist, in the order they are imported."""
    from learning import FEATURES

    names = [f"learning.{feature}.{module}" for feature in FEATURES for module in MODULES]
    return [name for name in names if find_spec(name) is not None]


def discover() -> None:
    """Import every feature's plug-in modules once per process; callers wait until all are in.

    Registries fill while their modules are imported. The scheduler runs jobs in parallel threads,
    so a caller waits here until every module is in: a flag set before the imports had finished
    once let the outbox see a reminder kind that was registered but had no checker yet, and drop
    its rows as "unknown kind". The flag is therefore set only after the last import, under a lock
    that a second thread has to pass too.
    """
    global _discovered
    if _discovered:
        return
    with _discovering:
        if _discovered:
            return
        for name in plugin_modules():
            import_module(name)
        _discovered = True
