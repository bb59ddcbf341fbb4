"""Transparency pages: what is stored about me, report a barrier, the barrier reports for admins."""

from __future__ import annotations

import json

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from learning.db import db, unit_of_work
from learning.extensions import limiter
from learning.i18n import local_today
from learning.pagination import paginate
from learning.roles import Role
from learning.security import AUTHENTICATED, PUBLIC, allow
from learning.transparency import bp
from learning.transparency.forms import ActionForm, BarrierForm
from learning.transparency.models import BarrierReport
from learning.transparency.plain import readable_personal_data
from learning.transparency.services import personal_data_document, report_barrier, resolve_barrier


@bp.route("/my-data")
@allow(AUTHENTICATED)
def my_data():
    return render_template("transparency/my_data.html", purposes=readable_personal_data(current_user))


@bp.route("/my-data.json")
@allow(AUTHENTICATED)
def my_data_download():
    document = json.dumps(personal_data_document(current_user), ensure_ascii=False, indent=2, default=str)
    filename = f"my-data-{current_user.username}-{local_today().isoformat()}.json"
    return Response(document, mimetype="application/json",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@bp.route("/accessibility/report", methods=["GET", "POST"])
@allow(PUBLIC)
@limiter.limit("10 per hour", methods=["POST"], scope="barrier-report")
def report():
    form = BarrierForm(page=request.args.get("page", "")[:500])
    if form.validate_on_submit():
        # The name only when the person asks for it: the form promises that no sign-in is needed.
        reporter = current_user if current_user.is_authenticated and form.attach_name.data else None
        with unit_of_work():
            report_barrier(form.page.data or "", form.description.data, form.contact.data or "", reporter)
        flash(_("Thank you. Your report has reached the administration; we will look into it."), "success")
        return redirect(url_for("home.accessibility"))
    return render_template("transparency/report.html", form=form)


@bp.route("/admin/barriers")
@allow(Role.ADMIN)
def barrier_reports():
    page = paginate(
        select(BarrierReport).order_by(BarrierReport.resolved_at.is_not(None), BarrierReport.created_at.desc(),
                                       BarrierReport.id.desc())
        .options(selectinload(BarrierReport.reporter), selectinload(BarrierReport.resolved_by)),
        per_page=20,
    )
    return render_template("transparency/barrier_reports.html", page=page, form=ActionForm())


@bp.route("/admin/barriers/<int:report_id>/resolve", methods=["POST"])
@allow(Role.ADMIN)
def resolve(report_id: int):
    report = db.session.get(BarrierReport, report_id) or abort(404)
    if ActionForm().validate_on_submit():
        with unit_of_work():
            resolve_barrier(report, current_user)
        flash(_("The report is marked as resolved."), "success")
    return redirect(url_for("transparency.barrier_reports"))
