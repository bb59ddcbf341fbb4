"""Refusals and error pages: the one family of service errors, its handler, and the localised error pages.

A service refuses with ``ServiceError(message, field=...)`` (or ``NotFound`` / ``NotAllowed``), the
message already in the person's language. A view that shows a form puts the refusal on the field it
concerns with ``show_on_form``; any refusal a view does not catch becomes an error page with the
message (400, 404 or 403), after the unit of work rolled back.
"""

from __future__ import annotations

from flask import Flask, g, jsonify, make_response, render_template, request
from flask_babel import lazy_gettext as _l
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from learning.extensions import db


class ServiceError(Exception):
    """A refusal the person can act on: ``message`` in their language, ``field`` the form field it concerns."""

    status = 400

    def __init__(self, message: str = "", field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return str(self.message)


class NotFound(ServiceError):
    """The thing asked for does not exist, or is not visible to the person (answered as 404 either way)."""

    status = 404


class NotAllowed(ServiceError):
    """The person may not do this (answered as 403)."""

    status = 403


def show_on_form(form, error: ServiceError, default: str | None = None) -> None:
    """Put a refusal on the form field it names; else on ``default``, else above the form (``form.form_errors``)."""
    field = getattr(form, error.field, None) if error.field else None
    if field is None and default:
        field = getattr(form, default, None)
    if field is not None and hasattr(field, "errors"):
        if isinstance(field.errors, tuple):
            field.errors = list(field.errors)
        field.errors.append(str(error))
    else:
        form.form_errors.append(str(error))


MESSAGES = {
    400: (_l("Bad request"), _l("The request could not be understood. Please go back and try again.")),
    403: (_l("Access denied"), _l("You do not have permission to open this page.")),
    404: (_l("Page not found"), _l("This page does not exist or has been moved.")),
    405: (_l("Not allowed"), _l("This action is not possible here.")),
    413: (_l("File too large"), _l("The uploaded file is too large (at most 8 MB).")),
    429: (
        _l("Too many attempts"),
        _l("There were too many attempts in a short time. Please wait a few minutes and try again, "
           "or use “First sign-in or forgotten password”."),
    ),
    500: (_l("Something went wrong"),
          _l("An unexpected error occurred. It has been logged. Please try again later.")),
    503: (_l("Temporarily unavailable"),
          _l("The platform cannot reach its database at the moment. Please try again in a minute.")),
}


def render_error(code: int, message=None):
    title, default = MESSAGES.get(code, MESSAGES[500] if code >= 500 else MESSAGES[400])
    if request.path.startswith("/healthz"):
        return jsonify(error=str(title)), code
    return render_template("errors/error.html", code=code, title=title, message=message or default), code


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return render_error(
            400, _l("Your form has expired or was sent from another page. Please reload the page and try again.")
        )

    @app.errorhandler(RateLimitExceeded)
    def rate_limited(error):
        return render_error(429)

    @app.errorhandler(ServiceError)
    def refused(error):
        db.session.rollback()
        return render_error(error.status, str(error) or None)

    @app.errorhandler(HTTPException)
    def http_error(error):
        return render_error(error.code or 500)

    @app.errorhandler(OperationalError)
    def database_unavailable(error):
        """The database is down or restarting: say so and when to retry, instead of a 500."""
        app.logger.warning("Database unavailable on %s %s: %s", request.method, request.path, error)
        db.session.rollback()
        if "_login_user" not in g:  # the signed-in person could not be read: the page is shown as to a visitor
            g._login_user = app.login_manager.anonymous_user()
        try:
            page = render_error(503)
        except OperationalError:  # the page's own lookups for the person (e.g. the bell) failed as well
            g._login_user = app.login_manager.anonymous_user()
            page = render_error(503)
        response = make_response(page)
        response.headers["Retry-After"] = "30"
        return response

    @app.errorhandler(Exception)
    def server_error(error):
        app.logger.exception("Unhandled error on %s %s", request.method, request.path)
        db.session.rollback()
        return render_error(500)
