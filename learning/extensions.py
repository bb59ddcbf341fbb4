"""Flask extensions, created without an app and bound in ``create_app``."""

from flask import request
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFProtect

from learning.db import db

__all__ = ["babel", "csrf", "db", "limiter", "login_manager", "migrate"]

babel = Babel()
csrf = CSRFProtect()
login_manager = LoginManager()
migrate = Migrate()
limiter = Limiter(key_func=get_remote_address, default_limits=[], headers_enabled=False)


@limiter.request_filter
def _only_forms_are_limited() -> bool:
    """Every limit of the platform is on a form sent (POST); other requests skip the limiter.

    Looking up the limits of a request costs a twentieth of a kept start page. A limit on anything
    but POST would need this filter changed.
    """
    return request.method != "POST"
