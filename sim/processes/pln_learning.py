"""PLN learning: participants attend workshops, gain knowledge and network trust (§3 step 3)."""

from __future__ import annotations

import numpy as np

from sim.population import Stage
from sim.processes.base import Process

__all__ = ["PLNLearning"]


class PLNLearning(Process):
    """Workshop attendance and learning.

    In a workshop week each participant attends with probability
    ``attend_base + attend_release_bonus * release_s + attend_formal_bonus * F_s`` (capped at 1).
    Attending makes them aware and closes a share
    ``learn_rate * (0.5 + 0.5 A) * (0.5 + 0.5 T_i)`` of their knowledge gap, where A is the
    network's focus alignment and ``T_i`` their trust in the network; that trust closes a share
    ``trust_rate * (0.5 + 0.5 h)`` of its gap, h being the homogeneity of member schools
    (seed 000, 004). The network asks participants to try the practice between workshops (the
    Research Learning Community cycle, Brown 2017): an attending participant who is aware or
    interested, not resistant and has ``trial_hours`` free starts a trial with probability
    ``trial_commitment``.
    """

    name = "pln_learning"

    @property
    def p_attend(self) -> np.ndarray:
        """Each participant's probability of attending a workshop (levers may change)."""
        m = self.model
        cfg, levers = m.config.pln, m.levers

        def compute() -> np.ndarray:
            p = (
                cfg.attend_base
                + cfg.attend_release_bonus * levers.release
                + (cfg.attend_formal_bonus * levers.formalisation)
            )
            return np.minimum(p, 1.0)[m.staff.school]

        return m.derived("pln.p_attend", (levers.version,), compute)

    def step(self, week: int) -> None:
        """Run this week's workshop, if there is one."""
        m = self.model
        now = m.now
        if not now.workshop_week:
            return
        cfg = m.config.pln
        staff = m.staff
        u = m.streams.uniform("pln.attendance", week, staff.n)
        attend = staff.participant & (u < self.p_attend)
        now.attended_workshop = attend
        trust = staff.network_trust
        rate = cfg.learn_rate * (0.5 + 0.5 * cfg.focus_alignment) * (0.5 + 0.5 * trust)
        staff.knowledge = np.where(
            attend, staff.knowledge + rate * (1 - staff.knowledge), staff.knowledge
        )
        t_rate = cfg.trust_rate * (0.5 + 0.5 * cfg.homogeneity)
        staff.network_trust = np.where(attend, trust + t_rate * (1 - trust), trust)
        staff.stage[attend & (staff.stage == Stage.UNAWARE)] = Stage.AWARE
        commit = m.streams.uniform("pln.trial_commitment", week, staff.n) < cfg.trial_commitment
        open_to_trial = (staff.stage == Stage.AWARE) | (staff.stage == Stage.INTERESTED)
        has_time = m.free_hours >= m.config.decision.trial_hours
        staff.stage[attend & commit & open_to_trial & has_time & ~staff.resistant] = Stage.TRIALLING
        m.pln_started |= np.bincount(staff.school[attend], minlength=m.schools.n) > 0
        now.hours = now.hours + cfg.workshop_hours * np.bincount(
            staff.school[attend], minlength=m.schools.n
        )
