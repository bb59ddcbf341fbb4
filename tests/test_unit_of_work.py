"""The unit of work commits once or rolls back, and effects queued with ``after_commit`` follow the commit."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from learning.db import after_commit, unit_of_work
from learning.errors import NotAllowed, NotFound, ServiceError, show_on_form
from learning.extensions import db
from learning.org.models import Department


def _names() -> set[str]:
    return set(db.session.scalars(select(Department.name)))


def test_a_unit_of_work_commits_its_changes_and_then_runs_its_effects(app):
    sent: list[str] = []
    with app.app_context():
        with unit_of_work():
            db.session.add(Department(name="Ordnungsamt"))
            db.session.flush()
            after_commit(lambda: sent.append("mail"))
            assert sent == []  # not before the commit
        assert sent == ["mail"]
        db.session.rollback()  # a rollback now cannot undo what was committed
        assert "Ordnungsamt" in _names()


def test_a_failing_unit_of_work_rolls_back_and_drops_its_effects(app):
    sent: list[str] = []
    with app.app_context():
        with pytest.raises(ServiceError):
            with unit_of_work():
                db.session.add(Department(name="Bauamt"))
                db.session.flush()
                after_commit(lambda: sent.append("mail"))
                raise ServiceError("refused")
        assert sent == []
        assert "Bauamt" not in _names()
        with unit_of_work():  # the next unit starts clean: the dropped effect does not come back
            db.session.add(Department(name="Kämmerei"))
        assert sent == []


def test_nested_units_commit_only_at_the_outermost(app):
    with app.app_context():
        with pytest.raises(RuntimeError):
            with unit_of_work():
                with unit_of_work():
                    db.session.add(Department(name="Standesamt"))
                assert "Standesamt" in _names()  # flushed by autoflush, not yet committed
                raise RuntimeError("outer fails")
        assert "Standesamt" not in _names()


def test_after_commit_outside_a_unit_of_work_runs_at_once(app):
    sent: list[str] = []
    with app.app_context():
        after_commit(lambda: sent.append("now"))
        assert sent == ["now"]


def test_a_refusal_lands_on_the_field_it_names_or_above_the_form(app):
    from wtforms import Form, StringField

    class NameForm(Form):
        name = StringField("Name")

    form = NameForm()
    show_on_form(form, ServiceError("Bitte einen Namen angeben.", field="name"))
    show_on_form(form, ServiceError("Nicht möglich.", field="no_such_field"))
    assert form.name.errors == ["Bitte einen Namen angeben."]
    assert form.form_errors == ["Nicht möglich."]
    assert ["Nicht möglich."] in form.errors.values()  # so the error summary shows it


def test_an_uncaught_refusal_is_an_error_page_with_its_message_and_status(app):
    for status, error in ((400, ServiceError("Das geht so nicht.")), (404, NotFound("Gibt es nicht.")),
                          (403, NotAllowed("Dürfen Sie nicht."))):
        with app.test_request_context("/", headers={"Accept-Language": "de"}):
            response = app.make_response(app.handle_user_exception(error))
        assert response.status_code == status
        assert str(error) in response.get_data(as_text=True)
