"""Mobilisation: the configured strategy exposes staff to the innovation (§3 step 5)."""

from __future__ import annotations

from sim import registry
from sim.processes.base import Process

__all__ = ["Mobilisation"]


@registry.register
class Mobilisation(Process):
    """Runs the configured strategy (``strategy.name``; :mod:`sim.strategies`).

    The strategy's parameters are in the ``strategy`` section; what it writes is what the
    actions of :mod:`sim.strategies.base` write.
    """

    name = "mobilisation"

    def __init__(self, model) -> None:
        super().__init__(model)
        self.strategy = registry.get("strategy", model.config.strategy.name)(model)
        self.owns = self.strategy.owns
        self.reads = self.strategy.reads

    def step(self, week: int) -> None:
        """Let the strategy act."""
        self.strategy.step(week)
