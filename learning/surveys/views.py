"""Survey pages: my surveys, taking one, the project group's builder and results, managers' team results."""

from __future__ import annotations

import re

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import format_date, get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from learning.db import db
from learning.exports import download
from learning.guards import int_arg
from learning.home.panels import home_panel
from learning.i18n import local_today
from learning.org.models import Department, Role, Team
from learning.phases.models import RolloutPhase
from learning.security import AUTHENTICATED, allow
from learning.surveys import bp, stats
from learning.surveys import retention as _retention  # noqa: F401  (registers the retention rule)
from learning.surveys.charts import Series, bar_chart, line_chart
from learning.surveys.forms import (
    AUDIENCE_LABELS,
    ActionForm,
    ClosingDateForm,
    NewSurveyForm,
    QuestionForm,
    SectionForm,
    SurveyForm,
    WaveForm,
)
from learning.surveys.instruments import construct_label
from learning.surveys.models import KIND_LABELS, AudienceKind, QuestionKind, Survey, WaveStatus
from learning.surveys.results import (
    ALL,
    export_csv,
    export_xlsx,
    managed_team_ids,
    option_labels,
    survey_results,
    team_node,
)
from learning.surveys.services import (
    AnswerErrors,
    NotFound,
    QuestionData,
    SurveyError,
    SurveySettings,
    add_wave,
    close_wave,
    create_survey,
    delete_question,
    delete_section,
    delete_survey,
    home_surveys,
    load_survey,
    manage_list,
    move_closing_date,
    move_question,
    move_section,
    my_surveys,
    named_answers,
    open_survey,
    parse_answers,
    question_of,
    record_export,
    refusal,
    respondent_state,
    save_question,
    save_section,
    section_of,
    steps,
    submit_response,
    thresholds_floor,
    update_survey,
    wave_participation,
)

PROJECT = (Role.PROJECT_GROUP,)
ANSWER_KEY = re.compile(r"^q(\d{1,9})$")


def locale() -> str:
    return str(get_locale() or "de")


@bp.context_processor
def survey_helpers() -> dict:
    return {"locale": locale(), "QuestionKind": QuestionKind, "KIND_LABELS": KIND_LABELS,
            "construct_label": construct_label, "option_labels": option_labels, "AUDIENCE_LABELS": AUDIENCE_LABELS,
            "WaveStatus": WaveStatus, "ADKAR_ELEMENTS": stats.ADKAR_ELEMENTS,
            "ALPHA_WARNING": stats.ALPHA_WARNING_BELOW}


@bp.app_template_global("surveys_of_phase")
def surveys_of_phase(phase) -> list:
    """For ``surveys/_phase_section.html`` on the phase page: the phase's surveys meant for the reader."""
    return [item for item in my_surveys(current_user, local_today()) if item.survey.phase_id == phase.id]


@home_panel("surveys/_home.html", order=30)
def home_card(user, today):
    return home_surveys(user, today)


def _survey_or_404(survey_id: int) -> Survey:
    try:
        return load_survey(survey_id)
    except NotFound:
        abort(404)


# My surveys -----------------------------------------------------------------------------------------

@bp.route("/", endpoint="index")
@allow(AUTHENTICATED)
def index():
    today = local_today()
    context = {"mine": my_surveys(current_user, today)}
    if current_user.has_role(Role.PROJECT_GROUP):
        context["managed"] = manage_list(today)
    if current_user.has_role(Role.MANAGER):
        context["team_surveys"] = db.session.scalars(
            select(Survey).where(Survey.opened_at.is_not(None)).order_by(Survey.id.desc())).all()
    return render_template("surveys/index.html", **context)


@bp.route("/<int:survey_id>", endpoint="start")
@allow(AUTHENTICATED)
def start(survey_id: int):
    try:
        state = respondent_state(current_user, survey_id, local_today())
    except NotFound:
        abort(404)
    first = steps(state.survey)
    return render_template("surveys/start.html", state=state, survey=state.survey, refusal=refusal(state),
                           questions=sum(len(s.questions) for s in first), pages=len(first))


