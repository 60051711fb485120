"""The whole weekly loop as a plain, idiomatic Mesa 3 model: the benchmark's yardstick.

This is how a first Mesa model of the same mechanisms would be written: every member of staff is
an :class:`mesa.Agent` with plain Python attributes (floats, ints, strings) and a list of the
colleagues they ask for advice with the trust on each tie; every process is a method called on
every agent through ``model.agents.shuffle_do``; random draws come from ``model.random``. Updates
that must be synchronous are buffered and applied after every agent has looked. It implements the
ten processes of MODEL.md §3 with the default strategy (whole-staff launch and sessions), the
configured mode and the school levers, following :mod:`sim.processes` formula by formula; its
draws are Python's, so runs agree with the array model in distribution, not bit for bit
(``tests/test_reference.py`` checks the array code against a per-agent reference that shares
its draws).

Set-up (schools, roles, advice networks, traits, participants) is copied from an array model
built from the same configuration, so both time the same system; ``experiments.bench`` times
:meth:`IdiomaticModel.run` only (117 weeks), after a warm-up run.
"""

from __future__ import annotations

import math

import mesa
import numpy as np

from sim.config import COLLABORATION_DEPTH, Config
from sim.model import KnowledgeMobilisationModel
from sim.processes.calendar import WEEKS_PER_TERM, WEEKS_PER_YEAR

__all__ = ["IdiomaticModel", "School", "Staff"]

TALKS = {"aware", "interested", "trialling", "adopted", "embedded"}
USES = {"trialling", "adopted", "embedded"}
MAY_MOVE = {"aware", "interested", "lapsed"}
STAGES = ("unaware", "aware", "interested", "trialling", "adopted", "embedded", "lapsed")


class School:
    """A school's levers and state (plain attributes)."""

    def __init__(self, index: int, model: KnowledgeMobilisationModel) -> None:
        lv = model.levers
        self.index = index
        self.signal = float(lv.signal[index])
        self.howto = float(lv.howto[index])
        self.involvement = float(lv.involvement[index])
        self.formalisation = float(lv.formalisation[index])
        self.distributed = float(lv.distributed_leadership[index])
        self.collab_hours = float(lv.collab_hours[index])
        self.session_period = int(lv.session_period[index])
        self.release = bool(lv.release[index])
        self.climate = float(model.schools.trust_climate[index])
        self.staff: list[Staff] = []
        self.pln_started = False
        self.launched = False
        self.in_sight = False
        self.out_of_sight = False
        self.control_taken = False
        self.attended = False
        self.failed = False
        self.hours = 0.0


