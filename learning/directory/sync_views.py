"""The directory sync page: a preview (GET, changes nothing) and applying the same plan (POST)."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from learning.db import unit_of_work
from learning.directory import bp
from learning.directory.sync import SyncFailed, SyncNotPossible, plan_directory_sync, run_directory_sync
from learning.forms import ActionForm
from learning.roles import Role
from learning.security import allow

# The page stays small whatever the directory: the figures, then the first problems and changes only.
MAX_PROBLEMS_SHOWN = 100
MAX_CHANGES_SHOWN = 200


class ApplySyncForm(ActionForm):
    """Apply the sync the preview showed (recomputed from the directory at that moment)."""


def _page(plan=None, failure: str | None = None):
    return render_template("directory/sync.html", plan=plan, failure=failure, form=ApplySyncForm(),
                           max_problems=MAX_PROBLEMS_SHOWN, max_changes=MAX_CHANGES_SHOWN)


@bp.route("/sync")
@allow(Role.ADMIN)
def sync_preview():
    try:
        plan = plan_directory_sync(current_user._get_current_object(), note_state=False)
    except SyncNotPossible as error:
        return _page(failure=str(error))
    return _page(plan)


@bp.route("/sync", methods=["POST"])
@allow(Role.ADMIN)
def sync_apply():
    if not ApplySyncForm().validate_on_submit():
        flash(_("Your form has expired. Please try again."), "warning")
        return redirect(url_for("directory.sync_preview"))
    try:
        with unit_of_work():  # a refused or stopped run writes its audit entry
            plan = run_directory_sync(current_user._get_current_object())
    except SyncNotPossible as error:
        return _page(failure=str(error))
    except SyncFailed:
        return _page(failure=_("The sync failed and nothing was changed. Please try again."))
    return _page(plan)
