"""The quiz editor's pages: the draft's questions and pool, one question's form, and the list's buttons.

Everything works without JavaScript: adding a question opens an empty question form (a GET link, nothing is
stored before it is saved), moving and removing are POST buttons carrying the quiz revision the page showed.
A save that finds the quiz saved by someone else meanwhile answers 409 with both versions.
"""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from learning.db import unit_of_work
from learning.errors import ServiceError, show_on_form
from learning.security import allow
from learning.training import bp
from learning.training.authoring.access import AUTHORING_ROLES, draft_to_edit
from learning.training.authoring.documents import EditConflict, draft_spec
from learning.training.authoring.quiz_editor import (
    MAX_QUESTIONS,
    blank_question,
    draw_message,
    is_read_only,
    move_question,
    question_problems,
    quiz_revision,
    remove_question,
    save_question,
    set_draw,
)
from learning.training.authoring.quiz_forms import PoolForm, QuestionForm, QuizActionForm, statement_required
from learning.training.models import QuestionKind

KIND_LABELS = {
    QuestionKind.SINGLE: lambda: _("Single choice"),
    QuestionKind.MULTIPLE: lambda: _("Multiple choice"),
    QuestionKind.TRUE_FALSE: lambda: _("True or false"),
}


def kind_label(kind: str) -> str:
    return KIND_LABELS[kind]() if kind in KIND_LABELS else kind


def hub_url(slug: str) -> str | None:
    """The course's editor hub, where the course editor is installed."""
    if "training.edit_course" in current_app.view_functions:
        return url_for("training.edit_course", slug=slug)
    return None


def _base_revision(form) -> int:
    """The quiz revision the page was opened at; a form without one is refused like an expired form."""
    raw = (form.base_revision.data or "").strip()
    if not raw.isdigit() or len(raw) > 9:
        raise ServiceError(_("The form has expired. Please open the quiz again."))
    return int(raw)


def _conflict(draft, spec, error: EditConflict, number: int | None = None):
    """409: someone saved the quiz meanwhile; both versions on the page, nothing saved."""
    return render_template("training/quiz_editor/conflict.html", draft=draft, spec=spec, error=error, number=number,
                           kind_label=kind_label, hub_url=hub_url(draft.slug)), 409


def _list_page(draft, spec, pool_form=None, status=200):
    read_only = is_read_only(draft)
    revision = quiz_revision(draft)
    if pool_form is None:
        pool_form = PoolForm(formdata=None, data={"draw": spec.quiz_draw, "base_revision": str(revision)})
    return render_template(
        "training/quiz_editor/quiz.html", draft=draft, spec=spec, read_only=read_only, revision=revision,
        pool_form=pool_form, action_form=QuizActionForm(formdata=None, data={"base_revision": str(revision)}),
        kind_label=kind_label, draw_warning=draw_message(spec.quiz_draw, len(spec.questions), spec.pass_mark),
        may_add=len(spec.questions) < MAX_QUESTIONS, hub_url=hub_url(draft.slug)), status


@bp.route("/author/<slug>/quiz", methods=["GET", "POST"])
@allow(*AUTHORING_ROLES)
def edit_quiz(slug: str):
    """GET: the draft's questions and pool. POST: the pool setting ("N of M questions per attempt")."""
    draft = draft_to_edit(slug, current_user)
    if request.method == "GET":
        return _list_page(draft, draft_spec(draft))
    form = PoolForm()
    if form.validate_on_submit():
        try:
            with unit_of_work():
                set_draw(draft, form.draw.data, _base_revision(form), current_user)
        except EditConflict as error:
            fresh = draft_to_edit(slug, current_user)
            return _conflict(fresh, draft_spec(fresh), error)
        except ServiceError as error:
            if error.field is None:
                flash(str(error), "danger")
                return redirect(url_for("training.edit_quiz", slug=slug))
            show_on_form(form, error)
        else:
            flash(_("The pool has been saved."), "success")
            return redirect(url_for("training.edit_quiz", slug=slug))
    draft = draft_to_edit(slug, current_user)
    return _list_page(draft, draft_spec(draft), pool_form=form)


