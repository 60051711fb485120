"""``whole_staff``: launch to everyone after the first workshop, then recurring sessions."""

from __future__ import annotations

import numpy as np

from sim.registry import register
from sim.strategies.base import Strategy, hold_sessions, launch


@register
class WholeStaff(Strategy):
    """Whole-staff rollout (MODEL.md §4.3; seed 000 "whole staff engagement").

    In the week a school's participants first attend a workshop, the school launches the practice
    to the whole staff (everyone aware, everyone asked to try: pressure). From then on it holds
    whole-staff sessions at the school's session frequency.
    """

    name = "whole_staff"

    def __init__(self, model) -> None:
        super().__init__(model)
        self.launched = np.zeros(model.schools.n, dtype=bool)

    def step(self, week: int) -> None:
        """Launch where the PLN has started; hold this week's sessions."""
        m = self.model
        new = m.pln_started & ~self.launched
        if new.any():
            launch(m, new)
            self.launched |= new
        sessions = self.launched & m.now.session_week
        if sessions.any():
            hold_sessions(m, sessions[m.staff.school], week)