def _raw_answers() -> dict[int, list[str]]:
    raw: dict[int, list[str]] = {}
    for key in request.form:
        match = ANSWER_KEY.match(key)
        if match:
            raw[int(match.group(1))] = request.form.getlist(key)
    return raw


def _render_step(survey: Survey, index: int, raw: dict[int, list[str]], errors: dict[int, str] | None = None):
    pages = steps(survey)
    index = max(0, min(index, len(pages) - 1))
    section = pages[index]
    here = {q.id for q in section.questions}
    carried = [(f"q{qid}", value) for qid, values in raw.items() if qid not in here for value in values]
    return render_template("surveys/answer.html", survey=survey, section=section, index=index, pages=len(pages),
                           raw=raw, errors=errors or {}, carried=carried, form=ActionForm())


@bp.route("/<int:survey_id>/answer", endpoint="answer", methods=["GET", "POST"])
@allow(AUTHENTICATED)
def answer(survey_id: int):
    today = local_today()
    try:
        state = respondent_state(current_user, survey_id, today)
    except NotFound:
        abort(404)
    survey = state.survey
    reason = refusal(state)
    if reason or not steps(survey):
        flash(reason or _("This survey has no questions."), "warning")
        return redirect(url_for("surveys.start", survey_id=survey_id))
    if request.method == "GET":
        return _render_step(survey, 0, {})
    if not ActionForm().validate_on_submit():
        flash(_("The form has expired. Please send it again."), "warning")
        return redirect(url_for("surveys.start", survey_id=survey_id))
    raw = _raw_answers()
    index = int_arg("step", 0, minimum=0, source=request.form) or 0
    nav = request.form.get("nav", "next")
    pages = steps(survey)
    index = max(0, min(index, len(pages) - 1))
    if nav == "back":
        return _render_step(survey, index - 1, raw)
    if nav == "next" and index < len(pages) - 1:
        try:
            _answers, errors = parse_answers(survey, raw, only={q.id for q in pages[index].questions})
        except SurveyError as exc:
            flash(str(exc), "warning")
            return redirect(url_for("surveys.start", survey_id=survey_id))
        if errors:
            return _render_step(survey, index, raw, errors)
        return _render_step(survey, index + 1, raw)
    try:
        submit_response(current_user, survey_id, raw, today)
    except AnswerErrors as exc:
        first = next(i for i, page in enumerate(pages) if {q.id for q in page.questions} & set(exc.errors))
        return _render_step(survey, first, raw, exc.errors)
    except NotFound:
        abort(404)
    except SurveyError as exc:
        flash(str(exc), "warning")
        return redirect(url_for("surveys.start", survey_id=survey_id))
    flash(_("Thank you! Your answers have been saved.") + " " + (
        _("They are stored without your name.") if survey.anonymous else _("They are stored with your name.")),
        "success")
    return redirect(url_for("surveys.index"))


# The builder (project group) ---------------------------------------------------------------------------

def _phases():
    return db.session.scalars(select(RolloutPhase).order_by(RolloutPhase.period, RolloutPhase.title)).all()


@bp.route("/new", endpoint="new", methods=["GET", "POST"])
@allow(*PROJECT)
def new():
    form = NewSurveyForm()
    form.set_choices(_phases(), locale())
    if form.validate_on_submit():
        try:
            survey = create_survey(current_user, form.instrument.data, form.title.data, form.phase_id.data,
                                   local_today())
        except SurveyError as exc:
            getattr(form, exc.field or "instrument").errors.append(str(exc))
        else:
            flash(_("The survey has been created as a draft. Check its settings and questions, then open it."),
                  "success")
            return redirect(url_for("surveys.manage", survey_id=survey.id))
    return render_template("surveys/new.html", form=form)


