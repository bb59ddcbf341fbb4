"""URL argument values for the access matrix: the name of a logo file (none is stored: not found)."""

from __future__ import annotations


def samples(app, people) -> dict:
    return {"logo_file": "logo-0000000000000000.png"}
