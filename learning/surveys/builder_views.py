"""The survey builder (project group): drafts, settings, sections and questions, opening, closing and rounds."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from learning.db import db, unit_of_work
from learning.errors import NotFound, ServiceError, show_on_form
from learning.guards import int_arg
from learning.i18n import local_today
from learning.org.audience import AudienceKind, describe
from learning.org.models import Department, Team
from learning.phases.models import RolloutPhase
from learning.roles import Role
from learning.security import allow
from learning.surveys import bp
from learning.surveys.building import (
    QuestionData,
    SurveySettings,
    create_survey,
    delete_question,
    delete_section,
    delete_survey,
    move_question,
    move_section,
    question_of,
    save_question,
    save_section,
    section_of,
    thresholds_floor,
    update_survey,
)
from learning.surveys.forms import (
    ActionForm,
    ClosingDateForm,
    NewSurveyForm,
    QuestionForm,
    SectionForm,
    SurveyForm,
    WaveForm,
)
from learning.surveys.managing import add_wave, close_wave, move_closing_date, open_survey, wave_participation
from learning.surveys.models import QuestionKind, Survey, WaveStatus
from learning.surveys.taking import audience_of, load_survey, steps
from learning.surveys.views import locale

PROJECT = (Role.PROJECT_GROUP,)


# Drafts ---------------------------------------------------------------------------

def _phases():
    return db.session.scalars(select(RolloutPhase).order_by(RolloutPhase.period, RolloutPhase.title)).all()


@bp.route("/new", endpoint="new", methods=["GET", "POST"])
@allow(*PROJECT)
def new():
    form = NewSurveyForm()
    form.set_choices(_phases(), locale())
    if form.validate_on_submit():
        try:
            with unit_of_work():
                survey = create_survey(current_user, form.instrument.data, form.title.data, form.phase_id.data,
                                       local_today())
        except ServiceError as error:
            show_on_form(form, error, default="instrument")
        else:
            flash(_("The survey has been created as a draft. Check its settings and questions, then open it."),
                  "success")
            return redirect(url_for("surveys.manage", survey_id=survey.id))
    return render_template("surveys/new.html", form=form)


@bp.route("/<int:survey_id>/manage", endpoint="manage")
@allow(*PROJECT)
def manage(survey_id: int):
    survey = load_survey(survey_id)
    today = local_today()
    last = survey.waves[-1] if survey.waves else None
    can_add_wave = survey.locked and last is not None and last.status(today) == WaveStatus.CLOSED
    return _manage_page(survey, WaveForm(formdata=None), can_add_wave)


def _manage_page(survey: Survey, wave_form: WaveForm, can_add_wave: bool, closing_form: ClosingDateForm | None = None):
    counts, eligible = wave_participation(survey)
    today = local_today()
    # The round whose last day may still move: open or not yet open, so nothing of it is released.
    movable = next((w for w in survey.waves if survey.locked
                    and w.status(today) in (WaveStatus.OPEN, WaveStatus.SCHEDULED)), None)
    if closing_form is None and movable is not None:
        closing_form = ClosingDateForm(formdata=None, wave=str(movable.number), closes_on=movable.closes_on)
    return render_template("surveys/manage.html", survey=survey, action_form=ActionForm(), wave_form=wave_form,
                           can_add_wave=can_add_wave, questions=sum(len(s.questions) for s in survey.sections),
                           audience=describe(*audience_of(survey)), took_part=counts, eligible=eligible,
                           movable=movable, closing_form=closing_form)


@bp.route("/<int:survey_id>/edit", endpoint="edit", methods=["GET", "POST"])
@allow(*PROJECT)
def edit(survey_id: int):
    survey = load_survey(survey_id)
    wave = survey.waves[0] if survey.waves else None
    if request.method == "GET":
        form = SurveyForm(formdata=None, obj=survey)
        form.anonymous.data = "anonymous" if survey.anonymous else "named"
        form.department_ids.data = list(survey.audience_values) if survey.audience == AudienceKind.DEPARTMENTS else []
        form.team_ids.data = list(survey.audience_values) if survey.audience == AudienceKind.TEAMS else []
        form.roles.data = list(survey.audience_values) if survey.audience == AudienceKind.ROLES else []
        if wave is not None:
            form.opens_on.data, form.closes_on.data, form.wave_label.data = wave.opens_on, wave.closes_on, wave.label
    else:
        form = SurveyForm()
    teams = db.session.scalars(select(Team).join(Department).where(Team.active.is_(True))
                               .options(joinedload(Team.department)).order_by(Department.name, Team.name)).all()
    departments = db.session.scalars(select(Department).where(Department.active.is_(True))
                                     .order_by(Department.name)).all()
    form.set_choices(_phases(), departments, teams, locale())
    if not survey.locked and form.validate_on_submit():
        data = SurveySettings(
            title=form.title.data, title_en=form.title_en.data or "", intro=form.intro.data,
            intro_en=form.intro_en.data or "", phase_id=form.phase_id.data, anonymous=form.anonymous.data != "named",
            audience=form.audience.data, audience_values=form.audience_values(),
            min_responses=form.min_responses.data, min_comments=form.min_comments.data,
            opens_on=form.opens_on.data, closes_on=form.closes_on.data, wave_label=form.wave_label.data or "")
        try:
            with unit_of_work():
                update_survey(current_user, survey, data)
        except ServiceError as error:
            show_on_form(form, error, default="title")
        else:
            flash(_("The settings have been saved."), "saved")
            return redirect(url_for("surveys.manage", survey_id=survey.id))
    floor = thresholds_floor()
    return render_template("surveys/edit.html", survey=survey, form=form, floor=floor)


@bp.route("/<int:survey_id>/questions", endpoint="questions")
@allow(*PROJECT)
def questions(survey_id: int):
    survey = load_survey(survey_id)
    return render_template("surveys/questions.html", survey=survey, action_form=ActionForm(),
                           section_form=SectionForm(formdata=None))


def _builder_action(survey: Survey, action, *, done: str | None = None, anchor: str | None = None):
    """A delete or move button of the builder: run it, say what went wrong or (``done``) right, go back."""
    if ActionForm().validate_on_submit():
        try:
            with unit_of_work():
                action()
        except ServiceError as error:
            flash(str(error), "warning")
        else:
            if done:
                flash(done, "success")
    return _back_to_questions(survey, anchor)


def _back_to_questions(survey: Survey, anchor: str | None = None):
    return redirect(url_for("surveys.questions", survey_id=survey.id, _anchor=anchor))


@bp.route("/<int:survey_id>/sections/new", endpoint="section_new", methods=["POST"])
@allow(*PROJECT)
def section_new(survey_id: int):
    survey = load_survey(survey_id)
    form = SectionForm()
    if form.validate_on_submit():
        try:
            with unit_of_work():
                section = save_section(current_user, survey, None, form.title.data, form.title_en.data or "",
                                       form.description.data or "", form.description_en.data or "")
        except ServiceError as error:
            flash(str(error), "warning")
        else:
            flash(_("The section has been added."), "success")
            return _back_to_questions(survey, f"section-{section.id}")
        return _back_to_questions(survey)
    return render_template("surveys/questions.html", survey=survey, action_form=ActionForm(),
                           section_form=form)


@bp.route("/<int:survey_id>/sections/<int:survey_section_id>", endpoint="section_edit", methods=["GET", "POST"])
@allow(*PROJECT)
def section_edit(survey_id: int, survey_section_id: int):
    survey = load_survey(survey_id)
    section = section_of(survey, survey_section_id)
    form = SectionForm(obj=section) if request.method == "GET" else SectionForm()
    if request.method == "GET":
        form.title_en.data = section.title_en or ""
        form.description_en.data = section.description_en or ""
    if not survey.locked and form.validate_on_submit():
        try:
            with unit_of_work():
                save_section(current_user, survey, section, form.title.data, form.title_en.data or "",
                             form.description.data or "", form.description_en.data or "")
        except ServiceError as error:
            show_on_form(form, error, default="title")
        else:
            flash(_("The section has been saved."), "saved")
            return _back_to_questions(survey, f"section-{section.id}")
    return render_template("surveys/section.html", survey=survey, section=section, form=form)


@bp.route("/<int:survey_id>/sections/<int:survey_section_id>/delete", endpoint="section_delete", methods=["POST"])
@allow(*PROJECT)
def section_delete(survey_id: int, survey_section_id: int):
    survey = load_survey(survey_id)
    section = section_of(survey, survey_section_id)
    return _builder_action(survey, lambda: delete_section(current_user, survey, section),
                           done=_("The section has been deleted."))


@bp.route("/<int:survey_id>/sections/<int:survey_section_id>/move", endpoint="section_move", methods=["POST"])
@allow(*PROJECT)
def section_move(survey_id: int, survey_section_id: int):
    survey = load_survey(survey_id)
    section = section_of(survey, survey_section_id)
    return _builder_action(survey, lambda: move_section(current_user, survey, section,
                                                        request.form.get("direction", "")),
                           anchor=f"section-{section.id}")


def _question_page(survey: Survey, form: QuestionForm, question=None):
    """The question form; with errors it is answered with 200 like every form page here."""
    return render_template("surveys/question.html", survey=survey, form=form, question=question)


@bp.route("/<int:survey_id>/questions/new", endpoint="question_new", methods=["GET", "POST"])
@allow(*PROJECT)
def question_new(survey_id: int):
    survey = load_survey(survey_id)
    form = QuestionForm() if request.method == "POST" else QuestionForm(formdata=None)
    form.set_choices(survey.sections, locale())
    if request.method == "GET":
        form.section_id.data = int_arg("section") or (
            survey.sections[-1].id if survey.sections else None)
        form.kind.data = QuestionKind.LIKERT5.value
        form.required.data = True
    if not survey.locked and form.validate_on_submit():
        return _save_question(survey, form, None)
    return _question_page(survey, form, None)


def _save_question(survey: Survey, form: QuestionForm, question):
    options, options_en = form.option_lines()
    data = QuestionData(section_id=form.section_id.data, kind=form.kind.data, text=form.text.data,
                        text_en=form.text_en.data or "", options=options, options_en=options_en,
                        required=form.required.data, reverse=form.reverse.data, construct=form.construct.data or "")
    try:
        with unit_of_work():
            saved = save_question(current_user, survey, question, data)
    except ServiceError as error:
        show_on_form(form, error, default="text")
        return _question_page(survey, form, question)
    flash(_("The question has been saved."), "saved")
    return _back_to_questions(survey, f"question-{saved.id}")


@bp.route("/<int:survey_id>/questions/<int:survey_question_id>", endpoint="question_edit", methods=["GET", "POST"])
@allow(*PROJECT)
def question_edit(survey_id: int, survey_question_id: int):
    survey = load_survey(survey_id)
    question = question_of(survey, survey_question_id)
    form = QuestionForm() if request.method == "POST" else QuestionForm(formdata=None)
    form.set_choices(survey.sections, locale())
    if request.method == "GET":
        form.section_id.data, form.kind.data = question.section_id, question.kind
        form.text.data, form.text_en.data = question.text, question.text_en or ""
        form.options.data = "\n".join(question.options or [])
        form.options_en.data = "\n".join(question.options_en or [])
        form.required.data, form.reverse.data, form.construct.data = question.required, question.reverse, \
            question.construct
    if not survey.locked and form.validate_on_submit():
        return _save_question(survey, form, question)
    return _question_page(survey, form, question)


@bp.route("/<int:survey_id>/questions/<int:survey_question_id>/delete", endpoint="question_delete",
          methods=["POST"])
@allow(*PROJECT)
def question_delete(survey_id: int, survey_question_id: int):
    survey = load_survey(survey_id)
    question = question_of(survey, survey_question_id)
    return _builder_action(survey, lambda: delete_question(current_user, survey, question),
                           done=_("The question has been deleted."))


@bp.route("/<int:survey_id>/questions/<int:survey_question_id>/move", endpoint="question_move", methods=["POST"])
@allow(*PROJECT)
def question_move(survey_id: int, survey_question_id: int):
    survey = load_survey(survey_id)
    question = question_of(survey, survey_question_id)
    return _builder_action(survey, lambda: move_question(current_user, survey, question,
                                                         request.form.get("direction", "")),
                           anchor=f"question-{question.id}")


@bp.route("/<int:survey_id>/preview", endpoint="preview")
@allow(*PROJECT)
def preview(survey_id: int):
    survey = load_survey(survey_id)
    return render_template("surveys/preview.html", survey=survey, pages=steps(survey))


def _action(survey_id: int, action, success: str):
    survey = load_survey(survey_id)
    if ActionForm().validate_on_submit():
        try:
            with unit_of_work():
                action(survey)
        except ServiceError as error:
            flash(str(error), "warning")
        else:
            flash(success, "success")
    return redirect(url_for("surveys.manage", survey_id=survey_id))


@bp.route("/<int:survey_id>/open", endpoint="open", methods=["POST"])
@allow(*PROJECT)
def open_action(survey_id: int):
    return _action(survey_id, lambda s: open_survey(current_user, s, local_today()),
                   _("The survey is open. Its questions and thresholds are now locked."))


@bp.route("/<int:survey_id>/close", endpoint="close", methods=["POST"])
@allow(*PROJECT)
def close_action(survey_id: int):
    return _action(survey_id, lambda s: close_wave(current_user, s, local_today()),
                   _("The round has been closed. No more answers are accepted."))


@bp.route("/<int:survey_id>/delete", endpoint="delete", methods=["POST"])
@allow(*PROJECT)
def delete_action(survey_id: int):
    survey = load_survey(survey_id)
    if ActionForm().validate_on_submit():
        try:
            with unit_of_work():
                delete_survey(current_user, survey)
        except ServiceError as error:
            flash(str(error), "warning")
            return redirect(url_for("surveys.manage", survey_id=survey_id))
        flash(_("The draft has been deleted."), "success")
        return redirect(url_for("surveys.index"))
    return redirect(url_for("surveys.manage", survey_id=survey_id))


@bp.route("/<int:survey_id>/waves", endpoint="wave_new", methods=["POST"])
@allow(*PROJECT)
def wave_new(survey_id: int):
    survey = load_survey(survey_id)
    form = WaveForm()
    today = local_today()
    if form.validate_on_submit():
        try:
            with unit_of_work():
                wave = add_wave(current_user, survey, form.opens_on.data, form.closes_on.data, form.label.data or "",
                                today)
        except ServiceError as error:
            show_on_form(form, error, default="opens_on")
        else:
            flash(_("Round %(num)d has been planned with the same questions.", num=wave.number), "success")
            return redirect(url_for("surveys.manage", survey_id=survey_id))
    last = survey.waves[-1] if survey.waves else None
    return _manage_page(survey, form, survey.locked and last is not None and last.status(today) == WaveStatus.CLOSED)


@bp.route("/<int:survey_id>/closing-date", endpoint="closing_date", methods=["POST"])
@allow(*PROJECT)
def closing_date(survey_id: int):
    survey = load_survey(survey_id)
    form = ClosingDateForm()
    today = local_today()
    if form.validate_on_submit():
        try:
            with unit_of_work():
                wave = move_closing_date(current_user, survey, form.wave_number(), form.closes_on.data, today)
        except NotFound:
            raise
        except ServiceError as error:
            show_on_form(form, error, default="closes_on")
        else:
            flash(_("Round %(num)d now ends on %(day)s.", num=wave.number, day=format_date(wave.closes_on, "long")),
                  "success")
            return redirect(url_for("surveys.manage", survey_id=survey_id))
    last = survey.waves[-1] if survey.waves else None
    return _manage_page(survey, WaveForm(formdata=None),
                        survey.locked and last is not None and last.status(today) == WaveStatus.CLOSED, form)
