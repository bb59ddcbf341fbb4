"""Records for the access matrix: the authoring record of the sample course "zugang" (the editor's pages) and a
question number of its quiz."""

from __future__ import annotations


def samples(app, people) -> dict:
    from sqlalchemy import select

    from learning.db import db
    from learning.training.authoring.models import CourseDraft
    from learning.training.models import Course

    with app.app_context():
        course = db.session.scalar(select(Course).where(Course.slug == "zugang"))
        if course is not None and db.session.scalar(select(CourseDraft).where(CourseDraft.slug == "zugang")) is None:
            db.session.add(CourseDraft(slug="zugang", course_id=course.id, revisions={}))
            db.session.commit()
    return {"number": 1}
