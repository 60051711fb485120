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

    Recomputed only when participants or tie trust change (their version stamps). Only the
    ties to participants are read: they are found once per set of participants
    (:func:`_ties_to_participants`), so the weekly work is a gather and a maximum over each
    seeker's run of them, not a pass over every tie (exact, as a maximum is; compiled as
    :func:`sim.kernel.max_over_runs` where the kernel is enabled).
    """
    staff, ties = model.staff, model.ties

    def compute() -> np.ndarray:
        index, seekers, starts = _ties_to_participants(model)
        if kernel.enabled():  # the same maximum, without the gathered copy (sim.kernel)
            return kernel.max_over_runs(ties.trust, index, starts, seekers, staff.n)
        best = np.zeros(staff.n)
        if len(index):
            best[seekers] = np.maximum.reduceat(ties.trust[index], starts)
        return best

    key = (staff.version("participant"), ties.version("trust"))
    return model.derived("trust_in_participants", key, compute)


def _ties_to_participants(model: KnowledgeMobilisationModel) -> tuple[np.ndarray, ...]:
    """The ties whose adviser is a participant, in seeker order: ``(index, seekers, starts)``.

    ``index`` are the ties; ``seekers`` the distinct seekers among them, and ``starts`` where
    each seeker's run begins in ``index`` (ties are stored sorted by seeker).
    """
    staff, ties = model.staff, model.ties

    def compute() -> tuple[np.ndarray, ...]:
        index = np.flatnonzero(staff.participant[ties.adviser])
        seeker = ties.seeker[index]
        first = np.ones(len(index), dtype=bool)
        first[1:] = seeker[1:] != seeker[:-1]
        return index, seeker[first], np.flatnonzero(first)

    return model.derived("ties_to_participants", staff.version("participant"), compute)


def support_access(model: KnowledgeMobilisationModel) -> np.ndarray:
    """Share of the school's how-to support that can reach each person: access to a participant.

    How-to support is modelling and explaining the practice to colleagues who ask (seed 000:
    "bespoke support to individual teachers"); colleagues can ask those they turn to for advice
    (seed 001: "you need to make sure people are going to be able to ask about it and seek
    support"). A non-participant gets ``f + (1 - f) t_i``, with ``t_i`` their highest trust on an
    advice tie to a participant (:func:`trust_in_participants`) and
    ``f = practice.support_reach_untied``; participants get it in full. Read by readiness
    (:class:`~sim.processes.Decision`) and by quality growth (:class:`~sim.processes.Practice`).
    Recomputed only when participants or tie trust change; the compiled conversation pass
    computes it with the week's conversations (:func:`sim.kernel.converse_pass`) and leaves it
    in the same cache.
    """
    staff = model.staff

    def compute() -> np.ndarray:
        floor = model.config.practice.support_reach_untied
        heed = floor + (1.0 - floor) * trust_in_participants(model)
        return np.where(staff.participant, 1.0, heed)

    return model.derived("support_access", kernel.access_stamps(model), compute)
