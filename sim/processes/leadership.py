"""Leadership actions: keeping the work in sight (MODEL.md §3 step 4, §4.4)."""

from __future__ import annotations

import numpy as np

from sim.processes.base import Process

__all__ = ["LeadershipActions"]


class LeadershipActions(Process):
    """Check-ins and ambient reminders keep the work in sight.

    Where a strategy has brought the work in sight, it goes out of sight with weekly hazard
    ``out_of_sight_rate * (1 - L_s) * (1 - 0.5 F_s)``: leader involvement and formalisation keep
    it in focus (seed 000, 001). While out of sight, the school's signal and how-to support no
    longer reach non-participants and no sessions are held. It comes back in sight with weekly
    probability ``back_in_sight_rate * L_s`` (a check-in), or when the school's participants
    attend a PLN workshop.

    Draws: one uniform per school per week for each of the two events.
    """

    name = "leadership"

    def __init__(self, model) -> None:
        super().__init__(model)
        self._levers_version = -1

    def _refresh(self) -> None:
        """Hazards from the levers (L_s, F_s), recomputed when a lever changes."""
        m = self.model
        lv, levers = m.config.leadership, m.levers
        self._levers_version = levers.version
        involvement = levers.involvement
        self.h_out = lv.out_of_sight_rate * (1 - involvement) * (1 - 0.5 * levers.formalisation)
        self.p_back = lv.back_in_sight_rate * involvement

    def step(self, week: int) -> None:
        """Let the work slip out of sight, or bring it back."""
        m = self.model
        if not m.in_sight.any():
            return
        if m.levers.version != self._levers_version:
            self._refresh()
        n = m.schools.n
        u_out = m.streams.uniform("leadership.out_of_sight", week, n)
        u_back = m.streams.uniform("leadership.back_in_sight", week, n)
        was_out = m.out_of_sight
        goes_out = m.in_sight & ~was_out & (u_out < self.h_out)
        comes_back = was_out & (u_back < self.p_back)
        if m.now.workshop_week and was_out.any():
            attended = np.bincount(m.staff.school[m.now.attended_workshop], minlength=n) > 0
            comes_back |= was_out & attended
        if goes_out.any() or comes_back.any():
            m.out_of_sight = (was_out | goes_out) & ~comes_back
            m.refresh_perception()
