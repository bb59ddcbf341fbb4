"""Announcement pages: reading and acknowledging, the personal feed, and the project group's desk."""

from __future__ import annotations

from contextlib import suppress
from datetime import date, datetime

from flask import abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import get_locale, to_user_timezone
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from learning.announcements import bp
from learning.announcements.feed import build_feed
from learning.announcements.forms import ActionForm, AnnouncementForm, format_local, parse_local
from learning.announcements.models import Announcement, AnnouncementStatus  # registers the tables
from learning.announcements.services import (
    MAX_BODY,
    AnnouncementData,
    Publication,
    acknowledge,
    acknowledgement_report,
    announcement_for,
    announcement_for_manager,
    create_announcement,
    feed_owner,
    feed_token_of,
    home_announcements,
    manage_list,
    render_body,
    renew_feed_token,
    set_withdrawn,
    unacknowledged_people,
    update_announcement,
    visible_announcements,
)
from learning.audit.services import record_view
from learning.db import db, unit_of_work, utcnow
from learning.errors import NotFound, ServiceError, show_on_form
from learning.guards import int_arg
from learning.org.audience import AudienceNames
from learning.org.models import Department, Team
from learning.pagination import paginate
from learning.phases.models import RolloutPhase
from learning.roles import Role
from learning.security import AUTHENTICATED, PUBLIC, allow, is_safe_redirect

PROJECT = (Role.PROJECT_GROUP, Role.ADMIN)
PER_PAGE = 20


def _locale() -> str:
    return str(get_locale() or current_app.config["DEFAULT_LOCALE"])


def phase_title(phase: RolloutPhase | None) -> str:
    if phase is None:
        return _("Whole programme")
    return (phase.title_en or phase.title) if _locale() == "en" else phase.title


def local_day(value: datetime | None) -> date | None:
    """The calendar day of a stored UTC time in the organisation's time zone."""
    return to_user_timezone(value).date() if value else None


@bp.app_context_processor
def announcement_helpers() -> dict:
    """Helpers for the home page and the phase page; they query only when called."""

    def for_home():
        if not current_user.is_authenticated:
            return None
        return home_announcements(current_user)

    def for_phase(phase):
        if not current_user.is_authenticated or phase is None:
            return []
        return visible_announcements(current_user, phase_id=phase.id)

    return {"home_announcements": for_home, "phase_announcements": for_phase,
            "announcement_phase_title": phase_title, "announcement_day": local_day}


def render_version(version) -> Markup:
    """An earlier version's text, as stored when it was saved."""
    return Markup(version.body_html)


@bp.context_processor
def page_helpers() -> dict:
    return {"Status": AnnouncementStatus, "render_version": render_version}


def _feed_url(token: str) -> str:
    return current_app.config["BASE_URL"] + url_for("announcements.feed", feed_token=token)


# Reading --------------------------------------------------------------------------------------

@bp.route("/", endpoint="index")
@allow(AUTHENTICATED)
def index_page():
    items = visible_announcements(current_user)
    token = feed_token_of(current_user)
    return render_template("announcements/index.html", page=paginate(items, per_page=PER_PAGE),
                           unacknowledged=sum(i.needs_ack for i in items),
                           feed_url=_feed_url(token.token) if token else None, form=ActionForm())


@bp.route("/<int:announcement_id>", endpoint="detail")
@allow(AUTHENTICATED)
def detail_page(announcement_id: int):
    try:
        item = announcement_for(current_user, announcement_id)
    except NotFound:
        abort(404)
    return render_template("announcements/detail.html", item=item, announcement=item.announcement,
                           body=Markup(item.announcement.body_html), form=ActionForm())


@bp.route("/<int:announcement_id>/acknowledge", endpoint="acknowledge", methods=["POST"])
@allow(AUTHENTICATED)
def acknowledge_action(announcement_id: int):
    back = request.form.get("next")
    target = back if is_safe_redirect(back) else url_for("announcements.detail", announcement_id=announcement_id)
    if not ActionForm().validate_on_submit():
        flash(_("Your form has expired. Please try again."), "warning")
        return redirect(target)
    recorded = False
    try:
        # A second click in another tab got there first: that one counts.
        with suppress(IntegrityError), unit_of_work():
            recorded = acknowledge(current_user, announcement_id)
    except NotFound:
        abort(404)
    except ServiceError as error:
        flash(str(error), "warning")
    else:
        flash(_("Thank you: you have confirmed that you have read and understood the announcement.") if recorded
              else _("You had already confirmed this announcement."), "success")
    return redirect(target)


