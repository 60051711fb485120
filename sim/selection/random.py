"""``random``: ``per_school`` staff chosen uniformly at random in each school."""

from __future__ import annotations

import numpy as np

from sim.registry import register
from sim.selection.base import SelectionPolicy, pick

__all__ = ["Random"]


@register
class Random(SelectionPolicy):
    """``per_school`` staff chosen uniformly at random in each school."""

    name = "random"

    @classmethod
    def select(cls, config, schools, staff, ties, streams) -> np.ndarray:
        """The participant mask."""
        u = streams.setup("selection.random").random(staff.n)
        return pick(u, schools, config.selection.per_school)
