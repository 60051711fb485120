"""PLN learning: participants attend workshops, gain knowledge and network trust (§3 step 3)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.params import Section, param
from sim.population import Stage
from sim.processes.base import Process
from sim.registry import register

__all__ = ["PLNConfig", "PLNLearning"]


@dataclass
class PLNConfig(Section):
    """The Professional Learning Network (ODD §2, §4 PLN learning)."""

    workshop_weeks: list[int] = param(
        [4, 14, 24, 34],
        low=0,
        high=38,
        source="[seed 000: four workshops, October to June]",
        help="weeks of the school year (0 = first week of September) with a PLN workshop",
    )
    support_years: int = param(
        1,
        low=0,
        unit="years",
        source="[seed 000, 001: facilitated first year]",
        help="years of facilitated PLN support (workshops run only while supported)",
    )
    focus_alignment: float = param(
        0.8,
        low=0,
        high=1,
        source="[seed 000, 004: shared, clearly defined focus]",
        help="how well the network's topic matches the schools' priorities",
    )
    homogeneity: float = param(
        0.6,
        low=0,
        high=1,
        source="[seed 004]",
        help="similarity of member schools; trust forms faster between similar schools",
    )
    attend_base: float = param(
        0.7,
        low=0,
        high=1,
        source="[assume]",
        help="probability a participant attends a workshop without release time or formalisation",
        plausible=(0.5, 0.9),
    )
    attend_release_bonus: float = param(
        0.2,
        low=0,
        high=1,
        source="[seed 000: release from timetabled commitments]",
        help="added attendance probability when the school releases participants",
    )
    attend_formal_bonus: float = param(
        0.1,
        low=0,
        high=1,
        source="[seed 000, 003]",
        help="added attendance probability at full formalisation",
    )
    learn_rate: float = param(
        0.4,
        low=0,
        high=1,
        source="[assume]",
        help="share of the knowledge gap closed per workshop at full alignment and network trust",
        plausible=(0.2, 0.6),
    )
    trust_rate: float = param(
        0.3,
        low=0,
        high=1,
        source="[assume; seed 004]",
        help="share of the network-trust gap closed per workshop at full homogeneity",
        plausible=(0.15, 0.5),
    )
    initial_network_trust: float = param(
        0.3,
        low=0,
        high=1,
        source="[assume]",
        help="participants' trust in the network at start",
        plausible=(0.1, 0.5),
    )
    trial_commitment: float = param(
        0.5,
        low=0,
        high=1,
        source="[lit: Brown 2017, RLC cycle of trialling between workshops; assume value]",
        help="probability an attending participant with the time starts a trial after a workshop",
    )
    facilitator_support: float = param(
        0.8,
        low=0,
        high=1,
        source="[seed 001: an academic facilitator]",
        help="how-to support participants get from the facilitator while the PLN is supported",
    )
    workshop_hours: float = param(
        6.0,
        low=0,
        unit="hours",
        source="[assume: a school day]",
        help="length of a workshop",
        plausible=(3.0, 7.0),
    )


@register
class PLNLearning(Process):
    """Workshop attendance and learning.

    In a workshop week each participant attends with probability
    ``attend_base + attend_release_bonus * release_s + attend_formal_bonus * F_s`` (capped at 1).
    Attending makes them aware and closes a share
    ``learn_rate * (0.5 + 0.5 A) * (0.5 + 0.5 T_i)`` of their knowledge gap, where A is the
    network's focus alignment and ``T_i`` their trust in the network; that trust closes a share
    ``trust_rate * (0.5 + 0.5 h)`` of its gap, h being the homogeneity of member schools
    (seed 000, 004). The network asks participants to try the practice between workshops (the
    Research Learning Community cycle, Brown 2017): an attending participant who is aware,
    interested or whose earlier trial lapsed (the cycle is to try, refine and try again), not
    resistant and has ``trial_hours`` free starts a trial with probability
    ``trial_commitment``.
    """

    name = "pln_learning"
    section = "pln"
    Params = PLNConfig
    owns = (
        "staff.knowledge",
        "staff.network_trust",
        "staff.stage",
        "model.pln_started",
        "now.attended_workshop",
        "now.hours",
    )
    reads = (
        "now.workshop_week",
        "staff.participant",
        "staff.resistant",
        "model.free_hours",
        "levers.release",
        "levers.formalisation",
    )

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
        attend &= now.workshop_schools[staff.school]  # their PLN's calendar (sim.system)
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
        open_to_trial = (
            (staff.stage == Stage.AWARE)
            | (staff.stage == Stage.INTERESTED)
            | (staff.stage == Stage.LAPSED)
        )
        has_time = m.free_hours >= m.config.decision.trial_hours
        staff.stage[attend & commit & open_to_trial & has_time & ~staff.resistant] = Stage.TRIALLING
        m.pln_started |= np.bincount(staff.school[attend], minlength=m.schools.n) > 0
        now.hours = now.hours + cfg.workshop_hours * np.bincount(
            staff.school[attend], minlength=m.schools.n
        )
