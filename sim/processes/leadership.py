"""Leadership actions: keeping the work in sight (MODEL.md §3 step 4, §4.4)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from sim import kernel
from sim.params import Section, param
from sim.population import Stage
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
    research_lead_knowledge: float = param(
        0.05,
        low=0,
        high=1,
        unit="1/week",
        source="[seed 000: finds, reads and disseminates research; assume rate]",
        help="share of a trialling colleague's knowledge gap a research lead's materials close "
        "each week",
    )
    research_lead_fit: float = param(
        0.03,
        low=0,
        high=1,
        unit="1/term",
        source="[seed 000; assume rate]",
        help="share of the gap to full fit closed each term as a research lead adapts materials "
        "to the school's classes and subjects",
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
    new_priority_rate: float = param(
        0.05,
        low=0,
        high=1,
        unit="1/term",
        source="[seed 000: competing time priorities; seed 003; assume rate]",
        help="chance a term that a new initiative joins a school's improvement plan",
    )
    new_priority_disadvantage: float = param(
        0.3,
        low=0,
        high=1,
        unit="1/term",
        source="[lit: more competing priorities in disadvantaged schools (MODEL.md §9b); assume]",
        help="added chance a term per unit share of pupils on free school meals",
    )
    control_back_cut: float = param(
        0.5,
        low=0,
        high=1,
        source="[seed 003: leaders who 'grasp it back at the slightest sign of failure'; assume]",
        help="share of distributed leadership lost, for the rest of the run, each time leaders "
        "take control back",
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

    A research lead (seed 000: "a dedicated member of staff ... able to find, read and
    disseminate research findings") works where the work is in sight: each week staff who are
    trialling close a share ``research_lead_knowledge`` of their knowledge gap (materials found
    for them), and at each term's start the materials are adapted to the school's classes and
    subjects: everyone's fit closes a share ``research_lead_fit`` of its gap to 1.

    Draws: one uniform per school per week for each of the two events.
    """

    name = "leadership"
    section = "leadership"
    Params = LeadershipConfig
    owns = (
        "model.out_of_sight",
        "staff.knowledge",
        "staff.fit",
        "levers.plan_priorities",
        *PERCEPTION,
    )
    reads = (
        "model.in_sight",
        "levers.involvement",
        "levers.formalisation",
        "levers.research_lead",
        "schools.disadvantage",
        "staff.stage",
        "now.workshop_week",
        "now.attended_workshop",
    )

    def __init__(self, model) -> None:
        super().__init__(model)
        self._levers_version = -1
        self._lead_key: tuple | None = None
        self._active: np.ndarray | None = None
        self._led: np.ndarray | None = None
        self._sized = False
        self._trialling = int(Stage.TRIALLING)

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
        n = m.schools.n
        if kernel.enabled():  # the same draws and updates, compiled (sim.kernel)
            self._step_compiled(week, n)
            return
        self._research_lead(week)
        u_out = m.streams.uniform("leadership.out_of_sight", week, n)
        was_out = m.out_of_sight
        goes_out = m.in_sight & ~was_out & (u_out < self.h_out)
        any_out = was_out.any()
        if any_out:
            u_back = m.streams.uniform("leadership.back_in_sight", week, n)
            comes_back = was_out & (u_back < self.p_back)
        else:  # nothing to come back: the draws could not matter (sim.rng is counter-based)
            comes_back = np.zeros(n, dtype=bool)
        if m.now.workshop_week and any_out:
            attended = np.bincount(m.staff.school[m.now.attended_workshop], minlength=n) > 0
            comes_back |= was_out & attended
        if goes_out.any() or comes_back.any():
            m.out_of_sight = (was_out | goes_out) & ~comes_back
            m.refresh_perception()

    def _step_compiled(self, week: int, n: int) -> None:
        """Research leads and sight through :func:`sim.kernel.leadership_pass`."""
        m = self.model
        staff, now, streams = m.staff, m.now, m.streams
        if not self._sized:  # the streams' sizes, checked once (schools are permanent)
            streams.check_size("leadership.out_of_sight", n)
            streams.check_size("leadership.back_in_sight", n)
            self._sized = True
        knowledge, learned, out, changed = kernel.leadership_pass(
            m.levers.research_lead,
            m.in_sight,
            m.out_of_sight,
            staff.school,
            staff.stage,
            staff.knowledge,
            m.config.leadership.research_lead_knowledge,
            self._trialling,
            self.h_out,
            self.p_back,
            streams.keys("leadership.out_of_sight", week),
            streams.keys("leadership.back_in_sight", week),
            week,
            now.workshop_week,
            now.attended_workshop,
        )
        if learned:
            staff.knowledge = knowledge
        if now.week_in_term == 0:  # research leads adapt materials (where the work was in sight)
            led = m.levers.research_lead & m.in_sight & ~m.out_of_sight
            if led.any():
                fit, rate = staff.fit, m.config.leadership.research_lead_fit
                staff.fit = np.where(led[staff.school], fit + rate * (1.0 - fit), fit)
        if changed:
            m.out_of_sight = out
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
        hit = np.flatnonzero(u < p)
        if len(hit):
            more = [int(v) + 1 for v in m.levers.plan_priorities[hit]]
            m.levers.set_many(hit, "plan_priorities", more)

    def _research_lead(self, week: int) -> None:
        m = self.model
        key = (m.levers.version, m.version("in_sight", "out_of_sight"))
        if key != self._lead_key:
            self._lead_key = key
            active = m.levers.research_lead & m.in_sight & ~m.out_of_sight
            self._active = active if active.any() else None
            self._led = None  # per person, computed when needed
        if self._active is None:
            return
        staff = m.staff
        lv = m.config.leadership
        trialling = self._here() & (staff.stage == Stage.TRIALLING)
        if trialling.any():
            k = staff.knowledge
            staff.knowledge = np.where(trialling, k + lv.research_lead_knowledge * (1.0 - k), k)
        if m.now.week_in_term == 0:
            fit = staff.fit
            staff.fit = np.where(self._here(), fit + lv.research_lead_fit * (1.0 - fit), fit)

    def _here(self) -> np.ndarray:
        """Staff of the schools whose research lead is at work (where the work is in sight)."""
        if self._led is None:
            self._led = self._active[self.model.staff.school]
        return self._led
