"""Conversation along advice ties: awareness and know-how transfer (MODEL.md §3 step 6, §4.1)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim import kernel
from sim.params import Section, param
from sim.population import Stage, stage_lookup
from sim.processes.base import Process
from sim.processes.decision import USES
from sim.registry import register

__all__ = ["ConversationConfig", "Conversation", "TALKS"]


@dataclass
class ConversationConfig(Section):
    """Conversation along advice ties (ODD §4.1)."""

    contact_rate: float = param(
        0.25,
        low=0,
        high=1,
        unit="1/week",
        source="[assume]",
        help="weekly probability a fully trusted tie is active without allocated time",
        plausible=(0.1, 0.4),
    )
    collab_boost: float = param(
        0.5,
        low=0,
        unit="per hour",
        source="[assume]",
        help="relative increase of tie activity per allocated collaboration hour",
        plausible=(0.25, 1.0),
    )
    knowhow_rate: float = param(
        0.1,
        low=0,
        high=1,
        source="[assume]",
        help="r_k: share of the know-how gap closed by one conversation on a fully trusted tie",
        plausible=(0.05, 0.2),
    )


#: Guards 1 / c where nobody was learned from (then the gain sum is 0 as well).
TINY = 1e-300

#: Stages in which a person passes the innovation on when asked (not unaware, not lapsed).
TALKS = stage_lookup(Stage.AWARE, Stage.INTERESTED, Stage.TRIALLING, Stage.ADOPTED, Stage.EMBEDDED)


@register
class Conversation(Process):
    """Staff talk along advice ties.

    Each tie ``i -> j`` (i asks j) is active this week with probability
    ``min(1, contact_rate * (1 + collab_boost * collab_hours_s) * w_ij)``: more trusted ties and
    more allocated collaboration time mean more conversation. On an active tie:

    * if j talks about the innovation (aware or further, not lapsed, not resistant), an unaware i
      becomes aware;
    * if j knows more than i and is not resistant, i gains know-how: with ``g_i = sum_j w_ij (k_j - k_i)`` and
      ``c_i = sum_j w_ij`` over i's active ties to more knowledgeable colleagues,
      ``k_i += min(r_k c_i, 1) * g_i / c_i``. That is MODEL.md's ``k_i += r_k w_ij (k_j - k_i)``
      summed over contacts, with the step capped so nobody overshoots the colleagues they
      learn from.

    All updates read the state at the start of the process (synchronous).
    """

    name = "conversation"
    section = "conversation"
    Params = ConversationConfig
    owns = ("staff.stage", "staff.knowledge", "now.active_ties", "now.helpful_ties")
    reads = ("ties.trust", "staff.resistant", "levers.collab_hours")

    def __init__(self, model) -> None:
        super().__init__(model)
        self.rate = model.config.conversation.knowhow_rate
        self._decision: Process | None = None
        #: The compiled pass's arguments fixed for the run (set by :func:`sim.kernel.conversation`).
        self.kernel_fixed: tuple | None = None

    @property
    def decision(self) -> Process:
        """The Decision process of the weekly order (the fused pass computes its sums)."""
        if self._decision is None:
            found = [p for p in self.model.processes if p.name == "decision"]
            if not found:
                raise LookupError("the fused kernel needs the Decision process in the weekly order")
            self._decision = found[0]
        return self._decision

    @property
    def contact_scale_of_seeker(self) -> np.ndarray:
        """Per seeker: ``contact_rate * (1 + collab_boost * collab_hours_s)`` (levers may change).

        It depends only on the seeker's school; a tie's contact scale is its seeker's.
        """
        m = self.model
        cfg = m.config.conversation
        return m.derived(
            "conversation.contact_scale_of_seeker",
            (m.levers.version,),
            lambda: (
                cfg.contact_rate * (1.0 + cfg.collab_boost * m.levers.collab_hours[m.staff.school])
            ),
        )

    def step_with_decision(self, week: int) -> None:
        """Step 6, then Decision's step 7, compiled in one call.

        The model's weekly loop calls this in place of both steps when Decision follows
        Conversation in the weekly order and the compiled kernel is in use
        (:meth:`sim.model.KnowledgeMobilisationModel.weekly_calls`;
        :func:`sim.kernel.conversation_decision_pass`).
        """
        kernel.conversation(self, week, TALKS, USES, Stage.UNAWARE, Stage.AWARE, decide=True)

    def step(self, week: int) -> None:
        """Hold this week's conversations."""
        if kernel.enabled():  # the same arithmetic and draws, compiled and fused (sim.kernel)
            kernel.conversation(self, week, TALKS, USES, Stage.UNAWARE, Stage.AWARE)
            return
        m = self.model
        staff, ties = m.staff, m.ties
        n = staff.n
        src, dst = ties.seeker, ties.adviser
        u = m.streams.uniform("conversation.contact", week, ties.n)
        active = u < np.minimum(self.contact_scale_of_seeker[ties.seeker] * ties.trust, 1.0)

        unaware = staff.stage == Stage.UNAWARE
        if unaware.any():  # after a launch everyone is aware: skip the awareness pass
            talker = TALKS[staff.stage] & ~staff.resistant
            hears = np.bincount(src, weights=active & talker[dst], minlength=n) > 0
            staff.stage[hears & unaware] = Stage.AWARE

        k = staff.knowledge
        gap = k[dst] - k[src]
        helpful = active & (gap > 0)
        if staff.resistant.any():  # resistant staff pass nothing on
            helpful &= ~staff.resistant[dst]
        w = np.where(helpful, ties.trust, 0.0)
        gain_sum = np.bincount(src, weights=w * gap, minlength=n)
        weight_sum = np.bincount(src, weights=w, minlength=n)
        # min(r_k c, 1) g / c == g min(r_k, 1 / c); where c == 0, g == 0 too.
        factor = np.minimum(self.rate, 1.0 / np.maximum(weight_sum, TINY))
        staff.knowledge = k + gain_sum * factor
        m.now.active_ties = active
        m.now.helpful_ties = helpful
