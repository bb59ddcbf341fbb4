"""The quiz pages write nothing on GET (the whole URL map is walked in tests/test_safe_get.py).

Before, opening ``/learning/courses/<slug>/quiz`` enrolled the person and started an attempt,
so an image pointing at it in someone's post did that in every reader's name.
"""

from __future__ import annotations

from tests.test_safe_get import get_urls, ids, snapshot  # noqa: F401  (ids is a fixture)


def test_training_pages_and_quiz_addresses_write_nothing_on_get(app, client, people, login, ids):  # noqa: F811
    login(client, "employee")
    course = ids["course"]
    urls = [*get_urls(app, ids, "training."), f"/learning/courses/{course}/quiz?attempt=1",
            f"/learning/courses/{course}/quiz/start"]  # a GET of the start address is refused, not obeyed
    assert f"/learning/courses/{course}/quiz" in urls
    before = snapshot(app)
    for url in urls:
        assert client.get(url).status_code < 500, url
    assert snapshot(app) == before


def test_open_attempt_page_changes_nothing(app, client, people, login, make_course):
    """With an attempt open, the quiz page shows its questions again without touching the attempt."""
    course = make_course()
    login(client, "employee")
    client.submit(f"/learning/courses/{course.slug}/quiz/start")
    before = snapshot(app)
    for _ in range(2):
        assert 'name="attempt_id"' in client.get(f"/learning/courses/{course.slug}/quiz").get_data(as_text=True)
    assert snapshot(app) == before
