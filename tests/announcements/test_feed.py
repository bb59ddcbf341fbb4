"""The personal Atom feed: valid Atom 1.0, only what the person may read, sanitised HTML, secret address."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from learning.announcements.models import FeedToken
from learning.db import db, utcnow
from learning.org.models import User

ATOM = "{http://www.w3.org/2005/Atom}"
XSS_BODY = 'Hallo <script>alert("feed")</script><img src=x onerror="alert(1)"> [x](javascript:alert(2))'


@pytest.fixture
def feed_url(app, people):
    with app.app_context():
        token = FeedToken(user_id=people["employee"].id)
        db.session.add(token)
        db.session.commit()
        return f"/announcements/feed/{token.token}.atom"


def parse(response) -> ET.Element:
    assert response.status_code == 200
    assert response.mimetype == "application/atom+xml"
    root = ET.fromstring(response.data)
    assert root.tag == f"{ATOM}feed"
    return root


def test_feed_is_valid_atom_with_the_persons_announcements(app, client, people, feed_url, make_team,
                                                           make_announcement):
    other_team = make_team("Kasse")
    make_announcement("Für alle", "Ab **Montag** gilt der neue Ablauf.", author=people["project_group"])
    make_announcement("Für das Bürgerbüro", audience="teams", values=[people["team"].id],
                      publish_at=utcnow() - timedelta(days=2))
    make_announcement("Nur Kasse", audience="teams", values=[other_team.id])
    make_announcement("Noch nicht", publish_at=utcnow() + timedelta(days=1))
    make_announcement("Entwurf", publish_at=None)

    root = parse(client.get(feed_url))  # no sign-in: the token is the key
    for name in ("id", "title", "updated", "author"):
        assert root.find(f"{ATOM}{name}") is not None, name
    assert root.find(f"{ATOM}link[@rel='self']").get("href") == "http://localhost" + feed_url
    datetime.fromisoformat(root.find(f"{ATOM}updated").text)

    entries = root.findall(f"{ATOM}entry")
    assert [e.find(f"{ATOM}title").text for e in entries] == ["Für alle", "Für das Bürgerbüro"]
    ids = [e.find(f"{ATOM}id").text for e in entries]
    assert all(i.startswith("tag:localhost,") for i in ids) and len(set(ids)) == 2
    for entry in entries:
        link = entry.find(f"{ATOM}link[@rel='alternate']").get("href")
        assert link.startswith("http://localhost/announcements/")
        datetime.fromisoformat(entry.find(f"{ATOM}updated").text)
        assert entry.find(f"{ATOM}content").get("type") == "html"
    first = entries[0]
    assert first.find(f"{ATOM}author/{ATOM}name").text == people["project_group"].full_name
    assert "<strong>Montag</strong>" in first.find(f"{ATOM}content").text


def test_feed_content_is_sanitised(app, client, feed_url, make_announcement):
    make_announcement('<script>alert("t")</script>Titel', XSS_BODY)
    response = client.get(feed_url)
    entry = parse(response).find(f"{ATOM}entry")
    html = entry.find(f"{ATOM}content").text
    assert "Hallo" in html
    markup = " ".join(re.findall(r"<[^>]+>", html))  # raw HTML in the text is shown as text, so look at tags
    assert "<script" not in markup and "onerror" not in markup and "javascript:" not in markup
    assert "<script" not in html and "javascript:" not in html
    assert entry.find(f"{ATOM}title").text == '<script>alert("t")</script>Titel'  # plain text, escaped in XML
    assert b"<script>" not in response.data


def test_an_unknown_token_is_404(client, people, feed_url):
    assert client.get("/announcements/feed/not-a-token.atom").status_code == 404
    assert client.get("/announcements/feed/" + "x" * 80 + ".atom").status_code == 404


def test_a_deactivated_person_has_no_feed(app, client, people, feed_url):
    with app.app_context():
        db.session.get(User, people["employee"].id).deactivate()
        db.session.commit()
    assert client.get(feed_url).status_code == 404


def test_an_empty_feed_is_still_valid(client, feed_url):
    root = parse(client.get(feed_url))
    assert root.findall(f"{ATOM}entry") == []
    assert root.find(f"{ATOM}updated").text


def test_feed_follows_the_persons_audience(app, client, people, make_announcement, make_user):
    make_announcement("Für Führungskräfte", audience="roles", values=["manager"])
    with app.app_context():
        tokens = {}
        for key in ("employee", "manager"):
            token = FeedToken(user_id=people[key].id)
            db.session.add(token)
            db.session.flush()
            tokens[key] = token.token
        db.session.commit()
        assert db.session.scalar(select(FeedToken.user_id).where(FeedToken.token == tokens["manager"]))
    manager_feed = parse(client.get(f"/announcements/feed/{tokens['manager']}.atom"))
    employee_feed = parse(client.get(f"/announcements/feed/{tokens['employee']}.atom"))
    assert len(manager_feed.findall(f"{ATOM}entry")) == 1
    assert employee_feed.findall(f"{ATOM}entry") == []


def test_entry_updated_follows_text_changes_and_queries_stay_fixed(app, client, people, feed_url,
                                                                   make_announcement, count_queries):
    from learning.announcements.models import Announcement, AnnouncementVersion

    published = (utcnow() - timedelta(days=2)).replace(microsecond=0)
    changed = (utcnow() - timedelta(days=1)).replace(microsecond=0)
    announcement = make_announcement("Geändert", publish_at=published)
    entry = parse(client.get(feed_url)).find(f"{ATOM}entry")
    assert datetime.fromisoformat(entry.find(f"{ATOM}updated").text) == published
    with app.app_context():
        stored = db.session.get(Announcement, announcement.id)
        stored.version = 2
        stored.versions.append(AnnouncementVersion(version=2, title="Geändert", body="Neu", changed_at=changed))
        db.session.commit()
    with count_queries() as few:
        entry = parse(client.get(feed_url)).find(f"{ATOM}entry")
    assert datetime.fromisoformat(entry.find(f"{ATOM}updated").text) == changed
    assert datetime.fromisoformat(entry.find(f"{ATOM}published").text) == published
    for n in range(10):
        make_announcement(f"Mehr {n}")
    with count_queries() as many:
        assert len(parse(client.get(feed_url)).findall(f"{ATOM}entry")) == 11
    assert len(few) == len(many)


def test_a_feed_reader_parses_the_feed_without_complaint(client, people, feed_url, make_announcement):
    import feedparser

    make_announcement("Für alle", "Ab **Montag** gilt der neue Ablauf. <script>alert(1)</script>",
                      author=people["project_group"])
    parsed = feedparser.parse(client.get(feed_url).data)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    (entry,) = parsed.entries
    assert entry.title == "Für alle" and entry.link.startswith("http://localhost/announcements/")
    assert "<strong>Montag</strong>" in entry.content[0].value and "<script" not in entry.content[0].value
