"""Learner pages: my learning, catalogue, course, lesson, quiz, certificate and its public check."""

from __future__ import annotations

import mimetypes
from contextlib import suppress
from datetime import date, datetime
from pathlib import Path

from flask import abort, current_app, flash, redirect, render_template, request, send_file, send_from_directory, url_for
from flask_babel import format_datetime, get_locale, ngettext, to_user_timezone
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from markupsafe import Markup
from sqlalchemy.exc import IntegrityError
from werkzeug.security import safe_join
from wtforms import RadioField
from wtforms.validators import InputRequired

from learning.db import unit_of_work
from learning.errors import NotFound, ServiceError
from learning.forms import ActionForm, CheckboxesField
from learning.guards import int_arg
from learning.i18n import local_today
from learning.security import AUTHENTICATED, PUBLIC, allow
from learning.training import bp
from learning.training.certificates import certificate_for, may_view_certificate, record_certificate_view
from learning.training.exchange import course_file, media_path
from learning.training.models import Course, Lesson, QuestionKind
from learning.training.quiz import (
    attempt_questions,
    no_attempts_left_message,
    quiz_result,
    start_quiz,
    submit_quiz,
)
from learning.training.services import (
    Status,
    catalogue,
    complete_lesson,
    course_for,
    course_progress,
    done_lesson_ids,
    enroll,
    has_quiz,
    my_learning,
)

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp"}


def _locale() -> str:
    return str(get_locale() or current_app.config["DEFAULT_LOCALE"])


def local_date(value: datetime | None) -> date | None:
    """The calendar day of a stored UTC time in the organisation's time zone."""
    return to_user_timezone(value).date() if value else None


def lang_attr(item, field: str, main: str | None = None) -> Markup:
    """` lang="de"` where authored text is shown in another language than the page (a missing translation)."""
    locale = _locale()
    english = item.get(f"{field}_en") if isinstance(item, dict) else getattr(item, f"{field}_en", None)
    shown = "en" if locale == "en" and english else (main or "de")
    return Markup(' lang="%s"') % shown if shown != locale else Markup("")


@bp.context_processor
def training_helpers() -> dict:
    return {"local_date": local_date, "lang_attr": lang_attr, "Status": Status,
            "locale": _locale(), "local_time": lambda value: format_datetime(value, "short"),
            "no_attempts_left": no_attempts_left_message}


def _course_or_404(slug: str) -> Course:
    try:
        return course_for(current_user, slug)
    except NotFound:
        abort(404)


def _active_lesson_or_404(course: Course, lesson_slug: str) -> Lesson:
    lesson = next((item for item in course.active_lessons if item.slug == lesson_slug), None)
    if lesson is None:
        abort(404)
    return lesson


def _lesson_body(course: Course, lesson: Lesson, locale: str) -> tuple[Markup, str]:
    """The lesson's stored HTML in the reader's language (rendered at sync) and that language."""
    if locale == "en" and lesson.body_en_html:
        return Markup(lesson.body_en_html), "en"
    return Markup(lesson.body_html), course.language or "de"


# My learning and the catalogue ------------------------------------------------------------

# Endpoints are named after the pages; the functions are named apart from the services they call.
@bp.route("/", endpoint="my_learning")
@allow(AUTHENTICATED)
def my_learning_page():
    today = local_today()
    items = my_learning(current_user, today)
    return render_template(
        "training/my_learning.html", today=today, open_items=[i for i in items if i.status != Status.DONE],
        done_items=[i for i in items if i.status == Status.DONE],
    )


MANDATORY_FILTER = {"yes": True, "no": False}


@bp.route("/courses", endpoint="catalogue")
@allow(AUTHENTICATED)
def catalogue_page():
    q = request.args.get("q", "").strip()[:200]
    phase = request.args.get("phase", "").strip()
    tag = request.args.get("tag", "").strip()
    mandatory = request.args.get("mandatory", "")
    result = catalogue(current_user, local_today(), locale=_locale(), q=q, phase=phase, tag=tag,
                       mandatory=MANDATORY_FILTER.get(mandatory))
    return render_template("training/catalogue.html", catalogue=result, q=q, phase=phase, tag=tag,
                           mandatory=mandatory if mandatory in MANDATORY_FILTER else "")


# One course ---------------------------------------------------------------------------------

@bp.route("/courses/<slug>")
@allow(AUTHENTICATED)
def course(slug: str):
    course = _course_or_404(slug)
    progress = course_progress(current_user, course)
    return render_template("training/course.html", course=course, progress=progress, form=ActionForm(),
                           today=local_today())


