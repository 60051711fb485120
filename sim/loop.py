"""The weekly order of processes, written down once (MODEL.md §3).

Every week the model runs these processes, in this order; each reads the state left by the
previous one (synchronous within a process: agents are updated all at once, so the order of
agents never matters). Processes are modules of one contract (:class:`sim.processes.Process`).
Turnover (step 2) and leadership actions (step 4) slot in between the calendar and the PLN, and
between the PLN and mobilisation, when they are added.
"""

from __future__ import annotations

from sim.processes import (
    Calendar,
    Conversation,
    Decision,
    Mobilisation,
    Outcomes,
    PLNLearning,
    Practice,
    Process,
    TrustUpdate,
)

__all__ = ["WEEKLY_ORDER"]

#: The weekly order (MODEL.md §3).
WEEKLY_ORDER: tuple[type[Process], ...] = (
    Calendar,  # 1. term, year, workshop and session weeks, PLN support
    PLNLearning,  # 3. participants attend workshops, learn, build network trust
    Mobilisation,  # 5. the strategy exposes staff (launch, sessions)
    Conversation,  # 6. advice-tie conversations: awareness and know-how
    Decision,  # 7. readiness vs threshold: interest and trials
    Practice,  # 8. quality, adoption, embedding, lapse
    TrustUpdate,  # 9. trust on ties
    Outcomes,  # 10. pupil gains, costs, record
)
