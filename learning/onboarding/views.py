"""Onboarding pages: my first weeks, my onboarding tasks, a journey, the overview and the templates."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select

from learning.charts import stacked_bars
from learning.db import db, unit_of_work
from learning.errors import NotAllowed, NotFound, ServiceError, show_on_form
from learning.guards import page_arg
from learning.i18n import local_today
from learning.onboarding import bp
from learning.onboarding.access import is_programme, managers_see_journeys
from learning.onboarding.forms import ActionForm, BuddyForm, TaskForm, TemplateForm
from learning.onboarding.journeys import buddy_journeys, journey_of, journey_page, my_journey, team_journeys
from learning.onboarding.models import (
    OFFSET_MAX,
    OFFSET_MIN,
    OWNER_LABELS,
    STAGE_LABELS,
    JourneyStatus,
    JourneyTemplate,
    OwnerRole,
    Stage,
)
from learning.onboarding.overview import overview
from learning.onboarding.tasks import buddy_candidates, my_tasks, set_buddy, set_task_done
from learning.onboarding.templates import (
    TaskData,
    TemplateData,
    apply_current_version,
    apply_plan,
    create_template,
    describe_offset,
    list_templates,
    remove_template_task,
    save_template_task,
    set_template_active,
    template_for,
    template_task,
    update_template,
)
from learning.org.models import Department, User
from learning.org.picker import fill_picker, picker_answer
from learning.roles import Role
from learning.security import AUTHENTICATED, allow, is_safe_redirect
from learning.training.models import Course

PROGRAMME = (Role.PROJECT_GROUP, Role.ADMIN)
STATUS_BADGES = {JourneyStatus.ON_TRACK: "info", JourneyStatus.BEHIND: "danger", JourneyStatus.DONE: "success",
                 JourneyStatus.CLOSED: "warning"}


def _locale() -> str:
    return str(get_locale() or current_app.config["DEFAULT_LOCALE"])


@bp.app_template_global("onboarding_content_lang")
def content_lang() -> Markup:
    """` lang="de"` on text authored in the organisation's language when the page is in another one."""
    authored = current_app.config["DEFAULT_LOCALE"]
    return Markup(' lang="%s"') % authored if _locale() != authored else Markup("")


@bp.context_processor
def onboarding_helpers() -> dict:
    return {"OWNER_LABELS": OWNER_LABELS, "STAGE_LABELS": STAGE_LABELS, "JourneyStatus": JourneyStatus,
            "STATUS_BADGES": STATUS_BADGES, "describe_offset": describe_offset,
            "content_lang": content_lang, "programme": is_programme(current_user), "OwnerRole": OwnerRole,
            "locale": _locale()}


@bp.app_template_global("onboarding_journey_of")
def onboarding_journey_of(user: User):
    """For the person's admin page: their journey, if any."""
    return journey_of(user.id)


# The people taking part ---------------------------------------------------------------------


@bp.route("/", endpoint="index")
@allow(AUTHENTICATED)
def index():
    """What concerns the person: their own journey, their tasks, their teams' new hires, the figures."""
    today = local_today()
    user = current_user
    context = {"journey": my_journey(user, today), "tasks": my_tasks(user, today, show="open", per_page=5),
               "buddy_of": buddy_journeys(user, today)}
    if user.has_role(Role.MANAGER):
        context["team"] = team_journeys(user, today)
        context["see_all"] = managers_see_journeys()
    return render_template("onboarding/index.html", **context)


@bp.route("/my-journey", endpoint="my_journey")
@allow(AUTHENTICATED)
def my_journey_view():
    """“My first weeks”: the new hire's own journey."""
    page = my_journey(current_user, local_today())
    return render_template("onboarding/my_journey.html", page=page, action_form=ActionForm())


@bp.route("/tasks", endpoint="my_tasks")
@allow(AUTHENTICATED)
def my_tasks_view():
    show = request.args.get("show", "open")
    tasks = my_tasks(current_user, local_today(), show=show, page=page_arg())
    return render_template("onboarding/my_tasks.html", tasks=tasks, action_form=ActionForm())


