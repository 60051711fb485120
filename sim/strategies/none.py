"""``none``: participants attend the PLN; nothing is done back home."""

from __future__ import annotations

from sim.registry import register
from sim.strategies.base import Strategy


@register
class NoMobilisation(Strategy):
    """No in-school mobilisation.

    "When people return from network meetings it goes out of sight" (seed 001). Knowledge can
    still travel along advice ties in conversation, but the school's signal and how-to support
    never reach non-participants.
    """

    name = "none"
    owns = ()
    reads = ()

    def step(self, week: int) -> None:
        """Do nothing: the absence of mobilisation is this strategy."""