@bp.route("/<int:survey_id>/manage", endpoint="manage")
@allow(*PROJECT)
def manage(survey_id: int):
    survey = _survey_or_404(survey_id)
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
                           audience=_describe(survey), took_part=counts, eligible=eligible, movable=movable,
                           closing_form=closing_form)


def _describe(survey: Survey) -> str:
    kind = AudienceKind(survey.audience) if survey.audience in AudienceKind.__members__.values() else None
    values = survey.audience_values or []
    if kind == AudienceKind.DEPARTMENTS:
        names = db.session.scalars(select(Department.name).where(Department.id.in_(values)).order_by(Department.name))
        return _("Departments: %(names)s", names=", ".join(names))
    if kind == AudienceKind.TEAMS:
        names = db.session.scalars(select(Team.name).where(Team.id.in_(values)).order_by(Team.name))
        return _("Teams: %(names)s", names=", ".join(names))
    if kind == AudienceKind.ROLES:
        from learning.org.models import ROLE_LABELS

        return _("Roles: %(names)s", names=", ".join(str(ROLE_LABELS[Role(v)]) for v in values
                                                     if v in Role.__members__.values()))
    return str(AUDIENCE_LABELS.get(kind, survey.audience))


@bp.route("/<int:survey_id>/edit", endpoint="edit", methods=["GET", "POST"])
@allow(*PROJECT)
def edit(survey_id: int):
    survey = _survey_or_404(survey_id)
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
            update_survey(current_user, survey, data)
        except SurveyError as exc:
            target = getattr(form, exc.field, None) if exc.field else None
            (target or form.title).errors.append(str(exc))
        else:
            flash(_("The settings have been saved."), "success")
            return redirect(url_for("surveys.manage", survey_id=survey.id))
    floor = thresholds_floor()
    return render_template("surveys/edit.html", survey=survey, form=form, floor=floor)


@bp.route("/<int:survey_id>/questions", endpoint="questions")
@allow(*PROJECT)
def questions(survey_id: int):
    survey = _survey_or_404(survey_id)
    return render_template("surveys/questions.html", survey=survey, action_form=ActionForm(),
                           section_form=SectionForm(formdata=None))


def _found(lookup, survey: Survey, item_id: int):
    """A section or question of the survey, or 404."""
    try:
        return lookup(survey, item_id)
    except NotFound:
        abort(404)


def _builder_action(survey: Survey, action, *, done: str | None = None, anchor: str | None = None):
    """A delete or move button of the builder: run it, say what went wrong or (``done``) right, go back."""
    if ActionForm().validate_on_submit():
        try:
            action()
        except SurveyError as exc:
            flash(str(exc), "warning")
        else:
            if done:
                flash(done, "success")
    return _back_to_questions(survey, anchor)


def _back_to_questions(survey: Survey, anchor: str | None = None):
    return redirect(url_for("surveys.questions", survey_id=survey.id, _anchor=anchor))


@bp.route("/<int:survey_id>/sections/new", endpoint="section_new", methods=["POST"])
@allow(*PROJECT)
def section_new(survey_id: int):
    survey = _survey_or_404(survey_id)
    form = SectionForm()
    if form.validate_on_submit():
        try:
            section = save_section(current_user, survey, None, form.title.data, form.title_en.data or "",
                                   form.description.data or "", form.description_en.data or "")
        except SurveyError as exc:
            flash(str(exc), "warning")
        else:
            flash(_("The section has been added."), "success")
            return _back_to_questions(survey, f"section-{section.id}")
        return _back_to_questions(survey)
    return render_template("surveys/questions.html", survey=survey, action_form=ActionForm(),
                           section_form=form)


