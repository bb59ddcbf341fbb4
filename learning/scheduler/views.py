"""The scheduler's admin page: who leads, the jobs with their last run, and every run."""

from __future__ import annotations

from flask import render_template, request
from flask_babel import lazy_gettext as _l

from learning.guards import page_arg
from learning.roles import Role
from learning.scheduler import bp
from learning.scheduler.registry import scheduled_jobs
from learning.scheduler.services import current_leader, job_overview, runs_page
from learning.security import allow

RESULTS = ("running", "ok", "error")
RESULT_LABELS = {"running": _l("Running"), "ok": _l("Completed"), "error": _l("Failed")}


@bp.context_processor
def run_labels() -> dict:
    return {"run_label": lambda result: str(RESULT_LABELS.get(result, result))}


@bp.route("/", endpoint="runs")
@allow(Role.ADMIN)
def runs():
    job_ids = [job.id for job in scheduled_jobs()]
    job_id = request.args.get("job", "")
    job_id = job_id if job_id in job_ids else ""
    result = request.args.get("result", "")
    result = result if result in RESULTS else ""
    page = runs_page(job_id=job_id, result=result, page=page_arg())
    return render_template("scheduler/runs.html", leader=current_leader(), jobs=job_overview(), page=page,
                           job_id=job_id, result=result, job_ids=job_ids, results=RESULTS)
