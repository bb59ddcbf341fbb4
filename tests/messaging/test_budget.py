"""The mail budget's clock: mail hours, weekends, digest times and backoff, in local time across DST."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from learning.messaging.budget import MailWindow, backoff
from tests.messaging.conftest import BERLIN, berlin

WINDOW = MailWindow(zone=BERLIN, start_hour=7, end_hour=18, weekends=False, digest_weekday=0)
FRIDAY = date(2026, 3, 6)
MONDAY = date(2026, 3, 9)


@pytest.mark.parametrize(("moment", "expected"), [
    (berlin(FRIDAY, 10), berlin(FRIDAY, 10)),  # open: at once
    (berlin(FRIDAY, 6, 59), berlin(FRIDAY, 7)),  # before the hours: at opening
    (berlin(FRIDAY, 18), berlin(MONDAY, 7)),  # Friday evening: Monday morning, not at the weekend
    (berlin(FRIDAY + timedelta(days=1), 11), berlin(MONDAY, 7)),  # Saturday
])
def test_next_open(moment, expected):
    assert WINDOW.next_open(moment) == expected


def test_weekends_can_be_allowed():
    window = MailWindow(zone=BERLIN, weekends=True)
    saturday = FRIDAY + timedelta(days=1)
    assert window.next_open(berlin(saturday, 11)) == berlin(saturday, 11)


@pytest.mark.parametrize(("digest", "planned", "expected"), [
    ("immediate", berlin(FRIDAY, 9, 30), berlin(FRIDAY, 9, 30)),
    ("daily", berlin(FRIDAY, 6, 10), berlin(FRIDAY, 7)),  # planned overnight: this morning's digest
    ("daily", berlin(FRIDAY, 7, 5), berlin(MONDAY, 7)),  # after Friday's digest: the next working day's
    ("weekly", berlin(FRIDAY, 9), berlin(MONDAY, 7)),
    ("weekly", berlin(MONDAY, 7, 1), berlin(MONDAY + timedelta(days=7), 7)),
])
def test_digest_times(digest, planned, expected):
    assert WINDOW.digest_time(planned, digest) == expected


def test_the_daily_digest_stays_at_seven_local_time_across_daylight_saving():
    # Summer time begins on Sunday 29 March 2026: 07:00 is 06:00 UTC before and 05:00 UTC after.
    before = WINDOW.digest_time(berlin(date(2026, 3, 27), 6), "daily")
    after = WINDOW.digest_time(berlin(date(2026, 3, 30), 6), "daily")
    assert (before.hour, after.hour) == (6, 5)
    assert before.astimezone(BERLIN).hour == after.astimezone(BERLIN).hour == 7


def test_end_of_hours_at_midnight_is_allowed():
    window = MailWindow(zone=BERLIN, start_hour=0, end_hour=24, weekends=True)
    assert window.is_open(berlin(FRIDAY, 23, 59))
    assert window.next_day_opening(berlin(FRIDAY, 23)) == berlin(FRIDAY + timedelta(days=1), 0)


def test_next_day_opening_skips_the_weekend():
    assert WINDOW.next_day_opening(berlin(FRIDAY, 10)) == berlin(MONDAY, 7)


def test_backoff_doubles_up_to_the_cap():
    config = {"MAIL_RETRY_SECONDS": 60, "MAIL_RETRY_MAX_SECONDS": 600}
    assert [backoff(n, config).total_seconds() for n in range(1, 7)] == [60, 120, 240, 480, 600, 600]
    assert backoff(10_000, config).total_seconds() == 600