@bp.route("/<int:survey_id>/sections/<int:survey_section_id>", endpoint="section_edit", methods=["GET", "POST"])
@allow(*PROJECT)
def section_edit(survey_id: int, survey_section_id: int):
    survey = _survey_or_404(survey_id)
    section = _found(section_of, survey, survey_section_id)
    form = SectionForm(obj=section) if request.method == "GET" else SectionForm()
    if request.method == "GET":
        form.title_en.data = section.title_en or ""
        form.description_en.data = section.description_en or ""
    if not survey.locked and form.validate_on_submit():
        try:
            save_section(current_user, survey, section, form.title.data, form.title_en.data or "",
                         form.description.data or "", form.description_en.data or "")
        except SurveyError as exc:
            form.title.errors.append(str(exc))
        else:
            flash(_("The section has been saved."), "success")
            return _back_to_questions(survey, f"section-{section.id}")
    return render_template("surveys/section.html", survey=survey, section=section, form=form)


@bp.route("/<int:survey_id>/sections/<int:survey_section_id>/delete", endpoint="section_delete", methods=["POST"])
@allow(*PROJECT)
def section_delete(survey_id: int, survey_section_id: int):
    survey = _survey_or_404(survey_id)
    section = _found(section_of, survey, survey_section_id)
    return _builder_action(survey, lambda: delete_section(current_user, survey, section),
                           done=_("The section has been deleted."))


@bp.route("/<int:survey_id>/sections/<int:survey_section_id>/move", endpoint="section_move", methods=["POST"])
@allow(*PROJECT)
def section_move(survey_id: int, survey_section_id: int):
    survey = _survey_or_404(survey_id)
    section = _found(section_of, survey, survey_section_id)
    return _builder_action(survey, lambda: move_section(current_user, survey, section,
                                                        request.form.get("direction", "")),
                           anchor=f"section-{section.id}")


def _question_page(survey: Survey, form: QuestionForm, question=None):
    """The question form; with errors it is answered with 200 like every form page here."""
    return render_template("surveys/question.html", survey=survey, form=form, question=question)


@bp.route("/<int:survey_id>/questions/new", endpoint="question_new", methods=["GET", "POST"])
@allow(*PROJECT)
def question_new(survey_id: int):
    survey = _survey_or_404(survey_id)
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
        saved = save_question(current_user, survey, question, data)
    except SurveyError as exc:
        getattr(form, exc.field or "text").errors.append(str(exc))
        return _question_page(survey, form, question)
    flash(_("The question has been saved."), "success")
    return _back_to_questions(survey, f"question-{saved.id}")


@bp.route("/<int:survey_id>/questions/<int:survey_question_id>", endpoint="question_edit", methods=["GET", "POST"])
@allow(*PROJECT)
def question_edit(survey_id: int, survey_question_id: int):
    survey = _survey_or_404(survey_id)
    question = _found(question_of, survey, survey_question_id)
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
    survey = _survey_or_404(survey_id)
    question = _found(question_of, survey, survey_question_id)
    return _builder_action(survey, lambda: delete_question(current_user, survey, question),
                           done=_("The question has been deleted."))


@bp.route("/<int:survey_id>/questions/<int:survey_question_id>/move", endpoint="question_move", methods=["POST"])
@allow(*PROJECT)
def question_move(survey_id: int, survey_question_id: int):
    survey = _survey_or_404(survey_id)
    question = _found(question_of, survey, survey_question_id)
    return _builder_action(survey, lambda: move_question(current_user, survey, question,
                                                         request.form.get("direction", "")),
                           anchor=f"question-{question.id}")


@bp.route("/<int:survey_id>/preview", endpoint="preview")
@allow(*PROJECT)
def preview(survey_id: int):
    survey = _survey_or_404(survey_id)
    return render_template("surveys/preview.html", survey=survey, pages=steps(survey))


def _action(survey_id: int, action, success: str):
    survey = _survey_or_404(survey_id)
    if ActionForm().validate_on_submit():
        try:
            action(survey)
        except SurveyError as exc:
            flash(str(exc), "warning")
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
    survey = _survey_or_404(survey_id)
    if ActionForm().validate_on_submit():
        try:
            delete_survey(current_user, survey)
        except SurveyError as exc:
            flash(str(exc), "warning")
            return redirect(url_for("surveys.manage", survey_id=survey_id))
        flash(_("The draft has been deleted."), "success")
        return redirect(url_for("surveys.index"))
    return redirect(url_for("surveys.manage", survey_id=survey_id))


