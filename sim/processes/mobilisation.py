"""Mobilisation: the configured strategy exposes staff to the innovation (§3 step 5)."""

from __future__ import annotations

from sim.processes.base import Process
from sim.strategies import make_strategy

__all__ = ["Mobilisation"]


class Mobilisation(Process):
    """Runs the configured strategy, then the mode's own channels.

    The strategy is :class:`~sim.strategies.base.Strategy` ``strategy.name``; the mode's
    channels are :meth:`sim.modes.Mode.step`.
    """

    name = "mobilisation"

    def __init__(self, model) -> None:
        super().__init__(model)
        self.strategy = make_strategy(model.config.strategy.name, model)

    def step(self, week: int) -> None:
        """Let the strategy act."""
        self.strategy.step(week)
        self.model.mode.step(week)
