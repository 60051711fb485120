"""Turnover at school-year ends (MODEL.md §3 step 2)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from sim.params import Section, param
from sim.population import Stage, threshold_ppf
from sim.processes.base import PERCEPTION, Process
from sim.registry import register

__all__ = ["TurnoverConfig", "Turnover"]


@dataclass
class TurnoverConfig(Section):
    """Staff turnover at school-year ends (MODEL.md §3 step 2)."""

    rate: float = param(
        0.09,
        low=0,
        high=1,
        unit="1/year",
        source="[lit: DfE teacher leaver rates 7.8-9.2%]",
        help="share of staff who leave at each year end (replaced by unaware newcomers)",
    )


@register
class Turnover(Process):
    """Staff leave at each year end and newcomers take their posts.

    In the first week of every school year after the first, each member of staff leaves with
    probability ``turnover.rate`` (DfE leaver rates). A newcomer takes the same post (slot, role,
    team, advice ties): unaware, with no knowledge or practice, not resistant, not a participant
    (a participant who leaves takes their knowledge away: EEF RLC trial), with a fresh threshold,
    capacity and trust in leaders, and the tie trust the post started with. The work is in sight
    for the newcomer if it was for the post. Classes' past pupil gains stay counted.

    Draws: per slot and year, one uniform to leave and one each for the newcomer's threshold,
    capacity and trust in leaders (inverse-CDF draws keep them on fixed streams).
    """

    name = "turnover"
    section = "turnover"
    Params = TurnoverConfig
    owns = (
        "staff.threshold",
        "staff.capacity",
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
        *PERCEPTION,
    )
    reads = ("now.week_of_year", "now.year", "schools.trust_climate", "ties.initial_trust")

    def step(self, week: int) -> None:
        """Replace leavers at the start of a school year."""
        m = self.model
        now = m.now
        rate = m.config.turnover.rate
        if now.week_of_year != 0 or now.year == 0 or rate == 0:
            return
        staff = m.staff
        n = staff.n
        leave = m.streams.uniform("turnover.leave", week, n) < rate
        if not leave.any():
            return
        d = m.config.decision
        u_theta = m.streams.uniform("turnover.threshold", week, n)
        u_cap = m.streams.uniform("turnover.capacity", week, n)
        u_tau = m.streams.uniform("turnover.trust_in_leaders", week, n)

        theta = threshold_ppf(u_theta, d)
        # Inverse CDFs through scipy.special (the same functions scipy.stats uses, without
        # its per-call overhead).
        capacity = special.gammaincinv(d.capacity_shape, u_cap) * (
            d.capacity_mean_hours / d.capacity_shape
        )
        climate = np.clip(m.schools.trust_climate[staff.school], 1e-6, 1 - 1e-6)
        k_tau = d.leader_trust_concentration
        tau = special.betaincinv(climate * k_tau, (1 - climate) * k_tau, u_tau)

        def renew(values: np.ndarray, fresh) -> np.ndarray:
            return np.where(leave, fresh, values)

        staff.threshold = renew(staff.threshold, theta)
        staff.capacity = renew(staff.capacity, capacity)
        staff.trust_in_leaders = renew(staff.trust_in_leaders, tau)
        staff.knowledge = renew(staff.knowledge, 0.0)
        staff.quality = renew(staff.quality, 0.0)
        staff.resistant = renew(staff.resistant, False)
        staff.participant = renew(staff.participant, False)
        staff.network_trust = renew(staff.network_trust, 0.0)
        staff.stage = renew(staff.stage, Stage.UNAWARE).astype(np.int8)
        staff.stage_weeks = renew(staff.stage_weeks, 0)
        now.stage_at_start = staff.stage.copy()
        ties = m.ties
        renewed_tie = leave[ties.seeker] | leave[ties.adviser]
        ties.trust = np.where(renewed_tie, ties.initial_trust, ties.trust)
        m.refresh_perception()