@bp.route("/<int:survey_id>/waves", endpoint="wave_new", methods=["POST"])
@allow(*PROJECT)
def wave_new(survey_id: int):
    survey = _survey_or_404(survey_id)
    form = WaveForm()
    today = local_today()
    if form.validate_on_submit():
        try:
            wave = add_wave(current_user, survey, form.opens_on.data, form.closes_on.data, form.label.data or "",
                            today)
        except SurveyError as exc:
            getattr(form, exc.field or "opens_on").errors.append(str(exc))
        else:
            flash(_("Round %(num)d has been planned with the same questions.", num=wave.number), "success")
            return redirect(url_for("surveys.manage", survey_id=survey_id))
    last = survey.waves[-1] if survey.waves else None
    return _manage_page(survey, form, survey.locked and last is not None and last.status(today) == WaveStatus.CLOSED)


@bp.route("/<int:survey_id>/closing-date", endpoint="closing_date", methods=["POST"])
@allow(*PROJECT)
def closing_date(survey_id: int):
    survey = _survey_or_404(survey_id)
    form = ClosingDateForm()
    today = local_today()
    if form.validate_on_submit():
        try:
            wave = move_closing_date(current_user, survey, form.wave_number(), form.closes_on.data, today)
        except NotFound:
            abort(404)
        except SurveyError as exc:
            form.closes_on.errors.append(str(exc))
        else:
            flash(_("Round %(num)d now ends on %(day)s.", num=wave.number, day=format_date(wave.closes_on, "long")),
                  "success")
            return redirect(url_for("surveys.manage", survey_id=survey_id))
    last = survey.waves[-1] if survey.waves else None
    return _manage_page(survey, WaveForm(formdata=None),
                        survey.locked and last is not None and last.status(today) == WaveStatus.CLOSED, form)


# Results ------------------------------------------------------------------------------------------------

def _fmt(value: float | None, digits: int = 1) -> str:
    from flask_babel import format_decimal

    if value is None:
        return "–"
    return format_decimal(round(value, digits), format="#,##0." + "0" * digits) if digits else format_decimal(
        round(value), format="#,##0")


def _percent(value: float | None) -> str:
    from flask_babel import format_decimal

    return "–" if value is None else format_decimal(round(100 * value), format="#,##0") + " %"


def _band(value: float | None, column) -> str:
    if value is None:
        return "heat--hidden"
    share = (value - column.low) / (column.high - column.low) if column.high != column.low else 0.5
    return f"heat--{min(4, max(0, int(share * 5))) + 1}"


def _charts(results) -> dict:
    """The ADKAR bars of the group looked at and one trend chart per kind of scale."""
    charts = {}
    wave = results.wave
    if wave is not None and results.measures.adkar and wave.adkar_shown(results.group):
        group = wave.stats(results.group)
        bars = [(construct_label(e), group.adkar.means[e]) for e in stats.ADKAR_ELEMENTS]
        charts["adkar"] = bar_chart(
            "adkar-chart", _("ADKAR element means"),
            _("Mean of each element from 1 to 5; the dashed line marks 3, at or below which an element is a barrier."),
            bars, 1, 5, stats.BARRIER_AT_OR_BELOW, _("Barrier at 3"), number=lambda v: _fmt(v, 1))
    categories = [_("Round %(num)d", num=w.wave.number) for w in results.released_waves]
    trend = results.trend()
    families: dict[tuple, list] = {}
    for column in results.columns:
        families.setdefault((column.kind if column.kind in ("readiness", "enps") else "scale", column.low,
                             column.high), []).append(column)
    titles = {"scale": _("Scores per round"), "readiness": _("Readiness index per round"),
              "enps": _("eNPS per round")}
    charts["trend"] = []
    for (kind, low, high), columns in families.items():
        series = [Series(c.label, [values[c.key] for _wave, values in trend]) for c in columns]
        if kind == "enps":
            ticks = [-100, -50, 0, 50, 100]
        elif kind == "readiness":
            ticks = [0, 25, 50, 75, 100]
        else:
            ticks = list(range(int(low), int(high) + 1))
        chart_id = f"trend-{kind}-{int(high)}"
        charts["trend"].append({
            "id": chart_id, "title": titles[kind], "columns": columns,
            "svg": line_chart(chart_id, titles[kind], _("One line per figure across the rounds of the survey; the "
                                                       "table below gives the same values."),
                              categories, series, low, high, ticks)})
    return charts


