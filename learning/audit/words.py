"""The audit log in the reader's language: a sentence per entry, categories instead of action prefixes.

Every action a feature records (``record(actor, "user.updated", ...)``) has a sentence here,
e.g. "Anna Schmidt hat die Rolle Projektgruppe erhalten."; ``tests/test_audit.py`` reads the
``record(`` calls of the source and fails for an action without one. An action from a newer
feature that is not listed yet still reads as a sentence (with its summary), never as a code.
The action code and the stored summary stay available as technical detail.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, and_, not_, or_, select

from learning.audit.models import AuditEntry
from learning.db import db
from learning.org.models import User
from learning.roles import Role

# Category → (label, action prefixes). Views of individual data form a category of their own.
CATEGORIES: dict[str, tuple[object, tuple[str, ...]]] = {
    "people": (_l("People, roles and accounts"), ("user.", "account.", "department.", "team.", "directory.")),
    "training": (_l("Training, quizzes and certificates"), ("training.", "quiz.", "certificate.", "media.")),
    "onboarding": (_l("Onboarding"), ("onboarding.",)),
    "announcements": (_l("Announcements"), ("announcement.", "announcements.")),
    "feedback": (_l("Feedback"), ("feedback.",)),
    "surveys": (_l("Surveys"), ("survey.",)),
    "phases": (_l("Rollout phases"), ("phases.",)),
    "events": (_l("Events and workshops"), ("event.",)),
    "dashboards": (_l("Dashboards and exports"), ("metrics.", "audit.")),
    "settings": (_l("Settings and deletion after the retention period"), ("settings.", "retention.")),
    "mail": (_l("Reminders and mail"), ("outbox.", "messaging.")),
    "accessibility": (_l("Accessibility"), ("barrier.",)),
    "views": (_l("Views of individual data"), ()),
}


def is_view(action: str) -> bool:
    """Someone looked at data about individuals (``view.*`` and ``*_viewed`` / ``*.viewed``)."""
    return action.startswith("view.") or action.endswith(("_viewed", ".viewed"))


def _view_condition() -> ColumnElement[bool]:
    column = AuditEntry.action
    return or_(column.startswith("view."), column.endswith("_viewed"), column.endswith(".viewed"))


def category_condition(key: str) -> ColumnElement[bool]:
    """The entries of a category, as SQL (the category filter of the log and of its export)."""
    if key == "views":
        return _view_condition()
    prefixes = CATEGORIES[key][1]
    return and_(or_(*(AuditEntry.action.startswith(p, autoescape=True) for p in prefixes)), not_(_view_condition()))


def category_of(action: str) -> str | None:
    if is_view(action):
        return "views"
    return next((key for key, (_label, prefixes) in CATEGORIES.items() if action.startswith(prefixes)), None)


# What happened, per action: %(actor)s did it, %(target)s is the person concerned or the record's title.
SENTENCES: dict[str, object] = {
    "user.created": _l("%(actor)s created the account of %(target)s."),
    "user.updated": _l("%(actor)s changed the details of %(target)s."),
    "user.deactivated": _l("%(actor)s deactivated the account of %(target)s."),
    "user.reactivated": _l("%(actor)s reactivated the account of %(target)s."),
    "user.import": _l("%(actor)s imported people from a CSV file: %(target)s."),
    "account.invitation_sent": _l("%(actor)s sent %(target)s a link to set a password."),
    "account.invitation_queued": _l("%(actor)s had a link to set a first password sent to %(target)s (through the "
                                    "outbox)."),
    "account.password_changed": _l("%(actor)s changed their password."),
    "account.password_set": _l("%(target)s set a password."),
    "account.signed_out_everywhere": _l("%(actor)s signed out on every device."),
    "department.created": _l("%(actor)s created the department “%(target)s”."),
    "department.updated": _l("%(actor)s renamed or changed the department “%(target)s”."),
    "department.deactivated": _l("%(actor)s deactivated the department “%(target)s”."),
    "department.reactivated": _l("%(actor)s reactivated the department “%(target)s”."),
    "team.created": _l("%(actor)s created the team “%(target)s”."),
    "team.updated": _l("%(actor)s changed the team “%(target)s”."),
    "team.deactivated": _l("%(actor)s deactivated the team “%(target)s”."),
    "team.reactivated": _l("%(actor)s reactivated the team “%(target)s”."),
    "training.rule_created": _l("%(actor)s created an assignment rule (%(target)s)."),
    "training.rule_updated": _l("%(actor)s changed an assignment rule (%(target)s)."),
    "training.rule_deactivated": _l("%(actor)s switched off an assignment rule (%(target)s)."),
    "training.rule_reactivated": _l("%(actor)s switched on an assignment rule again (%(target)s)."),
    "training.rule_people_viewed": _l("%(actor)s looked at the people an assignment rule reaches (%(target)s)."),
    "quiz.attempts_allowed": _l("%(actor)s allowed more quiz attempts: %(target)s."),
    "certificate.viewed": _l("%(actor)s looked at a certificate: %(target)s."),
    "onboarding.template_created": _l("%(actor)s created the onboarding template %(target)s."),
    "onboarding.template_updated": _l("%(actor)s changed the onboarding template %(target)s."),
    "onboarding.template_deactivated": _l("%(actor)s switched off the onboarding template “%(target)s”."),
    "onboarding.template_reactivated": _l("%(actor)s switched on the onboarding template “%(target)s” again."),
    "onboarding.template_task_added": _l("%(actor)s added a task to an onboarding template: %(target)s."),
    "onboarding.template_task_changed": _l("%(actor)s changed a task of an onboarding template: %(target)s."),
    "onboarding.template_task_removed": _l("%(actor)s removed a task from an onboarding template: %(target)s."),
    "onboarding.starter_installed": _l("%(actor)s installed the starter template “%(target)s” for onboarding."),
    "onboarding.template_applied": _l("%(actor)s applied an onboarding template to running journeys: %(target)s."),
    "onboarding.buddy_changed": _l("%(actor)s chose a new buddy for an onboarding journey: %(target)s."),
    "announcement.created": _l("%(actor)s wrote the announcement “%(target)s”."),
    "announcement.updated": _l("%(actor)s changed the announcement “%(target)s”."),
    "announcement.published": _l("%(actor)s published the announcement “%(target)s”."),
    "announcement.scheduled": _l("%(actor)s scheduled the announcement “%(target)s”."),
    "announcement.unpublished": _l("%(actor)s took the announcement “%(target)s” back to draft."),
    "announcement.withdrawn": _l("%(actor)s withdrew the announcement “%(target)s”."),
    "announcement.restored": _l("%(actor)s restored the announcement “%(target)s”."),
    "announcement.unacknowledged_viewed": _l("%(actor)s looked at who has not yet confirmed “%(target)s”."),
    "feedback.official_reply": _l("%(actor)s answered feedback post no. %(number)s officially."),
    "feedback.status": _l("%(actor)s set feedback post no. %(number)s from “%(from_status)s” to “%(to_status)s”."),
    "feedback.hide": _l("%(actor)s hid feedback post no. %(number)s."),
    "feedback.unhide": _l("%(actor)s showed feedback post no. %(number)s again."),
    "survey.created": _l("%(actor)s created the survey “%(target)s”."),
    "survey.deleted": _l("%(actor)s deleted the survey “%(target)s”."),
    "survey.opened": _l("%(actor)s opened round %(wave)s of the survey “%(target)s”."),
    "survey.closed": _l("%(actor)s closed round %(wave)s of the survey “%(target)s”."),
    "survey.closing_moved": _l("%(actor)s moved the closing date of round %(wave)s of the survey “%(target)s”."),
    "survey.wave_added": _l("%(actor)s planned round %(wave)s of the survey “%(target)s”."),
    "survey.exported": _l("%(actor)s downloaded the results of a survey: %(target)s."),
    "survey.named_viewed": _l("%(actor)s looked at named answers: %(target)s."),
    "event.created": _l("%(actor)s created the event “%(target)s”."),
    "event.updated": _l("%(actor)s changed the event “%(target)s”."),
    "event.session_added": _l("%(actor)s added a session to the event “%(target)s”."),
    "event.session_changed": _l("%(actor)s changed a session of the event “%(target)s”."),
    "event.session_cancelled": _l("%(actor)s cancelled a session of the event “%(target)s”."),
    "event.cancelled": _l("%(actor)s cancelled the event “%(target)s”."),
    "event.slots_added": _l("%(actor)s planned consultation slots of the event “%(target)s”."),
    "event.attendance": _l("%(actor)s recorded attendance at the event “%(target)s”."),
    "event.walk_in": _l("%(actor)s added a walk-in to the attendance of the event “%(target)s”."),
    "event.request_approved": _l("%(actor)s approved the booking request %(target)s."),
    "event.request_declined": _l("%(actor)s declined the booking request %(target)s."),
    "event.deputy_named": _l("%(actor)s named %(target)s as deputy for booking requests."),
    "event.deputy_removed": _l("%(actor)s removed %(target)s as deputy for booking requests."),
    "phases.phase_created": _l("%(actor)s created the rollout phase %(target)s."),
    "phases.phase_updated": _l("%(actor)s changed the rollout phase %(target)s."),
    "phases.faq_added": _l("%(actor)s added a question to the FAQ of %(target)s."),
    "phases.faq_updated": _l("%(actor)s changed a question in the FAQ of %(target)s."),
    "phases.faq_removed": _l("%(actor)s removed a question from the FAQ of %(target)s."),
    "phases.faq_moved": _l("%(actor)s moved a question in the FAQ of %(target)s."),
    "metrics.exported": _l("%(actor)s downloaded the programme dashboard (%(target)s)."),
    "audit.exported": _l("%(actor)s downloaded the audit log (%(target)s)."),
    "settings.changed": _l("%(actor)s changed the setting “%(setting)s” from %(old)s to %(new)s."),
    "retention.applied": _l("%(actor)s deleted records past their retention period: %(counts)s."),
    "outbox.retry": _l("%(actor)s queued reminder no. %(number)s again."),
    "outbox.retry_failed": _l("%(actor)s queued %(count)s failed reminders again."),
    "barrier.reported": _l("%(actor)s reported an accessibility barrier (%(target)s)."),
    "barrier.resolved": _l("%(actor)s marked a reported barrier as resolved (%(target)s)."),
    "directory.identity_linked": _l("%(actor)s linked the account of %(target)s with the directory."),
    "directory.link_requested": _l(
        "A directory sign-in asked to be linked with the account of %(target)s; an administrator must confirm it."),
    "directory.link_confirmed": _l("%(actor)s confirmed the link of the account of %(target)s with the directory."),
    "directory.link_refused": _l("%(actor)s refused to link the account of %(target)s with the directory."),
    "directory.sync": _l("%(actor)s synced the people with the directory: %(target)s."),
    "directory.sync_refused": _l("%(actor)s did not sync with the directory because of problems in its data: "
                                 "%(target)s."),
    "directory.sync_stopped": _l("The safety stop kept %(actor)s from syncing with the directory: %(target)s."),
    "directory.deactivated": _l("%(actor)s deactivated %(target)s: disabled in the directory or no longer in "
                                "its scope after the grace period."),
    "directory.reactivated": _l("%(actor)s reactivated %(target)s: back in the directory."),
    "media.upload": _l("%(actor)s added %(target)s to the media library."),
    "media.describe": _l("%(actor)s changed the description of %(target)s in the media library."),
    "media.delete": _l("%(actor)s deleted %(target)s from the media library."),
    "training.course_created": _l("%(actor)s published the course %(target)s by uploading it."),
    "training.course_updated": _l("%(actor)s updated the course %(target)s by uploading it."),
    "training.course_archived": _l("%(actor)s archived the course %(target)s."),
    "training.course_restored": _l("%(actor)s restored the course %(target)s."),
    "training.draft_created": _l("%(actor)s created the course “%(target)s” in the course editor."),
    "training.course_duplicated": _l("%(actor)s duplicated a course managed as files as an editable copy: "
                                     "%(target)s."),
    "training.editor_added": _l("%(actor)s named an editor of a course: %(target)s."),
    "training.editor_removed": _l("%(actor)s took an editor off a course: %(target)s."),
    "training.course_published": _l("%(actor)s published a new version of the course %(target)s written in the "
                                    "browser."),
}

# Decisions a deputy made for a manager (``deputy_of`` in the details): who stood in for whom.
AS_DEPUTY: dict[str, object] = {
    "event.request_approved": _l("%(actor)s approved the booking request %(target)s as deputy of %(manager)s."),
    "event.request_declined": _l("%(actor)s declined the booking request %(target)s as deputy of %(manager)s."),
}

# What someone looked at, for ``record_view(actor, what, ...)`` (stored as ``view.<what>``).
VIEWS: dict[str, object] = {
    "training.rule_people": _l("%(actor)s looked at the people of the assignment rule for “%(target)s”."),
    "metrics.team_training": _l("%(actor)s looked at the mandatory training of each member of the team “%(target)s”."),
    "messaging.captured_mail": _l("%(actor)s looked at the mail kept by the platform."),
    "messaging.outbox": _l("%(actor)s looked at the outbox with the reminders to individual people."),
    "announcements.unacknowledged": _l("%(actor)s looked at who has not yet confirmed “%(target)s”."),
    "events.team_attendance": _l("%(actor)s looked at who in their teams attended mandatory training."),
}

ROLE_GAINED = _l("%(person)s received the role %(role)s.")
ROLE_LOST = _l("%(person)s no longer has the role %(role)s.")

RETENTION_NAMES = {
    "audit_log": _l("audit entries"), "captured_mail": _l("kept mails"), "device_sessions": _l("device sign-ins"),
    "outbox": _l("sent reminders"), "notifications": _l("read notifications"),
    "survey_answers": _l("survey answers"),
}


@dataclass(frozen=True)
class Described:
    entry: AuditEntry
    sentence: str
    category: str  # its label, "" if none


def _role(value: str) -> str:
    try:
        return Role(value).label
    except ValueError:
        return value


def _value(value: object) -> str:
    if isinstance(value, bool):
        return _("on") if value else _("off")
    return "–" if value in (None, "") else f"“{value}”" if isinstance(value, str) else str(value)


def _setting_label(key: str) -> str:
    from learning.settings.services import BY_KEY  # settings record into the audit log: imported late

    setting = BY_KEY.get(key)
    return str(setting.label) if setting is not None else key


def _status(value: object) -> str:
    from learning.feedback.models import STATUS_LABELS

    label = next((label for status, label in STATUS_LABELS.items() if status.value == value), None)
    return str(label) if label is not None else str(value or "–")


def sentence(entry: AuditEntry, people: dict[int, str]) -> str:
    """The entry as a sentence; ``people`` names the persons entries are about (by id)."""
    details = entry.details or {}
    actor = entry.actor.full_name if entry.actor is not None else _("The system")
    target = entry.summary or "–"
    if entry.target_type == "user" and entry.target_id in people:
        target = people[entry.target_id]
    values = {"actor": actor, "target": target, "number": entry.target_id or "–",
              "wave": details.get("wave", "–"), "count": details.get("count", "–")}
    action = entry.action
    if action == "settings.changed":
        values.update(setting=_setting_label(str(details.get("key", ""))), old=_value(details.get("old")),
                      new=_value(details.get("new")))
    elif action == "feedback.status":
        values.update(from_status=_status(details.get("from_status")), to_status=_status(details.get("to_status")))
    elif action == "retention.applied":
        counts = [f"{number} {RETENTION_NAMES.get(name, name)}" for name, number in details.items()
                  if isinstance(number, int) and number]
        values["counts"] = ", ".join(counts) or "–"
    if action.startswith("view.") and action[5:] in VIEWS:
        template = VIEWS[action[5:]]
    elif action.startswith("view."):
        template = _l("%(actor)s looked at data about individuals: %(target)s.")
    elif action in AS_DEPUTY and details.get("deputy_of"):
        template = AS_DEPUTY[action]
        values["manager"] = details["deputy_of"]
    else:
        template = SENTENCES.get(action, _l("%(actor)s: %(target)s."))
    text = str(template) % values
    if action in ("user.created", "user.updated"):
        person = people.get(entry.target_id, target)
        text += "".join(" " + str(ROLE_GAINED) % {"person": person, "role": _role(r)}
                        for r in details.get("roles_added", []))
        text += "".join(" " + str(ROLE_LOST) % {"person": person, "role": _role(r)}
                        for r in details.get("roles_removed", []))
    return text


def describe(entries: Sequence[AuditEntry]) -> list[Described]:
    """Each entry with its sentence and category; the persons concerned are read in one query."""
    ids = {e.target_id for e in entries if e.target_type == "user" and e.target_id is not None}
    people = {}
    if ids:
        people = {row.id: row.full_name for row in db.session.scalars(select(User).where(User.id.in_(ids)))}
    described = []
    for entry in entries:
        key = category_of(entry.action)
        described.append(Described(entry, sentence(entry, people), str(CATEGORIES[key][0]) if key else ""))
    return described
