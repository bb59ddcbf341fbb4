"""The formulas of DESIGN.md ("Acceptance metrics"), as plain functions of numbers.

Nothing here knows about the database or about people; ``results`` feeds these functions and
decides what may be shown.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from statistics import fmean, variance

ADKAR_ELEMENTS = ("awareness", "desire", "knowledge", "ability", "reinforcement")
BARRIER_AT_OR_BELOW = 3.0  # an ADKAR element with a mean at or below this is a barrier
READY_FROM = 4.0  # a respondent is "ready" with every element at or above this
ALPHA_WARNING_BELOW = 0.7


def mean(values: Sequence[float]) -> float | None:
    return fmean(values) if values else None


def construct_score(person_scores: Sequence[float]) -> float | None:
    """The construct's score: the mean of the respondents' scores (each the mean of their items)."""
    return mean(person_scores)


def person_score(item_values: Sequence[float]) -> float | None:
    """One respondent's score on a construct: the mean of the items they answered, after reverse-coding."""
    return mean(item_values)


def favourable_share(values: Sequence[int], points: int) -> float | None:
    """Share (0-1) of answers in the top two points: 6-7 on a 7-point scale, 4-5 on a 5-point scale."""
    if not values:
        return None
    return sum(1 for v in values if v >= points - 1) / len(values)


def cronbach_alpha(rows: Sequence[Sequence[float]]) -> float | None:
    """Cronbach's alpha of complete rows (one per respondent, one column per item).

    alpha = k/(k-1) * (1 - sum of the item variances / variance of the row totals), with sample
    variances; None when it is undefined (fewer than two items or respondents, or no variance).
    """
    if len(rows) < 2:
        return None
    k = len(rows[0])
    if k < 2 or any(len(row) != k for row in rows):
        return None
    item_variances = [variance([row[i] for row in rows]) for i in range(k)]
    total_variance = variance([sum(row) for row in rows])
    if total_variance == 0:
        return None
    return k / (k - 1) * (1 - sum(item_variances) / total_variance)


@dataclass(frozen=True)
class Enps:
    promoters: float  # share 0-1 answering 9-10
    passives: float
    detractors: float  # share 0-1 answering 0-6
    n: int

    @property
    def score(self) -> float:
        """% promoters minus % detractors: from -100 to 100."""
        return 100 * (self.promoters - self.detractors)


def enps(values: Sequence[int]) -> Enps | None:
    if not values:
        return None
    n = len(values)
    promoters = sum(1 for v in values if v >= 9) / n
    detractors = sum(1 for v in values if v <= 6) / n
    return Enps(promoters=promoters, passives=1 - promoters - detractors, detractors=detractors, n=n)


def barrier_point(element_means: dict[str, float | None]) -> str | None:
    """The first ADKAR element, in A-D-K-A-R order, whose mean is at or below 3; None if there is none."""
    for element in ADKAR_ELEMENTS:
        value = element_means.get(element)
        if value is not None and value <= BARRIER_AT_OR_BELOW:
            return element
    return None


def readiness_index(element_means: dict[str, float | None]) -> float | None:
    """(mean of the five element means - 1) / 4 * 100: 0 when everything is 1, 100 when everything is 5."""
    values = [element_means.get(e) for e in ADKAR_ELEMENTS]
    if any(v is None for v in values):
        return None
    return (fmean(values) - 1) / 4 * 100


def share_ready(people: Sequence[dict[str, float]]) -> float | None:
    """Share (0-1) of respondents whose five element scores are all at least 4 (of those with all five)."""
    complete = [p for p in people if all(p.get(e) is not None for e in ADKAR_ELEMENTS)]
    if not complete:
        return None
    return sum(1 for p in complete if all(p[e] >= READY_FROM for e in ADKAR_ELEMENTS)) / len(complete)
