"""Announcement services: targeting, scheduling, acknowledgement, versions, rates and privacy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from learning.announcements.models import Acknowledgement, Announcement, AnnouncementVersion
from learning.announcements.services import (
    AnnouncementData,
    acknowledge,
    acknowledgement_report,
    announcement_for,
    create_announcement,
    home_announcements,
    unacknowledged_people,
    update_announcement,
    visible_announcements,
)
from learning.audit.models import AuditEntry
from learning.db import db, unit_of_work, utcnow
from learning.errors import NotFound, ServiceError
from learning.roles import Role


def titles(user, **kwargs) -> list[str]:
    return [item.announcement.title for item in visible_announcements(user, **kwargs)]


def audit_actions() -> list[str]:
    return list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


@pytest.fixture
def org(make_department, make_team, make_user):
    """Two departments; the first has two teams. One person per team, plus a manager in team A."""
    first, second = make_department("Bürgerservice"), make_department("Finanzen")
    team_a, team_b = make_team("Bürgerbüro", first), make_team("Standesamt", first)
    team_c = make_team("Kasse", second)
    return {
        "departments": (first, second), "teams": (team_a, team_b, team_c),
        "a": make_user("a", team=team_a), "b": make_user("b", team=team_b), "c": make_user("c", team=team_c),
        "boss": make_user("boss", team=team_a, roles={Role.MANAGER}),
        "nobody": make_user("nobody"),
        "author": make_user("author", roles={Role.PROJECT_GROUP}),
    }


def test_audiences_reach_exactly_their_people(app, org, make_announcement, ctx):
    first, second = org["departments"]
    team_a, team_b, team_c = org["teams"]
    make_announcement("Alle", audience="everyone")
    make_announcement("Bürgerservice", audience="departments", values=[first.id])
    make_announcement("Standesamt", audience="teams", values=[team_b.id])
    make_announcement("Führungskräfte", audience="roles", values=["manager"])
    make_announcement("Kasse und Bürgerbüro", audience="teams", values=[team_a.id, team_c.id])

    assert sorted(titles(org["a"])) == ["Alle", "Bürgerservice", "Kasse und Bürgerbüro"]
    assert sorted(titles(org["b"])) == ["Alle", "Bürgerservice", "Standesamt"]
    assert sorted(titles(org["c"])) == ["Alle", "Kasse und Bürgerbüro"]
    assert sorted(titles(org["boss"])) == ["Alle", "Bürgerservice", "Führungskräfte", "Kasse und Bürgerbüro"]
    assert titles(org["nobody"]) == ["Alle"]  # no team: only what is meant for everyone


def test_outside_the_audience_the_announcement_does_not_exist(app, org, make_announcement, ctx):
    first, _second = org["departments"]
    announcement = make_announcement(audience="departments", values=[first.id], requires_ack=True)
    assert announcement_for(org["a"], announcement.id).announcement.id == announcement.id
    with pytest.raises(NotFound):
        announcement_for(org["c"], announcement.id)
    with pytest.raises(NotFound):
        acknowledge(org["c"], announcement.id)


def test_drafts_scheduled_and_withdrawn_are_invisible(app, org, make_announcement, ctx):
    make_announcement("Entwurf", publish_at=None)
    make_announcement("Geplant", publish_at=utcnow() + timedelta(hours=2))
    withdrawn = make_announcement("Zurückgezogen")
    db.session.get(Announcement, withdrawn.id).withdrawn_at = utcnow()
    db.session.commit()
    assert titles(org["a"]) == []


def test_scheduled_announcement_appears_at_its_time(app, org, ctx):
    with time_machine.travel(datetime(2026, 3, 2, 8, 0, tzinfo=UTC), tick=False):
        created = create_announcement(AnnouncementData(
            title="Schulungstermine", body="Ab Montag.", publication="schedule",
            publish_at=datetime(2026, 3, 9, 7, 0, tzinfo=UTC)), org["author"])
        assert titles(org["a"]) == []
        with pytest.raises(NotFound):
            announcement_for(org["a"], created.id)
        assert "announcement.scheduled" in audit_actions()
    with time_machine.travel(datetime(2026, 3, 9, 6, 59, tzinfo=UTC), tick=False):
        assert titles(org["a"]) == []
    with time_machine.travel(datetime(2026, 3, 9, 7, 0, tzinfo=UTC), tick=False):
        assert titles(org["a"]) == ["Schulungstermine"]
        assert home_announcements(org["a"]).items[0].is_new
    with time_machine.travel(datetime(2026, 4, 9, 7, 0, tzinfo=UTC), tick=False):
        assert home_announcements(org["a"]).items == []  # no longer new, nothing to confirm


def test_scheduling_in_the_past_is_refused(app, org, ctx):
    with pytest.raises(ServiceError) as refused:
        create_announcement(AnnouncementData(title="Zu spät", body="Text", publication="schedule",
                                             publish_at=utcnow() - timedelta(minutes=1)), org["author"])
    assert refused.value.field == "publish_at"
    assert db.session.scalar(select(func.count()).select_from(Announcement)) == 0


@pytest.mark.parametrize(("data", "field"), [
    ({"title": " "}, "title"),
    ({"title": "x" * 201}, "title"),
    ({"body": ""}, "body"),
    ({"body": "x" * 20_001}, "body"),
    ({"audience": "departments", "audience_values": []}, "department_ids"),
    ({"audience": "teams", "audience_values": [999_999]}, "team_ids"),
    ({"audience": "roles", "audience_values": ["kaiser"]}, "audience"),
    ({"audience": "planets"}, "audience"),
    ({"phase_id": 999_999}, "phase_id"),
    ({"publication": "schedule"}, "publish_at"),
])
def test_bad_input_is_refused_with_the_field_named(app, org, ctx, data, field):
    values = {"title": "Titel", "body": "Text", "publication": "now", **data}
    with pytest.raises(ServiceError) as refused:
        create_announcement(AnnouncementData(**values), org["author"])
    assert refused.value.field == field
    assert str(refused.value)
    assert db.session.scalar(select(func.count()).select_from(Announcement)) == 0


def test_acknowledgement_and_reacknowledgement_after_a_substantive_change(app, org, ctx):
    with unit_of_work():
        created = create_announcement(AnnouncementData(title="Start der E-Akte", body="Am 1. Juni.",
                                                       publication="now", requires_ack=True), org["author"])
    item = visible_announcements(org["a"])[0]
    assert item.needs_ack and item.pinned and not item.announcement.pinned

    assert acknowledge(org["a"], created.id) is True
    assert acknowledge(org["a"], created.id) is False  # a second click changes nothing
    assert not visible_announcements(org["a"])[0].needs_ack

    announcement = db.session.get(Announcement, created.id)
    with unit_of_work():
        update_announcement(announcement, AnnouncementData(
            title="Start der E-Akte", body="Am 1. Juni (korrigiert).", publication="now", requires_ack=True,
            change_kind="minor"), org["author"])
    assert announcement.version == 2 and announcement.substantive_version == 1
    assert not visible_announcements(org["a"])[0].needs_ack  # a minor edit keeps the acknowledgement

    with pytest.raises(ServiceError) as refused, unit_of_work():
        update_announcement(announcement, AnnouncementData(
            title="Start der E-Akte", body="Am 1. Juli.", publication="now", requires_ack=True,
            change_kind="substantive"), org["author"])
    assert refused.value.field == "reason"
    announcement = db.session.get(Announcement, created.id)
    assert announcement.version == 2

    update_announcement(announcement, AnnouncementData(
        title="Start der E-Akte", body="Am 1. Juli.", publication="now", requires_ack=True,
        change_kind="substantive", reason="Der Termin wurde verschoben."), org["author"])
    assert announcement.version == 3 and announcement.substantive_version == 3
    item = visible_announcements(org["a"])[0]
    assert item.needs_ack and item.changed_since_ack

    assert acknowledge(org["a"], created.id) is True
    ack = db.session.scalar(select(Acknowledgement).where(Acknowledgement.user_id == org["a"].id))
    assert ack.version == 3
    assert db.session.scalar(select(func.count()).select_from(Acknowledgement)) == 1  # one row, updated

    history = db.session.scalars(select(AnnouncementVersion).where(AnnouncementVersion.announcement_id == created.id)
                                 .order_by(AnnouncementVersion.version)).all()
    assert [(v.version, v.substantive, v.reason, v.body) for v in history] == [
        (1, True, "", "Am 1. Juni."),
        (2, False, "", "Am 1. Juni (korrigiert)."),
        (3, True, "Der Termin wurde verschoben.", "Am 1. Juli."),
    ]
    assert audit_actions() == ["announcement.created", "announcement.published", "announcement.updated",
                               "announcement.updated"]


def test_a_changed_text_of_a_published_announcement_needs_an_explicit_choice(app, org, ctx):
    with unit_of_work():
        created = create_announcement(AnnouncementData(title="Titel", body="Text", publication="now"),
                                      org["author"])
    announcement = db.session.get(Announcement, created.id)
    with pytest.raises(ServiceError) as refused, unit_of_work():
        update_announcement(announcement, AnnouncementData(title="Titel", body="Neuer Text", publication="now"),
                            org["author"])
    assert refused.value.field == "change_kind"
    # Settings alone (here: pinning) need no choice and make no version.
    announcement = db.session.get(Announcement, created.id)
    update_announcement(announcement, AnnouncementData(title="Titel", body="Text", publication="now", pinned=True),
                        org["author"])
    assert announcement.version == 1 and announcement.pinned


def test_edits_before_publication_correct_the_first_version(app, org, ctx):
    created = create_announcement(AnnouncementData(title="Entwurf", body="Erster Gedanke", publication="draft"),
                                  org["author"])
    announcement = db.session.get(Announcement, created.id)
    update_announcement(announcement, AnnouncementData(title="Fertig", body="Endgültig", publication="now"),
                        org["author"])
    assert announcement.version == 1
    assert [(v.version, v.title, v.body) for v in announcement.versions] == [(1, "Fertig", "Endgültig")]
    assert audit_actions() == ["announcement.created", "announcement.updated", "announcement.published"]


def test_only_announcements_asking_for_it_can_be_acknowledged(app, org, make_announcement, ctx):
    announcement = make_announcement(requires_ack=False)
    with pytest.raises(ServiceError):
        acknowledge(org["a"], announcement.id)


def test_unacknowledged_announcements_come_first_then_pinned_then_newest(app, org, make_announcement, ctx):
    now = utcnow()
    make_announcement("Alt", publish_at=now - timedelta(days=3))
    make_announcement("Neu", publish_at=now - timedelta(hours=1))
    make_announcement("Angeheftet", publish_at=now - timedelta(days=5), pinned=True)
    confirm = make_announcement("Bitte bestätigen", publish_at=now - timedelta(days=9), requires_ack=True)
    assert titles(org["a"]) == ["Bitte bestätigen", "Angeheftet", "Neu", "Alt"]
    acknowledge(org["a"], confirm.id)
    assert titles(org["a"]) == ["Angeheftet", "Neu", "Alt", "Bitte bestätigen"]


def test_acknowledgement_rate_per_department_and_team(app, org, make_user, make_announcement, ctx):
    team_a, team_b, team_c = org["teams"]
    extra = [make_user(f"extra{n}", team=team_a) for n in range(2)]
    make_user("gone", team=team_a, active=False)  # deactivated people are not counted
    announcement = make_announcement(requires_ack=True)
    for person in (org["a"], extra[0], org["c"]):
        acknowledge(person, announcement.id)

    report = acknowledgement_report(db.session.get(Announcement, announcement.id))
    # addressed: a, boss, extra0, extra1 (Bürgerbüro), b (Standesamt), c (Kasse), nobody, author (no team)
    assert (report.overall.acknowledged, report.overall.targeted) == (3, 8)
    departments = {u.name: (u.rate.acknowledged, u.rate.targeted) for u in report.departments}
    assert departments == {"Bürgerservice": (2, 5), "Finanzen": (1, 1), None: (0, 2)}
    teams = {(u.department, u.name): (u.rate.acknowledged, u.rate.targeted) for u in report.teams}
    assert teams[("Bürgerservice", "Bürgerbüro")] == (2, 4)
    assert teams[("Bürgerservice", "Standesamt")] == (0, 1)
    assert teams[("Finanzen", "Kasse")] == (1, 1)
    # Every group here has fewer than five people (or would give one away by subtraction): no rates.
    assert all(u.rate.hidden and u.rate.percent is None for u in report.departments + report.teams)
    assert report.overall.percent == 38

    # After a substantive change the old acknowledgements no longer count.
    stored = db.session.get(Announcement, announcement.id)
    update_announcement(stored, AnnouncementData(title=stored.title, body="Neu", publication="now", requires_ack=True,
                                                 change_kind="substantive", reason="Neue Frist"), org["author"])
    assert acknowledgement_report(stored).overall.acknowledged == 0


def test_unacknowledged_names_only_where_allowed_and_every_look_is_logged(app, org, make_announcement, ctx):
    first, _second = org["departments"]
    announcement = make_announcement(audience="departments", values=[first.id], requires_ack=True)
    acknowledge(org["a"], announcement.id)
    stored = db.session.get(Announcement, announcement.id)
    with pytest.raises(ServiceError):
        unacknowledged_people(stored, org["author"], allowed=False)
    assert "announcement.unacknowledged_viewed" not in audit_actions()

    people = unacknowledged_people(stored, org["author"], allowed=True)
    assert sorted(p.username for p in people) == ["b", "boss"]
    unacknowledged_people(stored, org["author"], allowed=True)
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "announcement.unacknowledged_viewed")
                                 ).all()
    assert len(entries) == 2
    assert entries[0].actor_id == org["author"].id and entries[0].target_id == announcement.id
    assert entries[0].details["people"] == 2


def test_headings_of_the_text_start_below_the_page_title(app):
    from learning.announcements.services import render_body

    assert "<h2" in render_body("# Oben\n\n## Darunter") and "<h3" in render_body("# Oben\n\n## Darunter")
    assert "<h1" not in render_body("# Oben")
    assert str(render_body("## Abschnitt")).startswith("<h2")


def test_small_groups_and_their_next_smallest_sibling_are_hidden():
    from learning.announcements.services import Rate, UnitRate, suppress_small_groups

    def unit(name, acknowledged, targeted):
        return UnitRate(name, "Amt", Rate(acknowledged=acknowledged, targeted=targeted))

    teams = [unit("klein", 1, 2), unit("mittel", 3, 6), unit("gross", 9, 12)]
    suppress_small_groups(teams)
    # "klein" alone would be the department minus the others: "mittel" is hidden with it.
    assert [t.rate.hidden for t in teams] == [True, True, False]
    assert teams[2].rate.percent == 75

    big = [unit("a", 5, 5), unit("b", 6, 6)]
    suppress_small_groups(big)
    assert not any(t.rate.hidden for t in big)

    two_small = [unit("x", 1, 3), unit("y", 1, 3), unit("z", 9, 10)]
    suppress_small_groups(two_small)
    assert [t.rate.hidden for t in two_small] == [True, True, False]  # together they are six people
