"""The learning platform: ``create_app`` reads like its table of contents."""

from __future__ import annotations

import logging
from importlib import import_module
from importlib.util import find_spec

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from learning.config import PROJECT_ROOT, ConfigError, load_config

__all__ = ["ConfigError", "create_app"]

# Each feature package holds a blueprint ``bp`` whose routes live in its views module(s).
FEATURES = (
    "home", "auth", "org", "audit", "messaging", "training", "phases", "announcements", "feedback",
    "onboarding", "surveys", "scheduler", "notifications", "transparency", "settings", "metrics",
    "directory", "media", "events",
)


def create_app(config: dict | None = None) -> Flask:
    """Build the application; ``config`` overrides settings read from the environment."""
    settings = load_config(config)
    app = Flask(
        __name__,
        instance_path=settings["INSTANCE_PATH"],
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    app.config.from_mapping(settings)
    configure_logging(app)
    configure_request_hooks(app)  # first, so that access is checked before anything else
    configure_extensions(app)
    configure_plugins(app)
    configure_blueprints(app)
    configure_templates(app)
    configure_errors(app)
    configure_cli(app)
    if app.config["PROXY_COUNT"]:
        app.wsgi_app = ProxyFix(
            app.wsgi_app, x_for=app.config["PROXY_COUNT"], x_proto=app.config["PROXY_COUNT"],
            x_host=app.config["PROXY_COUNT"],
        )
    return app


def configure_logging(app: Flask) -> None:
    if not app.debug and not app.testing:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        logging.getLogger("alembic").setLevel(logging.WARNING)
        # Every job run is recorded in the database (Administration → Scheduler); APScheduler's own
        # "running job / executed" lines every few seconds would drown the log.
        logging.getLogger("apscheduler.executors").setLevel(logging.WARNING)


def configure_extensions(app: Flask) -> None:
    from learning import content
    from learning.db import end_session_quietly, ping_when_idle, render_migration_type
    from learning.extensions import babel, csrf, db, limiter, login_manager, migrate
    from learning.forms import render_csrf_tokens_without_id
    from learning.i18n import select_locale, select_timezone
    from learning.models import import_models

    import_models()  # every table in the metadata before anything maps or creates them

    db.init_app(app)
    with app.app_context():
        ping_when_idle(db.engine)  # in place of pool_pre_ping, which costs a round trip on every request
    app.teardown_appcontext(end_session_quietly)  # runs before Flask-SQLAlchemy's own (teardowns run in reverse)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"), compare_type=True,
                     render_as_batch=True, render_item=render_migration_type)
    csrf.init_app(app)
    render_csrf_tokens_without_id()  # many forms on one page, no duplicate id="csrf_token"
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    limiter.init_app(app)
    content.listen()  # authored Markdown is rendered into its *_html columns on every flush
    login_manager.init_app(app)
    login_manager.session_protection = app.config["SESSION_PROTECTION"]
    login_manager.login_view = "auth.login"
    login_manager.refresh_view = "auth.reauthenticate"
    login_manager.login_message = None  # the login page explains itself
    login_manager.needs_refresh_message = None

    from flask_login import user_loaded_from_cookie

    from learning.auth.services import load_user, mark_remembered_session

    login_manager.user_loader(load_user)
    user_loaded_from_cookie.connect(mark_remembered_session, app)


def configure_blueprints(app: Flask) -> None:
    from importlib import import_module

    for feature in FEATURES:
        import_module(f"learning.{feature}.views")  # attaches the routes to the feature's blueprint
        app.register_blueprint(import_module(f"learning.{feature}").bp)


def configure_plugins(app: Flask) -> None:
    """Every feature's reminders, jobs, metric sources, cards, ... (``learning.plugins``), at start."""
    from learning.plugins import discover

    discover()


def configure_request_hooks(app: Flask) -> None:
    from learning.guards import BoundedIntConverter, refuse_hostile_input
    from learning.security import enforce_access, set_security_headers

    app.url_map.converters["int"] = BoundedIntConverter  # ids only: 1 … 2⁶³−1, else 404
    app.before_request(refuse_hostile_input)  # before anything reads the request or the database
    app.before_request(enforce_access)
    app.after_request(set_security_headers)


def configure_templates(app: Flask) -> None:
    from learning.templating import register_template_helpers

    register_template_helpers(app)


def configure_errors(app: Flask) -> None:
    from learning.errors import register_error_handlers

    register_error_handlers(app)


def configure_cli(app: Flask) -> None:
    """Every feature with a ``cli`` module lists its click groups in ``commands``.

    None of them ends in a traceback on a database without the schema: each says to run ``flask db upgrade``.
    """
    from learning.db import schema_guarded

    for feature in ("demo", *FEATURES):
        if find_spec(f"learning.{feature}.cli") is not None:
            for command in import_module(f"learning.{feature}.cli").commands:
                app.cli.add_command(schema_guarded(command))
    from learning.content_cli import commands

    for command in commands:
        app.cli.add_command(schema_guarded(command))
