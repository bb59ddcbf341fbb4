"""What the platform records about a person, and reports of accessibility barriers.

The personal data view is derived from the schema: every table with a column that refers to a
person contributes the rows that refer to them, so a new feature's table appears here without
anybody remembering to list it (a test makes sure each such table has a name for people).
Anonymous survey answers and anonymous feedback carry no reference to a person and therefore
never appear: there is nothing that could tie them to anyone.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Column, Table, and_, or_, select

from learning.audit.services import record
from learning.db import after_commit, db, unit_of_work, utcnow
from learning.mail import MailError, absolute_url, send_mail
from learning.org.models import User, UserRole
from learning.roles import Role
from learning.transparency.models import BarrierReport

logger = logging.getLogger(__name__)

# Columns whose values are credentials: their existence is shown, never their value.
SECRET_MARKERS = ("password", "token", "secret", "hash")
HIDDEN_VALUE = "********"

# A name for people for every table that refers to a person (tests/transparency checks completeness).
TABLE_LABELS = {
    "user": _l("Your account"),
    "user_role": _l("Your roles"),
    "team_manager": _l("Teams you lead"),
    "device_session": _l("Devices you are signed in on"),
    "phase_contact": _l("Rollout phases naming you as a contact"),
    "assignment": _l("Assigned courses"),
    "assignment_rule": _l("Assignment rules you created"),
    "lesson_completion": _l("Completed lessons"),
    "quiz_attempt": _l("Quiz attempts"),
    "course_completion": _l("Course completions and certificates"),
    "announcement": _l("Announcements you wrote"),
    "announcement_version": _l("Announcement versions you changed"),
    "announcement_acknowledgement": _l("Announcements you acknowledged"),
    "announcement_feed_token": _l("Your announcement feed"),
    "feedback_post": _l("Feedback posts under your name"),
    "feedback_vote": _l("Your votes on feedback"),
    "feedback_comment": _l("Your comments on feedback"),
    "feedback_status_change": _l("Feedback status changes you made"),
    "feedback_subscription": _l("Feedback posts you follow"),
    "audit_log": _l("Audit log entries about you or by you"),
    "barrier_report": _l("Barriers you reported"),
    "journey": _l("Onboarding journeys you take part in (as new hire, buddy or IT contact)"),
    "journey_task": _l("Onboarding tasks you ticked"),
    "journey_template": _l("Onboarding templates naming you as IT contact"),
    "journey_template_version": _l("Onboarding template versions you saved"),
    "notification": _l("Your notifications"),
    "notification_preference": _l("Your notification settings"),
    "outbox": _l("Reminders and mails planned or sent to you"),
    "survey": _l("Surveys you created"),
    "survey_participation": _l("Surveys you took part in (without your answers)"),
    "survey_named_response": _l("Your responses to named surveys"),
    "survey_response": _l("Your responses to named surveys: details"),
    "survey_answer": _l("Your answers in named surveys"),
    "platform_setting": _l("Settings you changed"),
    "external_identity": _l("Your account in the organisation's directory (its fixed identifier)"),
    "pending_link": _l("Directory sign-ins waiting to be linked to your account"),
    "media_item": _l("Files you uploaded to the media library"),
    "course_draft": _l("Courses you created or last changed in the course editor"),
    "course_editor": _l("Courses naming you as an editor"),
    "course_version": _l("Course versions you published or approved"),
    "draft_review": _l("Your comments on and approvals of course drafts"),
    "earlier_completion": _l("Certificates of earlier course versions"),
    "directory_sync_state": _l("Your account in the directory sync"),
    "event": _l("Events you organise or train"),
    "event_organiser": _l("Events naming you as an organiser"),
    "event_booking": _l("Your event bookings and attendance"),
    "event_mail": _l("Calendar invitations sent to you"),
    "event_approval_deputy": _l("Deputies for booking requests you named, or who named you"),
    "event_certificate": _l("Your certificates of attendance"),
}


# Rows that refer to a person only through a link table: table -> (its column, link table, the
# link table's column). Answers to *named* surveys reach the person through the named-response
# link; answers to anonymous surveys have no such link and stay out of reach.
LINKED = {
    "survey_response": ("id", "survey_named_response", "response_id"),
    "survey_answer": ("response_id", "survey_named_response", "response_id"),
}


@dataclass
class Section:
    table: str
    label: str
    columns: list[str]
    rows: list[dict]


def person_columns(table: Table) -> list[Column]:
    """The columns of a table that refer to a person."""
    return [
        column for column in table.columns
        if any(fk.column.table.name == "user" and fk.column.name == "id" for fk in column.foreign_keys)
    ]


def personal_tables() -> list[tuple[Table, list[Column]]]:
    tables = []
    for table in db.metadata.sorted_tables:
        columns = person_columns(table)
        if columns:
            tables.append((table, columns))
    return sorted(tables, key=lambda item: item[0].name)


def _plain(column: str, value):
    if value is not None and any(marker in column for marker in SECRET_MARKERS):
        return HIDDEN_VALUE
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _derived(column: str) -> bool:
    """A copy of a text in another form (its HTML, rendered when saved), shown once as the text itself."""
    return column.endswith("_html") or column == "html_version"


def _section(table: Table, condition) -> Section:
    rows = db.session.execute(select(table).where(condition)).mappings().all()
    columns = [c.name for c in table.columns if not _derived(c.name)]
    return Section(
        table=table.name,
        label=str(TABLE_LABELS.get(table.name, table.name.replace("_", " "))),
        columns=columns,
        rows=[{name: _plain(name, row[name]) for name in columns} for row in rows],
    )


def personal_data(user: User) -> list[Section]:
    """Every row that refers to the person, by table; one query per table whatever the data size."""
    user_table = User.__table__
    sections = [_section(user_table, user_table.c.id == user.id)]
    for table, columns in personal_tables():
        condition = or_(*(column == user.id for column in columns))
        if table.name == "audit_log":  # changes made to their own record, too
            condition = or_(condition, and_(table.c.target_type == "user", table.c.target_id == user.id))
        sections.append(_section(table, condition))
    tables = db.metadata.tables
    for name, (column, link_name, link_column) in sorted(LINKED.items()):
        if name in tables and link_name in tables:
            link = tables[link_name]
            via = select(link.c[link_column]).where(or_(*(c == user.id for c in person_columns(link))))
            sections.append(_section(tables[name], tables[name].c[column].in_(via)))
    return sections


def personal_data_document(user: User, now: datetime | None = None) -> dict:
    """The download: every section with its rows, keyed by table name."""
    return {
        "generated_at": (now or utcnow()).isoformat(),
        "person": {"id": user.id, "username": user.username},
        "tables": {section.table: {"label": section.label, "rows": section.rows}
                   for section in personal_data(user)},
    }


# Barrier reports ----------------------------------------------------------------------------

def report_barrier(page: str, description: str, contact: str, reporter: User | None) -> BarrierReport:
    """Store a barrier report and tell the administrators once it is committed; a mail failure loses nothing.

    ``reporter`` is the person only when they chose to attach their name; otherwise None, and
    nothing stored (report, audit entry, mail) names them.
    """
    report = BarrierReport(page=page.strip(), description=description.strip(), contact=contact.strip(),
                           reporter_id=getattr(reporter, "id", None))
    db.session.add(report)
    record(reporter, "barrier.reported", report, page.strip()[:200])
    db.session.flush()
    reporter_name = reporter.full_name if reporter is not None else None
    after_commit(lambda: _tell_admins(report, reporter_name))
    return report


def _tell_admins(report: BarrierReport, reporter_name: str | None) -> None:
    """Mail every active administrator about a stored report; a failed mail is logged, the report stays."""
    with unit_of_work():  # without an SMTP server the mail is captured: stored for the admins
        admins = db.session.scalars(
            select(User).join(UserRole, UserRole.user_id == User.id)
            .where(User.active, UserRole.role == Role.ADMIN.value).order_by(User.id)
        ).all()
        for admin in admins:
            with force_locale(admin.locale or "de"):
                subject = _("Accessibility barrier reported")
                body = "\n\n".join([
                    _("Someone reported a barrier on the learning platform."),
                    _("Page: %(page)s", page=report.page or "–"),
                    _("Reported by: %(name)s", name=reporter_name or _("anonymous")),
                    report.description,
                    _("Contact for an answer: %(contact)s", contact=report.contact or "–"),
                    _("All reports: %(url)s", url=absolute_url("transparency.barrier_reports")),
                ])
            try:
                send_mail(admin.email, subject, body, name=admin.full_name)
            except MailError:
                logger.warning("Barrier report %s stored; mail to admin %s failed", report.id, admin.id)


def resolve_barrier(report: BarrierReport, actor: User) -> None:
    if report.resolved_at is None:
        report.resolved_at = utcnow()
        report.resolved_by_id = actor.id
        record(actor, "barrier.resolved", report, report.page[:200])
        db.session.flush()
