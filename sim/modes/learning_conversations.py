"""``learning_conversations``: staff test and refine the practice together (seed 003)."""

from __future__ import annotations

import numpy as np

from sim.modes.base import Mode
from sim.processes.practice import COLLABORATION_DEPTH
from sim.registry import register

__all__ = ["LearningConversations"]


@register
class LearningConversations(Mode):
    """Staff test and refine the practice together.

    For everyone the work has reached, practice is joint work (the deepest kind of
    collaboration, Warren-Little; seed 004), so quality grows faster.
    """

    name = "learning_conversations"

    def depth(self, reached: np.ndarray) -> np.ndarray:
        """Joint work (or the configured kind, if deeper) for those reached."""
        joint = COLLABORATION_DEPTH["joint_work"]
        return np.where(reached, max(joint, self.base_depth), self.base_depth)
