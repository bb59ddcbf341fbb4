"""Organisation settings: name and contacts, a logo checked by its content and shown to everyone."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from learning.audit.models import AuditEntry
from learning.db import db
from learning.settings.services import organisation


def _image(fmt: str, size=(1200, 300)) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, (28, 63, 138)).save(out, format=fmt)
    return out.getvalue()


def _upload(client, data: bytes, filename: str):
    return client.post("/admin/settings/organisation/logo", content_type="multipart/form-data", data={
        "logo-csrf_token": client.csrf_token(), "logo-logo": (io.BytesIO(data), filename)})


def test_admin_names_the_organisation_and_its_contacts_audited(app, client, people, login):
    login(client, people["admin"].username)
    response = client.submit("/admin/settings/organisation", {
        "organisation__name": " Stadt Musterstadt ", "organisation__contact": "Projektgruppe, lernen@example.org",
        "organisation__accessibility_contact": "barrierefrei@example.org"})
    assert response.status_code == 302
    with app.test_request_context():
        org = organisation()
        assert (org.name, org.contact, org.accessibility_contact) == (
            "Stadt Musterstadt", "Projektgruppe, lernen@example.org", "barrierefrei@example.org")
        keys = db.session.scalars(select(AuditEntry.details).where(AuditEntry.action == "settings.changed")).all()
        assert sorted(k["key"] for k in keys) == ["organisation.accessibility_contact", "organisation.contact",
                                                  "organisation.name"]
    page = client.get("/admin/settings/organisation").get_data(as_text=True)
    assert "Stadt Musterstadt" in page.split("</header>")[0]  # in the header of every page


def test_a_too_long_name_is_refused_at_its_field(client, people, login):
    login(client, people["admin"].username)
    response = client.submit("/admin/settings/organisation", {"organisation__name": "x" * 121})
    assert response.status_code == 200 and 'aria-invalid="true"' in response.get_data(as_text=True)


@pytest.mark.parametrize("fmt, filename", [("PNG", "logo.png"), ("JPEG", "logo.jpg"), ("WEBP", "logo.webp")])
def test_a_logo_is_checked_by_content_re_encoded_and_served_to_everyone(app, client, people, login, fmt, filename):
    login(client, people["admin"].username)
    assert _upload(client, _image(fmt), filename).status_code == 302
    with app.test_request_context():
        url = organisation().logo_url
    assert url.startswith("/organisation/logo/logo-") and url.endswith(".png")
    anonymous = app.test_client()
    assert url in anonymous.get("/login").get_data(as_text=True)  # also on the sign-in page
    served = anonymous.get(url)
    assert served.status_code == 200 and served.mimetype == "image/png"
    from PIL import Image

    with Image.open(io.BytesIO(served.data)) as image:
        assert image.format == "PNG" and image.size == (600, 150)  # fitted into 600 × 200
    assert anonymous.get("/organisation/logo/secret_key").status_code == 404  # only the current logo file
    assert anonymous.get("/organisation/logo/..%2Fsecret_key").status_code == 404


@pytest.mark.parametrize("data, filename", [
    (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "logo.svg"),
    (b'<svg xmlns="http://www.w3.org/2000/svg"></svg>', "logo.png"),  # the name does not decide
    (b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "logo.gif"),
    (b"\x89PNG\r\n\x1a\nnot really", "logo.png"),
])
def test_anything_but_png_jpeg_and_webp_is_refused(app, client, people, login, data, filename):
    login(client, people["admin"].username)
    response = _upload(client, data, filename)
    assert response.status_code == 200  # the form again, with the refusal at the field
    assert "PNG, JPEG or WebP" in response.get_data(as_text=True)
    with app.test_request_context():
        assert organisation().logo == ""


def test_removing_the_logo_brings_back_the_symbol(app, client, people, login):
    login(client, people["admin"].username)
    _upload(client, _image("PNG"), "logo.png")
    with app.test_request_context():
        url = organisation().logo_url
    response = client.post("/admin/settings/organisation/logo/remove", data={"remove-csrf_token": client.csrf_token()})
    assert response.status_code == 302
    with app.test_request_context():
        assert organisation().logo == ""
    assert client.get(url).status_code == 404


def test_only_admins_change_the_organisation(client, people, login):
    login(client, people["project_group"].username)
    assert client.get("/admin/settings/organisation").status_code == 403
    assert _upload(client, _image("PNG"), "logo.png").status_code == 403


def test_the_contacts_appear_where_people_look_for_them(app, client, people, login):
    login(client, people["admin"].username)
    client.submit("/admin/settings/organisation", {"organisation__name": "Stadt Musterstadt",
                                                   "organisation__contact": "lernen@example.org",
                                                   "organisation__accessibility_contact": "barrierefrei@example.org"})
    statement = app.test_client().get("/accessibility").get_data(as_text=True)
    assert "barrierefrei@example.org" in statement and "lernen@example.org" in statement
    assert "Questions about your data: lernen@example.org" in client.get("/my-data").get_data(as_text=True)
