"""Admin pages of the mail: the outbox (queued, sent, failed, dropped; retry) and the captured mail."""

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from learning.audit.services import record_view
from learning.db import unit_of_work
from learning.forms import ActionForm
from learning.guards import page_arg
from learning.mail import CapturedMail
from learning.messaging import bp
from learning.messaging.models import Outbox, OutboxStatus
from learning.messaging.outbox import UNCONFIRMED, retry, retry_all_failed, retryable, status_counts
from learning.messaging.reminders import kind_named, registered_kinds
from learning.org.search import matching_people, search_text
from learning.pagination import paginate
from learning.roles import Role
from learning.security import allow

PER_PAGE = 25

STATUS_LABELS = {
    OutboxStatus.QUEUED: _l("Queued"),
    OutboxStatus.SENDING: _l("Being sent"),
    OutboxStatus.SENT: _l("Sent"),
    OutboxStatus.FAILED: _l("Failed"),
    OutboxStatus.DROPPED: _l("Not sent"),
}
STATUS_BADGES = {
    OutboxStatus.QUEUED: "info", OutboxStatus.SENDING: "info", OutboxStatus.SENT: "success",
    OutboxStatus.FAILED: "danger", OutboxStatus.DROPPED: "warning",
}
OUTCOME_LABELS = {
    "done": _l("work already done"),
    "switched off": _l("switched off by the person"),
    "person inactive": _l("person deactivated"),
    "replaced by a newer reminder": _l("replaced by a newer reminder"),
    "unknown kind": _l("kind no longer known"),
    "refused by the mail server": _l("refused by the mail server"),
    UNCONFIRMED: _l("handed to the mail server, which never confirmed it: it may not have arrived"),
}


@bp.app_template_global("reminder_kind_label")
def reminder_kind_label(name: str) -> str:
    kind = kind_named(name)
    return str(kind.label) if kind else name


@bp.route("/")
@allow(Role.ADMIN)
def captured_mail():
    number = page_arg()
    # Recorded before loading: the commit would otherwise expire the rows shown.
    record_view(current_user, "messaging.captured_mail", None, f"Captured mail, page {number}", page=number)
    page = paginate(select(CapturedMail).order_by(CapturedMail.created_at.desc(), CapturedMail.id.desc()),
                    page=number, per_page=20)
    return render_template("messaging/captured_mail.html", page=page,
                           capturing=not current_app.config["SMTP_URL"])


@bp.route("/outbox")
@allow(Role.ADMIN)
def outbox():
    status = request.args.get("status", "")
    if status not in {s.value for s in OutboxStatus}:
        status = ""
    kinds = registered_kinds()
    kind = request.args.get("kind", "")
    kind = kind if kind in {k.name for k in kinds} else ""
    person = search_text(request.args.get("person"))
    number = page_arg()
    # Recorded before loading: the commit would otherwise expire the rows shown.
    record_view(current_user, "messaging.outbox", None, f"Outbox ({status or 'all'}), page {number}",
                status=status or "all", kind=kind, person=person, page=number)
    query = select(Outbox).options(joinedload(Outbox.user))
    if status:
        query = query.where(Outbox.status == status)
    if kind:
        query = query.where(Outbox.kind == kind)
    if person:
        query = query.where(Outbox.user_id.in_(matching_people(person)))
    order = Outbox.sent_at.desc() if status == OutboxStatus.SENT else Outbox.next_attempt_at.desc()
    page = paginate(query.order_by(order, Outbox.id.desc()), page=number, per_page=PER_PAGE)
    return render_template("messaging/outbox.html", page=page, status=status, counts=status_counts(), kinds=kinds,
                           kind=kind, person=person,
                           statuses=list(OutboxStatus), STATUS_LABELS=STATUS_LABELS, STATUS_BADGES=STATUS_BADGES,
                           OUTCOME_LABELS=OUTCOME_LABELS, retryable=retryable, form=ActionForm(),
                           capturing=not current_app.config["SMTP_URL"])


@bp.route("/outbox/<int:outbox_id>/retry", methods=["POST"])
@allow(Role.ADMIN)
def retry_message(outbox_id: int):
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    with unit_of_work():
        retry(outbox_id, current_user)  # NotFound: the row is gone or cannot be retried
    flash(_("The message is queued again and goes out with the next sending run."), "success")
    return redirect(url_for("messaging.outbox", status=request.form.get("status") or None))


@bp.route("/outbox/retry-failed", methods=["POST"])
@allow(Role.ADMIN)
def retry_failed():
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    with unit_of_work():
        count = retry_all_failed(current_user)
    if count:
        flash(ngettext("%(num)d failed message is queued again.", "%(num)d failed messages are queued again.",
                       count), "success")
    else:
        flash(_("There are no failed messages."), "info")
    return redirect(url_for("messaging.outbox", status=OutboxStatus.QUEUED.value))
