from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app, render_template, request
from flask_babel import gettext as _
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from learning.audit import bp
from learning.audit.models import AuditEntry
from learning.guards import check_day
from learning.org.search import matching_people, search_text
from learning.pagination import paginate
from learning.roles import Role
from learning.security import allow


def _day(name: str, problems: list[str]):
    value = request.args.get(name, "").strip()
    if not value:
        return None
    try:
        return check_day(datetime.strptime(value, "%Y-%m-%d").date())
    except ValueError:
        problems.append(_("“%(value)s” is not a date (YYYY-MM-DD).", value=value[:20]))
        return None


@bp.route("/")
@allow(Role.ADMIN)
def log():
    """Search the audit log by action, person (who acted or whom it concerned) and period."""
    query = select(AuditEntry).options(selectinload(AuditEntry.actor))
    problems: list[str] = []
    action = request.args.get("action", "").strip()[:60]
    if action:
        query = query.where(AuditEntry.action.startswith(action, autoescape=True))
    person = search_text(request.args.get("person"))
    if person:
        matching = matching_people(person)
        query = query.where(or_(AuditEntry.actor_id.in_(matching),
                                (AuditEntry.target_type == "user") & AuditEntry.target_id.in_(matching)))
    start, end = _day("from", problems), _day("to", problems)
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    if start:
        query = query.where(AuditEntry.at >= datetime.combine(start, time(), zone))
    if end:
        query = query.where(AuditEntry.at < datetime.combine(end + timedelta(days=1), time(), zone))
    if problems:
        query = query.where(False)
    page = paginate(query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc()), per_page=50)
    return render_template("audit/log.html", page=page, action=action, person=person, problems=problems,
                           start=request.args.get("from", "")[:10], end=request.args.get("to", "")[:10])
