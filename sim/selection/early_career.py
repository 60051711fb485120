"""``early_career``: early-career teachers first, then the least consulted teachers."""

from __future__ import annotations

import numpy as np

from sim.population import Role
from sim.registry import register
from sim.selection.base import SelectionPolicy, pick

__all__ = ["EarlyCareer"]


@register
class EarlyCareer(SelectionPolicy):
    """Early-career teachers first, then the least consulted teachers (seed 001: "not NQTs")."""

    name = "early_career"

    @classmethod
    def select(cls, config, schools, staff, ties, streams) -> np.ndarray:
        """The participant mask."""
        indegree = np.bincount(ties.adviser, minlength=staff.n)
        priority = np.select(
            [staff.role == Role.SENIOR_LEADER, staff.role == Role.EARLY_CAREER], [-10.0, 1.0], 0.0
        )
        return pick(priority * 1e6 - indegree, schools, config.selection.per_school)
