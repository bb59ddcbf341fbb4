"""Runtime settings: their definitions, reading them (once per request) and changing them."""

from __future__ import annotations

from dataclasses import dataclass

from flask import g, has_request_context
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from learning.audit.services import record
from learning.db import db
from learning.errors import ServiceError
from learning.settings.models import PlatformSetting


@dataclass(frozen=True)
class Setting:
    key: str
    group: str
    label: object
    description: object
    default: bool | int
    minimum: int | None = None
    maximum: int | None = None

    @property
    def is_flag(self) -> bool:
        return isinstance(self.default, bool)


GROUPS = {
    "managers": _l("What managers see of individuals"),
    "surveys": _l("Survey reporting thresholds"),
    "retention": _l("Retention periods"),
    "sign_in": _l("Sign-in"),
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
)
BY_KEY = {s.key: s for s in SETTINGS}


def _stored() -> dict[str, object]:
    return dict(db.session.execute(select(PlatformSetting.key, PlatformSetting.value)).all())


def current_settings() -> dict[str, bool | int]:
    """Every setting's value, read in one query and kept for the rest of the request."""
    if has_request_context() and "settings" in g:
        return g.settings
    stored = _stored()
    values = {}
    for setting in SETTINGS:
        value = stored.get(setting.key, setting.default)
        try:
            values[setting.key] = _checked(setting, value)
        except ServiceError:  # an out-of-range row (edited by hand) falls back to the safe default
            values[setting.key] = setting.default
    if has_request_context():
        g.settings = values
    return values


def setting(key: str) -> bool | int:
    return current_settings()[key]


def _checked(setting: Setting, value) -> bool | int:
    """The value if the setting allows it; else a ``ServiceError`` whose ``field`` is the setting's key."""
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


def save_settings(values: dict[str, bool | int], actor) -> list[str]:
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
    return changed
