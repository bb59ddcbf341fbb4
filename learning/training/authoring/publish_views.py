"""Editors' pages around publishing: preview as a learner, the accessibility check, publish, review, versions, archive.

Every page is for the course's editors and the project group (``draft_to_edit``); employees never see a draft.
The preview renders the draft with the learners' own templates and lesson renderer, writes nothing and offers
no button that would.
"""

from __future__ import annotations

from types import SimpleNamespace

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload
from werkzeug.routing import BuildError
from wtforms import BooleanField, HiddenField, TextAreaField
from wtforms.validators import Length

from learning.db import db, unit_of_work
from learning.errors import ServiceError, show_on_form
from learning.forms import ActionForm
from learning.guards import int_arg
from learning.i18n import local_today
from learning.phases.models import RolloutPhase
from learning.security import allow
from learning.training import bp
from learning.training.authoring.access import AUTHORING_ROLES, draft_to_edit
from learning.training.authoring.documents import draft_spec
from learning.training.authoring.models import CourseDraft, CourseVersion, DraftReview, ReviewKind, ReviewState
from learning.training.authoring.publishing import (
    COMMENT_MAX,
    SUMMARY_MAX,
    PublishBlocked,
    add_comment,
    approve_draft,
    check_draft,
    draft_hash,
    finding_kind,
    four_eyes,
    publish_draft,
    request_review,
    set_archived,
    valid_approval,
    version_of,
    version_spec,
    withdraw_review,
)
from learning.training.lesson_html import lesson_html
from learning.training.models import Answer, Course, Lesson, Question
from learning.training.quiz import draw
from learning.training.services import CourseProgress, Status
from learning.training.sync import CourseSpec


def _draft(slug: str) -> CourseDraft:
    """The draft for an editor, with its published course, lessons and quiz loaded in a fixed number of queries."""
    draft = draft_to_edit(slug, current_user)
    if draft.course_id is not None:
        db.session.scalar(select(Course).where(Course.id == draft.course_id).options(
            joinedload(Course.phase), selectinload(Course.lessons),
            selectinload(Course.questions).selectinload(Question.answers)))
    return draft


def hub_url(slug: str) -> str:
    """The course's page in the editor (``training.edit_course``), or the preview where there is none."""
    try:
        return url_for("training.edit_course", slug=slug)
    except BuildError:
        return url_for("training.preview_course", slug=slug)


def finding_url(slug: str, finding) -> str:
    """Where to correct a finding: the lesson in the editor, at the German or English text."""
    if finding.lesson is None:
        return hub_url(slug)
    anchor = "body_en" if finding.file.endswith(".en.md") else "body"
    try:
        return url_for("training.edit_lesson", slug=slug, lesson=finding.lesson, _anchor=anchor)
    except BuildError:
        return url_for("training.preview_lesson", slug=slug, lesson=finding.lesson)


@bp.app_template_global("publish_panel")
def publish_panel(draft: CourseDraft) -> SimpleNamespace:
    """What the publishing panel on the course's page shows (a fixed number of queries)."""
    rule = four_eyes()
    approval = valid_approval(draft, current_user) if rule and draft.has_changes else None
    latest = db.session.scalar(select(CourseVersion).where(CourseVersion.draft_id == draft.id)
                               .order_by(CourseVersion.number.desc()).limit(1))
    return SimpleNamespace(four_eyes=rule, approval=approval, latest=latest, form=ActionForm(),
                           in_review=draft.review_state == ReviewState.IN_REVIEW)


# Preview --------------------------------------------------------------------------------------

