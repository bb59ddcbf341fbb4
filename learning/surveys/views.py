"""Survey pages for everyone: my surveys and taking one.

The project group's builder is in ``builder_views``, the results pages and exports in
``result_views``: routes of the same blueprint, imported at the end of this module.
"""

from __future__ import annotations

import re

from flask import flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from learning.db import db
from learning.errors import NotFound, ServiceError
from learning.guards import int_arg
from learning.i18n import local_today
from learning.roles import Role
from learning.security import AUTHENTICATED, allow
from learning.surveys import bp, stats
from learning.surveys.figures import option_labels
from learning.surveys.forms import ActionForm
from learning.surveys.instruments import construct_label
from learning.surveys.managing import manage_list
from learning.surveys.models import KIND_LABELS, QuestionKind, Survey, WaveStatus
from learning.surveys.taking import (
    AnswerErrors,
    my_surveys,
    parse_answers,
    refusal,
    respondent_state,
    steps,
    submit_response,
)

ANSWER_KEY = re.compile(r"^q(\d{1,9})$")


def locale() -> str:
    return str(get_locale() or "de")


@bp.context_processor
def survey_helpers() -> dict:
    return {"locale": locale(), "QuestionKind": QuestionKind, "KIND_LABELS": KIND_LABELS,
            "construct_label": construct_label, "option_labels": option_labels, "WaveStatus": WaveStatus,
            "ADKAR_ELEMENTS": stats.ADKAR_ELEMENTS, "ALPHA_WARNING": stats.ALPHA_WARNING_BELOW}


@bp.app_template_global("surveys_of_phase")
def surveys_of_phase(phase) -> list:
    """For ``surveys/_phase_section.html`` on the phase page: the phase's surveys meant for the reader."""
    return [item for item in my_surveys(current_user, local_today()) if item.survey.phase_id == phase.id]


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
    state = respondent_state(current_user, survey_id, local_today())
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
    state = respondent_state(current_user, survey_id, today)
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
        except ServiceError as error:
            flash(str(error), "warning")
            return redirect(url_for("surveys.start", survey_id=survey_id))
        if errors:
            return _render_step(survey, index, raw, errors)
        return _render_step(survey, index + 1, raw)
    try:
        submit_response(current_user, survey_id, raw, today)  # a unit of work of its own, tried again if SQLite is busy
    except AnswerErrors as error:
        first = next(i for i, page in enumerate(pages) if {q.id for q in page.questions} & set(error.errors))
        return _render_step(survey, first, raw, error.errors)
    except NotFound:
        raise
    except ServiceError as error:
        flash(str(error), "warning")
        return redirect(url_for("surveys.start", survey_id=survey_id))
    flash(_("Thank you! Your answers have been saved.") + " " + (
        _("They are stored without your name.") if survey.anonymous else _("They are stored with your name.")),
        "success")
    return redirect(url_for("surveys.index"))


# The project group's builder and rounds, the results pages: routes of the same blueprint.
from learning.surveys import builder_views, result_views  # noqa: E402,F401,I001
