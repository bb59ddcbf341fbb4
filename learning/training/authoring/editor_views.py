"""The course editor's pages: my courses, a new course, the course hub with settings and lessons, the lesson
editor with its preview, the editors of a course, and duplicating a course managed as files.

Views are thin: they parse a form, call one service of ``drafts`` in a unit of work and show the page
again with the refusal on its field. A save someone else overtook (``EditConflict``) is answered with 409
and both versions on the page.
"""

from __future__ import annotations

from types import SimpleNamespace

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from learning.content import check
from learning.db import db, unit_of_work
from learning.errors import ServiceError, show_on_form
from learning.media.models import MediaItem, MediaKind
from learning.media.services import markdown_for, may_manage_media
from learning.org.picker import fill_picker, picker_answer
from learning.phases.models import RolloutPhase
from learning.security import allow
from learning.training import bp
from learning.training.authoring.access import AUTHORING_ROLES
from learning.training.authoring.documents import SETTINGS, EditConflict, lesson_part
from learning.training.authoring.drafts import (
    LESSON_MAX,
    LESSONS,
    Editing,
    LessonText,
    Settings,
    add_editors,
    add_lesson,
    author_ids,
    create_course,
    editable,
    editing,
    editors_of,
    lesson_text,
    parse_tags,
    remove_editor,
    save_lesson,
    save_settings,
)
from learning.training.authoring.drafts import (
    author_home as author_home_data,
)
from learning.training.authoring.drafts import (
    duplicate_course as duplicate,
)
from learning.training.authoring.drafts import (
    move_lesson as move,
)
from learning.training.authoring.drafts import (
    remove_lesson as remove,
)
from learning.training.authoring.forms import (
    ActionForm,
    EditorsForm,
    LessonForm,
    NewCourseForm,
    NewLessonForm,
    PreviewForm,
    SettingsForm,
)
from learning.training.lesson_html import lesson_html
from learning.training.rule_admin import describe_due

MEDIA_PICKER_LIMIT = 60  # the newest images of the library offered in the lesson editor


def _locale() -> str:
    from learning.training.views import _locale as locale

    return locale()


# My courses and a new one -------------------------------------------------------------------

def _home_page(form: NewCourseForm, status: int = 200):
    return render_template("training/editor/home.html", home=author_home_data(current_user), form=form,
                           action_form=ActionForm()), status


@bp.route("/author/", endpoint="author_home")
@allow(*AUTHORING_ROLES)
def author_home_page():
    return _home_page(NewCourseForm())


@bp.route("/author/_new", endpoint="new_course", methods=["POST"])
@allow(*AUTHORING_ROLES)
def new_course_action():
    form = NewCourseForm()
    if not form.validate_on_submit():
        return _home_page(form)
    try:
        with unit_of_work():
            draft = create_course(current_user, form.title.data, form.slug.data)
            slug = draft.slug
    except ServiceError as error:
        show_on_form(form, error, default="title")
        return _home_page(form)
    except IntegrityError:  # the same short name taken at the same moment
        show_on_form(form, ServiceError(_("A course with this short name exists already. Please choose another "
                                          "one."), "slug"))
        return _home_page(form)
    flash(_("The course “%(title)s” has been created as a draft. Learners see nothing of it until it is "
            "published.", title=form.title.data), "success")
    return redirect(url_for("training.edit_course", slug=slug))


# The course hub ----------------------------------------------------------------------------

def _settings_form(found: Editing) -> SettingsForm:
    spec = found.spec
    if request.method == "POST":
        form = SettingsForm()
    else:
        form = SettingsForm(data={
            "revision": found.revision(SETTINGS), "title": spec.title, "summary": spec.summary,
            "phase": spec.phase or "", "tags": ", ".join(spec.tags), "minutes": spec.minutes,
            "mandatory": spec.mandatory, "due": spec.due, "pass_mark": spec.pass_mark,
            "max_attempts": spec.max_attempts, "show_answers": spec.show_answers, "title_en": spec.title_en,
            "summary_en": spec.summary_en, "tags_en": ", ".join(spec.tags_en)})
        form.show_pause(spec.attempt_pause)
    form.set_phases(db.session.scalars(select(RolloutPhase).order_by(RolloutPhase.title)), _locale())
    return form


