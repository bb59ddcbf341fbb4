"""Announcement texts: rendered on saving, shown as stored, images only from the media store, bounded."""

from __future__ import annotations

from sqlalchemy import func, select, update

from learning.announcements.models import Announcement, AnnouncementVersion
from learning.content import MAX_LINES, RENDERER_VERSION
from learning.db import db

from .test_views import form_data


def test_the_text_is_rendered_on_saving_and_shown_as_stored(app, client, people, login):
    login(client, "projectgroup")
    assert client.submit("/announcements/manage/new", form_data()).status_code == 302
    with app.app_context():
        announcement = db.session.scalars(select(Announcement)).one()
        version = db.session.scalars(select(AnnouncementVersion)).one()
        assert announcement.body_html == version.body_html == "<p>Ab <strong>Juni</strong> arbeiten wir digital.</p>"
        assert announcement.html_version == RENDERER_VERSION
        db.session.execute(update(Announcement).values(body_html="<p>gespeichert</p>"))
        db.session.commit()
        announcement_id = announcement.id
    login(client, "employee")
    page = client.get(f"/announcements/{announcement_id}").get_data(as_text=True)
    assert "gespeichert" in page and "Juni" not in page


def test_only_images_of_the_media_store_are_shown(app, client, people, login):
    body = ("![Plan](/media/ab/plan.png) ![Quiz](/learning/courses/datenschutz/quiz) "
            "![fremd](https://evil.example/p.png) ![zurück](/media/../learning/courses/datenschutz/quiz)")
    login(client, "projectgroup")
    client.submit("/announcements/manage/new", form_data(body=body))
    with app.app_context():
        html = db.session.scalars(select(Announcement.body_html)).one()
    assert html.count("<img") == 1 and '<img alt="Plan" src="/media/ab/plan.png">' in html
    assert "/learning/" not in html and "evil.example" not in html and "Quiz" in html


def test_too_many_lines_are_refused_in_the_form_and_nothing_is_saved(app, client, people, login):
    login(client, "projectgroup")
    response = client.submit("/announcements/manage/new", form_data(body="Zeile\n" * MAX_LINES + "Ende"))
    assert response.status_code == 200 and "too many lines or formatting characters" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Announcement)) == 0