# The personal feed ----------------------------------------------------------------------------

@bp.route("/feed/<feed_token>.atom", endpoint="feed")
@allow(PUBLIC)
def feed_document(feed_token: str):
    """Atom feed of one person's announcements; the secret token in the address identifies the person."""
    owner = feed_owner(feed_token)
    if owner is None:
        abort(404)
    base_url = current_app.config["BASE_URL"]
    document = build_feed(
        title=_("Announcements for %(name)s", name=owner.full_name),
        subtitle=_("Change announcements of the digital transformation"),
        author=_("Project group digital transformation"), base_url=base_url,
        feed_url=_feed_url(feed_token), page_url=base_url + url_for("announcements.index"), owner_id=owner.id,
        items=visible_announcements(owner, with_versions=True),
        link_for=lambda announcement_id: base_url + url_for("announcements.detail",
                                                            announcement_id=announcement_id),
        language=_locale(),
    )
    response = current_app.response_class(document, mimetype="application/atom+xml")
    response.headers["Cache-Control"] = "private, max-age=300"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


@bp.route("/feed/renew", endpoint="renew_feed", methods=["POST"])
@allow(AUTHENTICATED)
def renew_feed_action():
    if ActionForm().validate_on_submit():
        had_one = feed_token_of(current_user) is not None
        with unit_of_work():
            renew_feed_token(current_user)
        flash(_("Your feed has a new address. The old address no longer works.") if had_one
              else _("Your personal feed address has been created."), "success")
    return redirect(url_for("announcements.index") + "#feed")


# The project group's desk ---------------------------------------------------------------------

@bp.route("/manage", endpoint="manage")
@allow(*PROJECT)
def manage_page():
    return render_template("announcements/manage/list.html", rows=manage_list(), names=AudienceNames.load())


def _form_for(announcement: Announcement | None) -> AnnouncementForm:
    if request.method == "POST":
        return AnnouncementForm()
    if announcement is None:
        return AnnouncementForm(phase_id=int_arg("phase"))
    # Judged by publish_at alone, so that a withdrawn draft is not published by saving it.
    if announcement.publish_at is None:
        publication = Publication.DRAFT
    elif announcement.publish_at > utcnow():
        publication = Publication.SCHEDULE
    else:
        publication = Publication.NOW
    form = AnnouncementForm(
        title=announcement.title, body=announcement.body, phase_id=announcement.phase_id,
        pinned=announcement.pinned, requires_ack=announcement.requires_ack,
        publication=publication,
        publish_at=format_local(announcement.publish_at, current_app.config["TIMEZONE"])
        if publication == Publication.SCHEDULE else "",
    )
    form.show_audience(announcement.audience, announcement.audience_values)
    return form


def _choices(form: AnnouncementForm) -> None:
    form.set_choices(
        db.session.scalars(select(RolloutPhase).order_by(RolloutPhase.period, RolloutPhase.title)).all(),
        db.session.scalars(select(Department).where(Department.active).order_by(Department.name)).all(),
        db.session.scalars(select(Team).join(Team.department).where(Team.active)
                           .order_by(Department.name, Team.name).options(joinedload(Team.department))).all(),
        _locale(),
    )


def _data(form: AnnouncementForm) -> AnnouncementData:
    return AnnouncementData(
        title=form.title.data or "", body=form.body.data or "", phase_id=form.phase_id.data,
        audience=form.audience.data, audience_values=form.audience_values(), publication=form.publication.data,
        publish_at=parse_local(form.publish_at.data, current_app.config["TIMEZONE"]), pinned=form.pinned.data,
        requires_ack=form.requires_ack.data, change_kind=form.change_kind.data or None,
        reason=form.reason.data or "",
    )


