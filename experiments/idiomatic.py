"""The whole weekly loop as a plain, idiomatic Mesa 3 model: the benchmark's yardstick.

This is how a first Mesa model of the same mechanisms would be written: every member of staff is
an :class:`mesa.Agent` with plain Python attributes (floats, ints, strings) and a list of the
colleagues they ask for advice with the trust on each tie; schools are plain objects; every
per-person process is a method called on every agent through ``model.agents.shuffle_do``; every
random draw comes from ``model.random``. Updates that must be synchronous (sessions, mode
channels, conversation, decision) are buffered and applied after every agent has looked.

It follows :mod:`sim.processes` formula by formula, in the order of :data:`sim.loop.WEEKLY_ORDER`,
for the ``whole_staff`` strategy (launch after the first workshop, then sessions with the term's
directive) and every mode (``none``, ``champions``, ``learning_conversations``, ``both``):

1. calendar: workshop weeks per PLN calendar, session weeks, PLN support, what each person
   perceives (signal diluted by the plan's priorities, how-to support, collaboration depth);
2. turnover at year ends, at a rate raised by disadvantage, newcomers with fresh threshold,
   capacity, fit and trust in leaders; a departing head may take performance targets and
   governors' engagement with them;
3. business as usual: similar practice met outside the PLN (awareness, knowledge);
4. PLN workshops: attendance, learning, network trust, trials (lapsed participants too);
5. leadership: new priorities each term, research leads (knowledge for trialling staff, fit each
   term), the work going out of sight and coming back;
6. mobilisation: the launch (pressure), sessions led by participants (reach by distributed
   leadership in force and by trust in participants; the term's first session pressures some
   attendees), then the mode's channels;
7. conversation; 8. decision (colleagues' practice weighed by their standing; how-to support by
   access to a participant; pressured staff act for certain; resistance; noise);
9. practice (fit caps quality; how-to support shared among trialling staff by supporters' capacity,
   reaching each by their trust in a participant to ask; lapse hazard scaled by the room
   left below full quality); 10. trust on ties and leaders taking control back after each visible
   failure (a lasting cut of distributed leadership); 11. pupil gains and weeks in stage.

Its draws are Python's (``model.random``), so runs agree with the array model in distribution,
not bit for bit (``tests/test_idiomatic.py`` compares mean uptake and use over seeds;
``tests/test_reference.py`` checks the array code against a per-agent reference that shares its
draws). Where the array model draws a school year's business-as-usual events at once
(Binomial(39, p) per person, in random weeks), this model draws each person's week with
probability p: the same rate (two events in one week, rare, count once in both). Perception is
computed when it is used, so a new priority dilutes the signal in the week it arrives; the array
model refreshes what staff perceive when exposure, sight or participants change and at the next
week's calendar, so there a new priority may take effect a week later.

Left out: the ``start_small``, ``broadcast`` and ``none`` strategies (refused: ConfigError),
levers changed mid-run by the user (``set_lever``), the cost bookkeeping (hours) and the weekly
record beyond uptake, use and spread.

Set-up (schools, levers, roles, teams, advice networks, traits, fit, participants) is copied from
an array model built from the same configuration, so both time the same system;
``experiments.bench`` times :meth:`IdiomaticModel.run` only (117 weeks), after a warm-up run.
"""

from __future__ import annotations

import math

import mesa
import numpy as np

from sim.config import COLLABORATION_DEPTH, Config, ConfigError
from sim.model import KnowledgeMobilisationModel
from sim.processes.calendar import WEEKS_PER_TERM, WEEKS_PER_YEAR

__all__ = ["IdiomaticModel", "School", "Staff"]

TALKS = {"aware", "interested", "trialling", "adopted", "embedded"}
USES = {"trialling", "adopted", "embedded"}
ADOPTS = {"adopted", "embedded"}
MAY_MOVE = {"aware", "interested", "lapsed"}
STAGES = ("unaware", "aware", "interested", "trialling", "adopted", "embedded", "lapsed")
MODES = ("none", "champions", "learning_conversations", "both")


def beta_variate(rnd, mean: float, sd: float) -> float:
    """A Beta draw with the given mean and sd (the mean itself when sd is 0)."""
    if sd == 0:
        return mean
    kappa = mean * (1 - mean) / sd**2 - 1
    return rnd.betavariate(mean * kappa, (1 - mean) * kappa)


