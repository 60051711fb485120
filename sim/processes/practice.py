"""Practice: quality of enactment, stage advance and lapse (MODEL.md §3 step 8, §4.5)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sim import kernel
from sim.access import support_access
from sim.params import ConfigError, Section, param
from sim.population import Stage
from sim.processes.base import Process
from sim.processes.decision import USES
from sim.registry import register

__all__ = ["COLLABORATION_DEPTH", "PracticeConfig", "Practice"]

#: Kinds of collaboration (Warren-Little 1990, seed 004), ordered by depth, and the relative
#: rate at which each lets enactment quality grow [assume].
COLLABORATION_DEPTH: dict[str, float] = {
    "storytelling": 0.25,
    "aid_and_assistance": 0.5,
    "sharing": 0.75,
    "joint_work": 1.0,
}


@dataclass
class PracticeConfig(Section):
    """Classroom practice, stages and lapse (ODD §4.5)."""

    quality_rate: float = param(
        0.15,
        low=0,
        high=1,
        unit="1/week",
        source="[assume; calibrated, ODD §8.1]",
        help="r_q: weekly growth rate of enactment quality at full time, support and depth",
        plausible=(0.06, 0.2),
    )
    practice_hours_full: float = param(
        2.0,
        low=0,
        low_open=True,
        unit="hours/week",
        source="[assume]",
        help="weekly hours at which practice time no longer limits quality growth",
        plausible=(1.0, 3.0),
    )
    quality_decay: float = param(
        0.03,
        low=0,
        high=1,
        unit="1/week",
        source="[assume]",
        help="weekly loss of quality without practice",
        plausible=(0.01, 0.06),
    )
    collaboration_kind: str = param(
        "sharing",
        choices=tuple(COLLABORATION_DEPTH),
        source="[seed 004: Warren-Little's kinds of collaboration]",
        help="the kind of collaboration staff practise in",
    )
    q_adopt: float = param(
        0.48,
        low=0,
        high=1,
        source="[assume; calibrated, ODD §8.1]",
        help="quality at which a trial becomes adoption",
        plausible=(0.4, 0.6),
    )
    fit_mean: float = param(
        0.67,
        low=0,
        high=1,
        low_open=True,
        source="[assume; calibrated, ODD §8.1; lit: Rogers 2003 laggards; Edwards & Green 1999]",
        help="mean fit of the practice to a person's class or subject (Beta; caps quality)",
        plausible=(0.5, 0.85),
    )
    fit_sd: float = param(
        0.2,
        low=0,
        source="[assume]",
        help="sd of fit; fit below q_adopt makes a persistent non-adopter",
        plausible=(0.1, 0.3),
    )
    supported_per_supporter: float = param(
        3.0,
        low=0,
        unit="staff",
        source="[seed 000: 'bespoke support to individual teachers'; assume number]",
        help="trialling colleagues one supporter can give how-to support to at a time",
    )
    support_reach_untied: float = param(
        0.5,
        low=0,
        high=1,
        source="[seed 001: colleagues 'able to ask about it and seek support'; seed 003: "
        "participants 'at the centre of their school networks'; assume]",
        help="share of how-to support reaching a colleague with no advice tie to a participant "
        "(full with a fully trusted tie)",
    )
    q_embed: float = param(
        0.7,
        low=0,
        high=1,
        source="[assume]",
        help="quality needed to become embedded",
        plausible=(0.6, 0.8),
    )
    embed_weeks: int = param(
        13,
        low=1,
        unit="weeks",
        source="[assume: a term]",
        help="weeks of adoption before practice can embed",
        plausible=(6, 26),
    )
    routine_level: float = param(
        0.5,
        low=0,
        high=1,
        source="[seed 002; assume level]",
        help="F or D at or above which school routines can carry practice (embedding)",
    )
    trial_weeks_max: int = param(
        27,
        low=1,
        unit="weeks",
        source="[assume: about a school year to make it work; calibrated, ODD §8.1]",
        help="a trial that has not reached q_adopt by then has failed (visible failure)",
        plausible=(13, 39),
    )
    lapse_base: float = param(
        0.0045,
        low=0,
        high=1,
        unit="1/week",
        source="[assume; calibrated, ODD §8.1]",
        help="weekly lapse hazard of a user with time, check-ins, formalisation and support",
        plausible=(0.001, 0.01),
    )
    lapse_no_time: float = param(
        1.0,
        low=0,
        source="[assume]",
        help="relative hazard increase when practice time is short",
        plausible=(0.5, 2.0),
    )
    lapse_no_checkin: float = param(
        1.0,
        low=0,
        source="[assume]",
        help="relative hazard increase without leader involvement",
        plausible=(0.5, 2.0),
    )
    lapse_unformalised: float = param(
        1.0,
        low=0,
        source="[assume]",
        help="relative hazard increase without formalisation",
        plausible=(0.5, 2.0),
    )
    lapse_support_ended: float = param(
        2.0,
        low=0,
        source="[assume; lit: Datnow 2005]",
        help="relative hazard increase after PLN support ends",
        plausible=(1.0, 3.0),
    )
    embedded_lapse_factor: float = param(
        0.1, low=0, high=1, source="[seed 002; assume]", help="embedded users' relative hazard"
    )


@register
class Practice(Process):
    """Users practise; quality grows or decays; stages advance or lapse.

    * Users (trialling, adopted, embedded) practise:
      ``q += r_q * time_i * (0.5 + 0.5 H_i c_i) * depth_i * k_i * max(fit_i - q, 0)``:
      understanding paces enactment (MODEL.md's form times knowledge ``k_i``), and the fit of the
      practice to the person's class or subject caps it (persistent non-adopters where fit is
      below ``q_adopt``; see docs/ODD.md); ``c_i`` is the share of the school's how-to support
      that reaches a trialling non-participant (:meth:`_coverage`), where
      ``time_i = min(1, free hours / practice_hours_full)`` and ``depth_i`` the relative rate of
      the kind of collaboration i practises in (Warren-Little: storytelling < aid and
      assistance < sharing < joint work; seed 004; joint work for those reached by learning
      conversations, :mod:`sim.modes`). Everyone else's quality decays by ``quality_decay``.
    * trialling -> adopted when ``q >= q_adopt``; a trial still short of it after
      ``trial_weeks_max`` weeks has failed (visible failure) and lapses.
    * adopted -> embedded after ``embed_weeks`` weeks of adoption with ``q >= q_embed`` in a school
      whose routines carry the practice (formalisation or distributed leadership in force at
      least ``routine_level``; seed 002). Weeks count within the stage held at the start of the
      week.
    * Users lapse with weekly hazard ``lapse_base * (1 + a_time (1 - time_i)) *
      (1 + a_checkin (1 - L_s)) * (1 + a_formal (1 - F_s)) * (1 + a_support [support ended])``,
      embedded users with ``embedded_lapse_factor`` times that; all times
      ``(1 - q) / (1 - q_adopt)``: practice that visibly works is kept, practice that does not
      is dropped sooner.
    """

    name = "practice"
    section = "practice"
    Params = PracticeConfig
    owns = ("staff.quality", "staff.stage", "now.failed_trials")
    reads = (
        "staff.knowledge",
        "staff.stage_weeks",
        "now.support",
        "now.depth",
        "now.stage_at_start",
        "now.support_ended",
        "model.free_hours",
        "model.distributed",
        "levers.involvement",
        "levers.formalisation",
        "ties.trust",
    )

    @classmethod
    def check(cls, config) -> None:
        """`practice.q_embed ≥ practice.q_adopt`; `practice.fit_sd` allows a Beta fit."""
        pr = config.practice
        if pr.fit_mean < 1 and pr.fit_sd**2 >= pr.fit_mean * (1 - pr.fit_mean):
            raise ConfigError(
                f"practice.fit_sd must be below sqrt(mean*(1-mean)) = "
                f"{math.sqrt(pr.fit_mean * (1 - pr.fit_mean)):.4f} (got {pr.fit_sd:g})"
            )
        if pr.fit_mean == 1 and pr.fit_sd != 0:
            raise ConfigError("practice.fit_sd must be 0 when practice.fit_mean is 1")
        if pr.q_embed < pr.q_adopt:
            raise ConfigError("practice.q_embed must be at least practice.q_adopt")

    def __init__(self, model) -> None:
        super().__init__(model)
        self.cfg = model.config.practice
        self._hours_key: tuple | None = None
        self._growth_key: int | None = None
        self._routine_key: int | None = None
        self._capacity_key: tuple | None = None
        self._compiled_key: tuple | None = None
        self._fixed: tuple | None = None
        self._per_room = 1.0 / (1.0 - min(self.cfg.q_adopt, 0.99))

    def _refresh_time(self) -> None:
        """Time- and lever-dependent terms (free hours change with turnover and levers)."""
        m, cfg = self.model, self.cfg
        sch, school = m.levers, m.staff.school
        time = np.minimum(m.free_hours / cfg.practice_hours_full, 1.0)
        self.growth_base = cfg.quality_rate * time
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
        self._growth_key = None

    def _support_capacity(self) -> None:
        """Refresh how much support each school's participants can give, and who they reach.

        ``_capacity``: trialling colleagues each school's participants can support at a time
        (more of them lead support where leadership is distributed); ``_reach``: each
        person's access to a participant to ask,
        :func:`~sim.access.support_access` (see :meth:`_coverage`). Recomputed only
        when participants, distributed leadership or tie trust change.
        """
        m = self.model
        staff = m.staff
        key = (staff.version("participant"), m.stamp("distributed"))
        if key != self._capacity_key:  # supporters (distributed leadership can change weekly)
            self._capacity_key = key
            supporters = np.bincount(staff.school[staff.participant], minlength=m.schools.n)
            self._capacity = (
                supporters * (0.5 + 0.5 * m.distributed) * self.cfg.supported_per_supporter
            )
        self._reach = support_access(m)  # cached on participants and tie trust

    def _coverage(self, stage: np.ndarray) -> np.ndarray | None:
        """Share of the school's how-to support that reaches each person this week.

        ``None`` when nobody is asking (everyone gets it in full).

        Support is given to staff who are trialling, by the school's participants (more of them
        lead support where leadership is distributed: ``0.5 + 0.5 D_s`` each), each able to
        support ``supported_per_supporter`` trialling colleagues at a time: where more colleagues
        trial at once, each gets a share (diminishing returns; seed 000's "bespoke support to
        individual teachers"). Support travels along advice relationships: a trialling colleague
        gets ``f + (1 - f) t_i`` of their share, ``t_i`` their highest trust on an advice tie to
        a participant and ``f = support_reach_untied`` (participants at the centre of the
        school's network reach more; seed 003).
        Participants (facilitator) and established users get it in full.
        """
        m = self.model
        staff = m.staff
        asking = (stage == Stage.TRIALLING) & ~staff.participant
        if not asking.any():
            return None
        self._support_capacity()
        demand = np.bincount(staff.school[asking], minlength=m.schools.n)
        share = np.minimum(self._capacity / np.maximum(demand, 1), 1.0)
        return np.where(asking, share[staff.school] * self._reach, 1.0)

    def _refresh(self, depth: bool = True) -> None:
        """Bring the terms derived from levers, perception and leadership up to date.

        ``depth``: also the growth rate times the depth of collaboration (the compiled pass
        multiplies them itself).
        """
        m, cfg = self.model, self.cfg
        key = (m.stamp("free_hours"), m.levers.version)
        if key != self._hours_key:
            self._hours_key = key
            self._refresh_time()
        key = m.version("perception")
        if depth and key != self._growth_key:
            self._growth_key = key
            self._depth = self.growth_base * m.now.depth
            self._growth = None  # with full support (numpy path), computed when first needed
        distributed = m.stamp("distributed")
        if distributed != self._routine_key:  # leaders may take control back
            self._routine_key = distributed
            routine = (m.levers.formalisation >= cfg.routine_level) | (
                m.distributed >= cfg.routine_level
            )
            self.can_embed = routine[m.staff.school]

    def _constants(self) -> tuple:
        """The compiled pass's arguments that are fixed for the run (computed at its first week).

        Parameters, the stage look-up and codes; the lapse stream's size is checked here, once
        (slots are permanent).
        """
        cfg = self.cfg
        self.model.streams.check_size("practice.lapse", self.model.staff.n)
        return (
            USES,
            1.0 - cfg.quality_decay,
            cfg.q_adopt,
            cfg.q_embed,
            cfg.trial_weeks_max,
            cfg.embed_weeks,
            self._per_room,
            int(Stage.TRIALLING),
            int(Stage.ADOPTED),
            int(Stage.EMBEDDED),
            int(Stage.LAPSED),
        )

    def _step_compiled(self, week: int, then: tuple | None = None) -> None:
        """:meth:`step` through the compiled pass (:func:`sim.kernel.practice_pass`).

        ``then``: the TrustUpdate and Outcomes processes, to run their passes in the same call
        (:meth:`step_through_outcomes`).
        """
        m = self.model
        staff, now = m.staff, m.now
        # What the cached terms derive from: when none of it changed, all of them hold. Access
        # to participants changes with tie trust, every week: it is read from its own cache
        # (sim.access; the compiled conversation pass leaves it there).
        key = (
            m.stamp("free_hours"),
            m.stamp("distributed"),
            staff.version("participant"),
            m.levers.version,
        )
        if key != self._compiled_key:
            self._compiled_key = key
            self._refresh(depth=False)
            self._support_capacity()
            if self._fixed is None:
                self._fixed = self._constants()
        else:
            self._reach = support_access(m)
        h_user, h_embedded = self.hazard[now.support_ended]
        failed = np.empty(staff.n, dtype=bool)
        args = (
            staff.stage,
            now.stage_at_start,
            staff.stage_weeks,
            staff.quality,
            staff.fit,
            staff.knowledge,
            self.growth_base,
            now.depth,
            now.support,
            staff.school,
            staff.participant,
            self._capacity,
            self._reach,
            self.can_embed,
            h_user,
            h_embedded,
            m.streams.keys("practice.lapse", week),
            week,
            failed,
            *self._fixed,
        )
        if then is None:
            quality, any_user = kernel.practice_pass(*args)
        else:
            quality, any_user = self._late_week_compiled(week, args, *then)
        if any_user:
            staff.quality = quality
            now.failed_trials = failed
        elif staff.quality.any():  # nobody practises: quality only decays (as below)
            staff.quality = quality

    def step_through_outcomes(self, week: int, trust: Process, outcomes: Process) -> None:
        """Step 8, then ``trust``'s and ``outcomes``' steps 9 and 10, compiled in one call.

        The model's weekly loop calls this in place of the three steps when TrustUpdate and
        Outcomes follow Practice in the weekly order and the compiled kernel is in use
        (:meth:`sim.model.KnowledgeMobilisationModel.weekly_calls`): the practice, trust and
        outcomes passes run in :func:`sim.kernel.late_week_pass`, then leaders respond to the
        week's failed trials (per school, in numpy). Each pass reads only what the one before it
        left, so the state is the one the three steps leave.
        """
        self._step_compiled(week, then=(trust, outcomes))
        failed = self.model.now.failed_trials
        if failed.any():
            trust.respond_to_failures(week, failed)

    def _late_week_compiled(
        self, week: int, args: tuple, trust: Process, outcomes: Process
    ) -> tuple[np.ndarray, bool]:
        """The passes of :meth:`step_through_outcomes`; returns the practice pass's results."""
        m = self.model
        staff, ties = m.staff, m.ties
        cfg = m.config.trust
        quality, any_user, trust_changed, gain, weeks = kernel.late_week_pass(
            args,
            m.tie_ptr,
            ties.adviser,
            ties.trust,
            m.now.helpful_ties,
            cfg.gain,
            cfg.loss,
            staff.pupil_gain,
            m.record.first_slot,
            staff.resistant,
            staff.pupils,
            *m.record.week_out(week, m.now.hours),
            outcomes.adopts,
            outcomes.offset_by_stage,
            outcomes.gain_per_quality,
        )
        if trust_changed:
            ties.touch("trust")
        staff.pupil_gain, staff.stage_weeks = gain, weeks
        return quality, any_user

    def step(self, week: int) -> None:
        """Practise, advance and lapse."""
        if kernel.enabled():  # the same arithmetic and draws, compiled (sim.kernel)
            self._step_compiled(week)
            return
        m, cfg = self.model, self.cfg
        staff, now = m.staff, m.now
        stage, q = staff.stage, staff.quality
        using = USES[stage]
        if not using.any():
            if q.any():
                staff.quality = q * (1.0 - cfg.quality_decay)
            return
        self._refresh()
        keep = 1.0 - cfg.quality_decay
        coverage = self._coverage(stage)
        # Understanding paces enactment: growth scales with the person's knowledge; fit caps it.
        if coverage is None:  # nobody is asking for support: everyone gets it in full
            if self._growth is None:
                self._growth = self._depth * (0.5 + 0.5 * now.support)
            growth = self._growth * staff.knowledge
        else:
            growth = self._depth * (0.5 + 0.5 * now.support * coverage) * staff.knowledge
        room = np.maximum(staff.fit - q, 0.0)
        staff.quality = q = np.where(using, q + growth * room, q * keep)

        # Weeks completed in the stage held at the start of this week (0 if it just began).
        weeks_in = np.where(stage == now.stage_at_start, staff.stage_weeks, 0)
        trialling = stage == Stage.TRIALLING
        to_adopt = trialling & (q >= cfg.q_adopt)
        failed = trialling & ~to_adopt & (weeks_in + 1 >= cfg.trial_weeks_max)
        to_embed = (
            (stage == Stage.ADOPTED)
            & self.can_embed
            & (q >= cfg.q_embed)
            & (weeks_in >= cfg.embed_weeks)
        )
        h_user, h_embedded = self.hazard[now.support_ended]
        hazard = np.where(stage == Stage.EMBEDDED, h_embedded, h_user)
        # Practice that visibly works is kept: the hazard scales with the room left below full
        # quality, relative to the room at q_adopt.
        hazard = hazard * (1.0 - q) * self._per_room
        users = np.flatnonzero(using)  # draws for users only (the same values: sim.rng)
        lapse = np.zeros(staff.n, dtype=bool)
        lapse[users] = m.streams.uniform_at("practice.lapse", week, staff.n, users) < hazard[users]

        stage[to_adopt] = Stage.ADOPTED
        stage[to_embed] = Stage.EMBEDDED
        stage[failed | lapse] = Stage.LAPSED
        now.failed_trials = failed
