"""Home page per role, own account, language switch, health check, accessibility statement."""


from flask import current_app, jsonify, redirect, render_template, session, url_for
from flask_login import current_user
from sqlalchemy import text

from learning.auth.devices import devices_of, idle_days
from learning.config import SUPPORTED_LOCALES
from learning.db import db, unit_of_work
from learning.forms import ActionForm
from learning.home import bp
from learning.home.forms import LanguageForm
from learning.home.panels import panels_for
from learning.home.services import managed_teams, my_colleagues, org_figures, recent_audit
from learning.home.upnext import next_items
from learning.i18n import local_today
from learning.pagecache import per_person_page
from learning.roles import Role
from learning.security import AUTHENTICATED, PUBLIC, allow, redirect_back
from learning.training.services import my_learning


def _shows_only_own_data() -> bool:
    """An employee's home shows their own data and what everybody sees; managers' homes show others'."""
    return not current_user.has_role(Role.MANAGER, Role.PROJECT_GROUP, Role.ADMIN)


@bp.route("/")
@allow(AUTHENTICATED)
@per_person_page(when=_shows_only_own_data)
def index():
    user = current_user
    today = local_today()
    context = {"next": next_items(user, today), "my_team": my_colleagues(user),
               "learning": my_learning(user, today), "panels": panels_for(user, today)}
    if user.has_role(Role.MANAGER):
        context["managed"] = managed_teams(user)
    if user.has_role(Role.PROJECT_GROUP, Role.ADMIN):
        context["figures"] = org_figures(today)
    if user.has_role(Role.ADMIN):
        context["audit"] = recent_audit()
    return render_template("home/index.html", **context)


@bp.route("/account")
@allow(AUTHENTICATED)
def account():
    return render_template("home/account.html", team=my_colleagues(current_user),
                           language_form=LanguageForm(language=current_user.locale or ""),
                           devices=devices_of(current_user), device_idle_days=idle_days(), device_form=ActionForm())


@bp.route("/language", methods=["POST"])
@allow(PUBLIC)
def switch_language():
    form = LanguageForm()
    if form.validate_on_submit():
        chosen = form.language.data
        if chosen in SUPPORTED_LOCALES:
            session["locale"] = chosen
            if current_user.is_authenticated:
                with unit_of_work():
                    current_user.locale = chosen
    return redirect_back(form.next.data)


@bp.route("/healthz")
@allow(PUBLIC)
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
        database = "ok"
    except Exception as exc:  # the point of the check is to report any failure
        current_app.logger.warning("Health check: database unavailable: %s", exc)
        db.session.rollback()
        database = "unavailable"
    status = 200 if database == "ok" else 503
    return jsonify(status="ok" if status == 200 else "degraded", app="ok", database=database), status


@bp.route("/accessibility")
@allow(PUBLIC)
def accessibility():
    return render_template("home/accessibility.html")


@bp.route("/glossary")
@allow(AUTHENTICATED)
def glossary():
    """Plain-language explanations of the survey and dashboard terms (``ui.term`` links here)."""
    return render_template("home/glossary.html")


@bp.route("/favicon.ico")
@allow(PUBLIC)
def favicon():
    return redirect(url_for("static", filename="img/favicon.svg"), code=301)

