"""The authoring record's shared pieces: who may edit, and the optimistic lock per part."""

from __future__ import annotations

import pytest

from learning.roles import Role


def test_project_group_edits_every_course_and_authors_only_theirs(app, make_user, make_draft):
    from learning.errors import NotAllowed
    from learning.training.authoring.access import draft_to_edit, may_author

    author = make_user("autorin", roles={Role.AUTHOR})
    other = make_user("anderer", roles={Role.AUTHOR})
    group = make_user("gruppe", roles={Role.PROJECT_GROUP})
    employee = make_user("beschaeftigte")
    draft = make_draft("fristen", editors=[author])
    with app.test_request_context():
        assert draft_to_edit("fristen", author).id == draft.id
        assert draft_to_edit("fristen", group).id == draft.id
        with pytest.raises(NotAllowed):
            draft_to_edit("fristen", other)
        assert not may_author(employee)


def test_second_save_of_the_same_lesson_is_refused_and_keeps_both_texts(app, make_draft):
    from learning.db import db, unit_of_work
    from learning.training.authoring.documents import EditConflict, draft_spec, lesson_part, save_part
    from learning.training.authoring.models import CourseDraft

    make_draft("sperre")

    def write(text, index=0):
        def change(spec):
            spec.lessons[index].body = text
        return change

    with app.app_context():
        with unit_of_work():
            draft = db.session.query(CourseDraft).filter_by(slug="sperre").one()
            save_part(draft, lesson_part("lektion-1"), 0, write("Erste Fassung"), None)
        with pytest.raises(EditConflict) as refused:
            with unit_of_work():
                draft = db.session.query(CourseDraft).filter_by(slug="sperre").one()
                save_part(draft, lesson_part("lektion-1"), 0, write("Zweite Fassung"), None,
                          current=lambda spec: spec.lessons[0].body, mine="Zweite Fassung")
        assert (refused.value.theirs, refused.value.mine) == ("Erste Fassung", "Zweite Fassung")
        with unit_of_work():  # another lesson saved from the same starting point is fine
            draft = db.session.query(CourseDraft).filter_by(slug="sperre").one()
            save_part(draft, lesson_part("lektion-2"), 0, write("Anders", 1), None)
        draft = db.session.query(CourseDraft).filter_by(slug="sperre").one()
        assert [lesson.body for lesson in draft_spec(draft).lessons] == ["Erste Fassung", "Anders"]