def _preview_course(draft: CourseDraft, spec: CourseSpec) -> Course:
    """The draft as a course that is never stored: the learners' templates read it like a published one."""
    phase = db.session.scalar(select(RolloutPhase).where(RolloutPhase.slug == spec.phase)) if spec.phase else None
    course = Course(slug=draft.slug, title=spec.title or draft.slug, title_en=spec.title_en, summary=spec.summary,
                    summary_en=spec.summary_en, minutes=spec.minutes, mandatory=spec.mandatory,
                    pass_mark=spec.pass_mark, max_attempts=spec.max_attempts or 0,
                    attempt_pause_minutes=spec.attempt_pause, show_answers=spec.show_answers,
                    language=spec.language, tags=list(spec.tags), tags_en=list(spec.tags_en), quiz_draw=spec.quiz_draw)
    course.phase = phase
    course.lessons = [Lesson(slug=lesson.slug, position=lesson.position, title=lesson.title, title_en=lesson.title_en,
                             body=lesson.body, body_en=lesson.body_en) for lesson in spec.lessons]
    # Numbered like stored rows, so that the quiz's own draw can pick from them; whether an answer is correct and
    # its feedback are left out: like the quiz page, the preview never carries them.
    course.questions = [
        Question(id=n, position=n, kind=q.kind, text=q.text, text_en=q.text_en,
                 answers=[Answer(id=n * 100 + m, position=m, text=a.text, text_en=a.text_en)
                          for m, a in enumerate(q.answers, 1)])
        for n, q in enumerate(spec.questions, 1)]
    return course


def preview_questions(course: Course, everything: bool) -> SimpleNamespace:
    """The questions the preview shows: one draw of the quiz (``quiz.draw``, as an attempt gets), or the pool."""
    pool = list(course.questions)
    asked = course.quiz_draw if course.quiz_draw and course.quiz_draw < len(pool) else len(pool)
    if everything or asked == len(pool):
        shown = pool
    else:
        by_id = {question.id: question for question in pool}
        shown = [by_id[item["question_id"]] for item in draw(course)]
    return SimpleNamespace(questions=shown, asked=asked, pool=len(pool), drawn=asked < len(pool),
                           everything=everything and asked < len(pool))


def _preview_url_for(endpoint: str, **values) -> str:
    """Links of the learners' pages lead to the preview's pages; the quiz is shown on the course page."""
    if endpoint == "training.course":
        endpoint = "training.preview_course"
    elif endpoint == "training.lesson":
        endpoint = "training.preview_lesson"
    elif endpoint == "training.quiz":
        endpoint, values = "training.preview_course", {"slug": values["slug"], "_anchor": "quiz-heading"}
    return url_for(endpoint, **values)


def _progress(course: Course) -> CourseProgress:
    """A person to whom the course was just assigned: nothing done yet, nothing to write."""
    assignment = SimpleNamespace(mandatory=course.mandatory, due_on=None, extra_attempts=0, started_at=None,
                                 completed_at=None)
    return CourseProgress(course=course, assignment=assignment, completion=None, done_lesson_ids=set(), attempts=[],
                          status=Status.NOT_STARTED)


@bp.route("/author/<slug>/preview", endpoint="preview_course")
@allow(*AUTHORING_ROLES)
def preview_course_page(slug: str):
    draft = _draft(slug)
    course = _preview_course(draft, draft_spec(draft))
    # ``?questions=all`` shows the whole pool instead of one draw (a GET that changes nothing).
    quiz = preview_questions(course, request.args.get("questions") == "all")
    return render_template("training/publish/preview_course.html", course=course, progress=_progress(course),
                           form=ActionForm(), today=local_today(), draft=draft, preview=True, quiz=quiz,
                           url_for=_preview_url_for, hub_url=hub_url(slug))


