"""Every table in the metadata (for ``create_all`` and Alembic): each feature's ``models`` module, found by name."""

from __future__ import annotations

from importlib import import_module
from importlib.util import find_spec

# Tables of shared code: the mail captured instead of sent, the page cache's change counters.
SHARED = ("learning.mail", "learning.pagecache")


def import_models() -> None:
    """Import the shared tables and ``learning/<feature>/models.py`` of every feature (once, as imports are)."""
    from learning import FEATURES

    for name in (*SHARED, *(f"learning.{feature}.models" for feature in FEATURES)):
        if find_spec(name) is not None:
            import_module(name)
