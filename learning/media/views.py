"""Serving media to their audience, and the media library of the project group and admins."""

from __future__ import annotations

from flask import Response, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.exceptions import RequestedRangeNotSatisfiable

from learning.content import MEDIA_PATH
from learning.db import unit_of_work
from learning.errors import NotFound, ServiceError, render_error, show_on_form
from learning.forms import ActionForm
from learning.guards import page_arg
from learning.media import bp
from learning.media.forms import EDITORIAL, DescribeForm, UploadForm
from learning.media.models import KIND_LABELS, MediaKind
from learning.media.services import (
    LIBRARY_ROLES,
    Description,
    ServedFile,
    Upload,
    course_choices,
    delete_media,
    describe_media,
    human_size,
    library_page,
    markdown_for,
    may_manage_media,
    media_for,
    player_for,
    served_file,
    served_thumbnail,
    upload_media,
    url_of,
)
from learning.security import AUTHENTICATED, allow

# Media never change under their name (the name is the hash of the bytes): browsers keep them for a
# year without asking again. Private, because who may see them is checked on every request.
CACHE_CONTROL = "private, max-age=31536000, immutable"
UPLOAD_ENDPOINTS = frozenset({"media.library", "media.item"})
# Form fields and the captions file around the largest upload.
UPLOAD_OVERHEAD = 2 * 1024 * 1024


@bp.url_value_preprocessor
def _allow_large_uploads(endpoint, _values) -> None:
    """Raise the request size limit for an upload by someone who may upload, before any hook reads the form.

    Runs before every ``before_request`` hook (the input guard reads the form); everyone else keeps
    the platform's ``MAX_CONTENT_LENGTH``.
    """
    if endpoint in UPLOAD_ENDPOINTS and request.method == "POST" and may_manage_media(current_user):
        config = current_app.config
        request.max_content_length = UPLOAD_OVERHEAD + max(
            config["MEDIA_MAX_IMAGE_BYTES"], config["MEDIA_MAX_PDF_BYTES"], config["MEDIA_MAX_VIDEO_BYTES"])