def _journey_page_or_404(journey_id: int):
    try:
        return journey_page(current_user, journey_id, local_today())
    except NotFound:
        abort(404)


def _offer_buddies(form: BuddyForm, page) -> None:
    """The buddy picker: the people chosen or found among the candidates; without a search, the same team."""
    candidates = buddy_candidates(page.journey, page.today)
    fill_picker(form.buddy_id, within=candidates.ids, suggested=candidates.suggested)


def _render_journey(page, buddy_form: BuddyForm | None = None):
    if buddy_form is None and page.who.manages and not page.journey.is_closed:
        buddy_form = BuddyForm(formdata=None, buddy_id=page.journey.buddy_id)
        _offer_buddies(buddy_form, page)
    return render_template("onboarding/journey.html", page=page, buddy_form=buddy_form, action_form=ActionForm())


@bp.route("/journeys/<int:journey_id>", endpoint="journey")
@allow(AUTHENTICATED)
def journey_view(journey_id: int):
    return _render_journey(_journey_page_or_404(journey_id))


@bp.route("/journeys/<int:journey_id>/buddy", endpoint="set_buddy", methods=["POST"])
@allow(AUTHENTICATED)
def set_buddy_action(journey_id: int):
    page = _journey_page_or_404(journey_id)
    if not page.who.manages or page.journey.is_closed:
        flash(_("Only a manager of the new hire can choose the buddy."), "warning")
        return redirect(url_for("onboarding.journey", journey_id=journey_id))
    form = BuddyForm()
    _offer_buddies(form, page)
    if form.buddy_id.searching:  # the person picker without JavaScript: show the matches, save nothing
        return _render_journey(page, form), 200
    if form.validate_on_submit():
        try:
            with unit_of_work():
                journey = set_buddy(current_user, journey_id, form.buddy_id.person_id)
        except NotAllowed as exc:
            flash(str(exc), "warning")
        except ServiceError as exc:
            show_on_form(form, exc, default="buddy_id")
            return _render_journey(page, form), 200
        else:
            if journey.buddy is not None:
                flash(_("%(buddy)s is now the buddy of %(name)s and has been told by mail.",
                        buddy=journey.buddy.full_name, name=journey.new_hire.full_name), "success")
            else:
                flash(_("%(name)s has no buddy now.", name=journey.new_hire.full_name), "success")
        return redirect(url_for("onboarding.journey", journey_id=journey_id, _anchor="buddy"))
    if not form.buddy_id.errors:
        form.buddy_id.errors = [_("Please choose a colleague from the list.")]
    return _render_journey(page, form), 200


@bp.route("/journeys/<int:journey_id>/buddy-candidates", endpoint="buddy_search")
@allow(AUTHENTICATED)
def buddy_search(journey_id: int):
    """The buddy picker's search: candidates of this journey by name and unit; nobody for those who do not choose."""
    page = _journey_page_or_404(journey_id)
    within = buddy_candidates(page.journey, page.today).ids if page.who.manages and not page.journey.is_closed else ()
    return picker_answer(request.args.get("q"), within=within)


def _back_to_task(task_id: int):
    target = request.form.get("next")
    if not is_safe_redirect(target):
        target = url_for("onboarding.index")
    return redirect(f"{target.split('#', 1)[0]}#task-{task_id}")


def _tick(task_id: int, done: bool):
    if ActionForm().validate_on_submit():
        try:
            with unit_of_work():
                task = set_task_done(current_user, task_id, done, local_today())
        except NotFound:
            abort(404)
        except NotAllowed as exc:
            flash(str(exc), "warning")
        else:
            if done:
                flash(_("“%(title)s” is done. Thank you!", title=task.title), "success")
            else:
                flash(_("“%(title)s” is open again.", title=task.title), "success")
    return _back_to_task(task_id)


