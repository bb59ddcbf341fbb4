"""Feedback pages: posting, voting, commenting, the project group's forms, bad input and query counts."""

from __future__ import annotations

import re

import pytest
from flask import render_template_string
from sqlalchemy import func, select

from learning.db import db
from learning.feedback.models import FeedbackComment, FeedbackPost, FeedbackStatusChange


def _page(response) -> str:
    return response.get_data(as_text=True)


def test_post_vote_and_comment(app, client, people, login, channel, make_post):
    login(client, "employee")
    response = client.submit(f"/feedback/{channel.slug}/new", {
        "kind": "idea", "title": "Zweiter Bildschirm", "body": "Mit **zwei** Bildschirmen geht es schneller.",
    })
    assert response.status_code == 302
    page = _page(client.get(response.headers["Location"]))
    assert "Your post has been published." in page
    assert "Zweiter Bildschirm" in page and "<strong>zwei</strong>" in page
    assert "Test Person" in page  # the named author
    with app.app_context():
        post_id = db.session.scalar(select(FeedbackPost.id))

    other = app.test_client()
    login(other, "manager")
    url = f"/feedback/{channel.slug}/{post_id}"
    response = other.submit(f"{url}/vote")
    assert response.status_code == 302 and response.headers["Location"].endswith(url)
    assert "Thank you for your vote." in _page(other.get(url))
    response = other.submit(f"{url}/vote", follow_redirects=True)
    assert response.status_code == 200 and "You have already voted for this post." in _page(response)
    assert "1 vote" in _page(other.get(url)) and "You voted for this post." in _page(other.get(url))

    response = other.submit(f"{url}/comments", {"body": "Gute Idee, *unbedingt*!"}, follow_redirects=True)
    assert "Your comment has been published." in _page(response)
    assert "<em>unbedingt</em>" in _page(response)
    # An employee's "official" tick is ignored: only the project group replies officially.
    client.submit(f"{url}/comments", {"body": "Offiziell?", "official": "y"})
    with app.app_context():
        assert [c.official for c in db.session.scalars(select(FeedbackComment))] == [False, False]


def test_follow_and_stop_following(client, people, login, channel, make_post):
    post = make_post(channel, people["manager"])
    login(client, "employee")
    url = f"/feedback/{channel.slug}/{post.id}"
    assert "Follow this post" in _page(client.get(url))
    assert "You now follow this post" in _page(client.submit(f"{url}/subscribe", follow_redirects=True))
    assert "You no longer follow this post." in _page(client.submit(f"{url}/unsubscribe", follow_redirects=True))


def test_an_anonymous_post_shows_no_name(client, people, login, channel):
    login(client, "employee")
    response = client.submit(f"/feedback/{channel.slug}/new", {
        "kind": "concern", "title": "Anonym", "body": "Text", "anonymous": "y"}, follow_redirects=True)
    page = _page(response)
    assert "Your post has been published anonymously." in page and "Anonymous, on" in page
    assert "Test Person" not in page.split("Signed in as")[0]


def test_the_form_explains_anonymity(client, people, login, channel):
    login(client, "employee")
    page = _page(client.get(f"/feedback/{channel.slug}/new"))
    assert "Post anonymously" in page
    assert "not even the project group or an administrator" in page
    assert '<legend class="kern-label">Kind of post</legend>' in page


@pytest.mark.parametrize(("data", "message"), [
    ({"title": "x" * 151}, "The title may be at most 150 characters long."),
    ({"body": "y" * 5001}, "The text may be at most 5000 characters long."),
    ({"title": ""}, "Please enter a title."),
    ({"body": "   "}, "Please enter your text."),
    ({"kind": ""}, "Please choose what kind of post this is."),
    ({"kind": "rant"}, "Not a valid choice"),
])
def test_bad_posts_show_a_message_and_store_nothing(app, client, people, login, channel, data, message):
    login(client, "employee")
    response = client.submit(f"/feedback/{channel.slug}/new", {"kind": "idea", "title": "T", "body": "B", **data})
    assert response.status_code == 200
    page = _page(response)
    assert "Please check your entries" in page and message in page
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(FeedbackPost)) == 0


def test_too_long_comments_are_refused(app, client, people, login, channel, make_post):
    post = make_post(channel)
    login(client, "employee")
    response = client.submit(f"/feedback/{channel.slug}/{post.id}/comments", {"body": "z" * 3001})
    assert response.status_code == 200 and "A comment may be at most 3000 characters long." in _page(response)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(FeedbackComment)) == 0


XSS = ('<script>alert("x")</script><img src=x onerror="alert(1)">'
       '[klick](javascript:alert(2)) <a href="javascript:alert(3)" onclick="alert(4)">a</a>'
       '<iframe src="https://evil.example"></iframe><style>body{display:none}</style>')


