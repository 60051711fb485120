"""Turnover at school-year ends (MODEL.md §3 step 2)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from sim.params import Section, param
from sim.population import Stage, fit_ppf, threshold_ppf
from sim.processes.base import PERCEPTION, Process
from sim.registry import register

__all__ = ["TurnoverConfig", "Turnover"]


@dataclass
class TurnoverConfig(Section):
    """Staff turnover at school-year ends (MODEL.md §3 step 2)."""

    rate: float = param(
        0.07,
        low=0,
        high=1,
        unit="1/year",
        source="[lit: DfE teacher leaver rates 7.8-9.2% at ~24% FSM, with the gradient below]",
        help="share of staff who leave at each year end in a school with no pupils on free "
        "school meals (replaced by unaware newcomers)",
    )
    disadvantage: float = param(
        0.08,
        low=0,
        high=1,
        unit="1/year",
        source="[lit: DfE School Workforce leaver rates by FSM band; Allen & Sims 2018]",
        help="added leaver rate per unit share of pupils on free school meals",
    )
    head_takes_formalisation: float = param(
        0.5,
        low=0,
        high=1,
        source="[seed 003: formalisation rests on the head's priorities; assume share]",
        help="chance a head who leaves takes performance targets and governors' engagement "
        "with them",
    )


@register
class Turnover(Process):
    """Staff leave at each year end and newcomers take their posts.

    In the first week of every school year after the first, each member of staff leaves with
    probability ``turnover.rate + turnover.disadvantage * FSM_s`` (DfE leaver rates, higher in
    disadvantaged schools). A newcomer takes the same post (slot, role,
    team, advice ties): unaware, with no knowledge or practice, not resistant, not a participant
    (a participant who leaves takes their knowledge away: EEF RLC trial), with a fresh threshold,
    capacity, fit and trust in leaders, and the tie trust the post started with. The work is in sight
    for the newcomer if it was for the post. Classes' past pupil gains stay counted.

    A head who leaves may take formalisation with them (:meth:`_head_leaves`).

    Draws: per slot and year, one uniform to leave and one each for the newcomer's threshold,
    capacity and trust in leaders (inverse-CDF draws keep them on fixed streams).
    """

    name = "turnover"
    section = "turnover"
    Params = TurnoverConfig
    owns = (
        "staff.threshold",
        "staff.capacity",
        "staff.fit",
        "staff.trust_in_leaders",
        "staff.knowledge",
        "staff.quality",
        "staff.resistant",
        "staff.participant",
        "staff.network_trust",
        "staff.stage",
        "staff.stage_weeks",
        "ties.trust",
        "now.stage_at_start",
        "levers.in_performance_targets",
        "levers.governors_engaged",
        *PERCEPTION,
    )
    reads = (
        "now.week_of_year",
        "now.year",
        "schools.trust_climate",
        "schools.disadvantage",
        "ties.initial_trust",
        "levers",
    )

    def step(self, week: int) -> None:
        """Replace leavers at the start of a school year."""
        m = self.model
        now = m.now
        cfg = m.config.turnover
        if now.week_of_year != 0 or now.year == 0 or (cfg.rate == 0 and cfg.disadvantage == 0):
            return
        staff = m.staff
        n = staff.n
        rate = cfg.rate + cfg.disadvantage * m.schools.disadvantage[staff.school]
        leave = m.streams.uniform("turnover.leave", week, n) < rate
        if not leave.any():
            return
        d = m.config.decision
        # Newcomers' traits, computed for the leavers' slots only (the draws are those of the
        # full per-slot streams: sim.rng is counter-based).
        who = np.flatnonzero(leave)
        u_theta = m.streams.uniform_at("turnover.threshold", week, n, who)
        u_cap = m.streams.uniform_at("turnover.capacity", week, n, who)
        u_tau = m.streams.uniform_at("turnover.trust_in_leaders", week, n, who)
        u_fit = m.streams.uniform_at("turnover.fit", week, n, who)

        theta = threshold_ppf(u_theta, d)
        # Inverse CDFs through scipy.special (the same functions scipy.stats uses, without
        # its per-call overhead).
        capacity = special.gammaincinv(d.capacity_shape, u_cap) * (
            d.capacity_mean_hours / d.capacity_shape
        )
        climate = np.clip(m.schools.trust_climate[staff.school[who]], 1e-6, 1 - 1e-6)
        k_tau = d.leader_trust_concentration
        tau = special.betaincinv(climate * k_tau, (1 - climate) * k_tau, u_tau)

        self._head_leaves(week, leave)

        def renew(values: np.ndarray, fresh) -> np.ndarray:
            values = values.copy()  # arrays are replaced, never written in place
            values[who] = fresh
            return values

        staff.threshold = renew(staff.threshold, theta)
        staff.capacity = renew(staff.capacity, capacity)
        staff.fit = renew(staff.fit, fit_ppf(u_fit, m.config.practice))
        staff.trust_in_leaders = renew(staff.trust_in_leaders, tau)
        staff.knowledge = renew(staff.knowledge, 0.0)
        staff.quality = renew(staff.quality, 0.0)
        staff.resistant = renew(staff.resistant, False)
        staff.participant = renew(staff.participant, False)
        staff.network_trust = renew(staff.network_trust, 0.0)
        staff.stage = renew(staff.stage, Stage.UNAWARE)
        staff.stage_weeks = renew(staff.stage_weeks, 0)
        now.stage_at_start = staff.stage.copy()
        ties = m.ties
        renewed_tie = leave[ties.seeker] | leave[ties.adviser]
        ties.trust = np.where(renewed_tie, ties.initial_trust, ties.trust)
        m.refresh_perception()

    def _head_leaves(self, week: int, leave: np.ndarray) -> None:
        """A head who leaves can take formalisation with them (seed 003; MODEL.md §9b).

        With probability ``turnover.head_takes_formalisation`` the school's performance targets
        and governors' engagement lapse with the head's departure (the new head sets their own
        priorities); the improvement plan stays. A lever change, from this week on.
        """
        m = self.model
        p = m.config.turnover.head_takes_formalisation
        heads = m.schools.first_slot  # the head is the first slot of each school
        gone = leave[heads]
        if p == 0 or not gone.any():
            return
        u = m.streams.uniform("turnover.head_formalisation", week, m.schools.n)
        taken = np.flatnonzero(gone & (u < p))
        if len(taken):
            m.levers.set_many(taken, "in_performance_targets", [False] * len(taken))
            m.levers.set_many(taken, "governors_engaged", [False] * len(taken))
