"""Project-group pages for assignment rules: list, create/edit, switch off, who is assigned."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from learning.audit.services import record_view
from learning.db import db, unit_of_work
from learning.errors import ServiceError, show_on_form
from learning.guards import int_arg
from learning.i18n import local_today
from learning.org.audience import AudienceNames
from learning.org.models import Department, Team
from learning.phases.models import RolloutPhase
from learning.roles import Role
from learning.security import allow
from learning.training import bp
from learning.training.forms import ActionForm, RuleForm
from learning.training.models import AssignmentRule, Course
from learning.training.rule_admin import (
    RuleCounts,
    RuleData,
    describe_audience,
    describe_due,
    list_rules,
    record_people_viewed,
    rule_people,
    rule_summary,
    save_rule,
    set_rule_active,
    status_counts,
)
from learning.training.rules import RuleResult

PROJECT = (Role.PROJECT_GROUP, Role.ADMIN)


def _flash_result(result: RuleResult) -> None:
    flash(_("Assignments: %(created)d created, %(updated)d updated, %(withdrawn)d withdrawn, %(kept)d kept because "
            "the person had started although no rule gives the course any more.", created=result.created,
            updated=result.updated, withdrawn=result.withdrawn, kept=result.kept_unmatched), "info")


@bp.route("/rules")
@allow(*PROJECT)
def rules():
    return render_template("training/rules/list.html", rules=list_rules(), counts=rule_summary(),
                           names=AudienceNames.load(), describe_audience=describe_audience,
                           describe_due=describe_due, empty_counts=RuleCounts())


def _form_for(rule: AssignmentRule | None) -> RuleForm:
    if request.method == "POST":
        return RuleForm()
    if rule is None:
        return RuleForm(course_id=int_arg("course"))
    form = RuleForm(course_id=rule.course_id, mandatory=rule.mandatory, due_rule=rule.due_rule or "")
    form.show_audience(rule.audience, rule.audience_values)
    return form


@bp.route("/rules/new", methods=["GET", "POST"], defaults={"rule_id": None})
@bp.route("/rules/<int:rule_id>", methods=["GET", "POST"])
@allow(*PROJECT)
def rule_edit(rule_id: int | None):
    rule = db.get_or_404(AssignmentRule, rule_id) if rule_id else None
    form = _form_for(rule)
    courses = select(Course).order_by(Course.title)
    if rule is not None:  # an archived course stays selectable for the rule that has it
        courses = courses.where((Course.archived_at.is_(None)) | (Course.id == rule.course_id))
    else:
        courses = courses.where(Course.archived_at.is_(None))
    form.set_choices(
        db.session.scalars(courses).all(),
        db.session.scalars(select(Department).where(Department.active).order_by(Department.name)).all(),
        db.session.scalars(select(Team).join(Team.department).where(Team.active)
                           .order_by(Department.name, Team.name).options(joinedload(Team.department))).all(),
        db.session.scalars(select(RolloutPhase).order_by(RolloutPhase.period, RolloutPhase.title)).all(),
        str(get_locale() or "de"),
    )
    if form.validate_on_submit():
        data = RuleData(course_id=form.course_id.data, audience=form.audience.data,
                        audience_values=form.audience_values(),
                        mandatory=form.mandatory.data, due_rule=form.due_rule.data)
        try:
            with unit_of_work():
                saved, result = save_rule(rule, data, current_user, local_today())
        except ServiceError as error:
            show_on_form(form, error, default="course_id")
        else:
            flash(_("The rule has been saved and applied."), "saved")
            _flash_result(result)
            return redirect(url_for("training.rule_edit", rule_id=saved.id))
    counts = rule_summary().get(rule.id, RuleCounts()) if rule else None
    return render_template("training/rules/form.html", form=form, rule=rule, counts=counts,
                           action_form=ActionForm())


@bp.route("/rules/<int:rule_id>/active", methods=["POST"])
@allow(*PROJECT)
def rule_set_active(rule_id: int):
    rule = db.get_or_404(AssignmentRule, rule_id)
    if ActionForm().validate_on_submit():
        activate = request.form.get("active") == "1"
        with unit_of_work():
            result = set_rule_active(rule, activate, current_user, local_today())
        flash(_("The rule has been switched on again.") if activate
              else _("The rule has been switched off. Assignments nobody has started are withdrawn unless "
                     "another rule gives the course."), "success")
        _flash_result(result)
    return redirect(url_for("training.rule_edit", rule_id=rule.id))


@bp.route("/rules/<int:rule_id>/people", endpoint="rule_people")
@allow(*PROJECT)
def rule_people_view(rule_id: int):
    rule = db.get_or_404(AssignmentRule, rule_id)
    today = local_today()
    with unit_of_work():
        record_people_viewed(rule, current_user)
        rows = rule_people(rule, today)
        record_view(current_user, "training.rule_people", rule, rule.course.title, people=len(rows))
    return render_template("training/rules/people.html", rule=rule, rows=rows, counts=status_counts(rows),
                           audience=describe_audience(rule, AudienceNames.load()), due=describe_due(rule.due_rule))