def _assert_neutralised(page: str) -> None:
    assert "<script>alert" not in page and "<iframe" not in page and "<style>" not in page
    tags = " ".join(re.findall(r"<[^>]+>", page))  # raw HTML in a text is shown as text: look at real tags
    assert not re.search(r"""(href|src)\s*=\s*["']?\s*javascript:""", tags, re.I)
    assert not re.search(r"<[^>]+\son[a-z]+=", tags)


def test_xss_payloads_are_neutralised(app, client, people, login, channel):
    login(client, "projectgroup")
    response = client.submit(f"/feedback/{channel.slug}/new", {"kind": "idea", "title": XSS[:150], "body": XSS})
    url = response.headers["Location"]
    post_url = url.split("?")[0]
    client.submit(f"{post_url}/comments", {"body": XSS})
    client.submit(f"{post_url}/status", {"status-status": "planned", "status-reply": XSS})
    for page_url in (post_url, f"/feedback/{channel.slug}", f"/feedback/{channel.slug}/done", "/feedback/"):
        page = _page(client.get(page_url))
        _assert_neutralised(page)
    page = _page(client.get(post_url))
    assert "&lt;script&gt;" in page  # the title is shown as text


def test_employees_cannot_use_the_project_groups_actions(app, client, people, login, channel, make_post):
    post = make_post(channel, people["employee"])
    base = f"/feedback/{channel.slug}/{post.id}"
    for role in ("employee", "manager"):
        c = app.test_client()
        login(c, people[role].username)
        assert c.submit(f"{base}/status", {"status-status": "under_review"}).status_code == 403
        assert c.submit(f"{base}/hide", {"hide-reason": "Weil"}).status_code == 403
        assert c.submit(f"{base}/unhide").status_code == 403
        assert "Change the status" not in _page(c.get(base))
    with app.app_context():
        assert db.session.get(FeedbackPost, post.id).status == "new"
        assert db.session.scalar(select(func.count()).select_from(FeedbackStatusChange)) == 0


def test_the_project_group_answers_and_moves_a_post(app, client, people, login, channel, make_post):
    post = make_post(channel, people["employee"], kind="concern")
    login(client, "projectgroup")
    base = f"/feedback/{channel.slug}/{post.id}"
    page = _page(client.get(base))
    assert "Answer the post" in page and "Reply of the project group" in page
    assert 'action="' + base + '/status#answer"' in page  # back at the form after sending
    assert '<option value="implemented">' not in page  # not a valid step from "new"

    response = client.submit(f"{base}/status", {"status-status": "", "status-reply": "Wir bilden ein Scan-Team."},
                             follow_redirects=True)
    assert "Your official reply has been published." in _page(response)

    response = client.submit(f"{base}/status", {"status-status": "implemented"})
    assert response.status_code == 200 and "Not a valid choice" in _page(response)
    response = client.submit(f"{base}/status", {"status-status": "declined", "status-reply": ""})
    assert response.status_code == 200 and "Please give a reason when you decline a post." in _page(response)

    response = client.submit(f"{base}/status", {"status-status": "planned", "status-reply": "Ab Juni."},
                             follow_redirects=True)
    page = _page(response)
    assert "The status is now “Planned”." in page
    assert "Status changed from “New” to “Planned”" in page and "Ab Juni." in page

    author = app.test_client()
    login(author, "employee")
    page = _page(author.get(base))
    assert "Planned" in page and "Wir bilden ein Scan-Team." in page and "Official reply of the project group" in page


def test_a_decline_without_reason_keeps_the_choice_and_shows_the_error_at_the_form(
        app, client, people, login, channel, make_post):
    post = make_post(channel, people["employee"])
    login(client, "projectgroup")
    base = f"/feedback/{channel.slug}/{post.id}"
    response = client.submit(f"{base}/status", {"status-status": "declined", "status-reply": "  "})
    assert response.status_code == 200  # no redirect that would lose what was chosen
    page = _page(response)
    answer = page.split('id="answer"', 1)[1]
    assert '<option selected value="declined">' in answer or '<option value="declined" selected>' in answer
    assert 'id="status-reply-error"' in answer and "Please give a reason when you decline a post." in answer
    assert 'aria-invalid="true"' in answer and 'href="#status-reply"' in answer
    assert f'action="{base}/status#answer"' in page

    response = client.submit(f"{base}/status", {"status-status": "", "status-reply": ""})
    assert "Please write a reply or choose a new status." in _page(response)
    response = client.submit(f"{base}/status", {"status-status": "under_review", "status-reply": "x" * 1001})
    page = _page(response)
    assert "at most 1000 characters" in page and "x" * 1001 in page  # what was typed is kept
    with app.app_context():
        assert db.session.get(FeedbackPost, post.id).status == "new"
        assert db.session.scalar(select(func.count()).select_from(FeedbackComment)) == 0


