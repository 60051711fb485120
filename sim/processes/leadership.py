"""Leadership actions: keeping the work in sight (MODEL.md §3 step 4, §4.4)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.params import Section, param
from sim.processes.base import PERCEPTION, Process
from sim.registry import register
from sim.school_year import SESSION_PERIOD_WEEKS

__all__ = ["LeadershipConfig", "LeadershipActions"]


@dataclass
class LeadershipConfig(Section):
    """Leadership levers, per school (ODD §4.4)."""

    in_improvement_plan: Any = param(
        True, per_school=True, source="[seed 000, 003]", help="the work is in the improvement plan"
    )
    in_performance_targets: Any = param(
        True, per_school=True, source="[seed 000]", help="the work is in performance targets"
    )
    governors_engaged: Any = param(
        False, per_school=True, source="[seed 000]", help="governors are engaged with the work"
    )
    plan_priorities: Any = param(
        3,
        low=1,
        per_school=True,
        source="[seed 003; assume default]",
        help="number of priorities in the improvement plan (a priority among many is none)",
    )
    priority_dilution: float = param(
        0.15,
        low=0,
        source="[assume]",
        help="d in P = F (0.5 + 0.5 L) / (1 + d (priorities - 1))",
        plausible=(0.05, 0.3),
    )
    release_for_workshops: Any = param(
        True, per_school=True, source="[seed 000]", help="participants are released to attend"
    )
    collab_hours_per_week: Any = param(
        1.0,
        low=0,
        high=2,
        per_school=True,
        unit="hours/week",
        source="[seed 000: PPA reallocation]",
        help="collaboration time allocated to every member of staff",
    )
    session_frequency: Any = param(
        "half_termly",
        choices=tuple(SESSION_PERIOD_WEEKS),
        per_school=True,
        source="[seed 000: twilight sessions]",
        help="how often whole-staff sessions run",
    )
    distributed_leadership: Any = param(
        0.5,
        low=0,
        high=1,
        per_school=True,
        source="[seed 003]",
        help="D: how far participants are empowered to lead (reach of their sessions)",
    )
    involvement: Any = param(
        0.5,
        low=0,
        high=1,
        per_school=True,
        source="[seed 000, 001]",
        help="L: leaders stay involved, check in, keep reminders up",
    )
    research_lead: Any = param(
        False,
        per_school=True,
        source="[seed 000: a dedicated member of staff]",
        help="a research lead finds, reads and passes on research",
    )
    research_lead_support: float = param(
        0.2,
        low=0,
        high=1,
        source="[assume]",
        help="how-to support a research lead adds (capped at 1)",
        plausible=(0.1, 0.4),
    )
    research_lead_hours: float = param(
        2.0,
        low=0,
        unit="hours/week",
        source="[assume]",
        help="a research lead's weekly time",
        plausible=(1.0, 4.0),
    )
    out_of_sight_rate: float = param(
        0.04,
        low=0,
        high=1,
        unit="1/week",
        source="[seed 001: 'it goes out of sight'; assume rate]",
        help="weekly hazard the work goes out of sight at zero involvement and formalisation",
    )
    back_in_sight_rate: float = param(
        0.25,
        low=0,
        high=1,
        unit="1/week",
        source="[seed 000: check-ins, ambient reminders; assume rate]",
        help="weekly chance, at full involvement, that check-ins bring the work back in sight",
    )
    control_back_trust_loss: float = param(
        0.15,
        low=0,
        high=1,
        source="[seed 003; assume]",
        help="share of trust in leaders lost when leaders take control back after a failure",
    )
    howto_support: Any = param(
        0.5,
        low=0,
        high=1,
        per_school=True,
        source="[seed 000]",
        help="H: modelling and explaining the practice to non-participants",
    )


@register
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
    section = "leadership"
    Params = LeadershipConfig
    owns = ("model.out_of_sight", *PERCEPTION)
    reads = (
        "model.in_sight",
        "levers.involvement",
        "levers.formalisation",
        "now.workshop_week",
        "now.attended_workshop",
    )

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
