"""Factories for announcement tests."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from learning.announcements.models import Announcement, AnnouncementVersion
from learning.db import db, utcnow


@pytest.fixture
def make_announcement(app):
    """An announcement written straight into the database; published an hour ago unless told otherwise."""

    def factory(title: str = "Neuigkeiten", body: str = "Text der Mitteilung.", *, audience: str = "everyone",
                values=(), publish_at: datetime | None | str = "past", requires_ack: bool = False,
                pinned: bool = False, phase=None, author=None) -> Announcement:
        if publish_at == "past":
            publish_at = utcnow() - timedelta(hours=1)
        with app.app_context():
            announcement = Announcement(
                title=title, body=body, audience=audience, audience_values=list(values), publish_at=publish_at,
                requires_ack=requires_ack, pinned=pinned, phase_id=phase.id if phase else None,
                created_by_id=author.id if author else None,
            )
            written = min(utcnow(), publish_at - timedelta(minutes=1)) if publish_at else utcnow()
            announcement.versions.append(AnnouncementVersion(version=1, title=title, body=body, substantive=True,
                                                             changed_at=written,
                                                             changed_by_id=author.id if author else None))
            db.session.add(announcement)
            db.session.commit()
            db.session.refresh(announcement)
            db.session.expunge(announcement)
            return announcement

    return factory