def _wave_name(wave) -> str:
    return _("Round %(num)d", num=wave.number) + (f" ({wave.label})" if wave.label else "")


def _archive_labels(results) -> dict[str, str]:
    """Readable names of the main figures of a round whose answers were deleted (the rest: in the export)."""
    labels = {"responses": _("Answers"), "response rate": _("Response rate"),
              "adkar: share ready": _("Ready (all elements 4 or more)"), "adkar: barrier point": _("Barrier")}
    labels.update({c.figure: c.label for c in results.columns})
    return labels


def _results_context(survey: Survey, results) -> dict:
    return {"survey": survey, "results": results, "fmt": _fmt, "percent": _percent, "band": _band,
            "wave_name": _wave_name, "charts": _charts(results), "archive_labels": _archive_labels}


@bp.route("/<int:survey_id>/results", endpoint="results")
@allow(*PROJECT)
def results(survey_id: int):
    survey = _survey_or_404(survey_id)
    data = survey_results(survey, int_arg("wave"), int_arg("department"),
                          today=local_today())
    departments = [(d, data.units.departments[d]) for d in data.units.department_order()]
    return render_template("surveys/results.html", departments=departments, **_results_context(survey, data))


def _export(survey_id: int, kind: str):
    survey = _survey_or_404(survey_id)
    data = survey_results(survey, today=local_today())
    record_export(current_user, survey, kind)
    filename = f"umfrage-{survey.id}-ergebnisse.{kind}"
    return download(export_csv(data) if kind == "csv" else export_xlsx(data), filename)


@bp.route("/<int:survey_id>/results.csv", endpoint="export_csv")
@allow(*PROJECT)
def export_csv_view(survey_id: int):
    return _export(survey_id, "csv")


@bp.route("/<int:survey_id>/results.xlsx", endpoint="export_xlsx")
@allow(*PROJECT)
def export_xlsx_view(survey_id: int):
    return _export(survey_id, "xlsx")


@bp.route("/<int:survey_id>/named", endpoint="named")
@allow(*PROJECT)
def named(survey_id: int):
    survey = _survey_or_404(survey_id)
    wave = survey.wave(int_arg("wave")) or survey.current_wave(local_today())
    try:
        rows = named_answers(current_user, survey, wave) if wave else []
    except NotFound:
        abort(404)
    return render_template("surveys/named.html", survey=survey, wave=wave, rows=rows, wave_name=_wave_name,
                           questions=[q for s in survey.sections for q in s.questions])


@bp.route("/<int:survey_id>/my-teams", endpoint="team_results")
@allow(Role.MANAGER)
def team_results(survey_id: int):
    survey = _survey_or_404(survey_id)
    if not survey.locked:
        abort(404)
    data = survey_results(survey, int_arg("wave"), today=local_today())
    mine = managed_team_ids(current_user)
    rows = [row for row in data.rows() if row.node[0] == "t" and row.node[2] in mine]
    # Teams without a row of their own: too small to be recorded (known only once the round is released).
    missing = sorted(mine - {row.node[2] for row in rows}) if data.wave and data.wave.released else []
    team_names = dict(db.session.execute(select(Team.id, Team.name).where(Team.id.in_(missing))).all())
    return render_template("surveys/team_results.html", team_rows=rows, ALL=ALL, team_node=team_node,
                           small_teams=[team_names[t] for t in missing if t in team_names],
                           **_results_context(survey, data))