@bp.route("/tasks/<int:journey_task_id>/done", endpoint="task_done", methods=["POST"])
@allow(AUTHENTICATED)
def task_done(journey_task_id: int):
    return _tick(journey_task_id, True)


@bp.route("/tasks/<int:journey_task_id>/reopen", endpoint="task_reopen", methods=["POST"])
@allow(AUTHENTICATED)
def task_reopen(journey_task_id: int):
    return _tick(journey_task_id, False)


# The project group ------------------------------------------------------------------------


@bp.route("/overview", endpoint="overview")
@allow(*PROGRAMME)
def overview_view():
    figures = overview(local_today())
    chart = stacked_bars([(d.name, [("on-track", d.on_track), ("behind", d.behind), ("done", d.done)])
                          for d in figures.departments],
                         [("on-track", _("On track")), ("behind", _("Behind")), ("done", _("Done"))])
    return render_template("onboarding/overview.html", overview=figures, chart=chart)


@bp.route("/templates", endpoint="templates")
@allow(*PROGRAMME)
def templates_view():
    return render_template("onboarding/templates.html", rows=list_templates())


def _template_or_404(template_id: int) -> JourneyTemplate:
    try:
        return template_for(template_id)
    except NotFound:
        abort(404)


def _template_form(form: TemplateForm, template: JourneyTemplate | None, with_copy: bool) -> TemplateForm:
    departments = db.session.scalars(select(Department).where(Department.active).order_by(Department.name)).all()
    people = db.session.scalars(select(User).where(User.active).order_by(User.last_name, User.first_name)).all()
    templates = None
    if with_copy:
        templates = db.session.scalars(select(JourneyTemplate).order_by(JourneyTemplate.department_id.is_not(None),
                                                                        JourneyTemplate.name)).all()
    form.set_choices(departments, people, templates)
    return form


def _template_data(form: TemplateForm) -> TemplateData:
    return TemplateData(name=form.name.data or "", department_id=form.department_id.data,
                        description=form.description.data or "", it_contact_id=form.it_contact_id.data)


@bp.route("/templates/new", endpoint="template_new", methods=["GET", "POST"])
@allow(*PROGRAMME)
def template_new():
    form = _template_form(TemplateForm(), None, with_copy=True)
    if request.method == "GET":
        default = next((t for t in form.copy_from.choices[1:]), None)
        form.copy_from.data = default[0] if default else None
    if form.validate_on_submit():
        try:
            with unit_of_work():
                template = create_template(current_user, _template_data(form), form.copy_from.data)
        except ServiceError as exc:
            show_on_form(form, exc, default="name")
        else:
            flash(_("The template “%(name)s” has been created.", name=template.name), "success")
            return redirect(url_for("onboarding.template", journey_template_id=template.id))
    return render_template("onboarding/template_form.html", form=form, template=None)


@bp.route("/templates/<int:journey_template_id>", endpoint="template")
@allow(*PROGRAMME)
def template_view(journey_template_id: int):
    template = _template_or_404(journey_template_id)
    stages = [(stage, [t for t in template.tasks if t.stage == stage]) for stage in Stage]
    return render_template("onboarding/template.html", template=template,
                           stages=[(s, tasks) for s, tasks in stages if tasks],
                           plan=apply_plan(template, local_today()), action_form=ActionForm())


@bp.route("/templates/<int:journey_template_id>/settings", endpoint="template_settings", methods=["GET", "POST"])
@allow(*PROGRAMME)
def template_settings(journey_template_id: int):
    template = _template_or_404(journey_template_id)
    form = _template_form(TemplateForm(obj=template) if request.method == "GET" else TemplateForm(), template,
                          with_copy=False)
    if form.validate_on_submit():
        try:
            with unit_of_work():
                update_template(current_user, template, _template_data(form))
        except ServiceError as exc:
            show_on_form(form, exc, default="name")
        else:
            flash(_("The template has been saved."), "success")
            return redirect(url_for("onboarding.template", journey_template_id=template.id))
    return render_template("onboarding/template_form.html", form=form, template=template)


