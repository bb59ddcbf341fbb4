"""Onboarding's receivers of other features' signals (a plug-in module, see ``learning.plugins``)."""

from __future__ import annotations

from learning.i18n import local_today
from learning.onboarding.sync import sync_journeys
from learning.org.signals import people_changed


@people_changed.connect
def follow_people(sender, user_ids=(), **extra) -> None:
    """Start, move or close journeys as soon as people are created, changed, imported or deactivated.

    Runs inside the sender's unit of work: a failure here rolls the change to the people back too.
    """
    if user_ids:
        sync_journeys(set(user_ids), local_today())
