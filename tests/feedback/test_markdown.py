"""Feedback texts: rendered once on saving, shown as stored, without images, bounded, and rate-limited per person."""

from __future__ import annotations

import os
import re
import uuid

import pytest
from sqlalchemy import func, select, update

from learning import content
from learning.content import MAX_LINES, MAX_MARKUP, RENDERER_VERSION
from learning.db import db
from learning.errors import ServiceError
from learning.feedback.models import FeedbackComment, FeedbackPost, FeedbackStatusChange, FeedbackVote
from learning.feedback.services import comment, create_post


@pytest.fixture
def app(kept_app):
    return kept_app(FEEDBACK_POST_LIMIT="2 per hour", FEEDBACK_COMMENT_LIMIT="2 per hour",
                    FEEDBACK_VOTE_LIMIT="1 per hour")


def _page(response) -> str:
    return response.get_data(as_text=True)


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


QUIZ = "/learning/courses/datenschutz/quiz"


def test_a_post_is_rendered_on_saving_and_shown_as_stored(app, client, people, login, channel):
    login(client, "employee")
    response = client.submit(f"/feedback/{channel.slug}/new", {"kind": "idea", "title": "Idee",
                                                                "body": "Ein **wichtiger** Vorschlag"})
    post_url = response.headers["Location"].split("?")[0]
    with app.app_context():
        post = db.session.scalars(select(FeedbackPost)).one()
        assert post.body_html == "<p>Ein <strong>wichtiger</strong> Vorschlag</p>"
        assert post.html_version == RENDERER_VERSION
        # The page shows what is stored; it does not render the source again.
        db.session.execute(update(FeedbackPost).values(body_html="<p>gespeichertes HTML</p>"))
        db.session.commit()
    page = _page(client.get(post_url))
    assert "gespeichertes HTML" in page and "wichtiger" not in page


def test_images_in_posts_comments_and_reasons_make_no_request(app, client, people, login, channel):
    body = f"Schauen Sie ![ ]({QUIZ}) und ![Zertifikat](/learning/certificates/ABC)"
    login(client, "projectgroup")
    response = client.submit(f"/feedback/{channel.slug}/new", {"kind": "idea", "title": "Bild", "body": body})
    post_url = response.headers["Location"].split("?")[0]
    client.submit(f"{post_url}/status", {"status-status": "planned", "status-reply": body})
    with app.app_context():
        assert _count(FeedbackComment) == 1 and _count(FeedbackStatusChange) == 1
    for url in (post_url, f"/feedback/{channel.slug}/done"):
        page = _page(client.get(url))
        assert "<img" not in page.split("<main", 1)[1]
        assert QUIZ not in page and "/learning/certificates/ABC" not in page


def test_a_comment_cannot_impersonate_the_project_group(app, client, people, login, channel, make_post):
    post = make_post(channel, people["manager"])
    login(client, "employee")
    fake = ('<span class="kern-badge">Offizielle Antwort der Projektgruppe</span>\n\n'
            "Offizielle Antwort der Projektgruppe\n{: .kern-badge .kern-badge--info }\n\n"
            "[Hier anmelden](https://evil.example/login){: .kern-btn .kern-btn--primary }")
    client.submit(f"/feedback/{channel.slug}/{post.id}/comments", {"body": fake})
    with app.app_context():
        stored = db.session.scalars(select(FeedbackComment)).one().body_html
    classes = set(re.findall(r'<[^>]* class="([^"]*)"', stored))
    assert classes == {"external-link", "external-link__marker", "visually-hidden"}  # the renderer's own only
    assert ('<a href="https://evil.example/login" rel="noopener noreferrer nofollow" class="external-link">'
            in stored)
    page = _page(client.get(f"/feedback/{channel.slug}/{post.id}"))
    assert "(externer Link)" in page or "(external link)" in page


