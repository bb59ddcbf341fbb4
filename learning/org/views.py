"""Admin pages for people, departments and teams."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from learning.auth.services import send_invitation
from learning.db import db, unit_of_work
from learning.directory.models import ExternalIdentity
from learning.errors import ServiceError, show_on_form
from learning.guards import int_arg
from learning.i18n import local_today
from learning.mail import MailError
from learning.org import bp
from learning.org.forms import ActionForm, DepartmentForm, PersonForm, TeamForm
from learning.org.models import Department, Team, User
from learning.org.people_list import PeopleFilter
from learning.org.picker import fill_picker, picker_answer
from learning.org.services import (
    PersonData,
    create_person,
    save_department,
    save_team,
    set_person_active,
    set_unit_active,
    update_person,
)
from learning.pagination import paginate
from learning.roles import Role
from learning.security import allow

PAGE_SIZE = 25


@bp.route("/")
@allow(Role.ADMIN)
def admin():
    """The administration's start page: what each admin page is for."""
    return render_template("org/admin.html")


def _all_teams():
    return db.session.scalars(
        select(Team).join(Team.department).where(Team.active)
        .order_by(Department.name, Team.name).options(joinedload(Team.department))
    ).all()


@bp.route("/people/search", endpoint="people_search")
@allow(Role.PROJECT_GROUP, Role.ADMIN)
def people_search():
    """The person picker's search (phase contacts): active people by name, with their unit; nothing else."""
    return picker_answer(request.args.get("q"))


@bp.route("/people")
@allow(Role.ADMIN)
def users():
    filters = PeopleFilter.from_args(request.args)
    query = filters.apply(select(User)).options(joinedload(User.team).joinedload(Team.department))
    page = paginate(query.order_by(User.last_name, User.first_name, User.id), per_page=PAGE_SIZE)
    departments = db.session.scalars(select(Department).order_by(Department.name)).all()
    directory = set(db.session.scalars(select(ExternalIdentity.user_id).where(
        ExternalIdentity.user_id.in_([user.id for user in page.items])))) if page.items else set()
    return render_template("org/users.html", page=page, departments=departments, filters=filters,
                           q=filters.q, department=filters.department, role=filters.role, status=filters.status,
                           password=filters.password, directory=directory, action_form=ActionForm())


def _person_data(form: PersonForm) -> PersonData:
    return PersonData(
        email=form.email.data, first_name=form.first_name.data, last_name=form.last_name.data,
        username=form.username.data or "", employee_number=form.employee_number.data,
        start_date=form.start_date.data, locale=form.locale.data or None, team_id=form.team_id.data,
        roles={Role(r) for r in form.roles.data or []}, managed_team_ids=set(form.managed_team_ids.data or []),
    )


def _warn_past_start(start, before) -> None:
    """A start date set or moved into the past is allowed (records catch up), but deserves a word."""
    from learning.onboarding.models import JOURNEY_WINDOW_DAYS

    today = local_today()
    if start is None or start == before or start >= today:
        return
    if (today - start).days <= JOURNEY_WINDOW_DAYS:
        flash(_("The start date %(date)s lies in the past. That is allowed, but onboarding tasks that were due "
                "before today show as overdue.", date=format_date(start, "long")), "warning")
    else:
        flash(_("The start date %(date)s lies in the past. That is allowed; no onboarding journey starts for a "
                "start date longer than %(days)d days ago.", date=format_date(start, "long"),
                days=JOURNEY_WINDOW_DAYS), "warning")


def _save_person(form: PersonForm, user: User | None):
    before = user.start_date if user is not None else None
    created = user is None
    try:
        with unit_of_work():
            if created:
                user = create_person(_person_data(form), current_user)
            else:
                update_person(user, _person_data(form), current_user)
    except ServiceError as exc:
        show_on_form(form, exc, default="email")
        return None
    if created:
        flash(_("%(name)s has been created.", name=user.full_name), "success")
    else:
        flash(_("The changes to %(name)s have been saved.", name=user.full_name), "saved")
    _warn_past_start(form.start_date.data, before)
    return redirect(url_for("org.user_edit", user_id=user.id))


@bp.route("/people/new", methods=["GET", "POST"])
@allow(Role.ADMIN)
def user_new():
    form = PersonForm(roles=[Role.EMPLOYEE.value])
    form.set_team_choices(_all_teams())
    if form.validate_on_submit():
        response = _save_person(form, None)
        if response:
            return response
    return render_template("org/user_form.html", form=form, user=None)


@bp.route("/people/<int:user_id>", methods=["GET", "POST"])
@allow(Role.ADMIN)
def user_edit(user_id: int):
    user = db.get_or_404(User, user_id)
    form = PersonForm(obj=user) if request.method == "GET" else PersonForm()
    if request.method == "GET":
        form.roles.data = sorted(r.value for r in user.roles)
        form.managed_team_ids.data = [t.id for t in user.managed_teams]
        form.locale.data = user.locale or ""
    form.set_team_choices(_all_teams())
    if form.validate_on_submit():
        response = _save_person(form, user)
        if response:
            return response
    return render_template("org/user_form.html", form=form, user=user, action_form=ActionForm())


