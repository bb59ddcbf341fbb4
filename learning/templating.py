"""Template helpers: navigation per role, date filters, languages."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module

from flask import Flask, request, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup

from learning.guards import BIDI_CONTROLS
from learning.i18n import date_filter, due_in_words, local_today
from learning.roles import Role
from learning.security import AUTHENTICATED, audience_of

LANGUAGES = {"de": "Deutsch", "en": "English"}


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: object
    sections: tuple[str, ...]  # endpoints starting with one of these mark the item as current
    # "module:function" taking the user: hides the item from people it does not concern
    visible: str | None = None


NAVIGATION = [
    NavItem("home.index", _l("Start"), ("home.index",)),
    NavItem("training.my_learning", _l("My learning"), ("training.my_learning",)),
    NavItem("phases.roadmap", _l("Roadmap"), ("phases.",)),
    NavItem("training.catalogue", _l("Courses"), ("training.catalogue", "training.course", "training.lesson",
                                                  "training.quiz", "training.certificate")),
    NavItem("training.rules", _l("Assignment rules"), ("training.rule",)),
    NavItem("training.manage_courses", _l("Manage courses"), ("training.manage_courses",)),
    NavItem("training.author_home", _l("Write courses"), ("training.author_home", "training.edit_course",
                                                         "training.edit_lesson", "training.course_editors")),
    NavItem("onboarding.index", _l("Onboarding"), ("onboarding.",),
            visible="learning.onboarding.access:shows_in_navigation"),
    NavItem("surveys.index", _l("Surveys"), ("surveys.",)),
    NavItem("announcements.index", _l("Announcements"), ("announcements.",)),
    NavItem("events.index", _l("Events"), ("events.",)),
    NavItem("feedback.index", _l("Feedback"), ("feedback.",)),
    NavItem("metrics.team", _l("Team readiness"), ("metrics.team",)),
    NavItem("metrics.programme", _l("Dashboard"), ("metrics.programme", "metrics.export")),
    NavItem("org.admin", _l("Administration"), ("org.", "audit.", "messaging.", "scheduler.")),
    NavItem("home.account", _l("My account"), ("home.account", "auth.change_password_view")),
]


def navigation(app: Flask) -> list[tuple[NavItem, bool]]:
    """The items the current user may open, each with whether it is the current page."""
    if not current_user.is_authenticated:
        return []
    items = []
    for item in NAVIGATION:
        allowed = audience_of(app, item.endpoint) or frozenset()
        if (AUTHENTICATED in allowed or current_user.has_role(*allowed)) and _visible(item):
            current = (request.endpoint or "").startswith(item.sections)
            items.append((item, current))
    return items


def _visible(item: NavItem) -> bool:
    if item.visible is None:
        return True
    module, function = item.visible.split(":")
    return getattr(import_module(module), function)(current_user)


def without_bidi_controls(value):
    """Every value a template prints, without text-direction overrides and isolates.

    The guard refuses them in what people type (``learning/guards.py``); this keeps a name from a
    CSV file or an old record from showing ``invoice<U+202E>fdp.exe`` as ``invoiceexe.pdf``.
    """
    if isinstance(value, str) and BIDI_CONTROLS.search(value):
        cleaned = BIDI_CONTROLS.sub("", value)
        return Markup(cleaned) if isinstance(value, Markup) else cleaned
    return value


def register_template_helpers(app: Flask) -> None:
    app.jinja_env.filters["date"] = date_filter
    app.jinja_env.finalize = without_bidi_controls
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    @app.context_processor
    def inject():
        return {
            "navigation": lambda: navigation(app),
            "languages": LANGUAGES,
            "current_locale": str(get_locale() or app.config["DEFAULT_LOCALE"]),
            "Role": Role,
            "demo_mode": app.config["DEMO"],
            "due_in_words": due_in_words,
            "today": local_today(),
        }

    @app.template_global()
    def url_with(**changes) -> str:
        """The current page's URL with some query arguments replaced (for filters and paging)."""
        args = request.args.to_dict()
        args.update({k: v for k, v in changes.items() if v is not None})
        for key in [k for k, v in changes.items() if v is None]:
            args.pop(key, None)
        return url_for(request.endpoint, **(request.view_args or {}), **args)