@bp.route("/author/<slug>/preview/<lesson>", endpoint="preview_lesson")
@allow(*AUTHORING_ROLES)
def preview_lesson_page(slug: str, lesson: str):
    draft = _draft(slug)
    course = _preview_course(draft, draft_spec(draft))
    lessons = course.lessons
    current = next((item for item in lessons if item.slug == lesson), None)
    if current is None:
        abort(404)
    index = lessons.index(current)
    english = str(get_locale()) == "en" and bool(current.body_en)
    # The learners' renderer, as at publishing; a lesson page of a published course shows the stored result.
    body = lesson_html({"course": course}, current.body_en if english else current.body, english=english)
    return render_template(
        "training/publish/preview_lesson.html", course=course, lesson=current, body=Markup(body),
        body_lang="en" if english else course.language or "de", done=False, total=len(lessons),
        previous=lessons[index - 1] if index > 0 else None,
        next=lessons[index + 1] if index + 1 < len(lessons) else None,
        quiz_follows=index + 1 == len(lessons) and course.has_quiz,
        position=index + 1, form=ActionForm(), draft=draft, preview=True, url_for=_preview_url_for,
        hub_url=hub_url(slug))


# The check ------------------------------------------------------------------------------------

def _findings(draft: CourseDraft, spec: CourseSpec) -> list[SimpleNamespace]:
    return [SimpleNamespace(finding=f, kind=finding_kind(f), url=finding_url(draft.slug, f),
                            lesson=next((lesson for lesson in spec.lessons if lesson.slug == f.lesson), None))
            for f in check_draft(spec)]


@bp.route("/author/<slug>/check", endpoint="check_course")
@allow(*AUTHORING_ROLES)
def check_course_page(slug: str):
    draft = _draft(slug)
    spec = draft_spec(draft)
    found = _findings(draft, spec)
    return render_template("training/publish/check.html", draft=draft, spec=spec,
                           errors=[f for f in found if f.finding.error],
                           warnings=[f for f in found if not f.finding.error], hub_url=hub_url(slug))


# Publish --------------------------------------------------------------------------------------

class PublishForm(FlaskForm):
    seen = HiddenField()  # the draft's hash as the page showed it
    summary = TextAreaField(_l("What changed in this version"), validators=[Length(max=SUMMARY_MAX)],
                            description=_l("Learners do not see it; editors find it in the list of versions. "
                                           "For example: “Lesson 2: new deadlines for travel expenses”."))
    substantive = BooleanField(
        _l("Substantive change: people who completed the course must take it again"),
        description=_l("For example a changed legal requirement. They get the course assigned again with a new due "
                       "date and a notification; their certificate stays valid as a record. Leave it unticked for "
                       "corrections and additions: then nothing changes for anyone who completed the course."))


@bp.route("/author/<slug>/publish", endpoint="publish_course", methods=["GET", "POST"])
@allow(*AUTHORING_ROLES)
def publish_course_page(slug: str):
    draft = _draft(slug)
    form = PublishForm()
    findings: list = []
    if form.validate_on_submit():
        try:
            with unit_of_work():
                published = publish_draft(draft, current_user, form.summary.data, form.substantive.data,
                                          seen=(form.seen.data or "")[:64] or None)
        except PublishBlocked as error:
            draft = _draft(slug)
            show_on_form(form, error)
            findings = _findings(draft, draft_spec(draft))
        except ServiceError as error:
            draft = _draft(slug)
            show_on_form(form, error)
        else:
            if published.created:
                flash(_("“%(title)s” has been published as version %(number)d and is now in the catalogue.",
                        title=published.course.title, number=published.version.number), "success")
            else:
                flash(_("“%(title)s” has been published as version %(number)d.", title=published.course.title,
                        number=published.version.number), "success")
            if published.retaken:
                flash(_("%(count)d people who had completed the course have been asked to take it again.",
                        count=published.retaken), "info")
            return redirect(url_for("training.course_versions", slug=slug))
    spec = draft_spec(draft)
    if not findings:
        findings = _findings(draft, spec)
    form.seen.data = spec.content_hash
    rule = four_eyes()
    return render_template("training/publish/publish.html", draft=draft, spec=spec, form=form,
                           errors=[f for f in findings if f.finding.error],
                           warnings=[f for f in findings if not f.finding.error], four_eyes=rule,
                           approval=valid_approval(draft, current_user) if rule else None, hub_url=hub_url(slug))


