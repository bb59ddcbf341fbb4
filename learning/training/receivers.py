"""Training's receivers of other features' signals (a plug-in module, see ``learning.plugins``)."""

from __future__ import annotations

from learning.i18n import local_today
from learning.org.signals import people_changed
from learning.training.rules import apply_rules


@people_changed.connect
def assign_courses(sender, user_ids=(), **extra) -> None:
    """Assign (or withdraw) courses as soon as people are created, changed or deactivated.

    The signal is sent inside the unit of work that changes the people: the assignments are part of
    the same transaction, and a failure here rolls the change to the people back as well.
    """
    if user_ids:
        apply_rules(local_today(), set(user_ids))
