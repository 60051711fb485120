"""The mode contract: how visible practice is, and how deep collaboration is."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim import registry
from sim.module import Module
from sim.params import Section, param
from sim.processes.practice import COLLABORATION_DEPTH

if TYPE_CHECKING:
    from sim.model import KnowledgeMobilisationModel

__all__ = ["Mode", "ModeParams", "make_mode"]


@dataclass
class ModeParams(Section):
    """How mobilisation is carried out (seed 003): champions, learning conversations, or both."""


@registry.kind
class Mode(Module):
    """A mobilisation mode: by default, practice counts once and collaboration is as configured.

    Subclasses override :meth:`visibility` (how much each person's practice counts in
    colleagues' social proof) and/or :meth:`depth` (the relative quality growth rate from the
    kind of collaboration). Processes call these hooks; a mode with channels of its own
    (:meth:`gains`) also acts in its weekly :meth:`step`, run by the mobilisation process.

    Args:
        model: The model.

    """

    kind = "mode"
    section = "mode"
    selector = "name"
    selector_param = param(
        "none", source="[seed 003]", help="mobilisation mode, combinable with any rollout strategy"
    )
    Params = ModeParams
    reads = ("staff.participant", "practice.collaboration_kind")
    owns: tuple[str, ...] = ()

    def __init__(self, model: KnowledgeMobilisationModel) -> None:
        super().__init__(model)
        self.base_depth = COLLABORATION_DEPTH[model.config.practice.collaboration_kind]

    def visibility(self) -> np.ndarray:
        """How much each person's practice counts in colleagues' social proof."""
        return np.ones(self.model.staff.n)

    def depth(self, reached: np.ndarray) -> np.ndarray:
        """Relative quality growth rate from the kind of collaboration, per person."""
        return np.full(len(reached), self.base_depth)

    #: Whether the mode has channels of its own (champion modelling, learning conversations).
    channels: bool = False

    def gains(self, meets: np.ndarray) -> np.ndarray:
        """Knowledge each person gains from the mode's channels this week.

        Args:
            meets: Per school, whether its channels meet this week (a session week, the work
                in sight).

        """
        return np.zeros(self.model.staff.n)

    def step(self, week: int) -> None:
        """Hold the week's meetings of the mode's own channels (session weeks, work in sight).

        Called by the mobilisation process after the strategy. A mode with no channels of its
        own acts only through its hooks.
        """
        if not self.channels:
            return
        m = self.model
        meets = m.now.session_week & m.in_sight & ~m.out_of_sight
        if not meets.any():
            return
        m.staff.knowledge = m.staff.knowledge + self.gains(meets)


def make_mode(name: str, model: KnowledgeMobilisationModel) -> Mode:
    """The mode ``name`` for ``model``."""
    return registry.get("mode", name)(model)
