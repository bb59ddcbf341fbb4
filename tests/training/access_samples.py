"""Records for the access matrix: the sample course ("zugang") also has its authoring record, so the
editor's pages (/learning/author/<slug>/...) answer for the roles allowed to see them."""

from __future__ import annotations


def samples(app, people) -> dict:
    from sqlalchemy import select

    from learning.db import db
    from learning.training.authoring.models import CourseDraft
    from learning.training.models import Course

    with app.app_context():
        course_id = db.session.scalar(select(Course.id).where(Course.slug == "zugang"))
        if course_id is not None and db.session.scalar(
                select(CourseDraft.id).where(CourseDraft.slug == "zugang")) is None:
            db.session.add(CourseDraft(slug="zugang", course_id=course_id, revisions={}))
            db.session.commit()
    return {}
