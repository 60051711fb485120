"""Per-agent reference implementations of conversation and decision, in idiomatic Mesa.

These are deliberately simple: each agent looks at its advisers one by one, in plain Python,
the way a first Mesa model would be written (``model.agents.shuffle_do(...)``). They exist to
check the array implementations: given the same random draws (the same named streams), a model
run with :data:`REFERENCE_ORDER` must end in exactly the same state as one run with
:data:`sim.loop.WEEKLY_ORDER` (``tests/test_reference.py``), and ``experiments.bench`` times them
against each other.

Updates are buffered and applied after every agent has looked (synchronous, as in the array
version), so the random agent order of ``shuffle_do`` cannot change the result. Arithmetic is
written in the same order as the array code, so floating-point results agree bit for bit.
"""

from __future__ import annotations

import numpy as np

from sim.agents import StaffMember
from sim.loop import WEEKLY_ORDER
from sim.processes import Conversation, Decision, Process
from sim.processes.decision import support_heard

__all__ = ["ReferenceConversation", "ReferenceDecision", "REFERENCE_ORDER"]

TINY = 1e-300
_TALKING = {"aware", "interested", "trialling", "adopted", "embedded"}
_USING = {"trialling", "adopted", "embedded"}


class ReferenceConversation(Process):
    """Conversation along advice ties, agent by agent (see :class:`sim.processes.Conversation`)."""

    name = "conversation"

    def step(self, week: int) -> None:
        """Every agent talks with its advisers; then all updates are applied."""
        m = self.model
        cfg = m.config.conversation
        self.u = m.streams.uniform("conversation.contact", week, m.ties.n)
        self.active = [False] * m.ties.n
        self.helpful = [False] * m.ties.n
        self.pending: list[tuple[StaffMember, bool, float]] = []
        self.cfg = cfg
        m.agents.shuffle_do(self.converse)
        for agent, heard, knowledge in self.pending:
            if heard and agent.stage == "unaware":
                agent.stage = "aware"
            agent.knowledge = knowledge
        m.now.active_ties = np.array(self.active, dtype=bool)
        m.now.helpful_ties = np.array(self.helpful, dtype=bool)

    def converse(self, agent: StaffMember) -> None:
        """One agent asks each of its advisers, if the tie is active this week."""
        m, cfg = self.model, self.cfg
        collab = float(m.levers.collab_hours[agent.school])
        scale = cfg.contact_rate * (1.0 + cfg.collab_boost * collab)
        heard = False
        gain = 0.0
        weight = 0.0
        k_i = agent.knowledge
        for adviser, tie in agent.advisers:
            w = agent.tie_trust(tie)
            if not self.u[tie] < min(scale * w, 1.0):
                continue
            self.active[tie] = True
            if adviser.stage in _TALKING and not adviser.resistant:
                heard = True
            gap = adviser.knowledge - k_i
            if gap > 0 and not adviser.resistant:
                self.helpful[tie] = True
                gain += w * gap
                weight += w
        knowledge = k_i + gain * min(cfg.knowhow_rate, 1.0 / max(weight, TINY))
        self.pending.append((agent, heard, knowledge))


class ReferenceDecision(Process):
    """Persuasion and trying, agent by agent (see :class:`sim.processes.Decision`)."""

    name = "decision"

    def step(self, week: int) -> None:
        """Every agent decides; then all stage changes are applied."""
        m = self.model
        n = m.staff.n
        self.u_act = m.streams.uniform("decision.act", week, n)
        self.u_noise = m.streams.uniform("decision.noise", week, n)
        self.pressured = m.now.pressured
        self.u_resist = (
            m.streams.uniform("decision.resistance", week, n) if self.pressured.any() else None
        )
        self.visibility = m.mode.visibility()
        self.support = support_heard(m)
        self.pending: list[tuple[StaffMember, str, bool]] = []
        m.agents.shuffle_do(self.decide)
        for agent, stage, resistant in self.pending:
            agent.stage = stage
            agent.resistant = resistant

    def readiness(self, agent: StaffMember) -> float:
        """``w_social E_i + w_formal P_s tau_i + w_support H_i k_i`` for one agent."""
        m = self.model
        d = m.config.decision
        seen = 0.0
        total = 0.0
        for adviser, tie in agent.advisers:
            w = agent.tie_trust(tie)
            visible = float(self.visibility[adviser.slot])
            shown = adviser.quality * visible if adviser.stage in _USING else 0.0
            shown -= d.resistant_influence * (1.0 if adviser.resistant else 0.0)
            seen += w * shown
            total += w
        social_weight = d.w_social * (1.0 / total) if total > 0 else 0.0
        signal = float(m.now.signal[agent.slot])
        support = float(self.support[agent.slot])
        formal = d.w_formal * signal * agent.trust_in_leaders
        return seen * social_weight + formal + d.w_support * support * agent.knowledge

    def decide(self, agent: StaffMember) -> None:
        """One agent's resistance and transition this week, if any."""
        m = self.model
        d = m.config.decision
        stage = agent.stage
        if stage not in ("aware", "interested", "lapsed"):
            return
        ready = self.readiness(agent)
        resistant = agent.resistant
        if (
            not resistant
            and self.pressured[agent.slot]
            and ready < agent.threshold - d.resistance_margin
            and self.u_resist[agent.slot] < d.resistance_rate * (1.0 - agent.trust_in_leaders)
        ):
            resistant = True
        if resistant:
            need = agent.threshold + d.resistance_exit
        elif stage == "lapsed":
            need = agent.threshold + d.relapse_margin
        else:
            need = agent.threshold
        acts = self.u_act[agent.slot] < d.p_act or bool(self.pressured[agent.slot])
        persuaded = ready >= need and acts
        if persuaded and resistant:  # convinced at last: stops resisting, becomes interested
            self.pending.append((agent, "interested", False))
            return
        has_time = agent.capacity + float(m.levers.collab_hours[agent.school]) >= d.trial_hours
        tries_anyway = (
            d.noise_enabled
            and self.u_noise[agent.slot] < d.noise_rate
            and stage in ("aware", "interested")
        )
        if resistant:
            new_stage = stage
        elif has_time and ((persuaded and stage == "interested") or tries_anyway):
            new_stage = "trialling"
        elif persuaded and stage in ("aware", "lapsed"):
            new_stage = "interested"
        else:
            new_stage = stage
        self.pending.append((agent, new_stage, resistant))


#: The weekly order with the reference conversation and decision swapped in.
REFERENCE_ORDER: tuple[type[Process], ...] = tuple(
    {Conversation: ReferenceConversation, Decision: ReferenceDecision}.get(p, p)
    for p in WEEKLY_ORDER
)
