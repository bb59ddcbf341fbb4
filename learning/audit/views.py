"""The audit log for admins (and the staff council): in sentences, filtered by category, person and period, as CSV."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app, render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from learning.audit import bp
from learning.audit.models import AuditEntry
from learning.audit.services import record
from learning.audit.words import CATEGORIES, category_condition, describe
from learning.db import db, unit_of_work
from learning.exports import Column, Export, export_response
from learning.guards import check_day
from learning.org.search import matching_people, search_text
from learning.pagination import paginate
from learning.roles import Role
from learning.security import allow
from learning.settings.services import organisation_name

EXPORT_LIMIT = 50_000  # rows in one download; narrow the period for more


@bp.app_template_global()
def audit_in_words(entries):
    """Audit entries with their sentences (``templates/audit/_entries.html``, also on the admin's start page)."""
    return describe(list(entries))


def _day(name: str, problems: list[str]):
    value = request.args.get(name, "").strip()
    if not value:
        return None
    try:
        return check_day(datetime.strptime(value, "%Y-%m-%d").date())
    except ValueError:
        problems.append(_("“%(value)s” is not a date (YYYY-MM-DD).", value=value[:20]))
        return None


def _search() -> tuple:
    """The query of the filters in the address, with what they are in words and any problems."""
    query = select(AuditEntry).options(selectinload(AuditEntry.actor))
    problems: list[str] = []
    shown: list[tuple[str, str]] = []
    category = request.args.get("category", "")
    if category in CATEGORIES:
        query = query.where(category_condition(category))
        shown.append((_("Category"), str(CATEGORIES[category][0])))
    elif category:
        problems.append(_("There is no category “%(value)s”.", value=category[:40]))
    action = request.args.get("action", "").strip()[:60]  # the technical filter, kept for links and scripts
    if action:
        query = query.where(AuditEntry.action.startswith(action, autoescape=True))
        shown.append((_("Action"), action))
    person = search_text(request.args.get("person"))
    if person:
        matching = matching_people(person)
        query = query.where(or_(AuditEntry.actor_id.in_(matching),
                                (AuditEntry.target_type == "user") & AuditEntry.target_id.in_(matching)))
        shown.append((_("Person"), person))
    start, end = _day("from", problems), _day("to", problems)
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    if start:
        query = query.where(AuditEntry.at >= datetime.combine(start, time(), zone))
        shown.append((_("From"), start.strftime("%d.%m.%Y")))
    if end:
        query = query.where(AuditEntry.at < datetime.combine(end + timedelta(days=1), time(), zone))
        shown.append((_("To"), end.strftime("%d.%m.%Y")))
    if problems:
        query = query.where(False)
    return query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc()), problems, shown, category, action, person


@bp.route("/")
@allow(Role.ADMIN)
def log():
    """Search the audit log by category, person (who acted or whom it concerned) and period."""
    query, problems, _shown, category, action, person = _search()
    page = paginate(query, per_page=50)
    return render_template("audit/log.html", page=page, action=action, person=person, problems=problems,
                           category=category, categories=[(k, str(label)) for k, (label, _p) in CATEGORIES.items()],
                           start=request.args.get("from", "")[:10], end=request.args.get("to", "")[:10])


@bp.route("/export.<any(csv, xlsx):fmt>")
@allow(Role.ADMIN)
def export(fmt: str):
    """The entries the filters select, as a spreadsheet: time, category, what happened, who, the technical detail."""
    query, problems, shown, _category, _action, _person = _search()
    entries = db.session.scalars(query.limit(EXPORT_LIMIT)).all() if not problems else []
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    rows = [[item.entry.at.astimezone(zone).replace(tzinfo=None), item.category, item.sentence,
             item.entry.actor.full_name if item.entry.actor else _("The system"), item.entry.action,
             item.entry.summary] for item in describe(entries)]
    table = Export(
        title=_("Audit log"), name=_("audit-log"), organisation=organisation_name(), rows=rows,
        columns=[Column(_("Time"), "datetime", width=17), Column(_("Category"), width=28),
                 Column(_("What happened"), width=80), Column(_("Who"), width=24),
                 Column(_("Action (technical)"), width=30), Column(_("Recorded summary (technical)"), width=50)],
        filters=shown or [(_("Filter"), _("all entries"))],
        notes=[_("At most %(num)d entries per download; choose a shorter period for more.", num=EXPORT_LIMIT)]
        if len(entries) == EXPORT_LIMIT else [])
    with unit_of_work():  # who took the log away, and which part of it
        record(current_user, "audit.exported", None, ", ".join(f"{what}: {value}" for what, value in shown)
               or _("all entries"), format=fmt, rows=len(rows))
    return export_response(table, fmt)