def _hub(found: Editing, form: SettingsForm, *, conflict: EditConflict | None = None, status: int = 200):
    lesson_form = NewLessonForm(formdata=None, data={"revision": found.revision(LESSONS)})
    return render_template(
        "training/editor/course.html", found=found, draft=found.draft, spec=found.spec, course=found.course,
        may_edit=found.may_edit, form=form, lesson_form=lesson_form, action_form=ActionForm(),
        lessons_revision=found.revision(LESSONS), conflict=conflict, describe_due=describe_due), status


def _settings_from(form: SettingsForm) -> Settings:
    return Settings(
        title=form.title.data or "", summary=form.summary.data or "", phase=form.phase.data or None,
        tags=parse_tags(form.tags.data), minutes=form.minutes.data, mandatory=bool(form.mandatory.data),
        due=form.due.data, pass_mark=form.pass_mark.data, max_attempts=form.max_attempts.data,
        attempt_pause=form.pause_minutes(), show_answers=form.show_answers.data, title_en=form.title_en.data or None,
        summary_en=form.summary_en.data or None, tags_en=parse_tags(form.tags_en.data, "tags_en"))


def _read_only_redirect(found: Editing):
    flash(_("This course is managed as files and cannot be changed here. Duplicate it to get an editable copy."),
          "warning")
    return redirect(url_for("training.edit_course", slug=found.slug))


@bp.route("/author/<slug>", endpoint="edit_course", methods=["GET", "POST"])
@allow(*AUTHORING_ROLES)
def edit_course_page(slug: str):
    found = editing(slug, current_user)
    if request.method == "POST" and found.read_only:
        return _read_only_redirect(found)
    form = _settings_form(found)
    if request.method == "POST" and form.validate_on_submit():
        try:
            with unit_of_work():
                current = editable(slug, current_user)
                save_settings(current.draft, form.revision.data, _settings_from(form), current_user)
        except EditConflict as conflict:
            found = editing(slug, current_user)
            form.revision.data = found.revision(SETTINGS)  # saving again now overwrites, knowingly
            return _hub(found, form, conflict=conflict, status=409)
        except ServiceError as error:
            show_on_form(form, error, default="title")
            found = editing(slug, current_user)
        else:
            flash(_("The settings have been saved. Learners see them once the course is published."), "success")
            return redirect(url_for("training.edit_course", slug=slug))
    return _hub(found, form)


@bp.route("/author/<slug>/duplicate", endpoint="duplicate_course", methods=["POST"])
@allow(*AUTHORING_ROLES)
def duplicate_course_action(slug: str):
    if not ActionForm().validate_on_submit():
        return redirect(url_for("training.edit_course", slug=slug))
    try:
        with unit_of_work():
            copied = duplicate(slug, current_user)
            new_slug, title, images, left = copied.draft.slug, copied.draft.title, copied.images_copied, \
                copied.images_left
    except ServiceError as error:
        if error.status != 400:
            raise
        flash(str(error), "danger")
        return redirect(url_for("training.edit_course", slug=slug))
    flash(_("“%(title)s” has been created as an editable copy.", title=title) + " " +
          ngettext("%(num)d image has been copied into the media library.",
                   "%(num)d images have been copied into the media library.", images), "success")
    if left:
        flash(_("These images could not be copied into the media library (only PNG, JPEG and WebP are accepted) "
                "and are not shown in the copy: %(names)s. Please insert a replacement from the media library.",
                names=", ".join(left)), "warning")
    return redirect(url_for("training.edit_course", slug=new_slug))


# The list of lessons -----------------------------------------------------------------------