def _kind_for(spec, number: int) -> str:
    if number <= len(spec.questions):
        return spec.questions[number - 1].kind
    kind = request.args.get("kind", QuestionKind.SINGLE)
    if kind not in {k.value for k in QuestionKind}:
        abort(404)
    return kind


@bp.route("/author/<slug>/quiz/<int:number>", methods=["GET", "POST"])
@allow(*AUTHORING_ROLES)
def edit_question(slug: str, number: int):
    """One question's form; ``number`` one past the last question is a new one (``?kind=``)."""
    draft = draft_to_edit(slug, current_user)
    spec = draft_spec(draft)
    if not 1 <= number <= len(spec.questions) + 1 or (number > len(spec.questions) and len(spec.questions)
                                                      >= MAX_QUESTIONS):
        abort(404)
    kind = _kind_for(spec, number)
    is_new = number > len(spec.questions)
    read_only = is_read_only(draft)
    if request.method == "GET":
        form = QuestionForm(formdata=None)
        form.fill(spec.questions[number - 1] if not is_new else blank_question(kind), quiz_revision(draft))
        return _question_page(draft, spec, form, number, kind, is_new, read_only)
    form = QuestionForm()
    if form.validate_on_submit():
        question = form.question(kind)
        problems = question_problems(question) + form.row_problems()
        if kind == QuestionKind.TRUE_FALSE:
            problems += statement_required(form)
        if not problems:
            try:
                with unit_of_work():
                    save_question(draft, number, _base_revision(form), question, current_user)
            except EditConflict as error:
                fresh = draft_to_edit(slug, current_user)
                return _conflict(fresh, draft_spec(fresh), error, number)
            except ServiceError as error:
                problems = [(error.field, str(error))]
            else:
                flash(_("Question %(number)d has been saved.", number=number), "success")
                return redirect(url_for("training.edit_quiz", slug=slug) + f"#question-{number}")
        for field, message in problems:
            _show(form, field, message)
    draft = draft_to_edit(slug, current_user)
    return _question_page(draft, draft_spec(draft), form, number, kind, is_new, read_only)


def _show(form: QuestionForm, field: str | None, message: str) -> None:
    """A problem on its field; an answer row's field by its id (``answers-0-text``)."""
    if field == "answers":
        form.answer_errors.append(message)
        return
    if field and field.startswith("answers-"):
        for row in form.answers:
            if row.form.text.id == field:
                row.form.text.errors = [*row.form.text.errors, message]
                return
    show_on_form(form, ServiceError(message, field=field))


def _question_page(draft, spec, form, number: int, kind: str, is_new: bool, read_only: bool, status: int = 200):
    return render_template(
        "training/quiz_editor/question.html", draft=draft, spec=spec, form=form, number=number, kind=kind,
        is_new=is_new, read_only=read_only, kind_label=kind_label, hub_url=hub_url(draft.slug),
        action=url_for("training.edit_question", slug=draft.slug, number=number,
                       **({"kind": kind} if is_new else {}))), status


@bp.route("/author/<slug>/quiz/<int:number>/move", methods=["POST"])
@allow(*AUTHORING_ROLES)
def move_quiz_question(slug: str, number: int):
    return _list_action(slug, number, lambda draft, base: move_question(
        draft, number, -1 if request.form.get("direction") == "up" else 1, base, current_user),
        _("The order has been saved."))


@bp.route("/author/<slug>/quiz/<int:number>/remove", methods=["POST"])
@allow(*AUTHORING_ROLES)
def remove_quiz_question(slug: str, number: int):
    return _list_action(slug, number, lambda draft, base: remove_question(draft, number, base, current_user),
                        _("Question %(number)d has been removed.", number=number))


def _list_action(slug: str, number: int, action, done: str):
    draft = draft_to_edit(slug, current_user)
    form = QuizActionForm()
    if not form.validate_on_submit():
        flash(_("The form has expired. Please send it again."), "danger")
        return redirect(url_for("training.edit_quiz", slug=slug))
    try:
        with unit_of_work():
            action(draft, _base_revision(form))
    except EditConflict as error:
        fresh = draft_to_edit(slug, current_user)
        return _conflict(fresh, draft_spec(fresh), error)
    except ServiceError as error:
        flash(str(error), "danger")
    else:
        flash(done, "success")
    return redirect(url_for("training.edit_quiz", slug=slug))
