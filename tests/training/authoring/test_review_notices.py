"""Review notices: a request for review reaches the other editors and the project group at once, a comment or an
approval reaches the person who asked and the last saver; never the person acting, never after publishing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from learning.db import db
from learning.messaging.models import Outbox
from learning.messaging.outbox import send_due
from learning.notifications.models import Notification, NotificationPreference
from learning.roles import Role
from learning.training.authoring.models import CourseDraft, ReviewState
from tests.training.authoring.test_publish import edit_lesson, publish

REQUESTED, REVIEWED = "training.review_requested", "training.draft_reviewed"
TITLE = "Reisekosten digital"


@pytest.fixture
def team(people, make_user):
    """Lena and Tom edit the course; Fremd is an author not named on it; Ehemals is named but no longer an author;
    Alt is a project group member who has left."""
    return {"lena": make_user("lena", roles={Role.AUTHOR}, first_name="Lena", last_name="Autorin"),
            "tom": make_user("tom", roles={Role.AUTHOR}, first_name="Tom", last_name="Kraus"),
            "fremd": make_user("fremd", roles={Role.AUTHOR}),
            "ehemals": make_user("ehemals"),
            "alt": make_user("alt", roles={Role.PROJECT_GROUP}, active=False),
            **people}


@pytest.fixture
def draft(team, make_draft):
    return make_draft("reisekosten", title=TITLE, editors=[team["lena"], team["tom"], team["ehemals"]])


def signed_in(app, login, username):
    client = app.test_client()
    login(client, username)
    return client


def review(client, action, body="", slug="reisekosten"):
    return client.submit(f"/learning/author/{slug}/review", {"action": action, "body": body})


def notices(app, *kinds) -> dict[str, list[dict]]:
    """username -> details of their notifications of ``kinds``."""
    from learning.org.models import User

    with app.app_context():
        rows = db.session.execute(select(User.username, Notification.details)
                                  .join(User, User.id == Notification.user_id)
                                  .where(Notification.kind.in_(kinds)).order_by(Notification.id)).all()
        db.session.remove()
    found: dict[str, list[dict]] = {}
    for username, details in rows:
        found.setdefault(username, []).append(details)
    return found


def queued(app, kind) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Outbox).where(Outbox.kind == kind))


def centre(client, language="en") -> str:
    return client.get("/notifications/", headers={"Accept-Language": language}).get_data(as_text=True)


def test_a_request_reaches_the_other_editors_and_the_project_group_once(app, login, team, draft):
    tom = signed_in(app, login, "tom")
    assert review(tom, "request").status_code == 302
    found = notices(app, REQUESTED)
    # Not Tom (who asked), not Fremd (not on the course), not Ehemals (no longer an author), not Alt (left),
    # nobody without the author or project-group role.
    assert sorted(found) == ["lena", "projectgroup"]
    assert all(len(items) == 1 and items[0]["title"] == TITLE and items[0]["by"] == "Tom Kraus"
               for items in found.values())
    assert queued(app, REQUESTED) == 2  # and so one entry in each one's next digest

    again = review(tom, "request")
    assert again.status_code == 200 and "The draft is already waiting for review." in again.get_data(as_text=True)
    assert queued(app, REQUESTED) == 2 and sum(map(len, notices(app, REQUESTED).values())) == 2

    lena = signed_in(app, login, "lena")
    page = centre(lena)
    assert "Tom Kraus asks you to review the draft “Reisekosten digital”" in page
    assert "/learning/author/reisekosten/review" in page
    assert "Tom Kraus bittet Sie, den Entwurf „Reisekosten digital“ zu prüfen" in centre(lena, "de")
    assert "asks you to review" not in centre(tom)


def test_comments_and_approvals_reach_the_requester_and_the_last_saver_not_the_reviewer(app, login, team, draft):
    edit_lesson(app, "reisekosten", 0, "## Start\n\nVon Lena.", team["lena"])  # Lena saved last
    tom, lena = signed_in(app, login, "tom"), signed_in(app, login, "lena")
    group = signed_in(app, login, "projectgroup")
    assert review(tom, "request").status_code == 302

    assert review(group, "comment", "Bitte Lektion 2 kürzen.").status_code == 302
    found = notices(app, REVIEWED)
    assert sorted(found) == ["lena", "tom"]
    assert found["tom"][0]["kind"] == "comment" and found["tom"][0]["excerpt"] == "Bitte Lektion 2 kürzen."

    assert review(lena, "comment", "Ist gekürzt.").status_code == 302  # the last saver comments: only Tom hears
    found = notices(app, REVIEWED)
    assert (len(found["tom"]), len(found["lena"])) == (2, 1)

    assert review(tom, "approve", "Passt.").status_code == 302  # Tom asked and approves: only Lena hears
    found = notices(app, REVIEWED)
    assert (len(found["tom"]), len(found["lena"])) == (2, 2) and "projectgroup" not in found
    assert found["lena"][-1]["kind"] == "approval"

    page = centre(lena)
    assert "Tom Kraus approved the draft “Reisekosten digital”" in page and "Passt." in page
    assert "commented on the draft “Reisekosten digital”" in page
    german = centre(lena, "de")
    assert "Tom Kraus hat den Entwurf „Reisekosten digital“ freigegeben" in german
    assert "hat den Entwurf „Reisekosten digital“ kommentiert" in german
    assert "Lena Autorin hat den Entwurf „Reisekosten digital“ kommentiert" in centre(tom, "de")


def _mail_settings(app, smtp_server):
    app.config.update(SMTP_URL=smtp_server.url, MAIL_HOURS=(0, 24), MAIL_WEEKENDS=True, REMINDER_DIGEST="immediate",
                      BASE_URL="https://lernen.example.de")


def _mails_to(smtp_server, user) -> list[str]:
    return [m.get_body(("plain",)).get_content() for m in smtp_server.messages if user.email in str(m["To"])]


def test_the_digest_carries_the_request_but_nothing_about_a_draft_published_since(app, login, team, make_draft,
                                                                                 smtp_server):
    _mail_settings(app, smtp_server)
    make_draft("offen", title="Offener Entwurf", editors=[team["lena"], team["tom"]])
    make_draft("fertig", title="Schon veröffentlicht", editors=[team["lena"], team["tom"]])
    tom, group = signed_in(app, login, "tom"), signed_in(app, login, "projectgroup")
    assert review(tom, "request", slug="offen").status_code == 302
    assert review(tom, "request", slug="fertig").status_code == 302
    assert review(group, "comment", "Noch ein Tippfehler.", slug="fertig").status_code == 302
    lena = signed_in(app, login, "lena")
    assert "Schon veröffentlicht" in centre(lena)
    assert publish(signed_in(app, login, "lena"), "fertig", "Erste Fassung").status_code == 302

    page = centre(lena)
    assert "Offener Entwurf" in page and "Schon veröffentlicht" not in page  # gone from the centre at once
    assert "Schon veröffentlicht" not in centre(tom)
    with app.app_context():
        send_due(ignore_schedule=True)
    mails = _mails_to(smtp_server, team["lena"])
    assert len(mails) == 1 and "Offener Entwurf" in mails[0] and "Schon veröffentlicht" not in mails[0]
    assert not any("Schon veröffentlicht" in text for text in _mails_to(smtp_server, team["tom"]))


def test_a_withdrawn_request_is_not_sent_and_a_new_one_is(app, login, team, draft, smtp_server):
    _mail_settings(app, smtp_server)
    tom, lena = signed_in(app, login, "tom"), signed_in(app, login, "lena")
    assert review(tom, "request").status_code == 302
    first = notices(app, REQUESTED)["lena"][0]["requested_at"]
    assert review(lena, "withdraw").status_code == 302
    with app.app_context():
        assert db.session.scalar(select(CourseDraft.review_state)) == ReviewState.EDITING
    assert "asks you to review" not in centre(lena)
    with app.app_context():
        send_due(ignore_schedule=True)
    assert _mails_to(smtp_server, team["lena"]) == []
    assert "lena" not in notices(app, REQUESTED)  # the sender's re-check took the unread notice away
    assert review(lena, "withdraw").status_code == 200  # nothing to withdraw any more

    assert review(tom, "request").status_code == 302  # a new request is a new notice
    [renewed] = notices(app, REQUESTED)["lena"]
    assert renewed["requested_at"] != first
    with app.app_context():
        send_due(ignore_schedule=True)
    mails = _mails_to(smtp_server, team["lena"])
    assert len(mails) == 1 and TITLE in mails[0]


def test_people_who_switched_it_off_get_no_notice(app, login, team, draft):
    with app.app_context():
        db.session.add(NotificationPreference(user_id=team["lena"].id, muted_kinds=[REQUESTED]))
        db.session.commit()
    assert review(signed_in(app, login, "tom"), "request").status_code == 302
    assert sorted(notices(app, REQUESTED)) == ["projectgroup"]


@pytest.mark.parametrize(("username", "listed"), [("lena", True), ("projectgroup", True), ("employee", False),
                                                  ("manager", False), ("admin", False)])
def test_the_settings_list_the_review_notices_only_to_authors_and_the_project_group(app, login, team, username,
                                                                                    listed):
    page = signed_in(app, login, username).get("/notifications/preferences").get_data(as_text=True)
    assert 'value="training.assigned"' in page
    assert (f'value="{REQUESTED}"' in page) is listed and (f'value="{REVIEWED}"' in page) is listed
    assert ("Review of a course draft requested" in page) is listed