@bp.route("/people/<int:user_id>/active", methods=["POST"])
@allow(Role.ADMIN)
def user_set_active(user_id: int):
    user = db.get_or_404(User, user_id)
    form = ActionForm()
    if form.validate_on_submit():
        activate = request.form.get("active") == "1"
        try:
            with unit_of_work():
                set_person_active(user, activate, current_user)
        except ServiceError as exc:
            flash(str(exc), "danger")
        else:
            flash(_("%(name)s has been reactivated.", name=user.full_name) if activate
                  else _("%(name)s has been deactivated. Their records are kept.", name=user.full_name), "success")
    return redirect(url_for("org.user_edit", user_id=user.id))


@bp.route("/people/<int:user_id>/invite", methods=["POST"])
@allow(Role.ADMIN)
def user_invite(user_id: int):
    user = db.get_or_404(User, user_id)
    if ActionForm().validate_on_submit():
        try:
            with unit_of_work():
                send_invitation(user, current_user)
        except ServiceError as exc:
            flash(str(exc), "danger")
        except MailError:
            flash(_("The email could not be sent right now. Please try again later."), "danger")
        else:
            flash(_("An email with a link to set a password has been sent to %(email)s.", email=user.email), "sent")
    return redirect(url_for("org.user_edit", user_id=user.id))


@bp.route("/units")
@allow(Role.ADMIN)
def units():
    departments = db.session.scalars(
        select(Department).order_by(Department.active.desc(), Department.name)
        .options(selectinload(Department.teams).selectinload(Team.managers))
    ).all()
    member_counts = dict(db.session.execute(
        select(User.team_id, func.count()).where(User.active, User.team_id.is_not(None)).group_by(User.team_id)
    ).all())
    return render_template("org/units.html", departments=departments, member_counts=member_counts,
                           action_form=ActionForm())


@bp.route("/units/departments/new", methods=["GET", "POST"], defaults={"department_id": None})
@bp.route("/units/departments/<int:department_id>", methods=["GET", "POST"])
@allow(Role.ADMIN)
def unit_department(department_id: int | None):
    department = db.get_or_404(Department, department_id) if department_id else None
    form = DepartmentForm(obj=department)
    if form.validate_on_submit():
        try:
            with unit_of_work():
                save_department(department, form.name.data, current_user)
        except ServiceError as exc:
            show_on_form(form, exc, default="name")
        else:
            flash(_("The department has been saved."), "saved")
            return redirect(url_for("org.units"))
    return render_template("org/department_form.html", form=form, department=department)


@bp.route("/units/teams/new", methods=["GET", "POST"], defaults={"team_id": None})
@bp.route("/units/teams/<int:team_id>", methods=["GET", "POST"])
@allow(Role.ADMIN)
def unit_team(team_id: int | None):
    team = db.get_or_404(Team, team_id) if team_id else None
    form = TeamForm(obj=team)
    if request.method == "GET":
        form.department_id.data = team.department_id if team else int_arg("department")
        form.manager_ids.data = [m.id for m in team.managers] if team else []
    form.department_id.choices = [("", _("Please choose"))] + [
        (d.id, d.name)
        for d in db.session.scalars(select(Department).where(Department.active).order_by(Department.name))
    ]
    fill_picker(form.manager_ids)
    if form.manager_ids.searching:  # the person picker without JavaScript: show the matches, save nothing
        pass
    elif form.validate_on_submit():
        try:
            with unit_of_work():
                save_team(team, form.name.data, form.department_id.data, set(form.manager_ids.data or []),
                          current_user)
        except ServiceError as exc:
            show_on_form(form, exc, default="name")
        else:
            flash(_("The team has been saved."), "saved")
            return redirect(url_for("org.units"))
    return render_template("org/team_form.html", form=form, team=team)


@bp.route("/units/<kind>/<int:unit_id>/active", methods=["POST"])
@allow(Role.ADMIN)
def unit_set_active(kind: str, unit_id: int):
    model = {"department": Department, "team": Team}.get(kind) or abort(404)
    unit = db.get_or_404(model, unit_id)
    if ActionForm().validate_on_submit():
        activate = request.form.get("active") == "1"
        try:
            with unit_of_work():
                set_unit_active(unit, activate, current_user)
        except ServiceError as exc:
            flash(str(exc), "danger")
        else:
            flash(_("%(name)s has been reactivated.", name=unit.name) if activate
                  else _("%(name)s has been deactivated.", name=unit.name), "success")
    return redirect(url_for("org.units"))


from learning.org import import_views, invite_views  # noqa: E402,F401  (the CSV upload, the bulk invitation)
