"""Leadership actions: keeping the work in sight (MODEL.md §3 step 4, §4.4)."""

from __future__ import annotations

import numpy as np

from sim.population import Stage
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

    A research lead (seed 000: "a dedicated member of staff ... able to find, read and
    disseminate research findings") works where the work is in sight: each week staff who are
    trialling close a share ``research_lead_knowledge`` of their knowledge gap (materials found
    for them), and at each term's start the materials are adapted to the school's classes and
    subjects: everyone's fit closes a share ``research_lead_fit`` of its gap to 1.

    Draws: one uniform per school per week for each of the two events.
    """

    name = "leadership"

    def __init__(self, model) -> None:
        super().__init__(model)
        self._levers_version = -1
        self._lead_key: tuple | None = None
        self._led: np.ndarray | None = None

    def _refresh(self) -> None:
        """Hazards from the levers (L_s, F_s), recomputed when a lever changes."""
        m = self.model
        lv, levers = m.config.leadership, m.levers
        self._levers_version = levers.version
        involvement = levers.involvement
        self.h_out = lv.out_of_sight_rate * (1 - involvement) * (1 - 0.5 * levers.formalisation)
        self.p_back = lv.back_in_sight_rate * involvement

    def step(self, week: int) -> None:
        """Let the work slip out of sight, or bring it back; research leads work."""
        m = self.model
        self._new_priorities(week)
        if not m.in_sight.any():
            return
        if m.levers.version != self._levers_version:
            self._refresh()
        self._research_lead(week)
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

    def _new_priorities(self, week: int) -> None:
        """Let competing priorities arrive.

        At each term's start (after the first), a new initiative joins a school's improvement
        plan with probability ``new_priority_rate + new_priority_disadvantage * FSM_s`` (more in
        disadvantaged schools), diluting the school's signal from then on (a priority among
        many is none; seed 003).
        """
        m = self.model
        if m.now.week_in_term != 0 or week == 0:
            return
        lv = m.config.leadership
        p = lv.new_priority_rate + lv.new_priority_disadvantage * m.schools.disadvantage
        u = m.streams.uniform("leadership.new_priority", week, m.schools.n)
        for s in np.flatnonzero(u < p):
            m.set_lever(int(s), "plan_priorities", int(m.levers.plan_priorities[s]) + 1)

    def _research_lead(self, week: int) -> None:
        m = self.model
        key = (m.levers.version, m.version("in_sight", "out_of_sight"))
        if key != self._lead_key:
            self._lead_key = key
            active = m.levers.research_lead & m.in_sight & ~m.out_of_sight
            self._led = active[m.staff.school] if active.any() else None
        here = self._led
        if here is None:
            return
        staff = m.staff
        lv = m.config.leadership
        trialling = here & (staff.stage == Stage.TRIALLING)
        if trialling.any():
            k = staff.knowledge
            staff.knowledge = np.where(trialling, k + lv.research_lead_knowledge * (1.0 - k), k)
        if m.now.week_in_term == 0:
            fit = staff.fit
            staff.fit = np.where(here, fit + lv.research_lead_fit * (1.0 - fit), fit)
