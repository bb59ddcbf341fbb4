"""Runtime settings: their definitions, reading them (once per request) and changing them.

Two kinds: the privacy and retention settings (flags and whole numbers, ``SETTINGS``) and the
organisation's details (texts, ``ORGANISATION_SETTINGS``: name, contact for questions,
accessibility contact; the logo's file name is set by ``learning.settings.logo``). Both are read
in the same one query, and kept in the worker's memory while nothing changed.

Every page reads the settings (the header shows the organisation's name and logo). They have a
change counter of their own in the page cache's table (``learning/pagecache.py``), bumped by every
commit that changes a setting and read with the signed-in person in ``load_user``'s one statement.
The values are kept per worker under that counter: while it is unchanged, a page runs no statement
for the settings; a change committed in any worker bumps it, so every worker reads the new values
with its next request. A read (one statement: the values and the counter together) happens after a
change, on pages without a signed-in person (which keep what they read too) and at sign-in (so the
pages that follow find them kept). The CLI and jobs read them each time. Unlike kept pages, kept
settings need no expiry: only a commit through the platform changes them, and every such commit bumps the
counter.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from flask import current_app, g, has_request_context
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import user_logged_in
from sqlalchemy import literal, select, true

from learning.audit.services import record
from learning.db import db
from learning.errors import ServiceError
from learning.pagecache import SETTINGS_SCOPE, counter_value
from learning.settings.models import PlatformSetting


@dataclass(frozen=True)
class Setting:
    key: str
    group: str
    label: object
    description: object
    default: bool | int | str
    minimum: int | None = None
    maximum: int | None = None  # for a text: its longest length

    @property
    def is_flag(self) -> bool:
        return isinstance(self.default, bool)

    @property
    def is_text(self) -> bool:
        return isinstance(self.default, str)


GROUPS = {
    "managers": _l("What managers see of individuals"),
    "surveys": _l("Survey reporting thresholds"),
    "retention": _l("Retention periods"),
    "sign_in": _l("Sign-in"),
    "courses": _l("Courses written in the browser"),
}

# The privacy floor of DESIGN.md is each threshold's minimum: a setting can be stricter, never laxer.
SETTINGS = (
    Setting("managers.training_individuals", "managers", _l("Mandatory training of each team member"),
            _l("Managers see who in their own teams has completed, not started or is overdue with "
               "mandatory training. Without it they see only the team's figures."), True),
    Setting("managers.onboarding_individuals", "managers", _l("Onboarding tasks of their new hires"),
            _l("Managers see the journey and the open tasks of the new hires in their own teams."), True),
    Setting("surveys.min_responses", "surveys", _l("Fewest answers for a survey score"),
            _l("A group with fewer answers shows no score. Applies to surveys created from now on; "
               "at least 5."), 5, 5, 100),
    Setting("surveys.min_comments", "surveys", _l("Fewest answers for free-text comments"),
            _l("Comments are shown only for groups with at least this many answers; at least 10."), 10, 10, 200),
    Setting("retention.survey_answers_days", "retention", _l("Raw survey answers (days)"),
            _l("After this many days past a survey's closing, its individual answers are deleted; the "
               "results (aggregates) stay."), 730, 30, 3650),
    Setting("retention.individual_logs_days", "retention", _l("Notifications, reminders and mail logs (days)"),
            _l("Read notifications, sent reminders and captured mail older than this are deleted."),
            365, 30, 3650),
    Setting("retention.audit_days", "retention", _l("Audit log (days)"),
            _l("Audit entries older than this are deleted. Staff councils often ask for one to three years."),
            1095, 180, 3650),
    Setting("sign_in.hide_local_passwords", "sign_in", _l("Hide local sign-in when a directory is configured"),
            _l("People with a directory account then sign in only with it; local passwords keep working for "
               "administrators (break-glass access) and for people outside the directory. Has no effect while no "
               "directory is configured."), False),
    Setting("courses.four_eyes", "courses", _l("Four-eyes rule for courses"),
            _l("A course written in the browser is published only after another author or member of the project "
               "group approved exactly this draft; every later change needs a new approval."), False),
)

# What the organisation shows of itself: in the header, on certificates, in mails and on prints.
ORGANISATION_SETTINGS = (
    Setting("organisation.name", "organisation", _l("Name of the organisation"),
            _l("Shown next to the platform's name in the header, on certificates, in mails and on printed "
               "reports, e.g. “Stadtverwaltung Musterstadt”. Leave empty to show only “Learning platform”."),
            "", 0, 120),
    Setting("organisation.contact", "organisation", _l("Contact for questions"),
            _l("Who people can ask about the platform and about their data, e.g. “Projektgruppe Digitalisierung, "
               "lernen@musterstadt.de, phone 1234”. Shown on the accessibility statement and on “What is stored "
               "about me”."), "", 0, 300),
    Setting("organisation.accessibility_contact", "organisation", _l("Contact for accessibility"),
            _l("Who answers reports of barriers (BITV 2.0 asks for a contact in the accessibility statement), "
               "e.g. an e-mail address and a phone number."), "", 0, 300),
    Setting("organisation.logo", "organisation", _l("Logo"), _l("Set by uploading an image."), "", 0, 80),
)
TEXT_FORM_SETTINGS = tuple(s for s in ORGANISATION_SETTINGS if s.key != "organisation.logo")
ALL_SETTINGS = SETTINGS + ORGANISATION_SETTINGS
BY_KEY = {s.key: s for s in ALL_SETTINGS}


def _stored() -> dict[str, object]:
    return dict(db.session.execute(select(PlatformSetting.key, PlatformSetting.value)).all())


KEPT = "settings_cache"  # in app.extensions: (the settings' change counter, the values read under it)


def _stored_with_counter() -> tuple[int, dict[str, object]]:
    """The stored values and the settings' change counter, in one statement (so they belong together)."""
    counter = select(counter_value(literal(SETTINGS_SCOPE)).label("counter")).subquery()
    rows = db.session.execute(select(counter.c.counter, PlatformSetting.key, PlatformSetting.value)
                              .select_from(counter.outerjoin(PlatformSetting, true()))).all()
    return rows[0].counter, {row.key: row.value for row in rows if row.key is not None}


