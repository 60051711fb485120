"""``mixed``: senior leaders plus the most-consulted opinion formers (seed 000)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.params import ConfigError, drawn_later, param
from sim.population import Role
from sim.registry import register
from sim.selection.base import SelectionPolicy, pick

__all__ = ["Mixed"]


@dataclass
class MixedParams:
    """Parameters of ``mixed`` (in the ``selection`` section)."""

    leaders_per_school: Any = param(
        [2, 2, 2, 2, 1, 1, 1, 1],
        low=0,
        per_school=True,
        unit="staff",
        source="[seed 000: 12 senior leaders and 9 opinion formers]",
        help="with policy mixed: how many of a school's participants are senior leaders",
    )


@register
class Mixed(SelectionPolicy):
    """Senior leaders (the head first) plus the most-consulted opinion formers (seed 000).

    Each school sends ``leaders_per_school`` senior leaders and fills the rest of its
    ``per_school`` places with opinion formers, then other teachers, by advice in-degree.
    """

    name = "mixed"
    Params = MixedParams

    @classmethod
    def check(cls, config) -> None:
        """`selection.leaders_per_school ≤ schools.leaders` and `≤ selection.per_school`."""
        super().check(config)
        s, sel = config.schools, config.selection
        if drawn_later(s.leaders, sel.per_school, sel.leaders_per_school):
            return  # checked once the schools are drawn
        for i in range(config.n_schools):
            lead = sel.leaders_per_school[i]
            if lead > s.leaders[i] or lead > sel.per_school[i]:
                raise ConfigError(
                    f"selection.leaders_per_school[{i}] = {lead} must be at most "
                    f"schools.leaders[{i}] = {s.leaders[i]} and selection.per_school[{i}] "
                    f"= {sel.per_school[i]}"
                )

    @classmethod
    def select(cls, config, schools, staff, ties, streams) -> np.ndarray:
        """The participant mask."""
        sel = config.selection
        is_leader = staff.role == Role.SENIOR_LEADER
        indegree = np.bincount(ties.adviser, minlength=staff.n)
        # Leaders in slot order (the head is first in each school).
        leader_rank = np.where(is_leader, 1e9 - np.arange(staff.n), -np.inf)
        leaders = pick(leader_rank, schools, sel.leaders_per_school)
        others = list(np.asarray(sel.per_school) - np.asarray(sel.leaders_per_school))
        teacher_score = np.where(is_leader, -np.inf, staff.opinion_former * 1e6 + indegree)
        return leaders | pick(teacher_score, schools, others)
