"""Certificates of attendance: the person's own page (print it) and the public check of a code."""

from __future__ import annotations

from flask import abort, current_app, render_template, url_for
from flask_babel import format_decimal, ngettext
from flask_login import current_user

from learning.db import unit_of_work
from learning.events import bp
from learning.events.certificates import certificate_by_code
from learning.security import AUTHENTICATED, PUBLIC, allow
from learning.training.certificates import may_view_certificate, record_certificate_view


def duration_words(minutes: int) -> str:
    """How long the person attended, in hours ("2 Stunden", "1,5 Stunden")."""
    hours = minutes / 60
    return ngettext("%(hours)s hour", "%(hours)s hours", 1 if hours == 1 else 2,
                    hours=format_decimal(hours, "#,##0.#"))


@bp.route("/certificates/<code>", endpoint="certificate")
@allow(AUTHENTICATED)
def certificate_page(code: str):
    view = certificate_by_code(code)
    if view is None:
        abort(404)
    if not may_view_certificate(current_user, view.certificate):
        abort(403)
    if current_user.id != view.certificate.user_id:
        with unit_of_work():  # the audit entry is written before the page is shown
            record_certificate_view(current_user, view.certificate, view.certificate.event.title)
        view = certificate_by_code(code)  # read again: the commit expired what was loaded
    verify_url = current_app.config["BASE_URL"] + url_for("events.verify",
                                                          code=view.certificate.verification_code)
    return render_template("events/certificate.html", view=view, certificate=view.certificate,
                           verify_url=verify_url, duration=duration_words(view.minutes))


@bp.route("/verify/<code>", endpoint="verify")
@allow(PUBLIC)
def verify_page(code: str):
    """Public check of a certificate of attendance: name, event, dates and hours, nothing else about the person."""
    view = certificate_by_code(code)
    response = render_template("events/verify.html", view=view, code=code[:40],
                               duration=duration_words(view.minutes) if view else "")
    return (response, 200) if view else (response, 404)
