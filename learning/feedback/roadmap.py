"""Feedback's figure on the roadmap: the open posts of each phase."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func, select

from learning.db import db
from learning.feedback.models import OPEN_STATUSES, FeedbackPost
from learning.phases.models import RolloutPhase
from learning.phases.services import Figure, roadmap_figure


@roadmap_figure(order=20)
def open_feedback_figure(phases: list[RolloutPhase]) -> dict[int, Figure]:
    """The roadmap's count of open (visible, not yet closed) feedback posts per phase."""
    rows = db.session.execute(
        select(FeedbackPost.phase_id, func.count())
        .where(FeedbackPost.phase_id.in_([p.id for p in phases]), FeedbackPost.hidden.is_(False),
               FeedbackPost.status.in_([s.value for s in OPEN_STATUSES]))
        .group_by(FeedbackPost.phase_id)
    )
    return {
        phase_id: Figure(key="feedback", label=_("Open feedback"),
                         value=ngettext("%(num)d open post", "%(num)d open posts", count))
        for phase_id, count in rows
    }
