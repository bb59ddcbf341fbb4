"""Entry point for gunicorn and the ``flask`` command: ``gunicorn wsgi:app``."""

import sys

from learning import ConfigError, create_app

try:
    app = create_app()
except ConfigError as exc:
    sys.exit(f"learning: configuration error: {exc}")
