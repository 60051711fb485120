"""Mobilisation: the configured strategy exposes staff to the innovation (§3 step 5)."""

from __future__ import annotations

from sim import registry
from sim.processes.base import Process

__all__ = ["Mobilisation"]


@registry.register
class Mobilisation(Process):
    """Runs the configured strategy, then the mode's own channels.

    The strategy is ``strategy.name`` (:mod:`sim.strategies`); the mode's channels are
    :meth:`sim.modes.base.Mode.step`. The strategy's parameters are in the ``strategy`` section, the mode's in ``mode``; what it
    writes is what the actions of :mod:`sim.strategies.base` and the mode write.
    """

    name = "mobilisation"

    def __init__(self, model) -> None:
        super().__init__(model)
        self.strategy = registry.get("strategy", model.config.strategy.name)(model)
        mode = model.mode
        self.owns = tuple(dict.fromkeys((*self.strategy.owns, *mode.owns)))
        self.reads = tuple(dict.fromkeys((*self.strategy.reads, *mode.reads)))

    def step(self, week: int) -> None:
        """Let the strategy act, then the mode's channels meet."""
        self.strategy.step(week)
        self.model.mode.step(week)
