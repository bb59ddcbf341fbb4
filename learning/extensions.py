"""Flask extensions, created without an app and bound in ``create_app``."""

import logging

import limits
from flask import current_app, request
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFProtect

from learning.db import db

__all__ = ["babel", "csrf", "db", "limiter", "login_manager", "migrate", "PersonLimit"]

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


class PersonLimit:
    """A limit on what one person does (posting, commenting, voting), in the limiter's storage.

    The view asks ``allows`` before calling the service and ``count``s only what was saved, so a
    refused or invalid form costs nothing; when the limit is reached, the view shows a message on
    the form and calls no service. If the storage (Redis) is down, people are not held up.
    """

    def __init__(self, scope: str, setting: str):
        self.scope, self.setting = scope, setting

    def _args(self, person_id: int):
        item = limits.parse(current_app.config[self.setting])
        prefix = current_app.config.get("RATELIMIT_KEY_PREFIX") or ""
        return item, prefix, "person", self.scope, str(person_id)

    def allows(self, person_id: int) -> bool:
        if not limiter.enabled:
            return True
        try:
            return limiter.limiter.test(*self._args(person_id))
        except Exception:  # noqa: BLE001  (storage unreachable: fail open, as the limiter itself is configured)
            logging.getLogger(__name__).warning("Rate limit storage unavailable for %s", self.scope, exc_info=True)
            return True

    def count(self, person_id: int) -> None:
        if not limiter.enabled:
            return
        try:
            limiter.limiter.hit(*self._args(person_id))
        except Exception:  # noqa: BLE001
            logging.getLogger(__name__).warning("Rate limit storage unavailable for %s", self.scope, exc_info=True)


post_limit = PersonLimit("feedback-post", "FEEDBACK_POST_LIMIT")
comment_limit = PersonLimit("feedback-comment", "FEEDBACK_COMMENT_LIMIT")
vote_limit = PersonLimit("feedback-vote", "FEEDBACK_VOTE_LIMIT")
