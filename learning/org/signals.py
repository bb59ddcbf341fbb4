"""Signals other features listen to when people change (e.g. training assigns courses)."""

from blinker import Namespace

_signals = Namespace()

# Sent after a commit that created or changed people: sender is the app, ``user_ids`` a set of ids.
people_changed = _signals.signal("people-changed")
