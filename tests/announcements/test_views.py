"""Announcement pages: writing with preview, reading, acknowledging, privacy, XSS, access and query counts."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from flask import render_template_string
from flask_login import login_user
from sqlalchemy import func, select

from learning.announcements.models import Acknowledgement, Announcement, FeedToken
from learning.audit.models import AuditEntry
from learning.db import db, utcnow
from learning.org.models import User
from learning.roles import Role

XSS_BODY = ('Hallo <script>alert("body")</script> <img src=x onerror="alert(1)"> '
            '[klick](javascript:alert(2)) <a href="https://example.org" onclick="alert(3)">Link</a>')
XSS_TITLE = '<script>alert("title")</script>Titel'


def form_data(**changes) -> dict:
    data = {"title": "Start der E-Akte", "body": "Ab **Juni** arbeiten wir digital.", "phase_id": "",
            "audience": "everyone", "publication": "now", "publish_at": "", "requires_ack": "y"}
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


UNSAFE_TAG = re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.I)


def assert_neutralised(page: str) -> None:
    """No script element, no event handler attribute, no javascript: link survives (escaped text may)."""
    assert "<script>alert" not in page
    assert not UNSAFE_TAG.search(page)
    assert 'href="javascript:' not in page


def stored(app, announcement_id: int | None = None) -> Announcement | None:
    with app.app_context():
        query = select(Announcement).order_by(Announcement.id.desc())
        if announcement_id:
            query = query.where(Announcement.id == announcement_id)
        announcement = db.session.scalar(query)
        if announcement is not None:
            announcement.versions  # noqa: B018
            db.session.expunge(announcement)
        return announcement


def audit_actions(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


# Access -----------------------------------------------------------------------------------

@pytest.mark.parametrize("url", ["/announcements/manage", "/announcements/manage/new"])
def test_employees_and_managers_cannot_manage(client, people, login, url):
    login(client, "employee")
    assert client.get(url).status_code == 403
    client.post("/logout", data={"csrf_token": client.csrf_token()})
    login(client, "manager")
    assert client.get(url).status_code == 403


def test_employee_cannot_edit_or_withdraw(client, people, login, make_announcement):
    announcement = make_announcement()
    login(client, "employee")
    assert client.get(f"/announcements/manage/{announcement.id}/edit").status_code == 403
    assert client.get(f"/announcements/manage/{announcement.id}").status_code == 403
    assert client.submit(f"/announcements/manage/{announcement.id}/withdraw", {"action": "withdraw"}).status_code == 403
    assert stored(client.application, announcement.id).withdrawn_at is None


# Writing, preview, publishing ---------------------------------------------------------------------

def test_project_group_publishes_and_employee_acknowledges(app, client, people, login):
    login(client, "projectgroup")
    response = client.submit("/announcements/manage/new", form_data())
    assert response.status_code == 302
    announcement = stored(app)
    assert announcement.title == "Start der E-Akte" and announcement.requires_ack
    assert announcement.publish_at is not None and announcement.publish_at <= utcnow()
    assert audit_actions(app) == ["announcement.created", "announcement.published"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Confirmations" in page and "0 of" not in page

    employee = app.test_client()
    login(employee, "employee")
    page = employee.get("/announcements/").get_data(as_text=True)
    assert "Start der E-Akte" in page and "Please confirm" in page and "Read and understood" in page
    response = employee.submit(f"/announcements/{announcement.id}/acknowledge", {"next": "/announcements/"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/announcements/")
    page = employee.get("/announcements/").get_data(as_text=True)
    assert "you have confirmed" in page.lower() or "Thank you" in page
    assert "Please confirm" not in page and "Confirmed" in page
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Acknowledgement)) == 1


def test_preview_shows_sanitised_text_and_saves_nothing(app, client, people, login):
    login(client, "projectgroup")
    response = client.submit("/announcements/manage/new", form_data(title="", body=XSS_BODY + "\n\n## Zwischentitel",
                                                                      preview="1"))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert_neutralised(page)
    # Raw HTML is not Markdown's: it is shown as text, never as an element.
    assert "Hallo" in page and "&lt;a href=&#34;https://example.org&#34;" in page
    assert '<h2>Zwischentitel</h2>' in page  # rendered as on the published page
    assert "Please check your entries" not in page  # a preview judges nothing
    assert stored(app) is None


def test_live_preview_endpoint_returns_the_sanitised_rendering(client, people, login):
    login(client, "projectgroup")
    response = client.submit("/announcements/manage/preview", {"body": XSS_BODY})
    assert response.status_code == 200
    html = response.get_json()["html"]
    assert_neutralised(html)
    assert "Hallo" in html
    assert client.post("/announcements/manage/preview", data={"body": "x"}).status_code == 400  # no CSRF token


def test_xss_is_neutralised_on_every_page(app, client, people, login):
    login(client, "projectgroup")
    client.submit("/announcements/manage/new", form_data(title=XSS_TITLE, body=XSS_BODY))
    announcement = stored(app)
    assert announcement.title == XSS_TITLE  # stored as written, escaped when shown
    client.submit(f"/announcements/manage/{announcement.id}/edit", form_data(
        title=XSS_TITLE, body=XSS_BODY + " neu", change_kind="substantive",
        reason='<script>alert("reason")</script>Grund'))
    assert stored(app, announcement.id).version == 2
    for url in ("/announcements/manage", f"/announcements/manage/{announcement.id}",
                f"/announcements/manage/{announcement.id}/edit", "/announcements/",
                f"/announcements/{announcement.id}"):
        page = client.get(url).get_data(as_text=True)
        assert_neutralised(page)
        assert "&lt;script&gt;" in page, url


def test_bad_input_is_shown_on_the_form_and_nothing_changes(app, client, people, login):
    login(client, "projectgroup")
    cases = [
        (form_data(title="x" * 201), "The title may have at most 200 characters."),
        (form_data(body=""), "Please enter the text of the announcement."),
        (form_data(body="x" * 20_001), "The text may have at most 20000 characters."),
        (form_data(audience="teams"), "Please choose at least one team."),
        (form_data(publication="schedule", publish_at=""), "Please enter the date and time of publication."),
        (form_data(publication="schedule", publish_at="morgen früh"), "Enter a date and time such as"),
        (form_data(publication="schedule", publish_at="2001-01-01T10:00"), "The time of publication has passed."),
        (form_data(audience="departments", department_ids="999999"), "Departments"),
        (form_data(phase_id="abc"), "Rollout phase"),
    ]
    for data, message in cases:
        response = client.submit("/announcements/manage/new", data)
        assert response.status_code == 200, message
        page = response.get_data(as_text=True)
        assert message in page
        assert "Please check your entries" in page
    assert stored(app) is None


def test_departments_ticked_for_everyone_are_refused_not_ignored(app, client, people, login):
    login(client, "projectgroup")
    department = str(people["team"].department_id)
    response = client.submit("/announcements/manage/new", form_data(audience="everyone", department_ids=department))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert '<p class="kern-error" id="department_ids-error">' in page
    assert 'This applies only to "Selected departments", but "Everyone" is chosen above.' in html.unescape(page)
    assert stored(app) is None
    assert client.submit("/announcements/manage/new",
                         form_data(audience="departments", department_ids=department)).status_code == 302
    assert stored(app).audience_values == [people["team"].department_id]


def test_publish_at_is_read_in_the_organisations_time_zone(app, client, people, login):
    year = utcnow().year + 1
    login(client, "projectgroup")
    client.submit("/announcements/manage/new", form_data(publication="schedule", publish_at=f"{year}-01-15T09:00"))
    client.submit("/announcements/manage/new", form_data(publication="schedule", publish_at=f"{year}-07-15T09:00"))
    with app.app_context():
        winter, summer = db.session.scalars(select(Announcement.publish_at).order_by(Announcement.id)).all()
    assert winter == datetime(year, 1, 15, 8, 0, tzinfo=UTC)  # Europe/Berlin: UTC+1 in winter
    assert summer == datetime(year, 7, 15, 7, 0, tzinfo=UTC)  # and UTC+2 in summer
    page = client.get(f"/announcements/manage/{stored(app).id}/edit").get_data(as_text=True)
    assert f'value="{year}-07-15T09:00"' in page


def test_scheduled_announcement_is_404_before_its_time(app, client, people, login, make_announcement):
    at = (utcnow() + timedelta(hours=2)).replace(microsecond=0)
    announcement = make_announcement("Später", publish_at=at)
    login(client, "employee")
    with time_machine.travel(at - timedelta(minutes=1)):
        assert client.get(f"/announcements/{announcement.id}").status_code == 404
        assert "Später" not in client.get("/announcements/").get_data(as_text=True)
    with time_machine.travel(at + timedelta(seconds=1)):
        assert client.get(f"/announcements/{announcement.id}").status_code == 200
        assert "Später" in client.get("/announcements/").get_data(as_text=True)


def test_outside_the_audience_the_page_is_404(client, people, login, make_team, make_announcement):
    other = make_team("Kasse")
    announcement = make_announcement("Nur Kasse", audience="teams", values=[other.id])
    login(client, "employee")
    assert client.get(f"/announcements/{announcement.id}").status_code == 404
    assert client.submit(f"/announcements/{announcement.id}/acknowledge").status_code == 404
    assert "Nur Kasse" not in client.get("/announcements/").get_data(as_text=True)


# Editing published announcements ---------------------------------------------------------------------

def test_minor_and_substantive_edits_through_the_form(app, client, people, login, make_announcement):
    announcement = make_announcement("Termine", "Am Montag.", requires_ack=True, author=people["project_group"])
    employee = app.test_client()
    login(employee, "employee")
    employee.submit(f"/announcements/{announcement.id}/acknowledge")

    login(client, "projectgroup")
    edit = f"/announcements/manage/{announcement.id}/edit"
    page = client.get(edit).get_data(as_text=True)
    assert "Minor edit" in page and "Substantive change" in page

    response = client.submit(edit, form_data(title="Termine", body="Am Dienstag."))
    assert "Please choose whether this is a minor edit or a substantive change." in response.get_data(as_text=True)
    assert stored(app, announcement.id).version == 1

    client.submit(edit, form_data(title="Termine", body="Am Montag, 9 Uhr.", change_kind="minor"))
    assert stored(app, announcement.id).version == 2
    assert "Please confirm" not in employee.get(f"/announcements/{announcement.id}").get_data(as_text=True)

    response = client.submit(edit, form_data(title="Termine", body="Am Dienstag.", change_kind="substantive"))
    assert "Please give the reason for the substantive change" in response.get_data(as_text=True)
    response = client.submit(edit, form_data(title="Termine", body="Am Dienstag.", change_kind="substantive",
                                             reason="Raum belegt"))
    assert response.status_code == 302
    page = employee.get(f"/announcements/{announcement.id}").get_data(as_text=True)
    assert "Please confirm again" in page and "Raum belegt" in page
    assert "Changes" in page and "Substantive change" in page and "Minor edit" in page  # the version history
    assert "Text of version 1" in page and "Am Montag." in page

    manage = client.get(f"/announcements/manage/{announcement.id}").get_data(as_text=True)
    assert "Version history" in manage and "Raum belegt" in manage


def test_withdrawing_hides_the_announcement(app, client, people, login, make_announcement):
    announcement = make_announcement("Zurückziehen")
    login(client, "projectgroup")
    assert client.submit(f"/announcements/manage/{announcement.id}/withdraw").status_code == 302  # no action: nothing
    assert stored(app, announcement.id).withdrawn_at is None
    client.submit(f"/announcements/manage/{announcement.id}/withdraw", {"action": "withdraw"})
    assert stored(app, announcement.id).withdrawn_at is not None
    assert "Withdrawn" in client.get("/announcements/manage").get_data(as_text=True)
    employee = app.test_client()
    login(employee, "employee")
    assert employee.get(f"/announcements/{announcement.id}").status_code == 404
    client.submit(f"/announcements/manage/{announcement.id}/withdraw", {"action": "restore"})
    assert employee.get(f"/announcements/{announcement.id}").status_code == 200
    assert audit_actions(app)[-2:] == ["announcement.withdrawn", "announcement.restored"]


# Privacy ---------------------------------------------------------------------------------------

def test_names_of_people_who_have_not_acknowledged_are_hidden_by_default(app, client, people, login,
                                                                         make_announcement):
    announcement = make_announcement(requires_ack=True)
    login(client, "projectgroup")
    page = client.get(f"/announcements/manage/{announcement.id}").get_data(as_text=True)
    assert "The privacy settings do not allow" in page
    assert f"/announcements/manage/{announcement.id}/unacknowledged" not in page
    page = client.get(f"/announcements/manage/{announcement.id}/unacknowledged").get_data(as_text=True)
    assert "The privacy settings do not allow" in page
    assert people["employee"].full_name not in page
    assert "announcement.unacknowledged_viewed" not in audit_actions(app)


def test_names_are_shown_where_allowed_and_each_view_is_audited(make_app, people, login, make_announcement):
    app = make_app(SHOW_UNACKNOWLEDGED_NAMES=True)
    client = app.test_client()
    announcement = make_announcement(requires_ack=True)
    employee = app.test_client()
    login(employee, "manager")
    employee.submit(f"/announcements/{announcement.id}/acknowledge")

    login(client, "projectgroup")
    url = f"/announcements/manage/{announcement.id}/unacknowledged"
    assert url in client.get(f"/announcements/manage/{announcement.id}").get_data(as_text=True)
    assert "announcement.unacknowledged_viewed" not in audit_actions(app)  # the rate page shows totals only
    page = client.get(url).get_data(as_text=True)
    assert people["employee"].full_name in page and people["manager"].full_name not in page
    client.get(url)
    assert audit_actions(app).count("announcement.unacknowledged_viewed") == 2


def test_acknowledgement_rate_is_shown_aggregated(app, client, people, login, make_announcement):
    announcement = make_announcement(requires_ack=True)
    employee = app.test_client()
    login(employee, "employee")
    employee.submit(f"/announcements/{announcement.id}/acknowledge")
    login(client, "projectgroup")
    page = client.get(f"/announcements/manage/{announcement.id}").get_data(as_text=True)
    assert "Confirmations per department" in page and "Confirmations per team" in page
    assert "Bürgerbüro" in page and "25 %" in page  # 1 of 4 people
    assert people["employee"].full_name not in page
    assert "1 of 4" in client.get("/announcements/manage").get_data(as_text=True)


# Feed address ------------------------------------------------------------------------------------

def test_feed_address_is_created_and_renewed(app, client, people, login):
    login(client, "employee")
    page = client.get("/announcements/").get_data(as_text=True)
    assert "Create my feed address" in page and ".atom" not in page
    client.submit("/announcements/feed/renew")
    with app.app_context():
        first = db.session.scalar(select(FeedToken.token))
    page = client.get("/announcements/").get_data(as_text=True)
    assert f"http://localhost/announcements/feed/{first}.atom" in page
    client.submit("/announcements/feed/renew")
    with app.app_context():
        second = db.session.scalar(select(FeedToken.token))
        assert db.session.scalar(select(func.count()).select_from(FeedToken)) == 1
    assert second != first
    assert client.get(f"/announcements/feed/{first}.atom").status_code == 404


# Home page and phase page partials -------------------------------------------------------------------

def _render_as(app, username: str, source: str, **context) -> str:
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        user = db.session.scalar(select(User).where(User.username == username))
        login_user(user)
        return render_template_string(source, **context)


def test_home_partial_shows_new_and_unacknowledged(app, people, make_announcement):
    make_announcement("Bitte lesen", requires_ack=True, publish_at=utcnow() - timedelta(days=40))
    make_announcement("Ganz neu")
    make_announcement("Alt und erledigt", publish_at=utcnow() - timedelta(days=40))
    html = _render_as(app, "employee", '{% include "announcements/_home.html" %}')
    assert "Bitte lesen" in html and "Ganz neu" in html and "Alt und erledigt" not in html
    assert "1 announcement asks for your confirmation." in html


def test_phase_partial_lists_the_phase_announcements(app, people, make_phase, make_announcement):
    phase = make_phase("e-akte")
    other = make_phase("e-rechnung")
    make_announcement("Zur E-Akte", phase=phase)
    make_announcement("Zur E-Rechnung", phase=other)
    with app.app_context():
        html = _render_as(app, "projectgroup", '{% include "announcements/_phase_section.html" %}',
                          phase=db.session.get(type(phase), phase.id))
    assert "Zur E-Akte" in html and "Zur E-Rechnung" not in html
    assert f"/announcements/manage/new?phase={phase.id}" in html


# Fixed number of queries --------------------------------------------------------------------------

def _populate(app, people, count: int, make_user, make_team) -> None:
    team = make_team()
    for n in range(count):
        make_user(f"bulk{count}-{n}", team=team if n % 2 else people["team"])
    with app.app_context():
        users = db.session.scalars(select(User.id)).all()
        for n in range(count):
            announcement = Announcement(title=f"Mitteilung {n}", body="Text", audience="teams" if n % 3 else "everyone",
                                        audience_values=[people["team"].id] if n % 3 else [],
                                        publish_at=utcnow() - timedelta(hours=n + 1), requires_ack=bool(n % 2),
                                        pinned=n == 0, created_by_id=people["project_group"].id)
            db.session.add(announcement)
            db.session.flush()
            for user_id in users[: n % 4]:
                db.session.add(Acknowledgement(announcement_id=announcement.id, user_id=user_id, version=1))
        db.session.commit()


@pytest.mark.parametrize("url", ["/announcements/", "/announcements/manage"])
def test_pages_run_a_fixed_number_of_queries(app, client, people, login, make_user, make_team, count_queries, url):
    login(client, "projectgroup")
    counts = []
    for size in (2, 12):
        _populate(app, people, size, make_user, make_team)
        client.get(url)  # warm up
        with count_queries() as statements:
            response = client.get(url)
        assert response.status_code == 200
        counts.append(len(statements))
    assert counts[0] == counts[1], counts


def test_detail_pages_run_a_fixed_number_of_queries(app, client, people, login, make_user, make_team,
                                                    make_announcement, count_queries):
    login(client, "projectgroup")
    announcement = make_announcement(requires_ack=True)
    counts = []
    for size in (2, 12):
        _populate(app, people, size, make_user, make_team)
        with app.app_context():
            for _n in range(size):  # more versions too
                stored_announcement = db.session.get(Announcement, announcement.id)
                stored_announcement.version += 1
                from learning.announcements.models import AnnouncementVersion

                stored_announcement.versions.append(AnnouncementVersion(
                    version=stored_announcement.version, title="T", body="B", changed_by_id=people["admin"].id))
            db.session.commit()
        per_page = []
        for url in (f"/announcements/{announcement.id}", f"/announcements/manage/{announcement.id}"):
            with count_queries() as statements:
                assert client.get(url).status_code == 200
            per_page.append(len(statements))
        counts.append(per_page)
    assert counts[0] == counts[1], counts


def test_manager_role_is_not_needed_for_reading(client, people, login, make_announcement):
    make_announcement("Für Führungskräfte", audience="roles", values=[Role.MANAGER.value])
    login(client, "employee")
    assert "Für Führungskräfte" not in client.get("/announcements/").get_data(as_text=True)
    client.post("/logout", data={"csrf_token": client.csrf_token()})
    login(client, "manager")
    assert "Für Führungskräfte" in client.get("/announcements/").get_data(as_text=True)
