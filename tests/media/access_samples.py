"""Records for the access matrix: an editorial image in use (so a delete is refused), its file on disk."""

from __future__ import annotations

import io


def samples(app, people) -> dict:
    from learning.db import db
    from learning.media.services import Upload, set_usages, upload_media
    from learning.org.models import User
    from tests.media.samples import png

    with app.test_request_context():
        actor = db.session.get(User, people["admin"].id)
        item = upload_media(actor, Upload(io.BytesIO(png()), "zugang.png", "Ein rotes Rechteck")).item
        set_usages("announcement", 1, "Mitteilung Zugangstest", [item])
        db.session.commit()
        return {"media_id": item.id, "media_name": item.filename, "thumbnail_name": f"{item.sha256}.webp"}
