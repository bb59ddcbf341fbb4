"""Pages of the programme: the roadmap and phase pages for everyone; phases and FAQ for the project group."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from learning.db import unit_of_work
from learning.errors import NotFound, ServiceError, show_on_form
from learning.forms import ActionForm
from learning.i18n import local_today
from learning.org.picker import fill_picker
from learning.phases import bp
from learning.phases.forms import FaqForm, PhaseForm
from learning.phases.models import PhaseStatus, RolloutPhase
from learning.phases.services import (
    PhaseData,
    add_faq,
    department_choices,
    faq_entry,
    move_faq,
    phase_by_slug,
    phase_courses,
    remove_faq,
    roadmap,
    save_phase,
    update_faq,
)
from learning.roles import Role
from learning.security import AUTHENTICATED, allow

PROJECT = (Role.PROJECT_GROUP, Role.ADMIN)


def _locale() -> str:
    return str(get_locale() or current_app.config["DEFAULT_LOCALE"])


@bp.context_processor
def phase_helpers() -> dict:
    return {"locale": _locale(), "PhaseStatus": PhaseStatus,
            "may_manage_phases": current_user.is_authenticated and current_user.has_role(*PROJECT)}


def _phase_or_404(phase_slug: str) -> RolloutPhase:
    try:
        return phase_by_slug(phase_slug)
    except NotFound:
        abort(404)


@bp.route("/", endpoint="roadmap")
@allow(AUTHENTICATED)
def roadmap_page():
    return render_template("phases/roadmap.html", roadmap=roadmap(current_user, local_today(), _locale()))


@bp.route("/<phase_slug>")
@allow(AUTHENTICATED)
def phase(phase_slug: str):
    found = _phase_or_404(phase_slug)
    department_id = current_user.team.department_id if current_user.team_id else None
    return render_template("phases/phase.html", phase=found, courses=phase_courses(found),
                           affects_me=found.affects(department_id))


@bp.route("/new", methods=["GET", "POST"], defaults={"phase_slug": None})
@bp.route("/<phase_slug>/edit", methods=["GET", "POST"])
@allow(*PROJECT)
def edit(phase_slug: str | None):
    found = _phase_or_404(phase_slug) if phase_slug else None
    if request.method == "POST":
        form = PhaseForm()
    elif found is None:
        form = PhaseForm()
    else:
        form = PhaseForm(obj=found, department_ids=[d.id for d in found.departments],
                         contact_ids=[u.id for u in found.contacts])
    form.set_choices(department_choices(found))
    fill_picker(form.contact_ids)
    if form.contact_ids.searching:  # the person picker without JavaScript: show the matches, save nothing
        pass
    elif form.validate_on_submit():
        data = PhaseData(slug=form.slug.data, title=form.title.data, title_en=form.title_en.data,
                         period=form.period.data, status=form.status.data, go_live=form.go_live.data,
                         goals=form.goals.data or "", changes=form.changes.data or "",
                         department_ids=form.department_ids.data or [], contact_ids=form.contact_ids.data or [])
        try:
            with unit_of_work():
                saved = save_phase(found, data, current_user)
        except ServiceError as error:
            show_on_form(form, error, default="slug")
        else:
            flash(_("The phase has been saved."), "saved")
            return redirect(url_for("phases.phase", phase_slug=saved.slug))
    return render_template("phases/edit.html", form=form, phase=found)


@bp.route("/<phase_slug>/faq", methods=["GET", "POST"])
@allow(*PROJECT)
def faq(phase_slug: str):
    found = _phase_or_404(phase_slug)
    form = FaqForm()
    if form.validate_on_submit():
        try:
            with unit_of_work():
                add_faq(found, form.question.data, form.answer.data, current_user)
        except ServiceError as error:
            show_on_form(form, error, default="question")
        else:
            flash(_("The question has been added to the FAQ."), "success")
            return redirect(url_for("phases.faq", phase_slug=found.slug))
    return render_template("phases/faq.html", phase=found, form=form)


@bp.route("/<phase_slug>/faq/<int:faq_id>", methods=["GET", "POST"])
@allow(*PROJECT)
def faq_edit(phase_slug: str, faq_id: int):
    found = _phase_or_404(phase_slug)
    try:
        entry = faq_entry(found, faq_id)
    except NotFound:
        abort(404)
    form = FaqForm() if request.method == "POST" else FaqForm(obj=entry)
    if form.validate_on_submit():
        try:
            with unit_of_work():
                update_faq(entry, form.question.data, form.answer.data, current_user)
        except ServiceError as error:
            show_on_form(form, error, default="question")
        else:
            flash(_("The question has been saved."), "saved")
            return redirect(url_for("phases.faq", phase_slug=found.slug))
    return render_template("phases/faq_edit.html", phase=found, entry=entry, form=form)


@bp.route("/<phase_slug>/faq/<int:faq_id>/move", methods=["POST"])
@allow(*PROJECT)
def faq_move(phase_slug: str, faq_id: int):
    found = _phase_or_404(phase_slug)
    try:
        entry = faq_entry(found, faq_id)
    except NotFound:
        abort(404)
    if ActionForm().validate_on_submit() and request.form.get("direction") in ("up", "down"):
        with unit_of_work():
            move_faq(entry, request.form["direction"] == "up", current_user)
        flash(_("The order of the FAQ has been changed."), "success")
    return redirect(url_for("phases.faq", phase_slug=found.slug))


@bp.route("/<phase_slug>/faq/<int:faq_id>/delete", methods=["POST"])
@allow(*PROJECT)
def faq_delete(phase_slug: str, faq_id: int):
    found = _phase_or_404(phase_slug)
    try:
        entry = faq_entry(found, faq_id)
    except NotFound:
        abort(404)
    # A deliberate confirmation field: a stray POST (or a replayed form) removes nothing.
    if ActionForm().validate_on_submit() and request.form.get("confirm") == "1":
        with unit_of_work():
            remove_faq(entry, current_user)
        flash(_("The question has been removed from the FAQ."), "success")
    return redirect(url_for("phases.faq", phase_slug=found.slug))
