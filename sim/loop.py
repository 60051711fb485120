"""The weekly order of processes, written down once (MODEL.md §3).

Every week the model runs these processes, in this order; each reads the state left by the
previous one (synchronous within a process: agents are updated all at once, so the order of
agents never matters). Processes are modules of one contract (:class:`sim.processes.Process`).
"""

from __future__ import annotations

from sim.processes import (
    Background,
    Calendar,
    Conversation,
    Decision,
    LeadershipActions,
    Mobilisation,
    Outcomes,
    PLNLearning,
    Practice,
    Process,
    TrustUpdate,
    Turnover,
)

__all__ = ["WEEKLY_ORDER"]

#: The weekly order (MODEL.md §3).
WEEKLY_ORDER: tuple[type[Process], ...] = (
    Calendar,  # 1. term, year, workshop and session weeks, PLN support, perception
    Turnover,  # 2. at year ends staff leave; newcomers take their posts
    Background,  # 2b. business as usual: some staff meet similar practice without the PLN
    PLNLearning,  # 3. participants attend workshops, learn, build network trust
    LeadershipActions,  # 4. check-ins keep the work in sight (or it slips out of sight)
    Mobilisation,  # 5. the strategy exposes staff (pilot, launch, sessions, materials)
    Conversation,  # 6. advice-tie conversations: awareness and know-how
    Decision,  # 7. readiness vs threshold: resistance, interest and trials
    Practice,  # 8. quality, adoption, embedding, lapse
    TrustUpdate,  # 9. trust on ties; leaders may take control back after a failure
    Outcomes,  # 10. pupil gains, costs, record
)
