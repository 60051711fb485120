"""``both``: champions and learning conversations together (seed 003)."""

from __future__ import annotations

from sim.modes.champions import Champions
from sim.modes.learning_conversations import LearningConversations
from sim.registry import register

__all__ = ["Both"]


@register
class Both(Champions, LearningConversations):
    """Champions' visibility and learning conversations' depth."""

    name = "both"
