"""The rollout phases' own figure on the roadmap: how far the phase's mandatory training is done."""

from __future__ import annotations

from flask_babel import gettext as _

from learning.phases.models import RolloutPhase
from learning.phases.services import Figure, roadmap_figure, training_completion


@roadmap_figure(order=10)
def training_figure(phases: list[RolloutPhase]) -> dict[int, Figure]:
    return {
        phase_id: Figure(key="training", label=_("Training completion"),
                         value=_("%(percent)d %% of %(num)d mandatory assignments", percent=c.percent,
                                 num=c.assignments))
        for phase_id, c in training_completion([p.id for p in phases]).items()
    }
