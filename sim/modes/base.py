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

__all__ = ["Mode", "ModeParams", "make_mode", "standing"]


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
    reads = (
        "staff.participant",
        "staff.school",
        "ties.adviser",
        "ties.initial_trust",
        "practice.collaboration_kind",
        "decision.standing_visibility",
    )
    owns: tuple[str, ...] = ()

    def __init__(self, model: KnowledgeMobilisationModel) -> None:
        super().__init__(model)
        self.base_depth = COLLABORATION_DEPTH[model.config.practice.collaboration_kind]

    def visibility(self) -> np.ndarray:
        """How much each person's practice counts in colleagues' social proof.

        By the person's standing (:func:`standing`): the practice of a colleague the school turns
        to for trusted advice is watched and weighed more (opinion leadership; a mode may
        multiply it, as champions do).
        """
        return standing(self.model)

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


def standing(model: KnowledgeMobilisationModel) -> np.ndarray:
    """Each person's visibility in colleagues' social proof from their standing in the school.

    ``v_j = (1 - g) + g * s_j / mean_s``, with ``s_j`` the trust colleagues place on their advice
    ties to ``j`` (their in-strength, summed over the ties' set-up trust), ``mean_s`` its mean
    over j's school and ``g = decision.standing_visibility``. Staff turn to opinion formers
    "for trusted work-related expertise and advice" (seed 000), and what those at the centre of
    the school's network do sets the norm others read (seed 003: "the power, the access and the
    ability to influence whether and how innovations are adopted by others"; social referents,
    Paluck, Shepherd & Aronow 2016). A post keeps its ties when its holder changes, so standing
    is fixed for the run; in a school without ties everyone's is 1.
    """
    staff, ties = model.staff, model.ties
    g = model.config.decision.standing_visibility
    if g == 0:
        return np.ones(staff.n)
    strength = np.bincount(ties.adviser, weights=ties.initial_trust, minlength=staff.n)
    school = staff.school
    mean = np.bincount(school, weights=strength, minlength=model.schools.n) / np.maximum(
        np.bincount(school, minlength=model.schools.n), 1
    )
    relative = np.divide(strength, mean[school], out=np.ones(staff.n), where=mean[school] > 0)
    return (1.0 - g) + g * relative


def make_mode(name: str, model: KnowledgeMobilisationModel) -> Mode:
    """The mode ``name`` for ``model``."""
    return registry.get("mode", name)(model)