class Staff(mesa.Agent):
    """A member of staff with plain attributes and a list of advisers."""

    def __init__(self, model: IdiomaticModel, school: School, slot: int, src) -> None:
        super().__init__(model)
        s = src.staff
        self.school = school
        self.leader = bool(s.role[slot] == 0)
        self.participant = bool(s.participant[slot])
        self.threshold = float(s.threshold[slot])
        self.capacity = float(s.capacity[slot])
        self.trust_in_leaders = float(s.trust_in_leaders[slot])
        self.pupils = float(s.pupils[slot])
        self.network_trust = float(s.network_trust[slot])
        self.knowledge = 0.0
        self.quality = 0.0
        self.stage = "unaware"
        self.stage_at_start = "unaware"
        self.stage_weeks = 0
        self.resistant = False
        self.exposed = False
        self.pressured = False
        self.pupil_gain = 0.0
        self.advisers: list[Staff] = []
        self.trust: list[float] = []
        self.initial_trust: list[float] = []
        self.helpful: list[bool] = []
        #: Colleagues who ask this person for advice, with the index of the tie in their list.
        self.asked_by: list[tuple[Staff, int]] = []

    # -- perception -------------------------------------------------------------------------

    def reached(self) -> bool:
        """Whether the work is in sight for this person (participant, or exposed and in sight)."""
        return self.participant or (self.exposed and not self.school.out_of_sight)

    def signal(self) -> float:
        """The school's signal as this person perceives it."""
        return self.school.signal if self.reached() else 0.0

    def support(self) -> float:
        """The how-to support available to this person."""
        m = self.model
        if self.participant:
            facilitator = m.cfg.pln.facilitator_support if m.support_active else 0.0
            return max(self.school.howto, facilitator)
        return self.school.howto if self.reached() else 0.0

    def depth(self) -> float:
        """The relative quality growth rate of the collaboration this person practises in."""
        m = self.model
        if m.learning_conversations and self.reached():
            return max(COLLABORATION_DEPTH["joint_work"], m.base_depth)
        return m.base_depth

    def free_hours(self) -> float:
        """Free hours a week: capacity plus the school's allocated collaboration."""
        return self.capacity + self.school.collab_hours

    # -- the weekly processes, one method each ----------------------------------------------

    def turnover(self) -> None:
        """3. Leave with the turnover rate; a newcomer takes the post."""
        m, d = self.model, self.model.cfg.decision
        if m.random.random() >= m.cfg.turnover.rate:
            return
        mean, sd = d.threshold_mean, d.threshold_sd
        kappa = mean * (1 - mean) / sd**2 - 1
        self.threshold = m.random.betavariate(mean * kappa, (1 - mean) * kappa)
        self.capacity = m.random.gammavariate(
            d.capacity_shape, d.capacity_mean_hours / d.capacity_shape
        )
        c, k = min(max(self.school.climate, 1e-6), 1 - 1e-6), d.leader_trust_concentration
        self.trust_in_leaders = m.random.betavariate(c * k, (1 - c) * k)
        self.knowledge = self.quality = self.network_trust = 0.0
        self.resistant = self.participant = False
        self.stage = self.stage_at_start = "unaware"
        self.stage_weeks = 0
        self.trust = list(self.initial_trust)
        for other, e in self.asked_by:  # ties to the newcomer start afresh too
            other.trust[e] = other.initial_trust[e]

    def learn_at_workshop(self) -> None:
        """3. A participant attends the workshop, learns and may start a trial."""
        m, cfg = self.model, self.model.cfg.pln
        if not self.participant:
            return
        sch = self.school
        p = cfg.attend_base + cfg.attend_release_bonus * sch.release
        p = min(p + cfg.attend_formal_bonus * sch.formalisation, 1.0)
        if m.random.random() >= p:
            return
        sch.attended = sch.pln_started = True
        rate = cfg.learn_rate * (0.5 + 0.5 * cfg.focus_alignment) * (0.5 + 0.5 * self.network_trust)
        self.knowledge += rate * (1 - self.knowledge)
        self.network_trust += (
            cfg.trust_rate * (0.5 + 0.5 * cfg.homogeneity) * (1 - self.network_trust)
        )
        if self.stage == "unaware":
            self.stage = "aware"
        commit = m.random.random() < cfg.trial_commitment
        has_time = self.free_hours() >= m.cfg.decision.trial_hours
        if commit and has_time and not self.resistant and self.stage in ("aware", "interested"):
            self.stage = "trialling"
        sch.hours += cfg.workshop_hours

    def attend_session(self) -> None:
        """5. A non-participant attends the school's whole-staff session."""
        m, cfg = self.model, self.model.cfg.strategy
        sch = self.school
        if self.participant or not sch.session_today or sch.out_of_sight:
            return
        if m.random.random() >= cfg.session_attendance:
            return
        lead = max((p.knowledge for p in sch.staff if p.participant), default=0.0)
        rate = cfg.session_learn_rate * (
            0.5 + 0.5 * (0.0 if sch.control_taken else sch.distributed)
        )
        self.pending_knowledge = self.knowledge + rate * max(lead - self.knowledge, 0.0)
        if self.stage == "unaware":
            self.stage = "aware"
        sch.hours += cfg.session_hours

    def converse(self) -> None:
        """6. Ask each adviser, if the tie is active this week (buffered)."""
        m, cfg = self.model, self.model.cfg.conversation
        scale = cfg.contact_rate * (1.0 + cfg.collab_boost * self.school.collab_hours)
        heard, gain, weight = False, 0.0, 0.0
        helpful = [False] * len(self.advisers)
        for e, adviser in enumerate(self.advisers):
            w = self.trust[e]
            if m.random.random() >= min(scale * w, 1.0):
                continue
            if adviser.stage in TALKS and not adviser.resistant:
                heard = True
            gap = adviser.knowledge - self.knowledge
            if gap > 0 and not adviser.resistant:
                helpful[e] = True
                gain += w * gap
                weight += w
        self.helpful = helpful
        self.pending_heard = heard
        self.pending_knowledge = self.knowledge + gain * min(
            cfg.knowhow_rate, 1.0 / max(weight, 1e-300)
        )

    def decide(self) -> None:
        """7. Persuasion, resistance and trying (buffered)."""
        m, d = self.model, self.model.cfg.decision
        self.pending = None
        if self.stage not in MAY_MOVE:
            return
        seen, total = 0.0, 0.0
        for e, adviser in enumerate(self.advisers):
            w = self.trust[e]
            total += w
            shown = adviser.quality * m.visibility(adviser) if adviser.stage in USES else 0.0
            seen += w * (shown - d.resistant_influence * adviser.resistant)
        social = seen / total if total > 0 else 0.0
        ready = (
            d.w_social * social
            + d.w_formal * self.signal() * self.trust_in_leaders
            + d.w_support * self.support() * self.knowledge
        )
        act = m.random.random() < d.p_act
        noise = m.random.random() < d.noise_rate
        resisting = self.resistant
        if self.pressured:
            resist = m.random.random()
            if ready < self.threshold - d.resistance_margin and resist < d.resistance_rate * (
                1.0 - self.trust_in_leaders
            ):
                resisting = True
        need = self.threshold + (d.relapse_margin if self.stage == "lapsed" else 0.0)
        if resisting:
            need = self.threshold + d.resistance_exit
        persuaded = ready >= need and act
        stage = self.stage
        if persuaded and (stage in ("aware", "lapsed") or resisting):
            stage = "interested"
        can_try = self.free_hours() >= d.trial_hours and not resisting
        if persuaded and can_try and self.stage == "interested":
            stage = "trialling"
        if d.noise_enabled and noise and can_try and self.stage in ("aware", "interested"):
            stage = "trialling"
        self.pending = (stage, resisting and not persuaded)

    def practise(self) -> None:
        """8. Practise; adopt, embed, fail or lapse."""
        m, cfg = self.model, self.model.cfg.practice
        self.failed = False
        if self.stage not in USES:
            self.quality *= 1.0 - cfg.quality_decay
            return
        time = min(self.free_hours() / cfg.practice_hours_full, 1.0)
        growth = cfg.quality_rate * time * (0.5 + 0.5 * self.support()) * self.depth()
        self.quality += growth * self.knowledge * (1 - self.quality)
        weeks_in = self.stage_weeks if self.stage == self.stage_at_start else 0
        sch = self.school
        distributed = 0.0 if sch.control_taken else sch.distributed
        routine = sch.formalisation >= cfg.routine_level or distributed >= cfg.routine_level
        hazard = (
            cfg.lapse_base
            * (1 + cfg.lapse_no_time * (1 - time))
            * (1 + cfg.lapse_no_checkin * (1 - sch.involvement))
            * (1 + cfg.lapse_unformalised * (1 - sch.formalisation))
            * (1 + cfg.lapse_support_ended * m.support_ended)
        )
        if self.stage == "embedded":
            hazard *= cfg.embedded_lapse_factor
        lapse = m.random.random() < hazard
        if self.stage == "trialling":
            if self.quality >= cfg.q_adopt:
                self.stage = "adopted"
            elif weeks_in + 1 >= cfg.trial_weeks_max:
                self.failed = sch.failed = True
                self.stage = "lapsed"
        elif (
            self.stage == "adopted"
            and routine
            and self.quality >= cfg.q_embed
            and weeks_in >= cfg.embed_weeks
        ):
            self.stage = "embedded"
        if lapse and not self.failed:
            self.stage = "lapsed"

    def update_trust(self) -> None:
        """9. Trust on this person's ties after help and failures."""
        cfg = self.model.cfg.trust
        using = self.stage in USES
        progressed = using or (self.stage != self.stage_at_start and self.stage != "lapsed")
        for e, adviser in enumerate(self.advisers):
            if progressed and self.helpful[e]:
                self.trust[e] += cfg.gain * (1 - self.trust[e])
            if self.failed and (adviser.stage in USES or adviser.participant):
                self.trust[e] *= 1 - cfg.loss

    def record(self) -> None:
        """10. Pupil gains and weeks in stage."""
        m = self.model
        if self.stage in USES:
            dip = m.dip if self.stage == "trialling" else 0.0
            self.pupil_gain += m.gain_per_quality * self.quality + dip
        self.stage_weeks = self.stage_weeks + 1 if self.stage == self.stage_at_start else 0


