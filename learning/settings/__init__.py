"""Settings that administrators change at runtime (privacy, retention).

Deployment configuration (database, mail server, secrets) lives in ``learning/config.py``.
"""

from flask import Blueprint

bp = Blueprint("settings", __name__, url_prefix="/admin/settings")
