"""Business as usual: staff meet similar practice without the PLN (MODEL.md §9b).

Seed 001: in the EEF Research Learning Communities trial, control schools "started using
research" too. Without this trend the no-PLN counterfactual would be identically zero and the
pupil effect mere bookkeeping; with it, the effect is a real difference between two runs that
share every draw of this stream.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.params import Section, param
from sim.population import Stage
from sim.processes.base import Process
from sim.registry import register
from sim.school_year import WEEKS_PER_YEAR

__all__ = ["BackgroundConfig", "Background"]


@dataclass
class BackgroundConfig(Section):
    """Business as usual: similar practice met without the PLN (MODEL.md §9b)."""

    exposure_rate: float = param(
        0.1,
        low=0,
        high=39,
        unit="1/year",
        source="[seed 001: RLC control schools 'started using research'; assume rate]",
        help="expected times a year a member of staff meets similar practice outside the PLN",
    )
    knowledge_gain: float = param(
        0.3,
        low=0,
        high=1,
        source="[assume]",
        help="share of the knowledge gap closed by meeting it",
        plausible=(0.1, 0.5),
    )


@register
class Background(Process):
    """Similar practice met outside the PLN (CPD, reading, colleagues elsewhere).

    Each week each member of staff meets it with probability ``exposure_rate / 39``; an unaware
    person becomes aware, and anyone who meets it closes a share ``knowledge_gain`` of their
    knowledge gap. What they do with it is then decided as for anyone else
    (:class:`~sim.processes.Decision`): without a school signal or support, mostly nothing.

    Draws: at the start of each school year, from the stream ``background:<year>`` (keyed by
    the run seed and the year only, so the same in every arm and in the no-PLN counterfactual),
    how many times each slot meets the practice that year (Binomial(39, p)) and in which weeks.
    Drawing the year's few events at once keeps the weekly cost to a look-up.
    """

    name = "background"
    section = "background"
    Params = BackgroundConfig
    owns = ("staff.knowledge", "staff.stage")
    reads = ("now.year", "now.week_of_year")

    def __init__(self, model) -> None:
        super().__init__(model)
        cfg = model.config.background
        self.p_week = cfg.exposure_rate / WEEKS_PER_YEAR
        self.gain = cfg.knowledge_gain
        self._year = -1
        self._week_slots: list[np.ndarray | None] = [None] * WEEKS_PER_YEAR

    def _draw_year(self, year: int) -> None:
        n = self.model.staff.n
        rng = self.model.streams.setup(f"background:{year}")
        times = rng.binomial(WEEKS_PER_YEAR, min(self.p_week, 1.0), n)
        slots = np.repeat(np.arange(n), times)
        weeks = rng.integers(0, WEEKS_PER_YEAR, len(slots))
        order = np.argsort(weeks, kind="stable")
        slots = slots[order]
        starts = np.searchsorted(weeks[order], np.arange(WEEKS_PER_YEAR + 1)).tolist()
        # Who meets it in each week of the year (None: nobody), looked up weekly.
        self._week_slots = [
            slots[lo:hi] if hi > lo else None for lo, hi in zip(starts, starts[1:], strict=False)
        ]
        self._year = year

    def step(self, week: int) -> None:
        """Let some staff meet the practice this week."""
        if self.p_week == 0:
            return
        m = self.model
        now = m.now
        if now.year != self._year:
            self._draw_year(now.year)
        who = self._week_slots[now.week_of_year]
        if who is None:
            return
        staff = m.staff
        k = staff.knowledge.copy()
        k[who] += self.gain * (1.0 - k[who])
        staff.knowledge = k
        unaware = who[staff.stage[who] == Stage.UNAWARE]
        if len(unaware):
            stage = staff.stage.copy()
            stage[unaware] = Stage.AWARE
            staff.stage = stage
