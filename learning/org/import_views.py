"""Upload form for the CSV import (same validation as ``flask users import``)."""

from flask import render_template
from flask_babel import gettext as _
from flask_login import current_user

from learning.db import unit_of_work
from learning.org import bp
from learning.org.forms import ImportForm
from learning.org.importer import ImportFailed, apply_import, plan_import
from learning.roles import Role
from learning.security import allow

# The page stays small whatever the file: the summary, then the first problems or changes only.
MAX_PROBLEMS_SHOWN = 100
MAX_CHANGES_SHOWN = 100


@bp.route("/people/import", methods=["GET", "POST"])
@allow(Role.ADMIN)
def import_people():
    form = ImportForm()
    plan, failure = None, None
    if form.validate_on_submit():
        upload = form.file.data
        actor = current_user._get_current_object()
        plan = plan_import(upload.stream, filename=upload.filename or "import.csv", actor=actor,
                           deactivate_missing=form.deactivate_missing.data)
        if plan.ok and not form.dry_run.data:
            try:
                with unit_of_work():
                    apply_import(plan, actor)
            except ImportFailed:
                failure = _("The import failed and nothing was changed. Please try again.")
    return render_template("org/import.html", form=form, plan=plan, failure=failure,
                           max_problems=MAX_PROBLEMS_SHOWN, max_changes=MAX_CHANGES_SHOWN)
