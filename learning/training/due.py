"""Due-date rules: a fixed date, or an offset in days from the start date, go-live or assignment."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from learning.guards import check_day

ANCHORS = ("start", "golive", "assigned")
RULE_RE = re.compile(r"^(start|golive|assigned)\s*([+-])\s*(\d{1,4})$")


@dataclass(frozen=True)
class DueRule:
    """``start+14``, ``golive-7``, ``assigned+30`` or ``2026-06-30``."""

    anchor: str | None
    days: int = 0
    fixed: date | None = None

    @classmethod
    def parse(cls, text: str) -> DueRule:
        """Parse a rule; raise ValueError with a message an author understands."""
        text = (text or "").strip().lower()
        match = RULE_RE.match(text)
        if match:
            anchor, sign, days = match.groups()
            return cls(anchor=anchor, days=int(days) * (-1 if sign == "-" else 1))
        try:
            return cls(anchor=None, fixed=check_day(date.fromisoformat(text)))
        except ValueError:
            raise ValueError(
                f"due rule {text!r} is neither a date (2026-06-30) nor start/golive/assigned with +/- days "
                "(e.g. start+14)"
            ) from None

    def __str__(self) -> str:
        if self.fixed is not None:
            return self.fixed.isoformat()
        return f"{self.anchor}{'+' if self.days >= 0 else '-'}{abs(self.days)}"

    def due_on(self, *, start: date | None, go_live: date | None, assigned: date) -> date | None:
        """The due day, or None when the anchor is unknown (no start date, no go-live yet).

        Days are calendar days in the organisation's time zone; adding them to a date (not a
        datetime) keeps daylight-saving changes and leap days out of the arithmetic.
        """
        if self.fixed is not None:
            return self.fixed
        anchor = {"start": start, "golive": go_live, "assigned": assigned}[self.anchor]
        if anchor is None:
            return None
        try:
            return anchor + timedelta(days=self.days)
        except OverflowError:  # a start date written around the forms (such as 9999-12-31): no due date
            return None
