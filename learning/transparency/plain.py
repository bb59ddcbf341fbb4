"""“What is stored about me” in plain language: grouped by purpose, labelled fields, readable values.

``services.personal_data`` finds every row that refers to the person (derived from the schema) and
stays the source of the JSON download. This module arranges the same rows for reading: each table
belongs to a purpose (account, training, onboarding, ...) with a sentence on why it is kept and
for how long (the periods come from the retention settings); each column has a label in the
reader's language; values are written as dates, Ja/Nein, names and titles instead of ISO
timestamps, booleans, dictionaries and record numbers. ``tests/transparency`` makes sure every
column of every such table has a label, so a new feature's table never shows a column name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from flask_babel import format_date, format_time
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Table, select

from learning.audit.models import AuditEntry
from learning.audit.words import describe
from learning.db import db
from learning.i18n import date_filter
from learning.org.models import User
from learning.roles import Role
from learning.settings.services import retention_days
from learning.transparency.services import HIDDEN_VALUE, Section, personal_data

# Purpose → (heading, why it is kept). The retention sentence is added from the settings.
PURPOSES: dict[str, tuple[object, object]] = {
    "account": (_l("Your account"), _l(
        "So that you can sign in, see what concerns your team and your roles, and stay signed in on your devices.")),
    "training": (_l("Training"), _l(
        "So that you see which courses you are to take, can continue where you stopped, and can prove completed "
        "mandatory training (for example with a certificate).")),
    "onboarding": (_l("Onboarding"), _l(
        "So that new colleagues, their buddies and IT contacts see the tasks of the first weeks and who has done "
        "them.")),
    "announcements": (_l("Announcements"), _l(
        "So that announcements show who wrote and changed them, and that you have confirmed the ones that must be "
        "confirmed.")),
    "feedback": (_l("Feedback"), _l(
        "So that your named posts, comments and votes count and you are told when a post you follow is answered. "
        "Anonymous posts are not stored with your name and are not listed here.")),
    "surveys": (_l("Surveys"), _l(
        "So that you are not asked twice and reminders stop once you took part. Your answers to anonymous surveys "
        "carry nothing that links them to you and are not listed here.")),
    "notifications": (_l("Notifications and mail"), _l(
        "So that you get reminders and notices the way you chose, and nobody gets too much mail.")),
    "records": (_l("Records of changes"), _l(
        "So that the staff council and the administration can check who changed what and who looked at whose "
        "data (audit log), and so that reported barriers are answered.")),
    "events": (_l("Events"), _l(
        "So that you keep your seat at events and workshops, get calendar invitations and changes, and that "
        "attendance can complete a course or earn a certificate of attendance that others can check.")),
    "other": (_l("Other records"), _l("Records of further functions of the platform that refer to you.")),
}

TABLE_PURPOSES = {
    "user": "account", "user_role": "account", "team_manager": "account", "device_session": "account",
    "phase_contact": "account", "external_identity": "account", "pending_link": "account",
    "assignment": "training", "assignment_rule": "training", "lesson_completion": "training",
    "quiz_attempt": "training", "course_completion": "training",
    "journey": "onboarding", "journey_task": "onboarding", "journey_template": "onboarding",
    "journey_template_version": "onboarding",
    "announcement": "announcements", "announcement_version": "announcements",
    "announcement_acknowledgement": "announcements", "announcement_feed_token": "announcements",
    "feedback_post": "feedback", "feedback_vote": "feedback", "feedback_comment": "feedback",
    "feedback_status_change": "feedback", "feedback_subscription": "feedback",
    "survey": "surveys", "survey_participation": "surveys", "survey_named_response": "surveys",
    "survey_response": "surveys", "survey_answer": "surveys",
    "notification": "notifications", "notification_preference": "notifications", "outbox": "notifications",
    "audit_log": "records", "barrier_report": "records", "platform_setting": "records",
    "media_item": "other",
    "course_draft": "training", "course_editor": "training", "course_version": "training",
    "draft_review": "training", "earlier_completion": "training",
    "directory_sync_state": "account",
    "event": "events", "event_organiser": "events", "event_booking": "events", "event_mail": "events",
    "event_approval_deputy": "events",
    "event_certificate": "events",
}

# How long, per purpose: a sentence, filled with the retention settings' days.
RETENTION = {
    "account": _l("Kept while you work here; sign-ins on devices are deleted %(logs)d days after their last use."),
    "training": _l("Kept as proof of your training; not deleted automatically. Certificates from before a course "
                   "had to be taken again are kept as long as your assignment or certificate of that course."),
    "onboarding": _l("Kept with your onboarding journey; not deleted automatically."),
    "announcements": _l("Kept with the announcements; not deleted automatically."),
    "feedback": _l("Kept with the feedback posts; not deleted automatically."),
    "surveys": _l("Individual answers to named surveys are deleted %(answers)d days after a survey closes; "
                  "the results (figures of groups) stay."),
    "notifications": _l("Read notifications, sent reminders and mail records are deleted after %(logs)d days."),
    "records": _l("Audit entries are deleted after %(audit)d days."),
    "other": _l("As the function describes."),
    "events": _l("Kept as proof of attendance with the events; not deleted automatically."),
}

# Field labels by column name; a table may name a column differently (TABLE_COLUMN_LABELS).
COLUMN_LABELS: dict[str, object] = {
    "id": _l("Number"), "username": _l("User name"), "email": _l("E-mail address"), "first_name": _l("First name"),
    "last_name": _l("Last name"), "employee_number": _l("Personnel number"), "start_date": _l("Start date"),
    "locale": _l("Language"), "active": _l("Active"), "deactivated_at": _l("Deactivated on"), "team_id": _l("Team"),
    "password_hash": _l("Password"), "session_token": _l("Sign-in key"), "last_login_at": _l("Last sign-in"),
    "created_at": _l("Created on"), "updated_at": _l("Last changed on"), "user_id": _l("Person"),
    "role": _l("Role"), "token_hash": _l("Device key"), "browser": _l("Browser"), "system": _l("Operating system"),
    "signed_in_on": _l("Signed in on"), "last_seen_on": _l("Last used on"), "phase_id": _l("Rollout phase"),
    "course_id": _l("Course"), "rule_id": _l("Assignment rule"), "mandatory": _l("Mandatory"),
    "assigned_at": _l("Assigned on"), "assigned_on": _l("Assigned for the day"), "due_on": _l("Due on"),
    "started_at": _l("Started on"), "completed_at": _l("Completed on"),
    "unmatched_since": _l("No longer matching since"),
    "extra_attempts": _l("Extra quiz attempts"), "audience": _l("For whom"), "audience_values": _l("Chosen units"),
    "due_rule": _l("Due rule"), "created_by_id": _l("Created by"), "lesson_id": _l("Lesson"),
    "submitted_at": _l("Submitted on"), "score": _l("Score (%)"), "passed": _l("Passed"), "details": _l("Details"),
    "verification_code": _l("Verification code"), "title": _l("Title"), "title_en": _l("Title (English)"),
    "body": _l("Text"), "publish_at": _l("Published on"), "pinned": _l("Pinned"),
    "requires_ack": _l("Must be confirmed"),
    "version": _l("Version"), "substantive_version": _l("Last substantive version"), "withdrawn_at": _l("Withdrawn on"),
    "announcement_id": _l("Announcement"), "acknowledged_at": _l("Confirmed on"), "token": _l("Feed key"),
    "changed_at": _l("Changed on"), "changed_by_id": _l("Changed by"), "substantive": _l("Substantive change"),
    "reason": _l("Reason"), "post_id": _l("Feedback post"), "author_id": _l("Author"),
    "official": _l("Official answer"),
    "kind": _l("Kind"), "anonymous": _l("Anonymous"), "status": _l("Status"), "hidden": _l("Hidden"),
    "hidden_reason": _l("Reason for hiding"), "vote_count": _l("Votes"), "created_on": _l("Created on"),
    "from_status": _l("Status before"), "to_status": _l("Status after"), "notified_at": _l("Notified on"),
    "at": _l("Time"), "actor_id": _l("Who"), "action": _l("What happened"), "target_type": _l("Kind of record"),
    "target_id": _l("Record number"), "summary": _l("Summary"), "page": _l("Page"), "description": _l("Description"),
    "contact": _l("Contact"), "reporter_id": _l("Reported by"), "resolved_at": _l("Resolved on"),
    "resolved_by_id": _l("Resolved by"), "new_hire_id": _l("New colleague"), "template_id": _l("Template"),
    "template_version": _l("Template version"), "buddy_id": _l("Buddy"), "it_contact_id": _l("IT contact"),
    "closed_at": _l("Closed on"), "closed_reason": _l("Reason for closing"), "journey_id": _l("Onboarding journey"),
    "template_key": _l("Task key"), "position": _l("Position"), "owner_role": _l("Done by"),
    "offset_days": _l("Days after the start"), "done_at": _l("Done on"), "done_by_id": _l("Done by"),
    "name": _l("Name"), "department_id": _l("Department"), "subject_key": _l("Subject"), "outbox_id": _l("Reminder"),
    "read_at": _l("Read on"), "digest": _l("Summary mail"), "muted_kinds": _l("Switched-off notices"),
    "calendar_token": _l("Calendar key"), "calendar_token_created_at": _l("Calendar key created on"),
    "period_key": _l("Period"), "payload": _l("Content"), "planned_at": _l("Planned for"),
    "next_attempt_at": _l("Next attempt"), "attempts": _l("Attempts"), "deferrals": _l("Postponed"),
    "claimed_by": _l("Sending process"), "lease_until": _l("Reserved until"), "sent_at": _l("Sent on"),
    "message_id": _l("Mail number"), "outcome": _l("Outcome"), "last_error": _l("Last error"),
    "key": _l("Setting"), "value": _l("Value"), "updated_by_id": _l("Changed by"), "intro": _l("Introduction"),
    "intro_en": _l("Introduction (English)"), "instrument": _l("Questionnaire"),
    "min_responses": _l("Fewest answers for a score"), "min_comments": _l("Fewest answers for comments"),
    "opened_at": _l("Opened on"), "response_id": _l("Response"), "survey_id": _l("Survey"), "wave_id": _l("Round"),
    "taken_on": _l("Took part on"), "question_id": _l("Question"), "choices": _l("Chosen options"),
    "text": _l("Text"),
    "source": _l("Sign-in service"), "subject": _l("Identifier in the directory"),
    "last_sign_in_at": _l("Last sign-in with the directory"), "login": _l("User name in the directory"),
    "requested_at": _l("Asked on"), "sha256": _l("Content fingerprint"), "extension": _l("File type"),
    "size": _l("Size (bytes)"), "width": _l("Width (pixels)"), "height": _l("Height (pixels)"),
    "alt_text": _l("Alternative text"), "captions_sha256": _l("Captions file"),
    "captions_language": _l("Language of the captions"), "transcript": _l("Transcript"),
    "uploaded_by_id": _l("Uploaded by"),
}
TABLE_COLUMN_LABELS: dict[tuple[str, str], object] = {
    ("survey_answer", "value"): _l("Answer (scale point)"),
    ("survey_answer", "text"): _l("Answer (text)"),
    ("platform_setting", "value"): _l("New value"),
    ("journey_template", "version"): _l("Current version"),
    ("feedback_post", "created_on"): _l("Day of writing"),
    ("course_draft", "slug"): _l("Short name of the course"),
    ("course_draft", "document"): _l("Unpublished text of the course"),
    ("course_draft", "revisions"): _l("Number of saves per part"),
    ("course_draft", "base_version"): _l("Version the draft started from"),
    ("course_draft", "review_state"): _l("Review state"),
    ("course_draft", "review_requested_by_id"): _l("Review requested by"),
    ("course_draft", "review_requested_at"): _l("Review requested on"),
    ("course_draft", "lock_version"): _l("Number of saves"),
    ("course_editor", "draft_id"): _l("Course"),
    ("course_editor", "added_at"): _l("Named as editor on"),
    ("course_version", "draft_id"): _l("Course"),
    ("course_version", "number"): _l("Version"),
    ("course_version", "spec"): _l("Published text of the course"),
    ("course_version", "published_by_id"): _l("Published by"),
    ("course_version", "published_at"): _l("Published on"),
    ("course_version", "approved_by_id"): _l("Approved by"),
    ("draft_review", "draft_id"): _l("Course"),
    ("draft_review", "content_hash"): _l("Fingerprint of the approved draft"),
    ("earlier_completion", "superseded_at"): _l("Replaced on"),
    ("earlier_completion", "superseded_by_version"): _l("Replaced by version"),
    ("earlier_completion", "record"): _l("Earlier progress and quiz attempts"),
    ("directory_sync_state", "missing_since"): _l("Missing from the directory since"),
    ("directory_sync_state", "missing_reason"): _l("Why missing"),
    ("directory_sync_state", "deactivated_by_sync"): _l("Deactivated by the sync"),
    ("event", "registration"): _l("Registration"),
    ("event", "approval_required"): _l("Manager approval required"),
    ("event", "waiting_list"): _l("Waiting list"),
    ("event", "trainer_id"): _l("Trainer"),
    ("event", "trainer_name"): _l("Trainer (name)"),
    ("event", "completes_course"): _l("Attendance completes the course"),
    ("event", "issues_certificate"): _l("Attendance earns a certificate"),
    ("event", "cancelled_at"): _l("Cancelled on"),
    ("event_organiser", "event_id"): _l("Event"),
    ("event_booking", "session_id"): _l("Session"),
    ("event_booking", "state"): _l("State"),
    ("event_booking", "queued_at"): _l("Place in the queue since"),
    ("event_booking", "booked_by_id"): _l("Booked by"),
    ("event_booking", "approved"): _l("Approved"),
    ("event_booking", "decided_by_id"): _l("Decided by"),
    ("event_booking", "decided_at"): _l("Decided on"),
    ("event_booking", "offered_until"): _l("Seat offered until"),
    ("event_booking", "cancelled_by_id"): _l("Cancelled by"),
    ("event_booking", "cancelled_at"): _l("Cancelled on"),
    ("event_booking", "walk_in"): _l("Came without booking"),
    ("event_booking", "attendance_by_id"): _l("Attendance recorded by"),
    ("event_booking", "attendance_at"): _l("Attendance recorded on"),
    ("event_booking", "ical_sequence"): _l("Calendar invitation version"),
    ("event_approval_deputy", "manager_id"): _l("Manager"),
    ("event_approval_deputy", "deputy_id"): _l("Deputy"),
    ("event_certificate", "event_id"): _l("Event"),
    ("event_certificate", "issued_at"): _l("Issued on"),
    ("event_mail", "booking_id"): _l("Booking"),
    ("event_mail", "method"): _l("Kind of invitation"),
    ("event_mail", "sequence"): _l("Calendar invitation version"),
}

# Not shown on the page (still in the download): record numbers and stored HTML copies of texts.
HIDDEN_COLUMNS = ("id",)
LABEL_COLUMNS = ("title", "name", "label", "text")  # how a referenced record is named
LANGUAGE_NAMES = {"de": "Deutsch", "en": "English"}
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:\d{2}|Z)?)?")


def _feedback_statuses() -> dict:
    from learning.feedback.models import STATUS_LABELS

    return {status.value: label for status, label in STATUS_LABELS.items()}


def _feedback_kinds() -> dict:
    from learning.feedback.models import KIND_LABELS

    return {kind.value: label for kind, label in KIND_LABELS.items()}


def _audiences() -> dict:
    from learning.org.audience import KIND_LABELS

    return {getattr(kind, "value", kind): label for kind, label in KIND_LABELS.items()}


# Stored codes written as words (by column name); each reads its feature's own labels.
CODES = {"status": _feedback_statuses, "from_status": _feedback_statuses, "to_status": _feedback_statuses,
         "audience": _audiences}
KIND_CODES = {"feedback_post": _feedback_kinds}
NOT_SHOWN = _l("stored, not shown")


def column_label(table: str, column: str) -> str:
    label = TABLE_COLUMN_LABELS.get((table, column)) or COLUMN_LABELS.get(column)
    return str(label) if label is not None else column.replace("_", " ")


@dataclass
class Field:
    label: str
    value: str


@dataclass
class Group:
    table: str
    label: str
    entries: list[list[Field]]


@dataclass
class Purpose:
    key: str
    heading: str
    why: str
    how_long: str
    groups: list[Group] = field(default_factory=list)

    @property
    def count(self) -> int:
        return sum(len(g.entries) for g in self.groups)


def _names(sections: Iterable[Section], user: User) -> dict[str, dict[object, str]]:
    """Names of every record the rows refer to (courses, teams, people, ...): one query per referenced table."""
    tables = db.metadata.tables
    wanted: dict[str, set] = {}
    for section in sections:
        table = tables.get(section.table)
        if table is None:
            continue
        for column in table.columns:
            for fk in column.foreign_keys:
                target = fk.column.table
                ids = {row[column.name] for row in section.rows if row.get(column.name) is not None}
                wanted.setdefault(target.name, set()).update(ids)
    names: dict[str, dict[object, str]] = {}
    for name in sorted(wanted):
        target = tables[name]
        if name == "user":
            rows = db.session.execute(select(target.c.id, target.c.first_name, target.c.last_name)
                                      .where(target.c.id.in_(wanted[name])))
            names[name] = {row.id: f"{row.first_name} {row.last_name}" for row in rows}
            names[name][user.id] = _("you")
            continue
        label = next((c for c in LABEL_COLUMNS if c in target.c), None)
        key = next(iter(target.primary_key.columns))
        if label is None:
            continue
        rows = db.session.execute(select(key, target.c[label]).where(key.in_(wanted[name])))
        names[name] = {row[0]: str(row[1]) for row in rows}
    return names


def _plain_value(table: Table | None, column: str, value, names: dict) -> str:
    if value is None or value == "":
        return "–"
    if value == HIDDEN_VALUE:
        return str(NOT_SHOWN)
    sql_column = table.c[column] if table is not None and column in table.c else None
    if sql_column is not None:
        for fk in sql_column.foreign_keys:
            return names.get(fk.column.table.name, {}).get(value) or _("no. %(num)s", num=value)
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, str) and ISO_DATE.fullmatch(value):  # the rows hold dates as ISO text (for the download)
        value = datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
    codes = CODES.get(column)
    if codes is not None and isinstance(value, str):
        return str(codes().get(value, value))
    if isinstance(value, datetime):
        return _when(value)
    if isinstance(value, date):
        return date_filter(value)
    if column == "locale":
        return LANGUAGE_NAMES.get(value, value)
    if column in ("role", "owner_role"):
        try:
            return Role(value).label
        except ValueError:
            return str(value)
    if isinstance(value, dict):
        return "; ".join(f"{key.replace('_', ' ')}: {_plain_value(None, key, item, names)}"
                         for key, item in value.items()) or "–"
    if isinstance(value, list | tuple):
        return ", ".join(_plain_value(None, column, item, names) for item in value) or "–"
    return str(value)


def _when(value: datetime) -> str:
    """A moment as people write it: 07.12.2026, 09:47 (in the platform's time zone)."""
    return f"{format_date(value, 'medium')}, {format_time(value, 'short')}"


def _value_in(name: str, table: Table | None, column: str, value, names: dict) -> str:
    if column == "kind" and name in KIND_CODES and isinstance(value, str):
        return str(KIND_CODES[name]().get(value, value))
    if column == "status" and name != "feedback_post":
        return str(value) if value is not None else "–"
    return _plain_value(table, column, value, names)


def _audit_entries(section: Section) -> list[list[Field]]:
    """Audit entries as sentences ("Anna Schmidt hat ... geändert"), with their time."""
    ids = [row["id"] for row in section.rows]
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.id.in_(ids))
                                 .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())).all()
    return [[Field(str(COLUMN_LABELS["at"]), date_filter(item.entry.at, "short")),
             Field(str(COLUMN_LABELS["action"]), item.sentence)] for item in describe(entries)]


def readable_personal_data(user: User) -> list[Purpose]:
    """The person's data grouped by purpose, in the reader's language; a fixed number of queries."""
    sections = personal_data(user)
    names = _names(sections, user)
    days = retention_days()
    values = {"logs": days["retention.individual_logs_days"], "answers": days["retention.survey_answers_days"],
              "audit": days["retention.audit_days"]}
    purposes = {key: Purpose(key, str(heading), str(why), str(RETENTION[key]) % values)
                for key, (heading, why) in PURPOSES.items()}
    tables = db.metadata.tables
    for section in sections:
        if not section.rows:
            continue
        table = tables.get(section.table)
        if section.table == "audit_log":
            entries = _audit_entries(section)
        else:
            columns = [c for c in section.columns if c not in HIDDEN_COLUMNS]
            entries = [[Field(column_label(section.table, c), _value_in(section.table, table, c, row[c], names))
                        for c in columns if not (c == "user_id" and row[c] == user.id)]  # "you" goes without saying
                       for row in section.rows]
        group = Group(section.table, section.label, entries)
        purposes[TABLE_PURPOSES.get(section.table, "other")].groups.append(group)
    return list(purposes.values())