def _list_change(slug: str, change) -> Response:
    """Run one change of the list of lessons; a refusal becomes a message above the list."""
    found = editing(slug, current_user)
    if found.read_only:
        return _read_only_redirect(found)
    if not ActionForm().validate_on_submit():
        return redirect(url_for("training.edit_course", slug=slug, _anchor="lessons"))
    revision = request.form.get("revision", "")
    base = int(revision) if revision.isascii() and revision.isdigit() and len(revision) < 10 else -1
    try:
        with unit_of_work():
            message = change(editable(slug, current_user).draft, base)
    except EditConflict:
        flash(_("Someone else changed the list of lessons meanwhile. Nothing has been changed: here is the list as "
                "it is now."), "warning")
    except ServiceError as error:
        if error.status != 400:
            raise
        flash(str(error), "danger")
    else:
        flash(message, "success")
    return redirect(url_for("training.edit_course", slug=slug, _anchor="lessons"))


@bp.route("/author/<slug>/add-lesson", endpoint="new_lesson", methods=["POST"])
@allow(*AUTHORING_ROLES)
def new_lesson_action(slug: str):
    title = (request.form.get("lesson_title") or "").strip()
    added: list[str] = []

    def change(draft, base):
        lesson = add_lesson(draft, base, title, current_user)
        added.append(lesson.slug)
        return _("The lesson “%(title)s” has been added.", title=lesson.title)

    response = _list_change(slug, change)
    if added:
        return redirect(url_for("training.edit_lesson", slug=slug, lesson=added[0]))
    return response


@bp.route("/author/<slug>/move-lesson", endpoint="move_lesson", methods=["POST"])
@allow(*AUTHORING_ROLES)
def move_lesson_action(slug: str):
    lesson, direction = request.form.get("lesson", ""), request.form.get("direction", "")

    def change(draft, base):
        move(draft, base, lesson, direction, current_user)
        return _("The lesson has been moved.")

    return _list_change(slug, change)


@bp.route("/author/<slug>/remove-lesson", endpoint="remove_lesson", methods=["POST"])
@allow(*AUTHORING_ROLES)
def remove_lesson_action(slug: str):
    lesson = request.form.get("lesson", "")

    def change(draft, base):
        removed = remove(draft, base, lesson, current_user)
        return _("The lesson “%(title)s” has been removed from the draft. When the course is published, learners "
                 "keep their progress; the lesson is archived.", title=removed.title)

    return _list_change(slug, change)


# The lesson editor --------------------------------------------------------------------------

def preview_html(slug: str, language: str, text: str | None, *, english: bool = False) -> str:
    """A lesson text rendered exactly as learners get it (the same renderer, sanitiser and image rules)."""
    problem = check(text, LESSON_MAX)
    if problem:  # the renderer's cost is bounded by the limits a save enforces: say so instead of rendering
        return str(Markup('<p class="kern-error">%s</p>') % problem)
    row = {"course": SimpleNamespace(slug=slug, language=language)}
    return lesson_html(row, text or "", english=english)


def _library_images() -> list[dict]:
    """The newest images and videos of the media library, with the Markdown that inserts each (one statement).
    Images without alternative text and videos without a title are left out: they cannot be inserted."""
    items = db.session.scalars(select(MediaItem).where(MediaItem.kind.in_((MediaKind.IMAGE, MediaKind.VIDEO)))
                               .order_by(MediaItem.created_at.desc(), MediaItem.id.desc()).limit(MEDIA_PICKER_LIMIT))
    return [{"item": item, "markdown": markdown_for(item)} for item in items if item.alt_text]


def _lesson_page(found: Editing, lesson, form: LessonForm, *, previews=None, conflict=None, status: int = 200):
    return render_template(
        "training/editor/lesson.html", found=found, spec=found.spec, lesson=lesson, form=form,
        may_edit=found.may_edit, previews=previews, conflict=conflict, images=_library_images(),
        manages_media=may_manage_media(current_user)), status