def test_too_much_formatting_is_refused_in_the_form_and_the_service(app, client, people, login, channel):
    body = "**a** " * (MAX_MARKUP // 4 + 1)
    login(client, "employee")
    response = client.submit(f"/feedback/{channel.slug}/new", {"kind": "idea", "title": "T", "body": body})
    assert response.status_code == 200 and "too many lines or formatting characters" in _page(response)
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert _count(FeedbackPost) == 0
        with pytest.raises(ServiceError, match="too many lines or formatting characters"):
            create_post(people["employee"], channel, kind="idea", title="T", body=body, anonymous=False)
        post = create_post(people["employee"], channel, kind="idea", title="T", body="ok", anonymous=False)
        with pytest.raises(ServiceError, match="too many lines or formatting characters"):
            comment(people["employee"], post, "a\n" * MAX_LINES + "a")
        db.session.rollback()


def test_posts_are_rate_limited_per_person(app, client, people, login, channel):
    login(client, "employee")
    for n in range(2):
        response = client.submit(f"/feedback/{channel.slug}/new", {"kind": "idea", "title": f"T{n}", "body": "B"})
        assert response.status_code == 302
    response = client.submit(f"/feedback/{channel.slug}/new", {"kind": "idea", "title": "T3", "body": "B"})
    assert response.status_code == 429
    assert "You have published several posts in a short time" in _page(response)
    assert 'name="title"' in _page(response)  # on the form, with what was typed
    with app.app_context():
        assert _count(FeedbackPost) == 2
    other = app.test_client()
    login(other, "manager")  # per person: someone else may still post
    assert other.submit(f"/feedback/{channel.slug}/new", {"kind": "idea", "title": "M", "body": "B"}).status_code == 302


def test_refused_posts_do_not_count_against_the_limit(app, client, people, login, channel):
    login(client, "employee")
    for _ in range(3):
        client.submit(f"/feedback/{channel.slug}/new", {"kind": "idea", "title": "", "body": "B"})
    response = client.submit(f"/feedback/{channel.slug}/new", {"kind": "idea", "title": "T", "body": "B"})
    assert response.status_code == 302


def test_comments_are_rate_limited_per_person(app, client, people, login, channel, make_post):
    post = make_post(channel, people["manager"])
    login(client, "employee")
    url = f"/feedback/{channel.slug}/{post.id}/comments"
    assert [client.submit(url, {"body": f"K{n}"}).status_code for n in range(2)] == [302, 302]
    response = client.submit(url, {"body": "K3"})
    assert response.status_code == 429
    assert "You have written several comments in a short time" in _page(response)
    with app.app_context():
        assert _count(FeedbackComment) == 2


def test_votes_are_rate_limited_per_person(app, client, people, login, channel, make_post):
    first, second = make_post(channel, people["manager"]), make_post(channel, people["manager"])
    login(client, "employee")
    client.submit(f"/feedback/{channel.slug}/{first.id}/vote", {})
    response = client.submit(f"/feedback/{channel.slug}/{second.id}/vote", {}, follow_redirects=True)
    assert "You have voted many times in a short time" in _page(response)
    with app.app_context():
        assert db.session.scalars(select(FeedbackVote.post_id)).all() == [first.id]
        assert db.session.get(FeedbackPost, second.id).vote_count == 0


def test_a_new_renderer_version_renders_stored_texts_again(app, runner, people, channel, make_post, monkeypatch):
    post = make_post(channel, people["employee"], body="*neu*")
    with app.app_context():
        assert db.session.get(FeedbackPost, post.id).body_html == "<p><em>neu</em></p>"
        db.session.execute(update(FeedbackPost).values(body_html="<p>alt</p>"))
        db.session.commit()
    result = runner.invoke(args=["content", "rerender"])
    assert result.exit_code == 0 and "0 texts rendered" in result.output  # current version: nothing to do
    monkeypatch.setattr(content, "RENDERER_VERSION", RENDERER_VERSION + 1)
    result = runner.invoke(args=["content", "rerender"])
    assert result.exit_code == 0 and "feedback_post: 1 rendered" in result.output
    with app.app_context():
        stored = db.session.get(FeedbackPost, post.id)
        assert stored.body_html == "<p><em>neu</em></p>" and stored.html_version == RENDERER_VERSION + 1


def test_the_post_limit_is_shared_by_two_instances_through_redis(make_app, people, login, channel):
    # The Redis of the project's machines unless told otherwise; a missing server fails the test.
    redis_url = os.environ.get("LEARNING_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    settings = {"RATELIMIT_STORAGE_URI": redis_url, "RATELIMIT_KEY_PREFIX": f"test-{uuid.uuid4().hex}",
                "FEEDBACK_POST_LIMIT": "1 per hour"}
    first, second = make_app(**settings), make_app(**settings)
    client_a, client_b = first.test_client(), second.test_client()
    login(client_a, "employee")
    login(client_b, "employee")
    data = {"kind": "idea", "title": "T", "body": "B"}
    assert client_a.submit(f"/feedback/{channel.slug}/new", data).status_code == 302
    assert client_b.submit(f"/feedback/{channel.slug}/new", data).status_code == 429