# Review ---------------------------------------------------------------------------------------

class ReviewForm(FlaskForm):
    action = HiddenField()
    seen = HiddenField()  # the draft's hash as the page showed it
    body = TextAreaField(_l("Comment"), validators=[Length(max=COMMENT_MAX)])


REVIEW_ACTIONS = {"comment", "approve", "request", "withdraw"}


@bp.route("/author/<slug>/review", endpoint="review_draft", methods=["GET", "POST"])
@allow(*AUTHORING_ROLES)
def review_draft_page(slug: str):
    draft = _draft(slug)
    form = ReviewForm()
    if form.validate_on_submit():
        action = request.form.get("action", "comment")
        try:
            if action not in REVIEW_ACTIONS:
                raise ServiceError(_("Please choose what to do."))
            with unit_of_work():
                if action == "request":
                    request_review(draft, current_user)
                elif action == "withdraw":
                    withdraw_review(draft, current_user)
                elif action == "approve":
                    approve_draft(draft, current_user, form.body.data, seen=(form.seen.data or "")[:64] or None)
                else:
                    add_comment(draft, current_user, form.body.data)
        except ServiceError as error:
            draft = _draft(slug)
            show_on_form(form, error, default="body")
        else:
            flash({"request": _("The draft is marked as waiting for review. The other editors and the project "
                                "group have been notified."),
                   "withdraw": _("The request for review has been withdrawn."),
                   "approve": _("You have approved this draft. Any further change needs a new approval."),
                   "comment": _("Your comment has been added.")}[action], "success")
            return redirect(url_for("training.review_draft", slug=slug))
    reviews = db.session.scalars(select(DraftReview).where(DraftReview.draft_id == draft.id)
                                 .options(joinedload(DraftReview.author)).order_by(DraftReview.created_at)).all()
    current = draft_hash(draft)
    form.seen.data = current
    return render_template("training/publish/review.html", draft=draft, form=form, reviews=reviews, current=current,
                           ReviewKind=ReviewKind, own_last_save=draft.updated_by_id == current_user.id,
                           four_eyes=four_eyes(), hub_url=hub_url(slug), in_review=draft.review_state ==
                           ReviewState.IN_REVIEW)


# Versions -------------------------------------------------------------------------------------

@bp.route("/author/<slug>/versions", endpoint="course_versions")
@allow(*AUTHORING_ROLES)
def course_versions_page(slug: str):
    draft = _draft(slug)
    versions = db.session.scalars(
        select(CourseVersion).where(CourseVersion.draft_id == draft.id).order_by(CourseVersion.number.desc())
        .options(joinedload(CourseVersion.published_by), joinedload(CourseVersion.approved_by))).all()
    number = int_arg("version")
    shown = version_of(draft, number) if number is not None else None
    if number is not None and shown is None:
        abort(404)
    return render_template("training/publish/versions.html", draft=draft, versions=versions, shown=shown,
                           shown_spec=version_spec(shown) if shown else None, form=ActionForm(),
                           hub_url=hub_url(slug))


# Archive and restore --------------------------------------------------------------------------

@bp.route("/author/<slug>/archive", endpoint="archive_web_course", methods=["POST"])
@allow(*AUTHORING_ROLES)
def archive_web_course(slug: str):
    """Archive (``archived=1``) or restore (``archived=0``) the published course; learners' records stay."""
    draft = _draft(slug)
    if ActionForm().validate_on_submit():
        archive = request.form.get("archived") == "1"
        try:
            with unit_of_work():
                changed = set_archived(draft, archive, current_user)
        except ServiceError as error:
            flash(str(error), "danger")
        else:
            if changed:
                flash(_("The course has been archived. Learners keep their progress and certificates; it is no "
                        "longer offered.") if archive else _("The course has been restored and is offered again."),
                      "success")
    return redirect(hub_url(slug))

