"""Due-date rules: a fixed date, or an offset in days from the start date, go-live or assignment.

Nothing is due before a person's first working day: a rule date that falls before the person's
start date moves to the start date plus ``START_GRACE_DAYS`` (documented in the README, section
"Training"). A rule such as ``start-7`` or ``golive-14`` for someone who starts after that day
therefore gives them two weeks from their first day.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from learning.guards import check_day

ANCHORS = ("start", "golive", "assigned")
# Days after the start date by which a course is due whose rule date falls before the start date.
START_GRACE_DAYS = 14
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
        datetime) keeps daylight-saving changes and leap days out of the arithmetic. This is the
        rule's own date; what a person is given is ``due_for``.
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

    def due_for(self, *, start: date | None, go_live: date | None, assigned: date) -> date | None:
        """The day a person's course is due: the rule's date, never before the person's first working day."""
        due = self.due_on(start=start, go_live=go_live, assigned=assigned)
        return None if due is None else not_before_start(due, start)


def not_before_start(due: date, start: date | None) -> date:
    """``due``, or the start date plus the grace period when ``due`` falls before the first working day."""
    if start is not None and due < start:
        return start + timedelta(days=START_GRACE_DAYS)
    return due
