"""The scheduler's admin page: who leads, the jobs with their last run, and every run."""

from __future__ import annotations

from flask import render_template, request
from flask_babel import lazy_gettext as _l

from learning.guards import page_arg
from learning.roles import Role
from learning.scheduler import bp
from learning.scheduler.registry import job_named, scheduled_jobs
from learning.scheduler.services import current_leader, job_overview, runs_page
from learning.security import allow

RESULTS = ("running", "ok", "error")
RESULT_LABELS = {"running": _l("Running"), "ok": _l("Completed"), "error": _l("Failed")}


def job_name(job_id: str) -> str:
    job = job_named(job_id)
    return job.name if job is not None else job_id


def run_in_words(run) -> str:
    """What a run did, in words ("128 mögliche Erinnerungen geprüft, 0 neu geplant")."""
    job = job_named(run.job_id)
    if run.result != "ok" or job is None:
        return ""
    return job.in_words(run.counts)


@bp.context_processor
def run_labels() -> dict:
    return {"run_label": lambda result: str(RESULT_LABELS.get(result, result)), "job_name": job_name,
            "run_in_words": run_in_words}


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