@bp.route("/courses/<slug>/enroll", endpoint="enroll", methods=["POST"])
@allow(AUTHENTICATED)
def enroll_in(slug: str):
    course = _course_or_404(slug)
    if ActionForm().validate_on_submit():
        try:
            # Enrolled at the same moment in another tab: that enrolment counts.
            with suppress(IntegrityError), unit_of_work():
                enroll(current_user, course)
        except ServiceError as error:
            flash(str(error), "danger")
        else:
            flash(_("The course is now on your list under “My learning”."), "success")
    return redirect(url_for("training.course", slug=course.slug))


@bp.route("/courses/<slug>/lessons/<lesson>")
@allow(AUTHENTICATED)
def lesson(slug: str, lesson: str):
    """One lesson: its stored HTML, whether the person has done it, the way on (a fixed handful of queries)."""
    try:
        course = course_for(current_user, slug, full=False)
    except NotFound:
        abort(404)
    current = _active_lesson_or_404(course, lesson)
    lessons = course.active_lessons
    index = lessons.index(current)
    following = lessons[index + 1] if index + 1 < len(lessons) else None
    body, body_lang = _lesson_body(course, current, _locale())
    quiz = has_quiz(course)  # asked on every lesson: the same statements whichever lesson it is
    return render_template(
        "training/lesson.html", course=course, lesson=current, body=body, body_lang=body_lang,
        done=current.id in done_lesson_ids(current_user, course), total=len(lessons),
        previous=lessons[index - 1] if index > 0 else None, next=following,
        quiz_follows=following is None and course.archived_at is None and quiz,
        position=index + 1, form=ActionForm(),
    )


@bp.route("/courses/<slug>/lessons/<lesson>/done", endpoint="complete_lesson", methods=["POST"])
@allow(AUTHENTICATED)
def complete_lesson_action(slug: str, lesson: str):
    course = _course_or_404(slug)
    current = _active_lesson_or_404(course, lesson)
    if not ActionForm().validate_on_submit():
        return redirect(url_for("training.lesson", slug=course.slug, lesson=current.slug))
    completion = None
    try:
        # The same button pressed twice at once: the first press counted.
        with suppress(IntegrityError), unit_of_work():
            completion = complete_lesson(current_user, current)
    except ServiceError as error:
        flash(str(error), "danger")
        return redirect(url_for("training.course", slug=course.slug))
    if completion is not None:
        flash(_("Congratulations: you have completed “%(course)s”. Your certificate is ready.",
                course=course.localized("title", _locale())), "success")
        return redirect(url_for("training.course", slug=course.slug))
    lessons = course.active_lessons
    index = lessons.index(current)
    if index + 1 < len(lessons):
        flash(_("“%(lesson)s” is marked as done.", lesson=current.localized("title", _locale())), "success")
        return redirect(url_for("training.lesson", slug=course.slug, lesson=lessons[index + 1].slug))
    # The last lesson: say what is still missing for the course, not just "done".
    progress = course_progress(current_user, course)
    missing = progress.total - progress.done
    if missing:
        flash(ngettext("You have reached the last lesson. Still missing: %(num)d lesson.",
                       "You have reached the last lesson. Still missing: %(num)d lessons.", missing), "open")
    elif course.has_quiz and not progress.passed:
        flash(_("You have done every lesson. Still missing: the quiz. Pass it to complete the course and get "
                "your certificate."), "open")
    else:
        flash(_("“%(lesson)s” is marked as done.", lesson=current.localized("title", _locale())), "success")
    return redirect(url_for("training.course", slug=course.slug))


@bp.route("/courses/<slug>/media/<path:filename>")
@allow(AUTHENTICATED)
def media(slug: str, filename: str):
    """An image from the course folder; nothing else, nothing outside it."""
    if Path(filename).suffix.lower() not in IMAGE_SUFFIXES:
        abort(404)
    course = _course_or_404(slug)
    if not course.managed_as_files:  # uploaded: from the media store, by content hash
        stored = course_file(course, filename)
        if stored is None:
            abort(404)
        return send_file(media_path(stored.sha256), mimetype=mimetypes.guess_type(filename)[0], max_age=3600,
                         etag=stored.sha256, conditional=True)
    folder = safe_join(current_app.config["COURSES_DIR"], course.slug)
    if folder is None:
        abort(404)
    return send_from_directory(folder, filename, max_age=3600)


# The quiz -----------------------------------------------------------------------------------

ANSWER_REQUIRED = _l("Please choose an answer.")


