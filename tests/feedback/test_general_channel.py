"""The general feedback channel: for everything that belongs to no rollout phase."""

from __future__ import annotations

from sqlalchemy import select

from learning.db import db
from learning.feedback.models import FeedbackPost


def test_the_general_channel_is_there_without_any_phase(client, people, login):
    login(client, "employee")
    index = client.get("/feedback/").get_data(as_text=True)
    assert 'href="/feedback/general"' in index and "General" in index
    page = client.get("/feedback/general").get_data(as_text=True)
    assert "whatever the phase" in page and 'href="/feedback/general/new"' in page


def test_post_comment_and_answer_in_the_general_channel(app, client, people, login, channel):
    login(client, "employee")
    response = client.submit("/feedback/general/new", {
        "kind": "question", "title": "Gibt es eine Schulung zum Intranet?", "body": "Für alle, die neu sind."})
    assert response.status_code == 302
    with app.app_context():
        post = db.session.scalar(select(FeedbackPost))
        assert post.phase_id is None and post.channel_slug == "general"
        post_id = post.id
    url = f"/feedback/general/{post_id}"
    assert response.headers["Location"].endswith(url)
    assert "Gibt es eine Schulung zum Intranet?" in client.get(url).get_data(as_text=True)
    assert client.submit(f"{url}/comments", {"body": "Gute Frage."}).status_code == 302

    group = app.test_client()
    login(group, "projectgroup")
    response = group.submit(f"{url}/status", {"status-status": "planned", "status-reason": "Ja, im Mai."},
                            follow_redirects=True)
    assert response.status_code == 200
    done = client.get("/feedback/general/done").get_data(as_text=True)
    assert "Gibt es eine Schulung zum Intranet?" in done
    # Not in a phase's channel, and a phase's post is not in the general one.
    assert "Gibt es eine Schulung" not in client.get(f"/feedback/{channel.slug}").get_data(as_text=True)
    assert client.get(f"/feedback/{channel.slug}/{post_id}").status_code == 404
    index = client.get("/feedback/").get_data(as_text=True)
    assert index.index('href="/feedback/general"') < index.index(f'href="/feedback/{channel.slug}"')