def _task_form(form: TaskForm) -> TaskForm:
    courses = db.session.scalars(select(Course).where(Course.archived_at.is_(None)).order_by(Course.title)).all()
    form.set_choices(courses, _locale())
    return form


@bp.route("/templates/<int:journey_template_id>/tasks/new", endpoint="template_task_new", methods=["GET", "POST"],
          defaults={"template_task_key": None})
@bp.route("/templates/<int:journey_template_id>/tasks/<template_task_key>", endpoint="template_task",
          methods=["GET", "POST"])
@allow(*PROGRAMME)
def template_task_view(journey_template_id: int, template_task_key: str | None):
    template = _template_or_404(journey_template_id)
    task = None
    if template_task_key is not None:
        try:
            task = template_task(template, template_task_key)
        except NotFound:
            abort(404)
    if request.method == "GET":
        form = TaskForm(obj=task) if task else TaskForm(owner_role=OwnerRole.NEW_HIRE.value, offset_days=0)
    else:
        form = TaskForm()
    _task_form(form)
    if form.validate_on_submit():
        data = TaskData(title=form.title.data or "", owner_role=form.owner_role.data,
                        offset_days=form.offset_days.data, description=form.description.data or "",
                        course_id=form.course_id.data)
        try:
            with unit_of_work():
                save_template_task(current_user, template, template_task_key, data)
        except NotFound:
            abort(404)
        except ServiceError as exc:
            show_on_form(form, exc, default="title")
        else:
            flash(_("The task has been saved. The template is now at version %(version)d; running journeys keep "
                    "their tasks until you apply the new version.", version=template.version), "success")
            return redirect(url_for("onboarding.template", journey_template_id=template.id))
    return render_template("onboarding/task_form.html", form=form, template=template, task=task,
                           action_form=ActionForm(), offset_min=OFFSET_MIN, offset_max=OFFSET_MAX)


@bp.route("/templates/<int:journey_template_id>/tasks/<template_task_key>/remove", endpoint="template_task_remove",
          methods=["POST"])
@allow(*PROGRAMME)
def template_task_remove(journey_template_id: int, template_task_key: str):
    template = _template_or_404(journey_template_id)
    if ActionForm().validate_on_submit():
        try:
            with unit_of_work():
                remove_template_task(current_user, template, template_task_key)
        except NotFound:
            abort(404)
        flash(_("The task has been removed from the template. Running journeys keep it until you apply the new "
                "version."), "success")
    return redirect(url_for("onboarding.template", journey_template_id=template.id))


@bp.route("/templates/<int:journey_template_id>/apply", endpoint="template_apply", methods=["GET", "POST"])
@allow(*PROGRAMME)
def template_apply(journey_template_id: int):
    template = _template_or_404(journey_template_id)
    today = local_today()
    if request.method == "POST" and ActionForm().validate_on_submit():
        with unit_of_work():
            plan = apply_current_version(current_user, template, today)
        if plan.anything:
            flash(_("Version %(version)d now applies to %(journeys)d running journeys.", version=template.version,
                    journeys=plan.journeys), "success")
        else:
            flash(_("All running journeys already use the current version."), "info")
        return redirect(url_for("onboarding.template", journey_template_id=template.id))
    return render_template("onboarding/apply.html", template=template, plan=apply_plan(template, today),
                           action_form=ActionForm())


@bp.route("/templates/<int:journey_template_id>/active", endpoint="template_set_active", methods=["POST"])
@allow(*PROGRAMME)
def template_set_active(journey_template_id: int):
    template = _template_or_404(journey_template_id)
    if ActionForm().validate_on_submit():
        active = request.form.get("active") == "1"
        try:
            with unit_of_work():
                set_template_active(current_user, template, active)
        except ServiceError as exc:
            flash(str(exc), "warning")
        else:
            flash(_("The template is in use again for new staff.") if active
                  else _("The template is switched off. New staff get the default template instead."), "success")
    return redirect(url_for("onboarding.template", journey_template_id=template.id))
