import pytest
@pytest.mark.parametrize("url", ["/announcements/feed/ab%00cd.atom", "/notifications/calendar/ab%00cd.ics",
  "/surveys/99999999999999999999999", "/accessibility?x=%C3%28", "/accessibility?x=%E2%80%AE", "/feedback/?page=99999999999999999999"])
def test_x(client, url):
    r = client.get(url)
    print(url, r.status_code)
    assert r.status_code < 500
def test_login(client):
    r = client.submit("/login", {"username": "ab\x00cd", "password": "x"})
    print(r.status_code, r.get_data(as_text=True)[-1500:])