def _values(stored: dict[str, object]) -> Mapping[str, bool | int | str]:
    values = {}
    for setting in ALL_SETTINGS:
        value = stored.get(setting.key, setting.default)
        try:
            values[setting.key] = _checked(setting, value)
        except ServiceError:  # an out-of-range row (edited by hand) falls back to the safe default
            values[setting.key] = setting.default
    return MappingProxyType(values)  # shared by the worker's threads: read-only


def _keeping() -> bool:
    """Kept in the worker unless this request changed them (what it sees is not committed yet)."""
    return not g.get("settings_changed")


def current_settings() -> Mapping[str, bool | int | str]:
    """Every setting's value: kept for the request, and in the worker while they did not change (see the module)."""
    if not has_request_context():
        return _values(_stored())
    if "settings" in g:
        return g.settings
    noted = g.get("page_counters")  # read with the signed-in person (learning/pagecache.py)
    kept = current_app.extensions.get(KEPT)
    if noted is not None and kept is not None and kept[0] == noted[1].settings and _keeping():
        g.settings = kept[1]
        return g.settings
    counter, stored = _stored_with_counter()
    g.settings = _values(stored)
    if _keeping():
        current_app.extensions[KEPT] = (counter, g.settings)
    return g.settings


@user_logged_in.connect
def _read_at_sign_in(_app, **_extra) -> None:
    """Read the settings when someone signs in, so the pages that follow find them kept."""
    if has_request_context():
        current_settings()


def setting(key: str) -> bool | int:
    return current_settings()[key]


def _checked(setting: Setting, value) -> bool | int | str:
    """The value if the setting allows it; else a ``ServiceError`` whose ``field`` is the setting's key."""
    if setting.is_text:
        if not isinstance(value, str) or any(c in value for c in "\r\n"):
            raise ServiceError(_("Please enter “%(setting)s” on one line.", setting=setting.label), setting.key)
        value = value.strip()
        if len(value) > setting.maximum:
            raise ServiceError(_("“%(setting)s” may have at most %(max)d characters.", setting=setting.label,
                                 max=setting.maximum), setting.key)
        return value
    if setting.is_flag:
        if not isinstance(value, bool):
            raise ServiceError(_("Please switch “%(setting)s” on or off.", setting=setting.label), setting.key)
        return value
    if isinstance(value, bool) or not isinstance(value, int) or (
            setting.minimum is not None and value < setting.minimum) or (
            setting.maximum is not None and value > setting.maximum):
        raise ServiceError(_("Please enter a whole number from %(min)d to %(max)d for “%(setting)s”.",
                             min=setting.minimum, max=setting.maximum, setting=setting.label), setting.key)
    return value


def save_settings(values: dict[str, bool | int | str], actor) -> list[str]:
    """Store changed values (all or nothing: one out of range refuses them all), audit each change; flushed.

    Returns the changed keys.
    """
    checked = {key: _checked(BY_KEY[key], value) for key, value in values.items()}
    old = current_settings()
    rows = {row.key: row for row in db.session.scalars(select(PlatformSetting))}
    changed = []
    for key, value in checked.items():
        if old[key] == value:
            continue
        row = rows.get(key) or PlatformSetting(key=key)
        row.value = value
        row.updated_by_id = getattr(actor, "id", None)
        db.session.add(row)
        record(actor, "settings.changed", None, f"{key}: {old[key]} → {value}", key=key, old=old[key], new=value)
        changed.append(key)
    db.session.flush()
    g.pop("settings", None)
    g.settings_changed = True
    return changed


@dataclass(frozen=True)
class Organisation:
    """The organisation as pages, certificates, mails and prints show it (empty strings where not set)."""

    name: str
    contact: str
    accessibility_contact: str
    logo: str  # the logo's file name in the instance folder, or ""

    @property
    def logo_url(self) -> str | None:
        from flask import url_for

        return url_for("settings.logo", logo_file=self.logo) if self.logo else None


def organisation() -> Organisation:
    """The organisation's details from the settings (the same one query per request as every setting)."""
    values = current_settings()
    return Organisation(values["organisation.name"], values["organisation.contact"],
                        values["organisation.accessibility_contact"], values["organisation.logo"])


def default_organisation() -> Organisation:
    """The organisation's details as the settings' defaults say (the database cannot be asked)."""
    values = {setting.key: setting.default for setting in ALL_SETTINGS}
    return Organisation(values["organisation.name"], values["organisation.contact"],
                        values["organisation.accessibility_contact"], values["organisation.logo"])


def organisation_name() -> str:
    return current_settings()["organisation.name"]


def retention_days() -> dict[str, int]:
    """The retention periods in days, by setting key (for "what is stored about me")."""
    values = current_settings()
    return {s.key: values[s.key] for s in SETTINGS if s.group == "retention"}
