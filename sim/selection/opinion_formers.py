"""``opinion_formers``: opinion formers first, then the most consulted other teachers."""

from __future__ import annotations

import numpy as np

from sim.population import Role
from sim.registry import register
from sim.selection.base import SelectionPolicy, by_priority, pick

__all__ = ["OpinionFormers"]


@register
class OpinionFormers(SelectionPolicy):
    """Opinion formers first, then the most consulted other teachers (never senior leaders)."""

    name = "opinion_formers"

    @classmethod
    def select(cls, config, schools, staff, ties, streams) -> np.ndarray:
        """The participant mask."""
        is_leader = staff.role == Role.SENIOR_LEADER
        priority = np.where(is_leader, -10.0, staff.opinion_former * 1.0)
        return pick(by_priority(staff, ties, priority), schools, config.selection.per_school)