def _quiz_form(questions, locale: str) -> FlaskForm:
    """One field per question: radio buttons for single choice and true/false, checkboxes for multiple choice.

    The choices carry answer ids and texts only: whether an answer is correct never reaches the page.
    """

    class QuizForm(FlaskForm):
        pass

    for question in questions:
        if question.kind == QuestionKind.TRUE_FALSE:  # "Richtig" / "Falsch" in the reader's language
            choices = list(zip([a.id for a in question.answers], [_("True"), _("False")], strict=False))
        else:
            choices = [(answer.id, answer.localized("text", locale)) for answer in question.answers]
        label = question.localized("text", locale)
        if question.kind == QuestionKind.MULTIPLE:
            field = CheckboxesField(label, choices=choices, coerce=int, validators=[InputRequired(ANSWER_REQUIRED)])
        else:
            field = RadioField(label, choices=choices, coerce=int, validators=[InputRequired(ANSWER_REQUIRED)])
        setattr(QuizForm, f"q{question.id}", field)
    return QuizForm()


def _chosen(form: FlaskForm, questions) -> dict[int, list[int]]:
    answers = {}
    for question in questions:
        data = form[f"q{question.id}"].data
        answers[question.id] = list(data) if isinstance(data, list) else ([data] if data is not None else [])
    return answers


@bp.route("/courses/<slug>/quiz", methods=["GET", "POST"])
@allow(AUTHENTICATED)
def quiz(slug: str):
    """GET shows the quiz's rules and the start button, the open attempt's questions, or a result; it writes nothing."""
    course = _course_or_404(slug)
    if not course.has_quiz:
        abort(404)
    locale = _locale()
    progress = course_progress(current_user, course)
    if request.method == "GET" and "attempt" in request.args:
        attempt = quiz_result(current_user, course, int_arg("attempt") or 0)
        if attempt is None:
            abort(404)
        return render_template("training/quiz_result.html", course=course, attempt=attempt, progress=progress,
                               form=ActionForm())

    # The questions drawn for the open attempt (None: the quiz changed since; a POST to "start" draws again).
    open_attempt = progress.open_attempt
    questions = attempt_questions(open_attempt, course) if open_attempt else list(course.questions)
    form = _quiz_form(questions or [], locale)
    if request.method == "POST":
        attempt_id = int_arg("attempt_id", source=request.form)
        if attempt_id is None:
            flash(_("The quiz form was incomplete. Please answer the questions again."), "warning")
            return redirect(url_for("training.quiz", slug=course.slug))
        if questions is None:  # the quiz was changed since the draw: the page offers to go on with a new one
            return redirect(url_for("training.quiz", slug=course.slug))
        if form.validate_on_submit():
            try:
                with unit_of_work():
                    attempt = submit_quiz(current_user, attempt_id, _chosen(form, questions))
            except ServiceError as error:
                flash(str(error), "danger")
                return redirect(url_for("training.quiz", slug=course.slug))
            return redirect(url_for("training.quiz", slug=course.slug, attempt=attempt.id))
        # Unanswered or invalid answers: show the form again with the person's choices; nothing is stored.
    elif open_attempt is None or questions is None:
        return render_template("training/quiz_start.html", course=course, progress=progress, form=ActionForm(),
                               changed=open_attempt is not None)
    else:
        attempt_id = open_attempt.id
    return render_template("training/quiz.html", course=course, form=form, attempt_id=attempt_id, progress=progress,
                           questions=[(q, form[f"q{q.id}"]) for q in questions])


@bp.route("/courses/<slug>/quiz/start", endpoint="start_quiz", methods=["POST"])
@allow(AUTHENTICATED)
def start_quiz_action(slug: str):
    """Start an attempt (or go on with the open one) under the course's attempt rules."""
    course = _course_or_404(slug)
    if not course.has_quiz:
        abort(404)
    if ActionForm().validate_on_submit():
        try:
            with unit_of_work():
                start_quiz(current_user, course)
        except ServiceError as error:
            flash(str(error), "danger")
    return redirect(url_for("training.quiz", slug=course.slug))


# Certificates ---------------------------------------------------------------------------------

@bp.route("/certificates/<code>")
@allow(AUTHENTICATED)
def certificate(code: str):
    completion = certificate_for(code)
    if completion is None:
        abort(404)
    if not may_view_certificate(current_user, completion):
        abort(403)
    with unit_of_work():  # the audit entry is written before the page is shown
        record_certificate_view(current_user, completion, completion.course.title)
    verify_url = current_app.config["BASE_URL"] + url_for("training.verify", code=completion.verification_code)
    return render_template("training/certificate.html", completion=completion, verify_url=verify_url)


@bp.route("/verify/<code>")
@allow(PUBLIC)
def verify(code: str):
    """Public check of a certificate: name, course and date only, nothing else about the person."""
    completion = certificate_for(code)
    response = render_template("training/verify.html", completion=completion, code=code[:40])
    return (response, 200) if completion else (response, 404)


from learning.training import exchange_views, rule_views  # noqa: E402,F401
from learning.training.authoring import editor_views, publish_views, quiz_views  # noqa: E402,F401
from learning.training.authoring import models as authoring_models  # noqa: E402,F401
