"""Trust update on advice ties (MODEL.md §3 step 9)."""

from __future__ import annotations

import numpy as np

from sim.population import Stage
from sim.processes.base import Process
from sim.processes.decision import USES

__all__ = ["TrustUpdate"]


class TrustUpdate(Process):
    """Trust rises where help led to progress and falls where trials failed.

    * On a tie ``i -> j`` that was active and helpful this week (j knew more), trust closes a
      share ``trust.gain`` of its gap if i progressed: moved to a further stage this week, or
      used the practice.
    * When i's trial fails, trust on i's ties to colleagues who use the practice or took part in
      the PLN (those who encouraged it) loses a share ``trust.loss``.
    """

    name = "trust"

    def step(self, week: int) -> None:
        """Update tie trust."""
        m = self.model
        cfg = m.config.trust
        staff, ties, now = m.staff, m.ties, m.now
        stage = staff.stage
        using = USES[stage]
        advanced = (stage > now.stage_at_start) & (stage != Stage.LAPSED)
        progressed = advanced | using
        up = now.helpful_ties & progressed[ties.seeker]
        any_up = up.any()
        any_failed = now.failed_trials.any()
        if not (any_up or any_failed):
            return  # nothing changes: keep the same array (readers cache on its identity)
        w = ties.trust
        if any_up:
            w = np.where(up, w + cfg.gain * (1 - w), w)
        if any_failed:
            encouraged = using | staff.participant
            down = now.failed_trials[ties.seeker] & encouraged[ties.adviser]
            w = np.where(down, w * (1 - cfg.loss), w)
        ties.trust = w
