"""Trust update: on advice ties, and in leaders (MODEL.md §3 step 9, §4.4)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim import kernel
from sim.params import Section, param
from sim.population import Stage
from sim.processes.base import Process
from sim.processes.decision import USES
from sim.registry import register

__all__ = ["TrustConfig", "TrustUpdate"]


@dataclass
class TrustConfig(Section):
    """Trust updates on advice ties (ODD §3 step 9)."""

    gain: float = param(
        0.05,
        low=0,
        high=1,
        source="[assume; lit: Bryk & Schneider 2002]",
        help="share of the trust gap closed when help on a tie led to progress",
        plausible=(0.02, 0.1),
    )
    loss: float = param(
        0.1,
        low=0,
        high=1,
        source="[assume]",
        help="share of trust lost on a person's ties when their trial fails",
        plausible=(0.05, 0.2),
    )


@register
class TrustUpdate(Process):
    """Trust rises where help led to progress, falls where trials failed.

    * On a tie ``i -> j`` that was active and helpful this week (j knew more), trust closes a
      share ``trust.gain`` of its gap if i progressed: changed stage this week other than by
      lapsing, or used the practice.
    * When i's trial fails, trust on i's ties to colleagues who use the practice or took part in
      the PLN (those who encouraged it) loses a share ``trust.loss``.
    * A failed trial is a visible failure for the school. With probability ``1 - D_s`` its
      leaders take control back, and can again after each later failure: each time distributed
      leadership in force in that school loses a share ``control_back_cut`` for the rest of the
      run (participants' sessions reach less, fewer of them lead support, sessions become
      directives, routines rest less on them), and every member of staff loses a share
      ``control_back_trust_loss`` of their trust in leaders (seed 003: leaders "without ego", with "the confidence to relinquish
      power"). With D_s = 1 failures never end the work.

    Draws: one uniform per school per week (only in weeks with a failed trial).
    """

    name = "trust"
    section = "trust"
    Params = TrustConfig
    owns = ("ties.trust", "staff.trust_in_leaders", "model.control_taken")
    reads = (
        "now.helpful_ties",
        "now.failed_trials",
        "now.stage_at_start",
        "staff.stage",
        "staff.participant",
        "model.distributed",
    )

    def step(self, week: int) -> None:
        """Update tie trust and trust in leaders."""
        m = self.model
        staff, ties, now = m.staff, m.ties, m.now
        if kernel.enabled():  # the per-tie update, compiled (sim.kernel)
            failed = now.failed_trials
            if failed.any():
                self.respond_to_failures(week, failed)
            kernel.trust_update(m, USES, int(Stage.LAPSED), m.config.trust)
            return
        stage = staff.stage
        using = USES[stage]
        changed = (stage != now.stage_at_start) & (stage != Stage.LAPSED)
        progressed = changed | using
        up = now.helpful_ties & progressed[ties.seeker]
        any_up = up.any()
        failed = now.failed_trials
        any_failed = failed.any()
        if any_failed:
            self.respond_to_failures(week, failed)
        if not (any_up or any_failed):
            return  # nothing changes: keep the same array (readers cache on its identity)
        cfg = m.config.trust
        w = ties.trust
        if any_up:
            w = np.where(up, w + cfg.gain * (1 - w), w)
        if any_failed:
            encouraged = using | staff.participant
            down = failed[ties.seeker] & encouraged[ties.adviser]
            w = np.where(down, w * (1 - cfg.loss), w)
        ties.trust = w

    def respond_to_failures(self, week: int, failed: np.ndarray) -> None:
        """Leaders may take control back after the week's failed trials (see the class)."""
        m = self.model
        staff = m.staff
        n = m.schools.n
        visible = np.bincount(staff.school[failed], minlength=n) > 0
        u = m.streams.uniform("trust.control_back", week, n)
        take = visible & (u < 1.0 - m.distributed)
        if not take.any():
            return
        # Each time, distributed leadership in force loses a share control_back_cut, for good.
        m.control_taken = m.control_taken + take
        loss = m.config.leadership.control_back_trust_loss
        hit = take[staff.school]
        staff.trust_in_leaders = np.where(
            hit, staff.trust_in_leaders * (1 - loss), staff.trust_in_leaders
        )
