"""``broadcast``: materials are passed on; no in-school mobilisation (passive dissemination)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.params import param
from sim.population import Stage
from sim.registry import register
from sim.strategies.base import Strategy, inform


@dataclass
class BroadcastParams:
    """Parameters of ``broadcast`` (in the ``strategy`` section)."""

    materials_knowledge: float = param(
        0.05,
        low=0,
        high=1,
        source="[assume; lit: EEF Literacy Octopus]",
        help="broadcast: share of the knowledge gap closed by reading the materials",
        plausible=(0.0, 0.15),
    )


@register
class Broadcast(Strategy):
    """Passive dissemination (the EEF Literacy Octopus arm).

    In the week of the year's first scheduled workshop of the first year, every school receives
    the materials: everyone hears of the practice (aware, no pressure) and non-participants who
    were unaware close a share ``materials_knowledge`` of their knowledge gap by reading them.
    Nothing else is done: the work is never brought in sight, no sessions are held.
    """

    name = "broadcast"
    Params = BroadcastParams
    owns = ("staff.stage", "staff.knowledge")
    reads = ("staff.participant", "pln.workshop_weeks")

    def __init__(self, model) -> None:
        super().__init__(model)
        self.week = model.config.pln.workshop_weeks[0] if model.config.pln.workshop_weeks else 0

    def step(self, week: int) -> None:
        """Send the materials in the first workshop week."""
        if week != self.week:
            return
        m = self.model
        staff = m.staff
        readers = ~staff.participant & (staff.stage == Stage.UNAWARE)
        gain = m.config.strategy.materials_knowledge * (1.0 - staff.knowledge)
        staff.knowledge = staff.knowledge + readers * gain
        inform(m, np.ones(staff.n, dtype=bool))