class School:
    """A school's levers and state (plain attributes)."""

    def __init__(self, index: int, src: KnowledgeMobilisationModel) -> None:
        lv = src.levers
        cfg = src.config
        self.index = index
        self.plan = bool(lv.get("in_improvement_plan")[index])
        self.targets = bool(lv.get("in_performance_targets")[index])
        self.governors = bool(lv.get("governors_engaged")[index])
        self.priorities = int(lv.get("plan_priorities")[index])
        self.involvement = float(lv.involvement[index])
        self.howto = float(lv.howto[index])
        self.distributed_lever = float(lv.distributed_leadership[index])
        self.collab_hours = float(lv.collab_hours[index])
        self.session_period = int(lv.session_period[index])
        self.release = bool(lv.release[index])
        self.research_lead = bool(lv.research_lead[index])
        self.climate = float(src.schools.trust_climate[index])
        self.disadvantage = float(src.schools.disadvantage[index])
        table = src.school_table
        offset = int(table.pln_offset[table.pln[index]])
        self.workshop_weeks = {w + offset for w in cfg.pln.workshop_weeks}
        self.staff: list[Staff] = []
        self.head: Staff | None = None
        self.pln_started = False
        self.launched = False
        self.in_sight = False
        self.out_of_sight = False
        self.control_taken = 0
        self.attended = False
        self.failed = False
        self.session_today = False
        self.meets = False
        self.demand = 0
        self.supporters = 0

    @property
    def formalisation(self) -> float:
        """F: the share of plan, targets and governors that carry the work."""
        return (self.plan + self.targets + self.governors) / 3.0

    def signal(self, dilution: float) -> float:
        """P = F (0.5 + 0.5 L) / (1 + d (priorities - 1))."""
        return (
            self.formalisation
            * (0.5 + 0.5 * self.involvement)
            / (1.0 + dilution * (self.priorities - 1))
        )

    def distributed(self, cut: float) -> float:
        """Distributed leadership in force: the lever, cut each time leaders took control back."""
        return self.distributed_lever * (1.0 - cut) ** self.control_taken


