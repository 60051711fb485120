"""Business as usual: staff meet similar practice without the PLN (MODEL.md §9b).

Seed 001: in the EEF Research Learning Communities trial, control schools "started using
research" too. Without this trend the no-PLN counterfactual would be identically zero and the
pupil effect mere bookkeeping; with it, the effect is a real difference between two runs that
share every draw of this stream.
"""

from __future__ import annotations

import numpy as np

from sim.population import Stage
from sim.processes.base import Process
from sim.processes.calendar import WEEKS_PER_YEAR

__all__ = ["Background"]


class Background(Process):
    """Similar practice met outside the PLN (CPD, reading, colleagues elsewhere).

    Each week each member of staff meets it with probability ``exposure_rate / 39``; an unaware
    person becomes aware, and anyone who meets it closes a share ``knowledge_gain`` of their
    knowledge gap. What they do with it is then decided as for anyone else
    (:class:`~sim.processes.Decision`): without a school signal or support, mostly nothing.

    Draws: one uniform per slot per week (stream ``background.exposure``), in every run, with or
    without the PLN.
    """

    name = "background"

    def __init__(self, model) -> None:
        super().__init__(model)
        cfg = model.config.background
        self.p_week = cfg.exposure_rate / WEEKS_PER_YEAR
        self.gain = cfg.knowledge_gain

    def step(self, week: int) -> None:
        """Let some staff meet the practice this week."""
        if self.p_week == 0:
            return
        m = self.model
        staff = m.staff
        meets = m.streams.uniform("background.exposure", week, staff.n) < self.p_week
        if not meets.any():
            return
        staff.knowledge = np.where(
            meets, staff.knowledge + self.gain * (1.0 - staff.knowledge), staff.knowledge
        )
        staff.stage[meets & (staff.stage == Stage.UNAWARE)] = Stage.AWARE