def test_hide_and_unhide_through_the_pages(app, client, people, login, channel, make_post):
    post = make_post(channel, people["employee"], title="Kritik an Kollegen")
    base = f"/feedback/{channel.slug}/{post.id}"
    login(client, "projectgroup")
    response = client.submit(f"{base}/hide", {"hide-reason": ""})
    assert response.status_code == 200 and "Please say why the post is hidden" in _page(response)
    response = client.submit(f"{base}/hide", {"hide-reason": "Nennt Kollegen namentlich."}, follow_redirects=True)
    assert "The post is now hidden." in _page(response)

    author, reader = app.test_client(), app.test_client()
    login(author, "employee")
    login(reader, "manager")
    page = _page(author.get(base))
    assert "Hidden by the project group: Nennt Kollegen namentlich." in page
    assert "Vote for this post" not in page and "Write a comment" not in page
    assert reader.get(base).status_code == 404
    assert "Kritik an Kollegen" not in _page(reader.get(f"/feedback/{channel.slug}"))
    assert "Kritik an Kollegen" in _page(author.get(f"/feedback/{channel.slug}"))
    # A vote on a hidden post is refused, never a 500.
    assert reader.submit(f"{base}/vote").status_code == 404
    assert "Nennt Kollegen" not in _page(reader.get(f"/feedback/{channel.slug}/done"))

    response = client.submit(f"{base}/unhide", follow_redirects=True)
    assert "The post is visible again." in _page(response)
    assert reader.get(base).status_code == 200
    assert "Nennt Kollegen" not in _page(reader.get(base))  # moderation history is for the author and us


def test_a_vote_on_a_hidden_post_is_refused_for_the_author_too(app, client, people, login, channel, make_post):
    post = make_post(channel, people["employee"], hidden=True, hidden_reason="x")
    login(client, "employee")
    response = client.submit(f"/feedback/{channel.slug}/{post.id}/vote", follow_redirects=True)
    assert response.status_code == 200 and "cannot be voted for" in _page(response)


def test_you_said_we_did(app, client, people, login, channel, make_post, make_phase):
    done = make_post(channel, people["employee"], title="Übungsakten in der Schulung", status="in_progress")
    make_post(channel, title="Noch offen")
    paul = app.test_client()
    login(paul, "projectgroup")
    base = f"/feedback/{channel.slug}/{done.id}"
    paul.submit(f"{base}/status", {"status-status": "implemented",
                                   "status-reply": "Die Schulung enthält jetzt Übungsakten."})
    login(client, "employee")
    page = _page(client.get(f"/feedback/{channel.slug}/done"))
    assert "You said, we did" in page and "Übungsakten in der Schulung" in page
    assert "Die Schulung enthält jetzt Übungsakten." in page and "Noch offen" not in page
    assert "Implemented (1)" in page
    empty = make_phase("ohne-ergebnisse")
    page = _page(client.get(f"/feedback/{empty.slug}/done"))
    assert "Nothing has been planned or implemented from this channel yet." in page


def test_overview_and_channel_pages(app, client, people, login, channel, make_post, make_phase):
    make_phase("leer", title="Leere Phase", period="2027-H2")
    make_post(channel, title="Frage zur Signatur", kind="question", voters=[people["manager"]])
    make_post(channel, title="Lob ans Team", kind="praise", status="answered")
    login(client, "employee")
    page = _page(client.get("/feedback/"))
    assert "Electronic files" in page and "Leere Phase" in page
    page = _page(client.get(f"/feedback/{channel.slug}"))
    assert "2 posts" in page and "Frage zur Signatur" in page and "Lob ans Team" in page
    page = _page(client.get(f"/feedback/{channel.slug}?kind=question&status=open&sort=votes&q=signatur"))
    assert "1 post" in page and "Lob ans Team" not in page
    page = _page(client.get(f"/feedback/{channel.slug}?q=nichts"))
    assert "No post matches these filters." in page
    assert client.get("/feedback/gibt-es-nicht").status_code == 404
    assert client.get(f"/feedback/{channel.slug}?page=99").status_code == 200


def test_a_post_is_only_found_in_its_own_channel(client, people, login, channel, make_post, make_phase):
    post = make_post(make_phase("andere"))
    login(client, "employee")
    assert client.get(f"/feedback/{channel.slug}/{post.id}").status_code == 404
    assert client.get(f"/feedback/{channel.slug}/999999").status_code == 404


