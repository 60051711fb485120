"""Mobilisation modes (seed 003), orthogonal to the rollout strategy.

* ``champions``: participants model the practice and encourage colleagues, a channel of its own
  along their advice ties: their practice counts ``champion_visibility`` times as much in
  colleagues' social proof, and at each session week a champion who uses the practice models it
  for the colleagues who turn to them for advice (each closes a share ``champion_modelling`` of
  the knowledge gap to the champion), whatever the rollout strategy.
* ``learning_conversations``: staff test and refine the practice together in real groups — each
  team (year group or department) is a group that meets at the school's session frequency while
  the work is in sight; at a meeting the members the work has reached close a share
  ``conversation_learning`` of their knowledge gap to the group's most knowledgeable member, and
  between meetings their practice is joint work (the deepest kind of collaboration,
  Warren-Little; seed 004), so quality grows faster.
* ``both``: the two together; ``none``: neither.

A mode is a small module: it sets how visible each person's practice is to colleagues and how
deep collaboration is for those the work has reached.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.config import COLLABORATION_DEPTH
from sim.population import Stage

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

    def step(self, week: int) -> None:
        """Hold the week's champion modelling and learning-conversation meetings (session weeks)."""
        m = self.model
        if not (self.champions or self.learning_conversations):
            return
        staff = m.staff
        meets = m.now.session_week & m.in_sight & ~m.out_of_sight
        if not meets.any():
            return
        cfg = m.config.mode
        k = staff.knowledge
        gain = np.zeros(staff.n)
        if self.champions:
            ties = m.ties
            using = (staff.stage >= Stage.TRIALLING) & (staff.stage != Stage.LAPSED)
            champ = staff.participant & using & meets[staff.school]
            on = champ[ties.adviser] & ~staff.participant[ties.seeker]
            if on.any():
                best = np.zeros(staff.n)
                np.maximum.at(best, ties.seeker[on], k[ties.adviser[on]])
                gain = np.maximum(gain, cfg.champion_modelling * np.maximum(best - k, 0.0))
        if self.learning_conversations:
            member = m.now.reached & meets[staff.school]
            group = staff.school.astype(np.int64) * (int(staff.team.max()) + 1) + staff.team
            top = np.zeros(int(group.max()) + 1)
            np.maximum.at(top, group[member], k[member])
            lc = cfg.conversation_learning * np.maximum(top[group] - k, 0.0)
            gain = np.maximum(gain, np.where(member, lc, 0.0))
        staff.knowledge = k + gain

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
