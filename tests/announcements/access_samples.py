"""Records for the access matrix: a published announcement for everyone and a feed token."""

from __future__ import annotations

from datetime import timedelta


def samples(app, people) -> dict:
    from learning.announcements.models import Announcement, AnnouncementVersion, FeedToken
    from learning.db import db, utcnow

    with app.app_context():
        author = people["project_group"].id
        announcement = Announcement(title="Zugangstest", body="Text", audience="everyone", audience_values=[],
                                    publish_at=utcnow() - timedelta(days=1), requires_ack=True, created_by_id=author)
        announcement.versions.append(AnnouncementVersion(version=1, title="Zugangstest", body="Text",
                                                         changed_by_id=author, substantive=True))
        token = FeedToken(user_id=people["employee"].id)
        db.session.add_all([announcement, token])
        db.session.commit()
        return {"announcement_id": announcement.id, "feed_token": token.token}
