"""Project-group pages for assignment rules: list, create/edit, switch off, who is assigned."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from learning.audit.services import record_view
from learning.db import db
from learning.guards import int_arg
from learning.i18n import local_today
from learning.org.models import Department, Role, Team
from learning.phases.models import RolloutPhase
from learning.security import allow
from learning.training import bp
from learning.training.forms import ActionForm, RuleForm
from learning.training.models import AssignmentRule, AudienceKind, Course
from learning.training.rules import (
    AudienceNames,
    RuleCounts,
    RuleData,
    RuleError,
    RuleResult,
    describe_due,
    list_rules,
    rule_people,
    rule_summary,
    save_rule,
    set_rule_active,
    status_counts,
)

PROJECT = (Role.PROJECT_GROUP, Role.ADMIN)


def _flash_result(result: RuleResult) -> None:
    flash(_("Assignments: %(created)d created, %(updated)d updated, %(withdrawn)d withdrawn, %(kept)d kept because "
            "the person had started although no rule gives the course any more.", created=result.created,
            updated=result.updated, withdrawn=result.withdrawn, kept=result.kept_unmatched), "info")


@bp.route("/rules")
@allow(*PROJECT)
def rules():
    return render_template("training/rules/list.html", rules=list_rules(), counts=rule_summary(),
                           names=AudienceNames.load(), describe_due=describe_due,
                           empty_counts=RuleCounts())


def _form_for(rule: AssignmentRule | None) -> RuleForm:
    if request.method == "POST":
        return RuleForm()
    if rule is None:
        return RuleForm(course_id=int_arg("course"))
    values = rule.audience_values or []
    form = RuleForm(course_id=rule.course_id, audience=rule.audience, mandatory=rule.mandatory,
                    due_rule=rule.due_rule or "")
    if rule.audience == AudienceKind.DEPARTMENTS:
        form.department_ids.data = list(values)
    elif rule.audience == AudienceKind.TEAMS:
        form.team_ids.data = list(values)
    elif rule.audience == AudienceKind.ROLES:
        form.roles.data = list(values)
    elif rule.audience == AudienceKind.PHASE and values:
        form.phase_id.data = values[0]
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
        data = RuleData(course_id=form.course_id.data, audience=form.audience.data, audience_values=form.values(),
                        mandatory=form.mandatory.data, due_rule=form.due_rule.data)
        try:
            saved, result = save_rule(rule, data, current_user, local_today())
        except RuleError as exc:
            db.session.rollback()
            target = form[exc.field] if exc.field and exc.field in form else form.course_id
            target.errors = [*target.errors, str(exc)]
        else:
            flash(_("The rule has been saved and applied."), "success")
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
    rows = rule_people(rule, current_user, today)
    record_view(current_user, "training.rule_people", rule, rule.course.title, people=len(rows))
    return render_template("training/rules/people.html", rule=rule, rows=rows, counts=status_counts(rows),
                           audience=AudienceNames.load().describe(rule), due=describe_due(rule.due_rule))
