"""Project-group pages for courses as files: the list, export as a zip, upload a zip, archive and restore."""

from __future__ import annotations

from flask import Response, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from learning.db import unit_of_work
from learning.errors import ServiceError, show_on_form
from learning.roles import Role
from learning.security import allow
from learning.training import bp
from learning.training.exchange import (
    CourseImportError,
    ImportResult,
    ZipLimits,
    course_for_exchange,
    export_course,
    import_course,
    managed_courses,
    set_course_archived,
)
from learning.training.forms import ActionForm, CourseUploadForm

PROJECT = (Role.PROJECT_GROUP, Role.ADMIN)
MAX_LISTED = 50  # problems and warnings listed on the page; the rest are counted


@bp.url_value_preprocessor
def _course_zip_limit(endpoint: str | None, values: dict | None) -> None:
    """A course zip may be larger than other uploads: set before the CSRF check reads the form."""
    if endpoint == "training.upload_course":
        request.max_content_length = max(ZipLimits.from_config(current_app.config).max_bytes,
                                         current_app.config.get("MAX_CONTENT_LENGTH") or 0)


def _page(form: CourseUploadForm, problems=(), warnings=()):
    limits = ZipLimits.from_config(current_app.config)
    return render_template("training/manage_courses.html", courses=managed_courses(), form=form,
                           action_form=ActionForm(), problems=list(problems)[:MAX_LISTED],
                           more_problems=max(len(problems) - MAX_LISTED, 0), warnings=list(warnings)[:MAX_LISTED],
                           more_warnings=max(len(warnings) - MAX_LISTED, 0), limits=limits)


@bp.route("/manage/courses")
@allow(*PROJECT)
def manage_courses():
    return _page(CourseUploadForm())


def _flash_result(result: ImportResult) -> None:
    if result.created:
        flash(ngettext("“%(title)s” has been published as a new course with %(num)d lesson.",
                       "“%(title)s” has been published as a new course with %(num)d lessons.",
                       len(result.lessons_added), title=result.title), "success")
    elif result.unchanged:
        flash(_("“%(title)s” is unchanged: the zip holds the course as it is published.", title=result.title), "info")
    else:
        changes = [
            ngettext("%(num)d lesson added", "%(num)d lessons added", len(result.lessons_added)),
            ngettext("%(num)d lesson changed", "%(num)d lessons changed", len(result.lessons_changed)),
            ngettext("%(num)d lesson archived", "%(num)d lessons archived", len(result.lessons_archived)),
        ]
        if result.quiz_changed:
            changes.append(_("quiz changed"))
        if result.settings_changed:
            changes.append(_("course settings changed"))
        media = len(result.media_added) + len(result.media_changed) + len(result.media_removed)
        if media:
            changes.append(ngettext("%(num)d media file added, changed or removed",
                                    "%(num)d media files added, changed or removed", media))
        if result.restored:
            changes.append(_("restored from the archive"))
        flash(_("“%(title)s” has been updated: %(changes)s. Learners keep their progress on unchanged lessons.",
                title=result.title, changes=", ".join(changes)), "success")
    for warning in result.warnings[:MAX_LISTED]:
        flash(_("Warning: %(warning)s", warning=warning), "warning")


@bp.route("/manage/courses/upload", methods=["POST"])
@allow(*PROJECT)
def upload_course():
    form = CourseUploadForm()
    if not form.validate_on_submit():
        return _page(form)
    try:
        with unit_of_work():
            result = import_course(form.file.data.stream, current_user)
    except CourseImportError as error:
        show_on_form(form, error, default="file")
        return _page(form, error.problems, error.warnings)
    except ServiceError as error:
        show_on_form(form, error, default="file")
        return _page(form)
    _flash_result(result)
    return redirect(url_for("training.manage_courses"))


@bp.route("/manage/courses/<slug>/export")
@allow(*PROJECT)
def export_course_zip(slug: str):
    """The course as a zip in the courses/ folder format (a download; it changes nothing)."""
    course = course_for_exchange(slug)
    data = export_course(course)
    return Response(data, mimetype="application/zip", headers={
        "Content-Disposition": f'attachment; filename="{course.slug}.zip"', "Cache-Control": "no-store"})


@bp.route("/manage/courses/<slug>/archive", methods=["POST"])
@allow(*PROJECT)
def archive_course(slug: str):
    """Archive (``archived=1``) or restore (``archived=0``) an uploaded course; learners' records stay."""
    if ActionForm().validate_on_submit():
        archive = request.form.get("archived") == "1"
        try:
            with unit_of_work():
                course = course_for_exchange(slug)
                changed = set_course_archived(course, archive, current_user)
        except ServiceError as error:
            flash(str(error), "danger")
        else:
            if changed:
                flash(_("“%(title)s” has been archived. Learners keep their progress and certificates; it is no "
                        "longer offered.", title=course.title) if archive else
                      _("“%(title)s” has been restored and is offered again.", title=course.title), "success")
    return redirect(url_for("training.manage_courses"))
