"""``learning_conversations``: staff test and refine the practice together (seed 003)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.modes.base import Mode
from sim.params import param
from sim.processes.practice import COLLABORATION_DEPTH
from sim.registry import register

__all__ = ["LearningConversations"]


@dataclass
class LearningConversationsParams:
    """Parameters of ``learning_conversations`` (in the ``mode`` section)."""

    conversation_learning: float = param(
        0.15,
        low=0,
        high=1,
        source="[seed 000, 003: collaborative testing and refining; assume rate]",
        help="learning conversations: share of the gap to the group's most knowledgeable member "
        "closed at a group meeting",
    )


@register
class LearningConversations(Mode):
    """Staff test and refine the practice together, in real groups.

    Each team (year group or department) is a group that meets at the school's session frequency
    while the work is in sight; at a meeting the members the work has reached close a share
    ``conversation_learning`` of their knowledge gap to the group's most knowledgeable member.
    Between meetings, for everyone the work has reached, practice is joint work (the deepest kind
    of collaboration, Warren-Little; seed 004), so quality grows faster.
    """

    name = "learning_conversations"
    Params = LearningConversationsParams
    channels = True
    owns = ("staff.knowledge",)

    def depth(self, reached: np.ndarray) -> np.ndarray:
        """Joint work (or the configured kind, if deeper) for those reached."""
        joint = COLLABORATION_DEPTH["joint_work"]
        return np.where(reached, max(joint, self.base_depth), self.base_depth)

    def gains(self, meets: np.ndarray) -> np.ndarray:
        """Knowledge gained at the groups' meetings."""
        m = self.model
        staff = m.staff
        k = staff.knowledge
        member = m.now.reached & meets[staff.school]
        group = staff.school.astype(np.int64) * (int(staff.team.max()) + 1) + staff.team
        top = np.zeros(int(group.max()) + 1)
        np.maximum.at(top, group[member], k[member])
        lc = m.config.mode.conversation_learning * np.maximum(top[group] - k, 0.0)
        return np.where(member, lc, 0.0)
