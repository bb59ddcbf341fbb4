"""Signals other features listen to when people change (e.g. training assigns courses, onboarding starts journeys)."""

from blinker import Namespace

_signals = Namespace()

# Sent inside the unit of work that created or changed people, after a flush: sender is the app,
# ``user_ids`` a set of ids. Listeners change what they need in the same unit (flush, never commit);
# if one fails, the whole unit rolls back, the change to the people included.
people_changed = _signals.signal("people-changed")
