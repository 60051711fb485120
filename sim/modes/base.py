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
    kind of collaboration). Modes have no weekly step: processes call these hooks.

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

    def __init__(self, model: KnowledgeMobilisationModel) -> None:
        super().__init__(model)
        self.base_depth = COLLABORATION_DEPTH[model.config.practice.collaboration_kind]

    def visibility(self) -> np.ndarray:
        """How much each person's practice counts in colleagues' social proof."""
        return np.ones(self.model.staff.n)

    def depth(self, reached: np.ndarray) -> np.ndarray:
        """Relative quality growth rate from the kind of collaboration, per person."""
        return np.full(len(reached), self.base_depth)

    def step(self, week: int) -> None:
        """Modes act through their hooks, not a weekly step."""


def make_mode(name: str, model: KnowledgeMobilisationModel) -> Mode:
    """The mode ``name`` for ``model``."""
    return registry.get("mode", name)(model)
