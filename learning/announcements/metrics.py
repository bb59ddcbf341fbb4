"""Metric source of announcements: how many of the people addressed confirmed one that asks for it."""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from learning.announcements.models import Acknowledgement, Announcement
from learning.db import db
from learning.metrics.services import Metric, Tally, Units, Value, end_of_day, metric_source
from learning.org.audience import population

ACKNOWLEDGED = Metric("announcements.acknowledged", _l("Announcements acknowledged"), "percent", True,
                      _l("Acknowledgements out of the people each announcement that must be acknowledged "
                         "addresses."))


@metric_source(ACKNOWLEDGED, order=20)
def acknowledgements(day: date) -> list[Value]:
    """Three queries: announcements to acknowledge, the population, the acknowledgements."""
    end = end_of_day(day)
    announcements = db.session.scalars(
        select(Announcement).where(Announcement.requires_ack, Announcement.publish_at.is_not(None),
                                   Announcement.publish_at < end, Announcement.withdrawn_at.is_(None))
    ).all()
    if not announcements:
        return []
    acknowledged = set(db.session.execute(
        select(Acknowledgement.announcement_id, Acknowledgement.user_id)
        .join(Announcement, Announcement.id == Acknowledgement.announcement_id)
        .where(Acknowledgement.announcement_id.in_([a.id for a in announcements]),
               Acknowledgement.version >= Announcement.substantive_version, Acknowledgement.acknowledged_at < end)
    ).all())
    units = Units.load()
    tally = Tally()
    for reader in population():
        for announcement in announcements:
            if announcement.addresses(reader):
                tally.count(announcement.phase_id, units.of_team(reader.team_id), targeted=1,
                            acknowledged=int((announcement.id, reader.user_id) in acknowledged))
    return tally.rates(ACKNOWLEDGED.key, "acknowledged", "targeted")