@bp.route("/author/<slug>/lessons/<lesson>", endpoint="edit_lesson", methods=["GET", "POST"])
@allow(*AUTHORING_ROLES)
def edit_lesson_page(slug: str, lesson: str):
    found = editing(slug, current_user)
    current = found.lesson(lesson)
    if request.method == "POST" and found.read_only:
        return _read_only_redirect(found)
    if request.method != "POST":
        text = lesson_text(current)
        form = LessonForm(data={"revision": found.revision(lesson_part(lesson)), "title": text.title,
                                "body": text.body, "title_en": text.title_en, "body_en": text.body_en})
        return _lesson_page(found, current, form)
    form = LessonForm()
    if "preview" in request.form:  # the preview button: render, save nothing
        form.validate_on_submit()
        previews = {"de": preview_html(slug, found.spec.language or "de", form.body.data),
                    "en": preview_html(slug, "en", form.body_en.data, english=True)}
        return _lesson_page(found, current, form, previews=previews)
    if form.validate_on_submit():
        text = LessonText(form.title.data or "", form.body.data or "", form.title_en.data, form.body_en.data)
        try:
            with unit_of_work():
                save_lesson(editable(slug, current_user).draft, lesson, form.revision.data, text, current_user)
        except EditConflict as conflict:
            found = editing(slug, current_user)
            form.revision.data = found.revision(lesson_part(lesson))  # saving again now overwrites, knowingly
            return _lesson_page(found, current, form, conflict=conflict, status=409)
        except ServiceError as error:
            if error.status != 400:
                raise
            show_on_form(form, error, default="body")
            found = editing(slug, current_user)
        else:
            flash(_("The lesson has been saved. Learners see it once the course is published."), "success")
            return redirect(url_for("training.edit_lesson", slug=slug, lesson=lesson))
    return _lesson_page(found, current, form)


@bp.route("/author/_preview", endpoint="preview_markdown", methods=["POST"])
@allow(*AUTHORING_ROLES)
def preview_markdown_action():
    """The live preview of the editor's script: the text as learners will see it, as sanitised HTML."""
    form = PreviewForm()
    if not form.validate_on_submit():
        return Response(_("The preview could not be made. Please use the “Preview” button."), status=400,
                        mimetype="text/plain")
    language = form.language.data if form.language.data in ("de", "en") else "de"
    slug = request.form.get("slug", "")[:80] or "vorschau"
    html = preview_html(slug, language, form.text.data, english=language == "en")
    response = Response(html, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    return response


# Editors -----------------------------------------------------------------------------------

@bp.route("/author/<slug>/editors", endpoint="course_editors", methods=["GET", "POST"])
@allow(*AUTHORING_ROLES)
def course_editors_page(slug: str):
    found = editing(slug, current_user)
    if request.method == "POST" and found.read_only:
        return _read_only_redirect(found)
    form = EditorsForm()
    if found.may_edit:
        fill_picker(form.editor_ids, within=author_ids())
    if request.method == "POST" and "remove" in request.form:
        if ActionForm().validate_on_submit():
            remove_id = request.form.get("remove", "")
            try:
                with unit_of_work():
                    person = remove_editor(editable(slug, current_user).draft,
                                           int(remove_id) if remove_id.isascii() and remove_id.isdigit()
                                           and len(remove_id) < 19 else 0, current_user)
                    name = person.full_name
            except ServiceError as error:
                if error.status != 400:
                    raise
                flash(str(error), "danger")
            else:
                flash(_("%(name)s is no longer an editor of this course.", name=name), "success")
        return redirect(url_for("training.course_editors", slug=slug))
    if request.method == "POST" and not form.editor_ids.searching and form.validate_on_submit():
        try:
            with unit_of_work():
                added = [p.full_name for p in add_editors(editable(slug, current_user).draft,
                                                          form.editor_ids.data or [], current_user)]
        except ServiceError as error:
            if error.status != 400:
                raise
            show_on_form(form, error, default="editor_ids")
            found = editing(slug, current_user)
        else:
            if added:
                flash(_("Added as editors: %(names)s.", names=", ".join(added)), "success")
            else:
                flash(_("These people are editors of this course already."), "info")
            return redirect(url_for("training.course_editors", slug=slug))
    editors = editors_of(found.draft) if found.draft is not None else []
    return render_template("training/editor/editors.html", found=found, spec=found.spec, form=form,
                           editors=editors, action_form=ActionForm(), may_edit=found.may_edit)


@bp.route("/author/<slug>/editors/search", endpoint="editor_search")
@allow(*AUTHORING_ROLES)
def editor_search(slug: str):
    """The person picker's search for editors: active authors and project-group members, by name and unit."""
    editing(slug, current_user)
    return picker_answer(request.args.get("q"), within=author_ids())
