"""Feedback channel pages: overview, channel, post, writing, voting, answering and moderating."""

from __future__ import annotations

from datetime import date, datetime

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import to_user_timezone
from flask_login import current_user

from learning.db import unit_of_work
from learning.errors import NotAllowed, NotFound, ServiceError, show_on_form
from learning.extensions import comment_limit, post_limit, vote_limit
from learning.feedback import bp
from learning.feedback.forms import ActionForm, AnswerForm, CommentForm, HideForm, PostForm
from learning.feedback.models import HIDDEN, KIND_LABELS, STATUS_LABELS, FeedbackPost, PostKind, PostStatus
from learning.feedback.services import (
    SORTS,
    allowed_transitions,
    answer,
    channel_for,
    channel_page,
    channels,
    comment,
    create_post,
    hide,
    is_moderator,
    post_for,
    post_state,
    subscribe,
    top_open_posts,
    unhide,
    unsubscribe,
    vote,
    you_said_we_did,
)
from learning.guards import page_arg
from learning.phases.models import RolloutPhase
from learning.roles import Role
from learning.security import AUTHENTICATED, allow

MODERATORS = (Role.PROJECT_GROUP, Role.ADMIN)


def phase_title(phase: RolloutPhase) -> str:
    from flask_babel import get_locale

    return phase.title_en if str(get_locale()) == "en" and phase.title_en else phase.title


@bp.app_template_global("feedback_top_posts")
def feedback_top_posts(phase: RolloutPhase, limit: int = 3) -> dict:
    """For ``feedback/_phase_section.html`` on the phase page: the phase's most-voted open posts."""
    return top_open_posts(phase, limit)


def local_day(value: datetime | None) -> date | None:
    """The calendar day of a stored UTC time in the organisation's time zone."""
    return to_user_timezone(value).date() if value else None


@bp.context_processor
def channel_helpers() -> dict:
    return {"KIND_LABELS": KIND_LABELS, "STATUS_LABELS": STATUS_LABELS, "HIDDEN": HIDDEN,
            "phase_title": phase_title, "local_day": local_day, "moderator": is_moderator(current_user)}


def _channel_or_404(channel: str) -> RolloutPhase:
    try:
        return channel_for(channel)
    except NotFound:
        abort(404)


def _post_or_404(channel: str, post_id: int) -> tuple[RolloutPhase, FeedbackPost]:
    phase = _channel_or_404(channel)
    try:
        return phase, post_for(current_user, phase, post_id)
    except NotFound:
        abort(404)


def _back_to_post(phase: RolloutPhase, post: FeedbackPost):
    return redirect(url_for("feedback.post", channel=phase.slug, post_id=post.id))


# Reading ----------------------------------------------------------------------------------------

@bp.route("/", endpoint="index")
@allow(AUTHENTICATED)
def index():
    return render_template("feedback/index.html", channels=channels())


@bp.route("/<channel>", endpoint="channel")
@allow(AUTHENTICATED)
def channel_view(channel: str):
    phase = _channel_or_404(channel)
    kind = request.args.get("kind", "")
    status = request.args.get("status", "")
    q = request.args.get("q", "").strip()[:200]
    sort = request.args.get("sort", "newest")
    sort = sort if sort in SORTS else "newest"
    result = channel_page(current_user, phase, kind=kind, status=status, q=q, sort=sort,
                          page=page_arg())
    return render_template("feedback/channel.html", phase=phase, result=result, kind=kind, status=status, q=q,
                           sort=sort, kinds=list(PostKind), statuses=list(PostStatus))


@bp.route("/<channel>/done", endpoint="done")
@allow(AUTHENTICATED)
def done(channel: str):
    phase = _channel_or_404(channel)
    return render_template("feedback/done.html", phase=phase, groups=you_said_we_did(phase))


def _answer_form(post: FeedbackPost, *, sent: bool) -> AnswerForm:
    """The project group's answer form; ``sent``: filled from the request."""
    form = AnswerForm(prefix="status") if sent else AnswerForm(prefix="status", formdata=None)
    form.set_choices(allowed_transitions(post), STATUS_LABELS[PostStatus(post.status)])
    return form


def _render_post(phase: RolloutPhase, post: FeedbackPost, *, comment_form=None, status_form=None, hide_form=None):
    status_form = status_form or _answer_form(post, sent=False)
    return render_template(
        "feedback/post.html", phase=phase, post=post, state=post_state(current_user, post),
        is_author=post.is_author(current_user), action_form=ActionForm(),
        comment_form=comment_form or CommentForm(formdata=None), status_form=status_form,
        hide_form=hide_form or HideForm(prefix="hide", formdata=None),
    )


@bp.route("/<channel>/<int:post_id>", endpoint="post")
@allow(AUTHENTICATED)
def post_view(channel: str, post_id: int):
    phase, post = _post_or_404(channel, post_id)
    return _render_post(phase, post)


# Writing ----------------------------------------------------------------------------------------

