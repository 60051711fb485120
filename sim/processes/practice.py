"""Practice: quality of enactment, stage advance and lapse (MODEL.md §3 step 8, §4.5)."""

from __future__ import annotations

import numpy as np

from sim.config import COLLABORATION_DEPTH
from sim.population import Stage
from sim.processes.base import Process
from sim.processes.decision import USES

__all__ = ["Practice"]


class Practice(Process):
    """Users practise; quality grows or decays; stages advance or lapse.

    * Users (trialling, adopted, embedded) practise:
      ``q += r_q * time_i * (0.5 + 0.5 H_i) * depth * (1 - q)``, where
      ``time_i = min(1, free hours / practice_hours_full)`` and ``depth`` the relative rate of
      the school's kind of collaboration (Warren-Little: storytelling < aid and assistance <
      sharing < joint work; seed 004). Everyone else's quality decays by ``quality_decay``.
    * trialling -> adopted when ``q >= q_adopt``; a trial still short of it after
      ``trial_weeks_max`` weeks has failed (visible failure) and lapses.
    * adopted -> embedded after ``embed_weeks`` weeks of adoption with ``q >= q_embed`` in a school
      whose routines carry the practice (formalisation or distributed leadership at least
      ``routine_level``; seed 002).
    * Users lapse with weekly hazard ``lapse_base * (1 + a_time (1 - time_i)) *
      (1 + a_checkin (1 - L_s)) * (1 + a_formal (1 - F_s)) * (1 + a_support [support ended])``,
      embedded users with ``embedded_lapse_factor`` times that.
    """

    name = "practice"

    def __init__(self, model) -> None:
        super().__init__(model)
        cfg = model.config.practice
        sch = model.schools
        school = model.staff.school
        self.cfg = cfg
        time = np.minimum(model.free_hours / cfg.practice_hours_full, 1.0)
        self.growth_base = cfg.quality_rate * time * COLLABORATION_DEPTH[cfg.collaboration_kind]
        self.keep = 1.0 - cfg.quality_decay
        routine = (sch.formalisation >= cfg.routine_level) | (
            sch.distributed_leadership >= cfg.routine_level
        )
        self.can_embed = routine[school]
        hazard = (
            cfg.lapse_base
            * (1 + cfg.lapse_no_time * (1 - time))
            * (1 + cfg.lapse_no_checkin * (1 - sch.involvement[school]))
            * (1 + cfg.lapse_unformalised * (1 - sch.formalisation[school]))
        )
        # Hazard for (support ended?) -> (users not embedded, embedded users).
        self.hazard = {
            ended: (h, h * cfg.embedded_lapse_factor)
            for ended, h in ((False, hazard), (True, hazard * (1 + cfg.lapse_support_ended)))
        }
        self._support_seen: np.ndarray | None = None
        self._growth = self.growth_base

    def step(self, week: int) -> None:
        """Practise, advance and lapse."""
        m, cfg = self.model, self.cfg
        staff, now = m.staff, m.now
        stage, q = staff.stage, staff.quality
        using = USES[stage]
        if not using.any():
            if q.any():
                staff.quality = q * self.keep
            return
        if now.support is not self._support_seen:  # perception changed: rescale growth
            self._support_seen = now.support
            self._growth = self.growth_base * (0.5 + 0.5 * now.support)
        staff.quality = q = np.where(using, q + self._growth * (1 - q), q * self.keep)

        trialling = stage == Stage.TRIALLING
        to_adopt = trialling & (q >= cfg.q_adopt)
        failed = trialling & ~to_adopt & (staff.stage_weeks + 1 >= cfg.trial_weeks_max)
        to_embed = (
            (stage == Stage.ADOPTED)
            & self.can_embed
            & (q >= cfg.q_embed)
            & (staff.stage_weeks >= cfg.embed_weeks)
        )
        h_user, h_embedded = self.hazard[now.support_ended]
        hazard = np.where(stage == Stage.EMBEDDED, h_embedded, h_user)
        lapse = using & (m.streams.uniform("practice.lapse", week, staff.n) < hazard)

        stage[to_adopt] = Stage.ADOPTED
        stage[to_embed] = Stage.EMBEDDED
        stage[failed | lapse] = Stage.LAPSED
        now.failed_trials = failed