def _edit(announcement: Announcement | None):
    form = _form_for(announcement)
    _choices(form)
    preview = None
    if request.method == "POST" and "preview" in request.form:
        # A preview saves nothing: it shows the text exactly as it will be published.
        form.validate()
        csrf_errors = form.csrf_token.errors if hasattr(form, "csrf_token") else []
        for field in form:
            field.errors = [] if field.name != "csrf_token" else field.errors
        if not csrf_errors:
            preview = render_body((form.body.data or "")[:MAX_BODY])
    elif form.validate_on_submit():
        try:
            with unit_of_work():
                if announcement is None:
                    saved = create_announcement(_data(form), current_user)
                else:
                    saved = update_announcement(announcement, _data(form), current_user)
        except ServiceError as error:
            show_on_form(form, error, default="title")
        else:
            flash(_("The announcement has been saved.") if announcement is None
                  else _("The changes have been saved."), "saved")
            return redirect(url_for("announcements.manage_detail", announcement_id=saved.id))
    published = announcement is not None and announcement.publish_at is not None and announcement.publish_at <= utcnow()
    return render_template("announcements/manage/form.html", form=form, announcement=announcement,
                           preview=preview, published=published)


@bp.route("/manage/new", endpoint="manage_new", methods=["GET", "POST"])
@allow(*PROJECT)
def create_page():
    return _edit(None)


@bp.route("/manage/<int:announcement_id>/edit", endpoint="manage_edit", methods=["GET", "POST"])
@allow(*PROJECT)
def edit_page(announcement_id: int):
    announcement = announcement_for_manager(announcement_id)
    if announcement is None:
        abort(404)
    return _edit(announcement)


@bp.route("/manage/preview", endpoint="manage_preview", methods=["POST"])
@allow(*PROJECT)
def preview_fragment():
    """The sanitised rendering of a Markdown text, for the live preview (progressive enhancement)."""
    if not ActionForm().validate_on_submit():
        return jsonify(html=""), 400
    return jsonify(html=str(render_body((request.form.get("body") or "")[:MAX_BODY])))


@bp.route("/manage/<int:announcement_id>", endpoint="manage_detail")
@allow(*PROJECT)
def manage_detail_page(announcement_id: int):
    announcement = announcement_for_manager(announcement_id)
    if announcement is None:
        abort(404)
    return render_template(
        "announcements/manage/detail.html", announcement=announcement, status=announcement.status(),
        body=Markup(announcement.body_html), report=acknowledgement_report(announcement),
        audience=AudienceNames.load().describe(announcement.audience, announcement.audience_values),
        names_allowed=current_app.config["SHOW_UNACKNOWLEDGED_NAMES"], form=ActionForm(),
    )


@bp.route("/manage/<int:announcement_id>/unacknowledged", endpoint="manage_unacknowledged")
@allow(*PROJECT)
def unacknowledged_page(announcement_id: int):
    announcement = announcement_for_manager(announcement_id)
    if announcement is None:
        abort(404)
    allowed = current_app.config["SHOW_UNACKNOWLEDGED_NAMES"]
    people = None
    if allowed:
        with unit_of_work():  # the look is audit-logged before the names are shown
            people = unacknowledged_people(announcement, current_user, allowed)
            record_view(current_user, "announcements.unacknowledged", announcement, announcement.title[:200],
                        people=len(people))
    return render_template("announcements/manage/unacknowledged.html", announcement=announcement, people=people)


@bp.route("/manage/<int:announcement_id>/withdraw", endpoint="manage_withdraw", methods=["POST"])
@allow(*PROJECT)
def withdraw_action(announcement_id: int):
    announcement = db.get_or_404(Announcement, announcement_id)
    action = request.form.get("action")
    if ActionForm().validate_on_submit() and action in {"withdraw", "restore"}:
        with unit_of_work():
            set_withdrawn(announcement, action == "withdraw", current_user)
        flash(_("The announcement has been withdrawn. Nobody sees it any more.") if action == "withdraw"
              else _("The announcement is visible again."), "success")
    else:
        flash(_("Nothing was changed. Please use the buttons on this page."), "warning")
    return redirect(url_for("announcements.manage_detail", announcement_id=announcement.id))
