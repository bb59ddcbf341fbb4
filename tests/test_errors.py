"""A database that is down or restarting gives a 503 with Retry-After, not a 500."""

from __future__ import annotations

from sqlalchemy.exc import OperationalError

from learning.security import PUBLIC, allow


def test_database_unavailable_is_a_503_with_retry_after(make_app):
    app = make_app()

    @allow(PUBLIC)
    def lost_connection():
        raise OperationalError("SELECT 1", {}, Exception("server closed the connection unexpectedly"))

    app.add_url_rule("/lost-connection", "lost_connection", lost_connection)
    response = app.test_client().get("/lost-connection", headers={"Accept-Language": "en"})
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    assert "Temporarily unavailable" in response.get_data(as_text=True)
