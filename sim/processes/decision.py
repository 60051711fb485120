"""Decision: persuasion, then trying (MODEL.md §3 step 7, §4.2)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sim import kernel
from sim.access import support_access
from sim.params import ConfigError, Section, param
from sim.population import Stage, stage_lookup
from sim.processes.base import Process
from sim.registry import register

__all__ = ["DecisionConfig", "Decision", "USES", "support_heard"]


@dataclass
class DecisionConfig(Section):
    """Readiness, thresholds, capacity and transitions (ODD §4.2)."""

    w_social: float = param(
        0.5,
        low=0,
        high=1,
        source="[assume]",
        help="weight of social proof in readiness",
        plausible=(0.3, 0.7),
    )
    w_formal: float = param(
        0.25,
        low=0,
        high=1,
        source="[assume]",
        help="weight of the school's signal in readiness",
        plausible=(0.1, 0.4),
    )
    w_support: float = param(
        0.25,
        low=0,
        high=1,
        source="[assume]",
        help="weight of how-to support in readiness",
        plausible=(0.1, 0.4),
    )
    threshold_mean: float = param(
        0.33,
        low=0,
        high=1,
        low_open=True,
        source="[assume; calibrated, ODD §8.1; lit: Valente 1996]",
        help="mean of the adoption threshold (see threshold_distribution)",
        plausible=(0.2, 0.5),
    )
    threshold_distribution: str = param(
        "beta",
        choices=("beta", "normal"),
        source="[lit: Valente 1996 (beta on [0,1]); Granovetter 1978 (normal)]",
        help="distribution of thresholds with the given mean and sd",
    )
    threshold_sd: float = param(
        0.15,
        low=0,
        source="[assume]",
        help="standard deviation of the threshold",
        plausible=(0.05, 0.25),
    )
    capacity_mean_hours: float = param(
        1.0,
        low=0,
        low_open=True,
        unit="hours/week",
        source="[assume]",
        help="mean discretionary hours a week (Gamma distributed)",
        plausible=(0.5, 2.0),
    )
    capacity_shape: float = param(
        2.0,
        low=0,
        low_open=True,
        source="[assume]",
        help="Gamma shape of capacity",
        plausible=(1.0, 4.0),
    )
    trial_hours: float = param(
        1.0,
        low=0,
        unit="hours/week",
        source="[assume]",
        help="h_trial: free hours a week needed to start trialling",
        plausible=(0.5, 1.5),
    )
    p_act: float = param(
        0.3,
        low=0,
        high=1,
        source="[assume]",
        help="weekly probability of acting when ready",
        plausible=(0.1, 0.5),
    )
    noise_enabled: bool = param(
        True, source="[lit: Eckles et al.]", help="whether unpersuaded aware staff may try anyway"
    )
    noise_rate: float = param(
        0.002,
        low=0,
        high=1,
        unit="1/week",
        source="[assume]",
        help="epsilon: weekly probability an aware person tries without persuasion",
        plausible=(0.0, 0.006),
    )
    relapse_margin: float = param(
        0.1,
        low=0,
        high=1,
        source="[assume]",
        help="extra readiness a lapsed person needs before becoming interested again",
        plausible=(0.0, 0.2),
    )
    resistance_rate: float = param(
        0.3,
        low=0,
        high=1,
        source="[assume; seed 001, Daly 2010]",
        help="rho: pressured, unpersuaded staff turn resistant with probability rho (1 - tau)",
        plausible=(0.1, 0.5),
    )
    resistance_margin: float = param(
        0.1,
        low=0,
        high=1,
        source="[assume]",
        help="m: pressure turns staff resistant only when readiness < threshold - m",
        plausible=(0.0, 0.2),
    )
    resistance_exit: float = param(
        0.15,
        low=0,
        high=1,
        source="[assume]",
        help="delta-theta: extra readiness a resistant person needs to become interested",
        plausible=(0.05, 0.3),
    )
    resistant_influence: float = param(
        0.5,
        low=0,
        high=1,
        source="[lit: Daly 2010, negative opinion leadership; assume weight]",
        help="how much a resistant adviser subtracts from a colleague's social proof",
    )
    standing_visibility: float = param(
        1.0,
        low=0,
        high=1,
        source="[assume: proportional; seed 000: opinion formers chosen 'for the influence they "
        "have on colleagues'; seed 003: participants 'at the centre of their school networks'; "
        "lit: Paluck, Shepherd & Aronow 2016 (social referents)]",
        help="share of how visible a colleague's practice is in social proof that follows their "
        "standing (trust on advice ties to them, over the school's mean); 0: all count alike",
        plausible=(0.0, 1.0),
    )
    leader_trust_concentration: float = param(
        10.0,
        low=0,
        low_open=True,
        source="[assume]",
        help="Beta concentration of trust in leaders around the school's trust climate",
        plausible=(4.0, 25.0),
    )


#: Stages in which a person uses the practice in class.
USES = stage_lookup(Stage.TRIALLING, Stage.ADOPTED, Stage.EMBEDDED)


def support_heard(model) -> np.ndarray:
    """The how-to support each person can draw on in readiness this week: ``H_i a_i``.

    ``H_i`` is the support as perceived (``model.now.support``) and ``a_i`` the person's access
    to a participant to ask (:func:`sim.access.support_access`).
    """
    return model.now.support * support_access(model)


@register
class Decision(Process):
    """Persuasion, resistance and trying.

    Readiness ``R_i = w_social E_i + w_formal P_s tau_i + w_support H_i k_i``, where ``E_i`` is
    the trust-weighted mean over i's advisers of what i sees of their practice: a user counts by
    the quality of their practice (how visibly well it goes; times ``champion_visibility`` for a
    champion), a resistant adviser counts ``-resistant_influence`` (negative opinion leadership,
    Daly 2010): a complex contagion (Centola & Macy 2007). ``P_s`` is the school's signal
    (formalisation x involvement, diluted by other priorities), ``tau_i`` trust in leaders and
    ``H_i`` the how-to support available to i, both as perceived this week (``model.now``: zero
    for non-participants while the work is out of sight).

    * Resistance: staff pressured this week (a whole-staff launch) who are not using the practice
      and whose ``R_i < theta_i - m`` turn resistant with probability ``rho (1 - tau_i)``.
    * aware -> interested when ``R_i >= theta_i`` (lapsed staff need ``theta_i + relapse_margin``;
      resistant staff need ``theta_i + resistance_exit`` and then stop resisting);
    * interested -> trialling when also the person has ``trial_hours`` free a week (capacity
      plus allocated collaboration time);
    * each transition happens in a given week with probability ``p_act``, or for certain in a
      week the person is pressured (asked to try now: a launch or a mandated session) — a
      mandate moves the persuaded as surely as it pushes the unpersuaded into resistance;
    * with ``noise_enabled``, an aware or interested person with the time who is not resistant
      tries anyway with probability ``noise_rate`` a week.

    Draws: one uniform per slot per week for acting, one for noise, one for resistance (the
    first two computed only where they can matter: the same values, sim.rng is counter-based).
    """

    name = "decision"
    section = "decision"
    Params = DecisionConfig
    owns = ("staff.stage", "staff.resistant")
    reads = (
        "now.signal",
        "now.support",
        "now.pressured",
        "staff.trust_in_leaders",
        "staff.threshold",
        "staff.quality",
        "staff.knowledge",
        "staff.participant",
        "ties.trust",
        "model.free_hours",
        "mode",
    )

    @classmethod
    def check(cls, config) -> None:
        """`w_social + w_formal + w_support = 1`; Beta threshold: `threshold_sd < sqrt(m (1 − m))`.

        Keys of the ``decision`` section; ``m`` is ``decision.threshold_mean``.
        """
        d = config.decision
        total = d.w_social + d.w_formal + d.w_support
        if not math.isclose(total, 1.0, abs_tol=1e-9):
            raise ConfigError(
                "decision.w_social + decision.w_formal + decision.w_support must sum to 1 "
                f"(got {total:g})"
            )
        m = d.threshold_mean
        if d.threshold_distribution == "beta" and d.threshold_sd**2 >= m * (1 - m):
            raise ConfigError(
                f"decision.threshold_sd must be below sqrt(mean*(1-mean)) = "
                f"{math.sqrt(m * (1 - m)):.4f} for a Beta threshold (got {d.threshold_sd:g})"
            )

    def __init__(self, model) -> None:
        super().__init__(model)
        self.d = model.config.decision
        self.may_move = stage_lookup(Stage.AWARE, Stage.INTERESTED, Stage.LAPSED)
        self.may_interest = stage_lookup(Stage.AWARE, Stage.LAPSED)
        self.may_try_anyway = stage_lookup(Stage.AWARE, Stage.INTERESTED)
        self._levers_key: tuple | None = None
        self._support_key: tuple | None = None
        self._weight_key: tuple | None = None
        self._trust_key: int | None = None
        self._visibility_key: int | None = None
        self._hours_key: int | None = None
        self._fixed: tuple | None = None

    def visibility(self) -> np.ndarray:
        """How visible each person's practice is to colleagues (the mode's; cached)."""
        key = self.model.staff.version("participant")
        if key != self._visibility_key:
            self._visibility_key = key
            self._visibility = self.model.mode.visibility()
        return self._visibility

    def readiness(self) -> np.ndarray:
        """Readiness of every slot this week (see the class docstring)."""
        m, d = self.model, self.d
        staff = m.staff
        self._refresh_terms()
        key = m.ties.version("trust")
        if key != self._trust_key:
            self._trust_key = key
            total = m.trust_by_seeker()
            self._social_weight = d.w_social * np.divide(
                1.0, total, out=np.zeros(staff.n), where=total > 0
            )
        return (
            self._seen() * self._social_weight
            + self._formal_term
            + self._support_weight * staff.knowledge
        )

    def _refresh_terms(self) -> None:
        """Terms that change only when perception, trust in leaders or access change.

        Cached on the version stamps of what they are derived from (sim.versioning).
        """
        m, d = self.model, self.d
        staff = m.staff
        key = (m.version("perception"), staff.version("trust_in_leaders"))
        if key != self._levers_key:
            self._levers_key = key
            self._formal_term = d.w_formal * m.now.signal * staff.trust_in_leaders
        self._refresh_support()
        if self._weight_key != self._support_key:
            self._weight_key = self._support_key
            self._support_weight = d.w_support * self.support_heard

    def _support_stamps(self) -> tuple:
        # What support_heard is derived from: perception and access to participants.
        return (self.model.version("perception"), *kernel.access_stamps(self.model))

    def _refresh_support(self) -> None:
        """Bring :func:`support_heard` up to date (it changes with perception and access)."""
        key = self._support_stamps()
        if key != self._support_key:
            self._support_key = key
            self.support_heard = support_heard(self.model)

    def keep_support_heard(self, heard: np.ndarray) -> None:
        """Keep ``heard`` as :func:`support_heard` of the current state.

        The compiled conversation pass computes it with the week's conversations
        (:func:`sim.kernel.converse_pass`), from the same perception, participants and trust.
        """
        self._support_key = self._support_stamps()
        self.support_heard = heard

    def _seen(self) -> np.ndarray:
        """``sum_j w_ij shown_j`` per slot (from the fused conversation pass if still valid)."""
        m, d = self.model, self.d
        staff, ties = m.staff, m.ties
        seen = kernel.readiness_sums(m, m.now.week) if kernel.enabled() else None
        if seen is None:
            shown = np.where(USES[staff.stage], staff.quality * self.visibility(), 0.0)
            shown -= d.resistant_influence * staff.resistant
            seen = np.bincount(
                ties.seeker, weights=ties.trust * shown[ties.adviser], minlength=staff.n
            )
        return seen

    def _refresh_time(self) -> None:
        m = self.model
        stamp = m.stamp("free_hours")
        if stamp != self._hours_key:
            self._hours_key = stamp
            self.has_time = m.free_hours >= self.d.trial_hours

    #: The streams the compiled pass draws from (resistance, acting, trying anyway).
    STREAMS = ("decision.resistance", "decision.act", "decision.noise")

    def _constants(self) -> tuple:
        """The compiled pass's arguments that are fixed for the run (computed at its first week).

        Parameters, stage look-ups and codes; the streams' sizes are checked here, once (slots
        are permanent).
        """
        d, n = self.d, self.model.staff.n
        for name in self.STREAMS:
            self.model.streams.check_size(name, n)
        return (
            d.w_social,
            d.w_formal,
            d.w_support,
            self.may_move,
            self.may_interest,
            self.may_try_anyway,
            d.resistance_margin,
            d.resistance_rate,
            d.relapse_margin,
            d.resistance_exit,
            d.p_act,
            d.noise_enabled,
            d.noise_rate,
            int(Stage.INTERESTED),
            int(Stage.TRIALLING),
            int(Stage.LAPSED),
        )

    def compiled_args(
        self,
        week: int,
        seen: np.ndarray,
        trust_total: np.ndarray,
        knowledge: np.ndarray,
        resistant: np.ndarray,
        heard: np.ndarray,
    ) -> tuple:
        """The arguments of :func:`sim.kernel.decision_pass` this week.

        ``seen`` and ``trust_total`` are the per-tie sums of readiness, ``knowledge`` the
        know-how it reads, ``heard`` the support each can draw on (:func:`support_heard`; the
        fused conversation pass writes it before this pass reads it), ``resistant`` the array
        the pass writes.
        """
        m = self.model
        staff, now, streams = m.staff, m.now, m.streams
        if self._fixed is None:
            self._fixed = self._constants()
        self._refresh_time()
        resist, act, noise = self.STREAMS
        return (
            staff.stage,
            staff.resistant,
            now.pressured,
            seen,
            trust_total,
            now.signal,
            heard,
            knowledge,
            staff.threshold,
            staff.trust_in_leaders,
            self.has_time,
            streams.keys(resist, week),
            streams.keys(act, week),
            streams.keys(noise, week),
            week,
            resistant,
            *self._fixed,
        )

    def _step_compiled(self, week: int) -> None:
        """:meth:`step` through the compiled pass (:func:`sim.kernel.decision_pass`)."""
        m = self.model
        staff = m.staff
        resistant = np.empty(staff.n, dtype=bool)
        self._refresh_support()
        args = self.compiled_args(
            week, self._seen(), m.trust_by_seeker(), staff.knowledge, resistant, self.support_heard
        )
        if kernel.decision_pass(*args):
            staff.resistant = resistant

    def step(self, week: int) -> None:
        """Resist, or move ready staff on."""
        if kernel.enabled():  # the same arithmetic and draws, compiled (sim.kernel)
            self._step_compiled(week)
            return
        m, d = self.model, self.d
        staff = m.staff
        n = staff.n
        stage = staff.stage
        if not self.may_move[stage].any():
            return
        self._refresh_time()
        ready = self.readiness()
        resisting = staff.resistant
        pressured = m.now.pressured
        if pressured.any():
            resist = m.streams.uniform("decision.resistance", week, n)
            resisting = resisting | (
                pressured
                & self.may_move[stage]
                & (ready < staff.threshold - d.resistance_margin)
                & (resist < d.resistance_rate * (1.0 - staff.trust_in_leaders))
            )
        need = np.where(stage == Stage.LAPSED, staff.threshold + d.relapse_margin, staff.threshold)
        need = np.where(resisting, staff.threshold + d.resistance_exit, need)
        # Draws only where they can matter; they are the values of the full per-slot streams
        # (sim.rng is counter-based), so this changes no result.
        persuaded = ready >= need
        # Each persuaded person acts this week with probability p_act, or for certain when
        # pressured (asked to try now: a launch or a mandated session).
        ready_at = np.flatnonzero(persuaded & ~pressured)
        persuaded[ready_at] = m.streams.uniform_at("decision.act", week, n, ready_at) < d.p_act
        to_interested = persuaded & (self.may_interest[stage] | resisting)
        can_try = self.has_time & ~resisting
        to_trial = persuaded & can_try & (stage == Stage.INTERESTED)
        if d.noise_enabled:
            may = np.flatnonzero(can_try & self.may_try_anyway[stage])
            noise = np.zeros(n, dtype=bool)
            noise[may] = m.streams.uniform_at("decision.noise", week, n, may) < d.noise_rate
            to_trial |= noise
        staff.resistant = resisting & ~persuaded
        stage[to_interested] = Stage.INTERESTED
        stage[to_trial] = Stage.TRIALLING
