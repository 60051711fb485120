"""``senior_leaders``: senior leaders, then middle leaders, then the most consulted teachers."""

from __future__ import annotations

import numpy as np

from sim.population import Role
from sim.registry import register
from sim.selection.base import SelectionPolicy, by_priority, pick

__all__ = ["SeniorLeaders"]


@register
class SeniorLeaders(SelectionPolicy):
    """Senior leaders (the head first), then middle leaders, then the most consulted teachers."""

    name = "senior_leaders"

    @classmethod
    def select(cls, config, schools, staff, ties, streams) -> np.ndarray:
        """The participant mask."""
        is_leader = staff.role == Role.SENIOR_LEADER
        priority = np.where(staff.role == Role.MIDDLE_LEADER, 1.0, 0.0)
        # Leaders in slot order (the head is first in each school), ahead of everyone else.
        leader_rank = 3e9 - np.arange(staff.n)
        score = np.where(is_leader, leader_rank, by_priority(staff, ties, priority))
        return pick(score, schools, config.selection.per_school)