def test_pagination(client, people, login, channel, make_post):
    for n in range(23):
        make_post(channel, title=f"Beitrag Nummer {n:02d}")
    login(client, "employee")
    page = _page(client.get(f"/feedback/{channel.slug}"))
    assert "Page 1 of 2 (23 entries)" in page and "Beitrag Nummer 22" in page and "Beitrag Nummer 02" not in page
    page = _page(client.get(f"/feedback/{channel.slug}?page=2"))
    assert "Beitrag Nummer 02" in page and "Beitrag Nummer 22" not in page


def test_the_phase_page_section(app, people, channel, make_post):
    make_post(channel, title="Meistgewählt", voters=[people["manager"], people["admin"]])
    make_post(channel, title="Erledigt", status="implemented")
    with app.test_request_context(headers={"Accept-Language": "en"}):
        from learning.phases.models import RolloutPhase

        phase = db.session.get(RolloutPhase, channel.id)
        html = render_template_string('{% include "feedback/_phase_section.html" %}', phase=phase)
    assert "1 open post in this phase" in html and "Meistgewählt" in html and "Erledigt" not in html
    assert f'href="/feedback/{channel.slug}"' in html and f'href="/feedback/{channel.slug}/done"' in html


def test_pages_have_no_inline_styles_or_scripts(client, people, login, channel, make_post):
    post = make_post(channel, people["employee"])
    login(client, "projectgroup")
    for url in ("/feedback/", f"/feedback/{channel.slug}", f"/feedback/{channel.slug}/new",
                f"/feedback/{channel.slug}/{post.id}", f"/feedback/{channel.slug}/done"):
        page = _page(client.get(url))
        assert "style=" not in page and "<script" not in page, url
        assert not re.search(r"\son[a-z]+=", page), url
        assert page.count("<h1") == 1, url


def _count(client, count_queries, url: str) -> int:
    with count_queries() as statements:
        response = client.get(url)
    assert response.status_code == 200
    return len(statements)


def _fill(app, channel, make_post, people, n: int, offset: int):
    voters = [people["manager"], people["admin"]]
    posts = []
    for i in range(n):
        author = people["employee"] if i % 2 else None
        posts.append(make_post(channel, author, title=f"Beitrag {offset + i}", voters=voters[: i % 3]))
    with app.app_context():
        for i, post in enumerate(posts):
            for j in range(i % 3 + 1):
                db.session.add(FeedbackComment(post_id=post.id, author_id=voters[j % 2].id, body=f"K {j}",
                                               official=bool(j)))
        db.session.commit()
    return posts


@pytest.mark.parametrize("role", ["employee", "projectgroup"])
def test_channel_and_overview_pages_run_a_fixed_number_of_queries(app, client, people, login, channel, make_post,
                                                                  count_queries, role):
    _fill(app, channel, make_post, people, 3, 0)
    login(client, role)
    urls = ["/feedback/", f"/feedback/{channel.slug}", f"/feedback/{channel.slug}?sort=votes&q=Beitrag&kind=idea",
            f"/feedback/{channel.slug}/done"]
    for url in urls:
        client.get(url)  # warm up
    few = [_count(client, count_queries, url) for url in urls]
    _fill(app, channel, make_post, people, 15, 3)
    many = [_count(client, count_queries, url) for url in urls]
    assert few == many
    assert max(many) <= 12


def test_post_page_runs_a_fixed_number_of_queries(app, client, people, login, channel, make_post, count_queries):
    small = make_post(channel, people["employee"], voters=[people["manager"]])
    large = make_post(channel, people["employee"], voters=[people["manager"], people["admin"]])
    paul = people["project_group"]
    with app.app_context():
        db.session.add(FeedbackComment(post_id=small.id, author_id=people["manager"].id, body="eins"))
        commenters = (people["manager"], paul, people["admin"])
        for n in range(12):
            db.session.add(FeedbackComment(post_id=large.id, author_id=commenters[n % 3].id, body=f"Kommentar {n}",
                                           official=n % 3 == 1))
        for status in ("under_review", "planned", "in_progress"):
            for post in (small, large) if status == "under_review" else (large,):
                db.session.add(FeedbackStatusChange(post_id=post.id, from_status="new", to_status=status,
                                                    changed_by_id=paul.id))
        db.session.commit()
    for role in ("employee", "projectgroup"):
        c = app.test_client()
        login(c, role)
        counts = []
        for post in (small, large):
            url = f"/feedback/{channel.slug}/{post.id}"
            c.get(url)
            counts.append(_count(c, count_queries, url))
        assert counts[0] == counts[1], role
        assert counts[1] <= 12
