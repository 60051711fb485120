"""``both``: champions and learning conversations together (seed 003)."""

from __future__ import annotations

import numpy as np

from sim.modes.champions import Champions
from sim.modes.learning_conversations import LearningConversations
from sim.registry import register

__all__ = ["Both"]


@register
class Both(Champions, LearningConversations):
    """Champions' visibility and modelling, learning conversations' depth and meetings.

    A person who gains from both channels in a week takes the larger gain.
    """

    name = "both"

    def gains(self, meets: np.ndarray) -> np.ndarray:
        """The larger of the two channels' gains, per person."""
        return np.maximum(Champions.gains(self, meets), LearningConversations.gains(self, meets))