class Staff(mesa.Agent):
    """A member of staff with plain attributes and a list of advisers."""

    def __init__(self, model: IdiomaticModel, school: School, slot: int, src) -> None:
        super().__init__(model)
        s = src.staff
        self.school = school
        self.team = int(s.team[slot])
        self.participant = bool(s.participant[slot])
        self.threshold = float(s.threshold[slot])
        self.capacity = float(s.capacity[slot])
        self.fit = float(s.fit[slot])
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
        self.failed = False
        self.pupil_gain = 0.0
        self.advisers: list[Staff] = []
        self.trust: list[float] = []
        self.initial_trust: list[float] = []
        self.helpful: list[bool] = []
        #: Colleagues who ask this person for advice, with the index of the tie in their list.
        self.asked_by: list[tuple[Staff, int]] = []
        #: Visibility in colleagues' social proof from standing (set once the ties are known).
        self.standing = 1.0

    # -- perception -------------------------------------------------------------------------

    def reached(self) -> bool:
        """Whether the work is in sight for this person (participant, or exposed and in sight)."""
        return self.participant or (self.exposed and not self.school.out_of_sight)

    def signal(self) -> float:
        """The school's signal as this person perceives it."""
        m = self.model
        return self.school.signal(m.cfg.leadership.priority_dilution) if self.reached() else 0.0

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

    def visibility(self) -> float:
        """How much this person's practice counts in colleagues' social proof.

        By standing: the set-up trust of colleagues' advice ties to them over the school's mean
        (``decision.standing_visibility`` of it), times the champions' visibility.
        """
        m = self.model
        champion = m.cfg.mode.champion_visibility if m.champions and self.participant else 1.0
        return self.standing * champion

    def support_access(self) -> float:
        """How much of the school's how-to support reaches this person: a participant to ask."""
        if self.participant:
            return 1.0
        floor = self.model.cfg.practice.support_reach_untied
        return floor + (1.0 - floor) * self.trust_in_participants()

    def free_hours(self) -> float:
        """Free hours a week: capacity plus the school's allocated collaboration."""
        return self.capacity + self.school.collab_hours

    def trust_in_participants(self) -> float:
        """Highest trust on an advice tie to a participant (0 without such a tie)."""
        return max(
            (w for a, w in zip(self.advisers, self.trust, strict=True) if a.participant),
            default=0.0,
        )

    # -- the weekly processes, one method each ----------------------------------------------

    def turnover(self) -> None:
        """2. Leave at a year end; a newcomer takes the post."""
        m, d, sch = self.model, self.model.cfg.decision, self.school
        rate = m.cfg.turnover.rate + m.cfg.turnover.disadvantage * sch.disadvantage
        if m.random.random() >= rate:
            return
        if self is sch.head and m.random.random() < m.cfg.turnover.head_takes_formalisation:
            sch.targets = sch.governors = False  # the head takes formalisation with them
        if d.threshold_distribution == "normal":
            self.threshold = m.random.gauss(d.threshold_mean, d.threshold_sd)
        else:
            self.threshold = beta_variate(m.random, d.threshold_mean, d.threshold_sd)
        self.capacity = m.random.gammavariate(
            d.capacity_shape, d.capacity_mean_hours / d.capacity_shape
        )
        self.fit = beta_variate(m.random, m.cfg.practice.fit_mean, m.cfg.practice.fit_sd)
        c, k = min(max(sch.climate, 1e-6), 1 - 1e-6), d.leader_trust_concentration
        self.trust_in_leaders = m.random.betavariate(c * k, (1 - c) * k)
        self.knowledge = self.quality = self.network_trust = 0.0
        self.resistant = self.participant = False
        self.stage = self.stage_at_start = "unaware"
        self.stage_weeks = 0
        self.trust = list(self.initial_trust)
        for other, e in self.asked_by:  # ties to the newcomer start afresh too
            other.trust[e] = other.initial_trust[e]

    def meet_background(self) -> None:
        """3. Meet similar practice outside the PLN (business as usual)."""
        m = self.model
        if m.random.random() < m.p_background:
            self.knowledge += m.cfg.background.knowledge_gain * (1 - self.knowledge)
            if self.stage == "unaware":
                self.stage = "aware"

    def learn_at_workshop(self) -> None:
        """4. A participant attends their PLN's workshop, learns and may start a trial."""
        m, cfg = self.model, self.model.cfg.pln
        sch = self.school
        if not self.participant or m.week_of_year not in sch.workshop_weeks:
            return
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
        if commit and has_time and not self.resistant and self.stage in MAY_MOVE:
            self.stage = "trialling"

    def read_research(self) -> None:
        """5. A research lead's materials: know-how for trialling staff, fit each term."""
        m, lv = self.model, self.model.cfg.leadership
        sch = self.school
        if not (sch.research_lead and sch.in_sight and not sch.out_of_sight):
            return
        if self.stage == "trialling":
            self.knowledge += lv.research_lead_knowledge * (1 - self.knowledge)
        if m.week_in_term == 0:
            self.fit += lv.research_lead_fit * (1 - self.fit)

    def attend_session(self) -> None:
        """6. A non-participant attends the school's session (buffered)."""
        m, cfg = self.model, self.model.cfg.strategy
        sch = self.school
        self.pending_knowledge = self.knowledge
        if self.participant or not sch.session_today or sch.out_of_sight:
            return
        if m.random.random() >= cfg.session_attendance:
            return
        lead = max((p.knowledge for p in sch.staff if p.participant), default=0.0)
        distributed = sch.distributed(m.cfg.leadership.control_back_cut)
        floor = cfg.session_untied_share
        heed = floor + (1.0 - floor) * self.trust_in_participants()
        rate = cfg.session_learn_rate * (0.5 + 0.5 * distributed) * heed
        self.pending_knowledge = self.knowledge + rate * max(lead - self.knowledge, 0.0)
        if self.stage == "unaware":
            self.stage = "aware"
        # The term's first session carries the directive to try.
        mandate = cfg.session_mandate * (1.0 - distributed)
        if m.week_in_term == 0 and mandate > 0 and m.random.random() < mandate:
            self.pressured = True

    def meet_mode_channels(self) -> None:
        """6. The mode's own channels in session weeks: champions, learning groups (buffered)."""
        m = self.model
        self.pending_knowledge = self.knowledge
        gain = 0.0
        if m.champions and not self.participant:
            best = max(
                (
                    a.knowledge
                    for a in self.advisers
                    if a.participant and a.stage in USES and a.school.meets
                ),
                default=None,
            )
            if best is not None:
                gain = m.cfg.mode.champion_modelling * max(best - self.knowledge, 0.0)
        if m.learning_conversations and self.school.meets and self.reached():
            top = max(a.knowledge for a in self.school.staff if a.team == self.team and a.reached())
            gain = max(gain, m.cfg.mode.conversation_learning * max(top - self.knowledge, 0.0))
        self.pending_knowledge = self.knowledge + gain

    def converse(self) -> None:
        """7. Ask each adviser, if the tie is active this week (buffered)."""
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
        """8. Persuasion, resistance and trying (buffered)."""
        m, d = self.model, self.model.cfg.decision
        self.pending = None
        if self.stage not in MAY_MOVE:
            return
        seen, total = 0.0, 0.0
        for e, adviser in enumerate(self.advisers):
            w = self.trust[e]
            total += w
            shown = adviser.quality * adviser.visibility() if adviser.stage in USES else 0.0
            seen += w * (shown - d.resistant_influence * adviser.resistant)
        social = seen / total if total > 0 else 0.0
        ready = (
            d.w_social * social
            + d.w_formal * self.signal() * self.trust_in_leaders
            + d.w_support * self.support() * self.support_access() * self.knowledge
        )
        resisting = self.resistant
        p_resist = d.resistance_rate * (1.0 - self.trust_in_leaders)
        unready = ready < self.threshold - d.resistance_margin
        if self.pressured and unready and m.random.random() < p_resist:
            resisting = True
        need = self.threshold + (d.relapse_margin if self.stage == "lapsed" else 0.0)
        if resisting:
            need = self.threshold + d.resistance_exit
        # The persuaded act with probability p_act a week, or for certain when pressured.
        persuaded = ready >= need and (self.pressured or m.random.random() < d.p_act)
        stage = self.stage
        if persuaded and (stage in ("aware", "lapsed") or resisting):
            stage = "interested"
        can_try = self.free_hours() >= d.trial_hours and not resisting
        if persuaded and can_try and self.stage == "interested":
            stage = "trialling"
        may_try_anyway = d.noise_enabled and can_try and self.stage in ("aware", "interested")
        if may_try_anyway and m.random.random() < d.noise_rate:
            stage = "trialling"
        self.pending = (stage, resisting and not persuaded)

    def practise(self) -> None:
        """9. Practise; adopt, embed, fail or lapse."""
        m, cfg = self.model, self.model.cfg.practice
        self.failed = False
        if self.stage not in USES:
            self.quality *= 1.0 - cfg.quality_decay
            return
        sch = self.school
        distributed = sch.distributed(m.cfg.leadership.control_back_cut)
        time = min(self.free_hours() / cfg.practice_hours_full, 1.0)
        coverage = 1.0
        if self.stage == "trialling" and not self.participant:  # asks for how-to support
            capacity = sch.supporters * (0.5 + 0.5 * distributed) * cfg.supported_per_supporter
            coverage = min(capacity / max(sch.demand, 1), 1.0) * self.support_access()
        growth = (
            cfg.quality_rate
            * time
            * self.depth()
            * (0.5 + 0.5 * self.support() * coverage)
            * self.knowledge
        )
        self.quality += growth * max(self.fit - self.quality, 0.0)
        weeks_in = self.stage_weeks if self.stage == self.stage_at_start else 0
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
        # Practice that visibly works is kept: scaled by the room left below full quality.
        hazard *= (1.0 - self.quality) / (1.0 - min(cfg.q_adopt, 0.99))
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
        if lapse:
            self.stage = "lapsed"

    def update_trust(self) -> None:
        """10. Trust on this person's ties after help and failures."""
        cfg = self.model.cfg.trust
        using = self.stage in USES
        progressed = using or (self.stage != self.stage_at_start and self.stage != "lapsed")
        for e, adviser in enumerate(self.advisers):
            if progressed and self.helpful[e]:
                self.trust[e] += cfg.gain * (1 - self.trust[e])
            if self.failed and (adviser.stage in USES or adviser.participant):
                self.trust[e] *= 1 - cfg.loss

    def record(self) -> None:
        """11. Pupil gains and weeks in stage."""
        m = self.model
        if self.stage in USES:
            dip = m.dip if self.stage == "trialling" else 0.0
            self.pupil_gain += m.gain_per_quality * self.quality + dip
        self.stage_weeks = self.stage_weeks + 1 if self.stage == self.stage_at_start else 0