@bp.errorhandler(413)
def _upload_too_large(_error):
    config = current_app.config
    return render_error(413, _(
        "The file is too large. Images may have at most %(image)d MB, PDF documents %(pdf)d MB and videos "
        "%(video)d MB.", image=config["MEDIA_MAX_IMAGE_BYTES"] // 2**20, pdf=config["MEDIA_MAX_PDF_BYTES"] // 2**20,
        video=config["MEDIA_MAX_VIDEO_BYTES"] // 2**20))


def _send(served: ServedFile):
    """The file, or the part of it a range asks for (206; 416 with the file's length for a range beyond it)."""
    try:
        response = send_file(served.path, mimetype=served.mime_type, as_attachment=served.as_attachment,
                             download_name=served.download_name, conditional=True, etag=served.etag,
                             max_age=31536000)
    except RequestedRangeNotSatisfiable as error:
        return Response(status=416, headers={"Content-Range": f"bytes */{error.length}"})
    response.headers["Cache-Control"] = CACHE_CONTROL
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


# Serving ------------------------------------------------------------------------------------

@bp.route(f"{MEDIA_PATH}<media_name>", endpoint="file")
@allow(AUTHENTICATED)
def serve(media_name: str):
    """A stored file by its content hash, with range requests so that videos play and seek."""
    try:
        served = served_file(current_user, media_name)
    except NotFound:
        abort(404)
    return _send(served)


@bp.route(f"{MEDIA_PATH}thumbnails/<thumbnail_name>", endpoint="thumbnail")
@allow(AUTHENTICATED)
def thumbnail(thumbnail_name: str):
    try:
        served = served_thumbnail(current_user, thumbnail_name)
    except NotFound:
        abort(404)
    return _send(served)


# The library --------------------------------------------------------------------------------

@bp.context_processor
def _helpers() -> dict:
    return {"KIND_LABELS": KIND_LABELS, "human_size": human_size, "media_url": url_of}


def _filters() -> tuple[str, str]:
    q = request.args.get("q", "").strip()[:100]
    kind = request.args.get("kind", "")
    return q, kind if kind in set(MediaKind) else ""


def _upload_from(form: UploadForm) -> Upload:
    upload = form.file.data
    captions = form.captions.data
    return Upload(stream=upload.stream, filename=upload.filename or "", alt_text=form.alt_text.data or "",
                  course_id=form.course_id.data or None,
                  captions=captions.stream if captions and captions.filename else None,
                  captions_language=form.captions_language.data, transcript=form.transcript.data or "")


@bp.route("/admin/media/", endpoint="library", methods=["GET", "POST"])
@allow(*LIBRARY_ROLES)
def library():
    """The list of media with an upload form; sending the form uploads a file."""
    if not may_manage_media(current_user):
        abort(403)
    form = UploadForm()
    form.set_courses(course_choices())
    if form.validate_on_submit():
        try:
            with unit_of_work():
                uploaded = upload_media(current_user, _upload_from(form))
                item_id = uploaded.item.id
        except ServiceError as error:
            show_on_form(form, error, default="file")
        else:
            if uploaded.created:
                flash(_("“%(name)s” has been added to the library.", name=uploaded.item.name), "success")
            else:
                flash(_("This file is already in the library for the same audience; nothing has been added."),
                      "info")
            return redirect(url_for("media.item", media_id=item_id))
    q, kind = _filters()
    page = library_page(current_user, q=q, kind=kind, page=page_arg())
    return render_template("media/library.html", form=form, page=page, q=q, kind=kind,
                           kinds=list(MediaKind))


@bp.route("/admin/media/<int:media_id>", endpoint="item", methods=["GET", "POST"])
@allow(*LIBRARY_ROLES)
def item_view(media_id: int):
    """One item: preview, the Markdown to insert it, its description and where it is used."""
    if not may_manage_media(current_user):
        abort(403)
    try:
        item = media_for(current_user, media_id)
    except NotFound:
        abort(404)
    form = DescribeForm(obj=item)
    if request.method != "POST":
        form.course_id.data = item.course_id or EDITORIAL
        form.captions_language.data = item.captions_language or "de"
    form.set_courses(course_choices())
    if form.validate_on_submit():
        captions = form.captions.data
        change = Description(name=form.name.data or "", alt_text=form.alt_text.data or "",
                             course_id=form.course_id.data or None,
                             captions=captions.stream if captions and captions.filename else None,
                             captions_language=form.captions_language.data,
                             remove_captions=form.remove_captions.data, transcript=form.transcript.data or "")
        try:
            with unit_of_work():
                describe_media(current_user, item, change)
        except ServiceError as error:
            show_on_form(form, error, default="alt_text")
            item = media_for(current_user, media_id)  # as stored, after the rollback
        else:
            flash(_("The changes have been saved."), "success")
            return redirect(url_for("media.item", media_id=media_id))
    snippet = None
    if item.kind != MediaKind.VIDEO and item.alt_text:
        snippet = markdown_for(item)
    return render_template("media/item.html", item=item, form=form, snippet=snippet,
                           player=player_for(item) if item.is_video else None, delete_form=ActionForm())


@bp.route("/admin/media/<int:media_id>/delete", endpoint="delete", methods=["POST"])
@allow(*LIBRARY_ROLES)
def delete(media_id: int):
    if not may_manage_media(current_user):
        abort(403)
    if not ActionForm().validate_on_submit():  # the token, checked by CSRFProtect already
        abort(400)
    try:
        with unit_of_work():
            item = media_for(current_user, media_id)
            name = item.name
            delete_media(current_user, item)
    except NotFound:
        abort(404)
    except ServiceError as error:
        flash(str(error), "danger")
        return redirect(url_for("media.item", media_id=media_id))
    flash(_("“%(name)s” has been deleted.", name=name), "success")
    return redirect(url_for("media.library"))