class IdiomaticModel(mesa.Model):
    """The whole weekly loop, agent by agent (see the module docstring).

    Args:
        config: A validated configuration (the whole-staff strategy is used).

    """

    def __init__(self, config: Config) -> None:
        super().__init__(rng=config.seed)
        self.cfg = config
        src = KnowledgeMobilisationModel(config, validated=True)
        self.schools = [School(s, src) for s in range(src.schools.n)]
        agents = []
        for slot in range(src.staff.n):
            school = self.schools[int(src.staff.school[slot])]
            agent = Staff(self, school, slot, src)
            school.staff.append(agent)
            agents.append(agent)
        ties = src.ties
        for e in range(ties.n):
            seeker, adviser = agents[int(ties.seeker[e])], agents[int(ties.adviser[e])]
            adviser.asked_by.append((seeker, len(seeker.advisers)))
            seeker.advisers.append(adviser)
            seeker.trust.append(float(ties.trust[e]))
            seeker.initial_trust.append(float(ties.trust[e]))
        self.workshop_weeks = set(config.pln.workshop_weeks)
        self.base_depth = COLLABORATION_DEPTH[config.practice.collaboration_kind]
        self.champions = config.mode.name in ("champions", "both")
        self.learning_conversations = config.mode.name in ("learning_conversations", "both")
        self.gain_per_quality = config.outcomes.effect_per_year / WEEKS_PER_YEAR
        self.dip = -config.outcomes.trial_dip_per_year / WEEKS_PER_YEAR
        self.week = 0
        self.horizon = config.years * WEEKS_PER_YEAR
        self.adopters: list[int] = []

    def visibility(self, agent: Staff) -> float:
        """How much an agent's practice counts in colleagues' social proof."""
        if self.champions and agent.participant:
            return self.cfg.mode.champion_visibility
        return 1.0

    def step(self) -> None:
        """One teaching week: the ten processes in order."""
        year, week_of_year = divmod(self.week, WEEKS_PER_YEAR)
        week_in_term = week_of_year % WEEKS_PER_TERM
        self.support_active = year < self.cfg.pln.support_years
        self.support_ended = self.cfg.pln.support_years > 0 and not self.support_active
        agents = self.agents
        for school in self.schools:
            school.attended = school.failed = False
            school.session_today = school.launched and week_in_term % school.session_period == 0
        for agent in agents:
            agent.stage_at_start = agent.stage
            agent.pressured = False
        # 2. turnover
        if year > 0 and week_of_year == 0 and self.cfg.turnover.rate > 0:
            agents.shuffle_do("turnover")
        # 3. PLN learning
        if self.support_active and week_of_year in self.workshop_weeks:
            agents.shuffle_do("learn_at_workshop")
        # 4. leadership actions: the work slips out of sight, or comes back
        lv = self.cfg.leadership
        for school in self.schools:
            if not school.in_sight:
                continue
            out = self.random.random() < lv.out_of_sight_rate * (1 - school.involvement) * (
                1 - 0.5 * school.formalisation
            )
            back = self.random.random() < lv.back_in_sight_rate * school.involvement
            if school.out_of_sight and (back or school.attended):
                school.out_of_sight = False
            elif not school.out_of_sight and out:
                school.out_of_sight = True
        # 5. mobilisation: whole-staff launch, then sessions
        for school in self.schools:
            if school.pln_started and not school.launched:
                school.launched = school.in_sight = True
                school.out_of_sight = False
                for agent in school.staff:
                    agent.exposed = True
                    if agent.stage == "unaware":
                        agent.stage = "aware"
                    agent.pressured = not agent.participant
        for agent in agents:
            agent.pending_knowledge = agent.knowledge
        agents.shuffle_do("attend_session")
        for agent in agents:
            agent.knowledge = agent.pending_knowledge
        # 6. conversation (buffered: everyone looks at last week's state)
        agents.shuffle_do("converse")
        for agent in agents:
            if agent.pending_heard and agent.stage == "unaware":
                agent.stage = "aware"
            agent.knowledge = agent.pending_knowledge
        # 7. decision (buffered)
        agents.shuffle_do("decide")
        for agent in agents:
            if agent.pending is not None:
                agent.stage, agent.resistant = agent.pending
        # 8. practice
        agents.shuffle_do("practise")
        # 9. trust; leaders may take control back after a visible failure
        agents.shuffle_do("update_trust")
        for school in self.schools:
            take = school.failed and not school.control_taken
            if take and self.random.random() < 1.0 - school.distributed:
                school.control_taken = True
                for agent in school.staff:
                    agent.trust_in_leaders *= 1 - lv.control_back_trust_loss
        # 10. outcomes
        agents.shuffle_do("record")
        self.adopters.append(sum(a.stage in ("adopted", "embedded") for a in agents))
        self.week += 1

    def run(self) -> IdiomaticModel:
        """Run to the configured horizon."""
        while self.week < self.horizon:
            self.step()
        return self

    def uptake(self) -> float:
        """Share of staff who adopted or embedded the practice."""
        return self.adopters[-1] / len(self.agents) if self.adopters else math.nan


def staff_stage_counts(model: IdiomaticModel) -> np.ndarray:
    """Staff at each stage (``STAGES`` order) at the end of the run."""
    return np.array([sum(a.stage == s for a in model.agents) for s in STAGES])