class IdiomaticModel(mesa.Model):
    """The whole weekly loop, agent by agent (see the module docstring).

    Args:
        config: A validated configuration with the ``whole_staff`` strategy.

    Raises:
        ConfigError: Another strategy, or an unknown mode.

    """

    def __init__(self, config: Config) -> None:
        if config.strategy.name != "whole_staff":
            raise ConfigError(
                f"strategy.name = {config.strategy.name!r}: the idiomatic model implements "
                "only 'whole_staff'"
            )
        if config.mode.name not in MODES:
            raise ConfigError(f"mode.name = {config.mode.name!r}: allowed: {', '.join(MODES)}")
        src = KnowledgeMobilisationModel(config, validated=True)
        super().__init__(rng=config.seed)
        self.cfg = config = src.config  # with any per-seed school draws
        self.schools = [School(s, src) for s in range(src.schools.n)]
        agents = []
        for slot in range(src.staff.n):
            school = self.schools[int(src.staff.school[slot])]
            agent = Staff(self, school, slot, src)
            school.staff.append(agent)
            agents.append(agent)
        for school, first in zip(self.schools, src.schools.first_slot, strict=True):
            school.head = agents[int(first)]  # the head is the first slot of each school
        ties = src.ties
        for e in range(ties.n):
            seeker, adviser = agents[int(ties.seeker[e])], agents[int(ties.adviser[e])]
            adviser.asked_by.append((seeker, len(seeker.advisers)))
            seeker.advisers.append(adviser)
            seeker.trust.append(float(ties.trust[e]))
            seeker.initial_trust.append(float(ties.trust[e]))
        g = config.decision.standing_visibility
        for school in self.schools:  # standing: colleagues' set-up trust on ties to each person
            strengths = [sum(o.initial_trust[e] for o, e in a.asked_by) for a in school.staff]
            mean = sum(strengths) / len(strengths) if strengths else 0.0
            for agent, strength in zip(school.staff, strengths, strict=True):
                agent.standing = (1.0 - g) + g * (strength / mean if mean > 0 else 1.0)
        self.n_staff = len(agents)
        self.participants_selected = sum(a.participant for a in agents)
        self.base_depth = COLLABORATION_DEPTH[config.practice.collaboration_kind]
        self.champions = config.mode.name in ("champions", "both")
        self.learning_conversations = config.mode.name in ("learning_conversations", "both")
        self.p_background = min(config.background.exposure_rate / WEEKS_PER_YEAR, 1.0)
        self.gain_per_quality = config.outcomes.effect_per_year / WEEKS_PER_YEAR
        self.dip = -config.outcomes.trial_dip_per_year / WEEKS_PER_YEAR
        self.week = 0
        self.horizon = config.years * WEEKS_PER_YEAR
        self.adopters: list[int] = []
        self.users: list[int] = []
        self.spread: list[float] = []

    def step(self) -> None:
        """One teaching week: the processes of the weekly order, in order."""
        cfg, lv = self.cfg, self.cfg.leadership
        year, week_of_year = divmod(self.week, WEEKS_PER_YEAR)
        self.week_of_year = week_of_year
        self.week_in_term = week_of_year % WEEKS_PER_TERM
        self.support_active = year < cfg.pln.support_years
        self.support_ended = cfg.pln.support_years > 0 and not self.support_active
        agents = self.agents
        # 1. calendar
        for school in self.schools:
            school.attended = school.failed = False
        for agent in agents:
            agent.stage_at_start = agent.stage
            agent.pressured = False
        # 2. turnover
        turnover = cfg.turnover
        if year > 0 and week_of_year == 0 and (turnover.rate > 0 or turnover.disadvantage > 0):
            agents.shuffle_do("turnover")
            for agent in agents:
                agent.stage_at_start = agent.stage
        # 3. business as usual
        if self.p_background > 0:
            agents.shuffle_do("meet_background")
        # 4. PLN learning
        if self.support_active and any(
            week_of_year in school.workshop_weeks for school in self.schools
        ):
            agents.shuffle_do("learn_at_workshop")
        # 5. leadership: new priorities each term; research leads; the work in or out of sight
        if self.week_in_term == 0 and self.week > 0:
            for school in self.schools:
                p = lv.new_priority_rate + lv.new_priority_disadvantage * school.disadvantage
                if self.random.random() < p:
                    school.priorities += 1
        if any(school.in_sight for school in self.schools):
            if any(s.research_lead and s.in_sight and not s.out_of_sight for s in self.schools):
                agents.shuffle_do("read_research")
            for school in self.schools:
                if not school.in_sight:
                    continue
                h_out = lv.out_of_sight_rate * (1 - school.involvement)
                out = self.random.random() < h_out * (1 - 0.5 * school.formalisation)
                back = self.random.random() < lv.back_in_sight_rate * school.involvement
                if school.out_of_sight and (back or school.attended):
                    school.out_of_sight = False
                elif not school.out_of_sight and out:
                    school.out_of_sight = True
        # 6. mobilisation: whole-staff launch, then sessions, then the mode's channels
        for school in self.schools:
            if school.pln_started and not school.launched:
                school.launched = school.in_sight = True
                school.out_of_sight = False
                for agent in school.staff:
                    agent.exposed = True
                    if agent.stage == "unaware":
                        agent.stage = "aware"
                    agent.pressured = not agent.participant
            school.session_today = (
                school.launched and self.week_in_term % school.session_period == 0
            )
        agents.shuffle_do("attend_session")
        for agent in agents:
            agent.knowledge = agent.pending_knowledge
        if self.champions or self.learning_conversations:
            for school in self.schools:
                # A session week of the school's frequency, with the work in sight.
                school.meets = (
                    self.week_in_term % school.session_period == 0
                    and school.in_sight
                    and not school.out_of_sight
                )
            agents.shuffle_do("meet_mode_channels")
            for agent in agents:
                agent.knowledge = agent.pending_knowledge
        # 7. conversation (buffered: everyone looks at the state before it)
        agents.shuffle_do("converse")
        for agent in agents:
            if agent.pending_heard and agent.stage == "unaware":
                agent.stage = "aware"
            agent.knowledge = agent.pending_knowledge
        # 8. decision (buffered)
        agents.shuffle_do("decide")
        for agent in agents:
            if agent.pending is not None:
                agent.stage, agent.resistant = agent.pending
        # 9. practice: supporters and demand for how-to support, per school, first
        for school in self.schools:
            school.supporters = sum(a.participant for a in school.staff)
            school.demand = sum(a.stage == "trialling" and not a.participant for a in school.staff)
        agents.shuffle_do("practise")
        # 10. trust; leaders may take control back after each visible failure
        for school in self.schools:
            if not school.failed:
                continue
            if self.random.random() < 1.0 - school.distributed(lv.control_back_cut):
                school.control_taken += 1
                for agent in school.staff:
                    agent.trust_in_leaders *= 1 - lv.control_back_trust_loss
        agents.shuffle_do("update_trust")
        # 11. outcomes
        agents.shuffle_do("record")
        adopters = trialling = spread = participants = 0
        for agent in agents:
            adopts = agent.stage in ADOPTS
            adopters += adopts
            trialling += agent.stage == "trialling"
            spread += adopts and not agent.participant
            participants += agent.participant
        self.adopters.append(adopters)
        self.users.append(adopters + trialling)
        self.spread.append(spread / max(self.n_staff - participants, 1))
        self.week += 1

    def run(self) -> IdiomaticModel:
        """Run to the configured horizon."""
        while self.week < self.horizon:
            self.step()
        return self

    def uptake(self) -> float:
        """Share of staff who adopted or embedded the practice."""
        return self.adopters[-1] / self.n_staff if self.adopters else math.nan

    def use(self) -> float:
        """Share of staff who use the practice (trialling, adopted or embedded)."""
        return self.users[-1] / self.n_staff if self.users else math.nan

    def spread_final(self) -> float:
        """Uptake among non-participants."""
        return self.spread[-1] if self.spread else math.nan


def staff_stage_counts(model: IdiomaticModel) -> np.ndarray:
    """Staff at each stage (``STAGES`` order) at the end of the run."""
    return np.array([sum(a.stage == s for a in model.agents) for s in STAGES])
