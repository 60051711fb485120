"""``middle_leaders``: middle leaders, most consulted first, then other teachers."""

from __future__ import annotations

import numpy as np

from sim.population import Role
from sim.registry import register
from sim.selection.base import SelectionPolicy, by_priority, pick

__all__ = ["MiddleLeaders"]


@register
class MiddleLeaders(SelectionPolicy):
    """Middle leaders, most consulted first, then other teachers (never senior leaders)."""

    name = "middle_leaders"

    @classmethod
    def select(cls, config, schools, staff, ties, streams) -> np.ndarray:
        """The participant mask."""
        priority = np.select(
            [staff.role == Role.SENIOR_LEADER, staff.role == Role.MIDDLE_LEADER], [-10.0, 1.0], 0.0
        )
        return pick(by_priority(staff, ties, priority), schools, config.selection.per_school)
