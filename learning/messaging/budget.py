"""The notification budget: when a person's reminders may be mailed.

Mail goes out only on allowed days (weekdays unless ``LEARNING_MAIL_WEEKENDS``) between the configured
hours, local time. A daily digest goes out at the opening of the next allowed day, a weekly digest at
the opening of the configured weekday; an immediate reminder at once (within the hours). At most
``LEARNING_MAIL_DAILY_CAP`` mails per person and day. All times are aware; the arithmetic is done on
local calendar days, so daylight-saving changes move nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app

from learning.notifications.models import Digest

SEARCH_DAYS = 15  # a week and a bit always contains an allowed day


@dataclass(frozen=True)
class MailWindow:
    zone: ZoneInfo
    start_hour: int = 7
    end_hour: int = 18
    weekends: bool = False
    digest_weekday: int = 0  # Monday

    @classmethod
    def from_config(cls, config=None) -> MailWindow:
        config = config or current_app.config
        start, end = config["MAIL_HOURS"]
        return cls(zone=ZoneInfo(config["TIMEZONE"]), start_hour=start, end_hour=end,
                   weekends=config["MAIL_WEEKENDS"], digest_weekday=config["DIGEST_WEEKDAY"])

    def allows(self, day: date) -> bool:
        return self.weekends or day.weekday() < 5

    def _at(self, day: date, hour: int) -> datetime:
        if hour == 24:
            day, hour = day + timedelta(days=1), 0
        return datetime.combine(day, time(hour), tzinfo=self.zone).astimezone(UTC)

    def opening(self, day: date) -> datetime:
        return self._at(day, self.start_hour)

    def closing(self, day: date) -> datetime:
        return self._at(day, self.end_hour)

    def local_day(self, moment: datetime) -> date:
        return moment.astimezone(self.zone).date()

    def is_open(self, moment: datetime) -> bool:
        day = self.local_day(moment)
        return self.allows(day) and self.opening(day) <= moment < self.closing(day)

    def next_open(self, moment: datetime) -> datetime:
        """``moment`` itself when mail may go out then, else the next opening."""
        first = self.local_day(moment)
        for offset in range(SEARCH_DAYS):
            day = first + timedelta(days=offset)
            if not self.allows(day):
                continue
            if moment < self.opening(day):
                return self.opening(day)
            if moment < self.closing(day):
                return moment
        raise ValueError("no allowed day for mail within two weeks")  # excluded by the configuration checks

    def next_day_opening(self, moment: datetime) -> datetime:
        """The opening of the first allowed day after the local day of ``moment`` (for the daily cap)."""
        tomorrow = self.local_day(moment) + timedelta(days=1)
        return self.next_open(datetime.combine(tomorrow, time(0), tzinfo=self.zone).astimezone(UTC))

    def digest_time(self, planned_at: datetime, digest: str) -> datetime:
        """When a reminder planned at ``planned_at`` may be mailed under the person's digest choice."""
        if digest == Digest.IMMEDIATE:
            return self.next_open(planned_at)
        first = self.local_day(planned_at)
        for offset in range(SEARCH_DAYS):
            day = first + timedelta(days=offset)
            if not self.allows(day) or (digest == Digest.WEEKLY and day.weekday() != self.digest_weekday):
                continue
            if self.opening(day) >= planned_at:
                return self.opening(day)
        raise ValueError("no digest day within two weeks")  # excluded by the configuration checks

    def start_of_day(self, moment: datetime) -> datetime:
        return datetime.combine(self.local_day(moment), time(0), tzinfo=self.zone).astimezone(UTC)


def backoff(failures: int, config=None) -> timedelta:
    """Capped exponential backoff: base, 2 x base, 4 x base, ... at most the cap."""
    config = config or current_app.config
    base, cap = config["MAIL_RETRY_SECONDS"], config["MAIL_RETRY_MAX_SECONDS"]
    return timedelta(seconds=min(cap, base * 2 ** min(max(failures - 1, 0), 30)))
