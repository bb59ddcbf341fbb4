"""Who may use which route, safe redirects and the security headers of every response.

Every view declares its audience with ``@allow(...)``. A single ``before_request`` hook
enforces the declaration, so a view cannot forget its check, and a view without a
declaration is refused (fail closed) and caught by the access-matrix test.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from flask import Flask, abort, current_app, redirect, request, url_for
from flask_login import current_user

from learning.roles import Role

PUBLIC = "public"
AUTHENTICATED = "authenticated"


def allow(*audience: str | Role) -> Callable:
    """Declare who may call a view: PUBLIC, AUTHENTICATED or one or more roles."""
    if not audience:
        raise ValueError("allow() needs an audience")

    def decorate(view):
        view.allowed = frozenset(str(a) for a in audience)
        return view

    return decorate


def audience_of(app: Flask, endpoint: str | None) -> frozenset[str] | None:
    if endpoint is None:
        return None
    if endpoint == "static" or endpoint.endswith(".static"):
        return frozenset({PUBLIC})
    view = app.view_functions.get(endpoint)
    return getattr(view, "allowed", None)


def enforce_access():
    """Refuse the request unless the current user belongs to the view's declared audience."""
    if request.endpoint is None:  # 404 and 405 are handled by Flask itself
        return None
    allowed = audience_of(current_app, request.endpoint)
    if allowed is None:
        current_app.logger.error("View %s declares no audience; refused", request.endpoint)
        abort(403)
    if PUBLIC in allowed:
        return None
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    if AUTHENTICATED in allowed or current_user.has_role(*allowed):
        return None
    abort(403)


def is_safe_redirect(target: str | None) -> bool:
    """Accept only same-site relative paths such as ``/learning?x=1``."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return False
    if "\\" in target or any(ord(c) < 32 for c in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def redirect_back(target: str | None, default: str = "home.index"):
    return redirect(target if is_safe_redirect(target) else url_for(default))


CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def set_security_headers(response):
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
    response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
    if request.is_secure:
        response.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    if current_user and getattr(current_user, "is_authenticated", False):
        response.headers.setdefault("Cache-Control", "no-store")
    return response
