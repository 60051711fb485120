"""``champions``: participants model the practice and encourage colleagues (seed 003)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.modes.base import Mode
from sim.params import param
from sim.population import Stage
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
    champion_modelling: float = param(
        0.15,
        low=0,
        high=1,
        source="[seed 000: modelling and explaining practice; assume rate]",
        help="champions: share of the knowledge gap to a champion closed when they model the "
        "practice for a colleague (session weeks)",
    )


@register
class Champions(Mode):
    """Participants model the practice and encourage colleagues, a channel of its own.

    A participant's practice counts ``champion_visibility`` times in colleagues' social proof,
    and at each session week (the work in sight) a champion who uses the practice models it for
    the non-participants who turn to them for advice: each closes a share ``champion_modelling``
    of their knowledge gap to the most knowledgeable such champion, whatever the rollout
    strategy.
    """

    name = "champions"
    Params = ChampionsParams
    channels = True
    owns = ("staff.knowledge",)

    def visibility(self) -> np.ndarray:
        """Standing (:meth:`Mode.visibility`), times ``champion_visibility`` for participants."""
        staff = self.model.staff
        champion = np.where(staff.participant, self.model.config.mode.champion_visibility, 1.0)
        return super().visibility() * champion

    def gains(self, meets: np.ndarray) -> np.ndarray:
        """Knowledge gained from champions' modelling along advice ties."""
        m = self.model
        staff, ties = m.staff, m.ties
        k = staff.knowledge
        gain = np.zeros(staff.n)
        using = (staff.stage >= Stage.TRIALLING) & (staff.stage != Stage.LAPSED)
        champ = staff.participant & using & meets[staff.school]
        on = champ[ties.adviser] & ~staff.participant[ties.seeker]
        if on.any():
            best = np.zeros(staff.n)
            np.maximum.at(best, ties.seeker[on], k[ties.adviser[on]])
            gain = m.config.mode.champion_modelling * np.maximum(best - k, 0.0)
        return gain
