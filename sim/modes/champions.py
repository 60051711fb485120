"""``champions``: participants model the practice and encourage colleagues (seed 003)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.modes.base import Mode
from sim.params import param
from sim.registry import register

__all__ = ["Champions"]


@dataclass
class ChampionsParams:
    """Parameters of ``champions`` (in the ``mode`` section)."""

    champion_visibility: float = param(
        1.5,
        low=1,
        source="[seed 003; assume]",
        help="champions: how much more a participant's practice counts in colleagues' social proof",
    )


@register
class Champions(Mode):
    """A participant's practice counts ``champion_visibility`` times in colleagues' social proof."""

    name = "champions"
    Params = ChampionsParams

    def visibility(self) -> np.ndarray:
        """``champion_visibility`` for participants, 1 for everyone else."""
        staff = self.model.staff
        return np.where(staff.participant, self.model.config.mode.champion_visibility, 1.0)
