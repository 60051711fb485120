"""Mobilisation modes (seed 003), orthogonal to the rollout strategy.

* ``champions``: participants model the practice and encourage colleagues: their practice counts
  ``champion_visibility`` times as much in colleagues' social proof.
* ``learning_conversations``: staff test and refine the practice together: for everyone the work
  has reached, practice is joint work (the deepest kind of collaboration, Warren-Little; seed 004),
  so quality grows faster.
* ``both``: the two together; ``none``: neither.

A mode is a small module: it sets how visible each person's practice is to colleagues and how
deep collaboration is for those the work has reached.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.config import COLLABORATION_DEPTH

if TYPE_CHECKING:
    from sim.model import KnowledgeMobilisationModel

__all__ = ["MODES", "Mode", "make_mode"]


class Mode:
    """A mobilisation mode.

    Args:
        model: The model.
        champions: Whether participants act as champions.
        learning_conversations: Whether staff reached practise through joint work.

    """

    def __init__(
        self, model: KnowledgeMobilisationModel, champions: bool, learning_conversations: bool
    ) -> None:
        self.model = model
        self.champions = champions
        self.learning_conversations = learning_conversations
        self.base_depth = COLLABORATION_DEPTH[model.config.practice.collaboration_kind]

    def visibility(self) -> np.ndarray:
        """How much each person's practice counts in colleagues' social proof."""
        staff = self.model.staff
        if not self.champions:
            return np.ones(staff.n)
        return np.where(staff.participant, self.model.config.mode.champion_visibility, 1.0)

    def depth(self, reached: np.ndarray) -> np.ndarray:
        """Relative quality growth rate from the kind of collaboration, per person."""
        if not self.learning_conversations:
            return np.full(len(reached), self.base_depth)
        joint = COLLABORATION_DEPTH["joint_work"]
        return np.where(reached, max(joint, self.base_depth), self.base_depth)


#: Mode names and their (champions, learning_conversations) switches.
MODES: dict[str, tuple[bool, bool]] = {
    "none": (False, False),
    "champions": (True, False),
    "learning_conversations": (False, True),
    "both": (True, True),
}


def make_mode(name: str, model: KnowledgeMobilisationModel) -> Mode:
    """The mode ``name`` for ``model``."""
    champions, conversations = MODES[name]
    return Mode(model, champions, conversations)