@bp.route("/<channel>/new", endpoint="new_post", methods=["GET", "POST"])
@allow(AUTHENTICATED)
def new_post(channel: str):
    phase = _channel_or_404(channel)
    form = PostForm()
    if form.validate_on_submit():
        if not post_limit.allows(current_user.id):
            form.body.errors = [*form.body.errors, _(
                "You have published several posts in a short time. Please wait a while before publishing "
                "another one; this post has not been saved.")]
            return render_template("feedback/new_post.html", phase=phase, form=form), 429
        try:
            with unit_of_work():
                post = create_post(current_user, phase, kind=form.kind.data, title=form.title.data,
                                   body=form.body.data, anonymous=form.anonymous.data)
        except ServiceError as error:
            show_on_form(form, error, default="body")
        else:
            post_limit.count(current_user.id)
            if post.anonymous:
                # Back to the channel rather than to the post: a request for the new post's page right
                # after posting would tie the post to this browser in any access log.
                flash(_("Your post has been published anonymously. It shows no name."), "success")
                return redirect(url_for("feedback.channel", channel=phase.slug))
            flash(_("Your post has been published. You will be told when its status changes."), "success")
            return redirect(url_for("feedback.post", channel=phase.slug, post_id=post.id))
    return render_template("feedback/new_post.html", phase=phase, form=form), 200


@bp.route("/<channel>/<int:post_id>/vote", endpoint="vote", methods=["POST"])
@allow(AUTHENTICATED)
def vote_action(channel: str, post_id: int):
    phase, post = _post_or_404(channel, post_id)
    if ActionForm().validate_on_submit():
        if not vote_limit.allows(current_user.id):
            flash(_("You have voted many times in a short time. Please wait a while before voting again; "
                    "this vote has not been counted."), "warning")
            return redirect(url_for("feedback.post", channel=phase.slug, post_id=post_id))
        try:
            with unit_of_work():
                vote(current_user, post)
        except ServiceError as error:
            flash(str(error), "warning")
        else:
            vote_limit.count(current_user.id)
            flash(_("Thank you for your vote. You will be told when the status of the post changes."), "success")
    return redirect(url_for("feedback.post", channel=phase.slug, post_id=post_id))


@bp.route("/<channel>/<int:post_id>/subscribe", endpoint="subscribe", methods=["POST"])
@allow(AUTHENTICATED)
def subscribe_action(channel: str, post_id: int):
    phase, post = _post_or_404(channel, post_id)
    if ActionForm().validate_on_submit():
        with unit_of_work():
            subscribe(current_user, post)
        flash(_("You now follow this post and will be told when its status changes."), "success")
    return _back_to_post(phase, post)


@bp.route("/<channel>/<int:post_id>/unsubscribe", endpoint="unsubscribe", methods=["POST"])
@allow(AUTHENTICATED)
def unsubscribe_action(channel: str, post_id: int):
    phase, post = _post_or_404(channel, post_id)
    if ActionForm().validate_on_submit():
        with unit_of_work():
            unsubscribe(current_user, post)
        flash(_("You no longer follow this post."), "success")
    return _back_to_post(phase, post)


@bp.route("/<channel>/<int:post_id>/comments", endpoint="comment", methods=["POST"])
@allow(AUTHENTICATED)
def comment_action(channel: str, post_id: int):
    phase, post = _post_or_404(channel, post_id)
    form = CommentForm()
    if form.validate_on_submit():
        if not comment_limit.allows(current_user.id):
            form.body.errors = [*form.body.errors, _(
                "You have written several comments in a short time. Please wait a while before writing "
                "another one; this comment has not been saved.")]
            return _render_post(phase, post, comment_form=form), 429
        try:
            with unit_of_work():
                comment(current_user, post, form.body.data)
        except ServiceError as error:
            flash(str(error), "warning")
        else:
            comment_limit.count(current_user.id)
            flash(_("Your comment has been published."), "success")
        return _back_to_post(phase, post)
    return _render_post(phase, post, comment_form=form)


# The project group ------------------------------------------------------------------------------

@bp.route("/<channel>/<int:post_id>/status", endpoint="change_status", methods=["POST"])
@allow(*MODERATORS)
def change_status_action(channel: str, post_id: int):
    phase, post = _post_or_404(channel, post_id)
    form = _answer_form(post, sent=True)
    if form.validate_on_submit():
        try:
            with unit_of_work():
                change = answer(current_user, post, form.status.data or None, form.reply.data)
        except NotAllowed:
            abort(403)
        except ServiceError as error:
            show_on_form(form, error, default="status")
        else:
            if change is None:
                flash(_("Your official reply has been published."), "success")
            else:
                flash(_("The status is now “%(status)s”. Everyone who follows the post will be told.",
                        status=change.to_label), "success")
            return _back_to_post(phase, post)
    # Shown again with what was typed and chosen; the form's action ends in #answer, so the browser
    # stays at the form instead of jumping to the top of the page.
    return _render_post(phase, post, status_form=form)


@bp.route("/<channel>/<int:post_id>/hide", endpoint="hide", methods=["POST"])
@allow(*MODERATORS)
def hide_action(channel: str, post_id: int):
    phase, post = _post_or_404(channel, post_id)
    form = HideForm(prefix="hide")
    if form.validate_on_submit():
        try:
            with unit_of_work():
                hide(current_user, post, form.reason.data)
        except NotAllowed:
            abort(403)
        except ServiceError as error:
            flash(str(error), "warning")
        else:
            flash(_("The post is now hidden. Its author (unless anonymous) is told the reason."), "success")
        return _back_to_post(phase, post)
    return _render_post(phase, post, hide_form=form)


@bp.route("/<channel>/<int:post_id>/unhide", endpoint="unhide", methods=["POST"])
@allow(*MODERATORS)
def unhide_action(channel: str, post_id: int):
    phase, post = _post_or_404(channel, post_id)
    if ActionForm().validate_on_submit():
        try:
            with unit_of_work():
                unhide(current_user, post)
        except NotAllowed:
            abort(403)
        except ServiceError as error:
            flash(str(error), "warning")
        else:
            flash(_("The post is visible again."), "success")
    return _back_to_post(phase, post)
