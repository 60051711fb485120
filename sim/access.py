"""Who can reach whom: trust in the school's participants and access to their how-to support.

Both are derived from the advice ties and who the participants are, cached on their version
stamps (:mod:`sim.versioning`), and read by sessions (:mod:`sim.strategies.base`), readiness
(:class:`~sim.processes.Decision`) and quality growth (:class:`~sim.processes.Practice`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim import kernel

if TYPE_CHECKING:
    from sim.model import KnowledgeMobilisationModel

__all__ = ["support_access", "trust_in_participants"]


def trust_in_participants(model: KnowledgeMobilisationModel) -> np.ndarray:
    """Each person's highest trust on an advice tie to a participant (0 without such a tie).

    Recomputed only when participants or tie trust change (their version stamps).
    """
    staff, ties = model.staff, model.ties

    def compute() -> np.ndarray:
        if kernel.enabled():  # one compiled pass over the ties (sim.kernel)
            return kernel.max_trust_to(model.tie_ptr, ties.adviser, ties.trust, staff.participant)
        # Ties are sorted by seeker: a maximum over each seeker's run of ties.
        w = np.where(staff.participant[ties.adviser], ties.trust, 0.0)
        if not len(w):
            return np.zeros(staff.n)
        ptr = model.tie_ptr
        starts = np.minimum(ptr[:-1], len(w) - 1)
        best = np.maximum.reduceat(w, starts)
        return np.where(ptr[1:] > ptr[:-1], best, 0.0)

    key = (staff.version("participant"), ties.version("trust"))
    return model.derived("trust_in_participants", key, compute)


def support_access(model: KnowledgeMobilisationModel) -> np.ndarray:
    """Share of the school's how-to support that can reach each person: access to a participant.

    How-to support is modelling and explaining the practice to colleagues who ask (seed 000:
    "bespoke support to individual teachers"); colleagues can ask those they turn to for advice
    (seed 001: "you need to make sure people are going to be able to ask about it and seek
    support"). A non-participant gets ``f + (1 - f) t_i``, with ``t_i`` their highest trust on an
    advice tie to a participant (:func:`trust_in_participants`) and
    ``f = practice.support_reach_untied``; participants get it in full. Read by readiness
    (:class:`~sim.processes.Decision`) and by quality growth (:class:`~sim.processes.Practice`).
    Recomputed only when participants or tie trust change.
    """
    staff, ties = model.staff, model.ties

    def compute() -> np.ndarray:
        floor = model.config.practice.support_reach_untied
        heed = floor + (1.0 - floor) * trust_in_participants(model)
        return np.where(staff.participant, 1.0, heed)

    key = (staff.version("participant"), ties.version("trust"))
    return model.derived("support_access", key, compute)
