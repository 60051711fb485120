"""``start_small``: a pilot with trusted colleagues first, the whole staff once it shows impact."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.params import param
from sim.population import Stage
from sim.registry import register
from sim.school_year import WEEKS_PER_TERM
from sim.strategies.base import Strategy, expose, hold_sessions, inform, launch


@dataclass
class StartSmallParams:
    """Parameters of ``start_small`` (in the ``strategy`` section)."""

    pilot_size: int = param(
        2,
        low=0,
        unit="staff",
        source="[seed 000: start small; assume size]",
        help="start_small: colleagues each participant brings into the pilot (most trusting ties)",
    )
    q_ready: float = param(
        0.5,
        low=0,
        high=1,
        source="[seed 000: 'showing positive impact'; assume level]",
        help="start_small: mean pilot quality at which the whole staff is brought in",
    )
    max_wait_terms: int = param(
        3,
        low=0,
        unit="terms",
        source="[assume]",
        help="start_small: terms after the pilot starts when the whole staff is brought in anyway",
        plausible=(1, 5),
    )


@register
class StartSmall(Strategy):
    """Start small and wait before sharing (seed 000; Frank, Penuel & Krause 2015).

    When a school's participants first attend a workshop, each brings into a pilot the
    ``pilot_size`` colleagues who trust them most (their advice seekers with the highest tie
    trust); the work is in sight for the pilot, which meets at the school's session frequency.
    Everyone else gets general updates (aware, no pressure). The whole staff is brought in (a
    launch, with its pressure) once the pilot shows impact (mean quality of pilot members, the
    participants included, at least ``q_ready``) or after ``max_wait_terms`` terms; then
    whole-staff sessions run as in ``whole_staff``.
    """

    name = "start_small"
    Params = StartSmallParams

    def __init__(self, model) -> None:
        super().__init__(model)
        n_schools = model.schools.n
        self.pilot = np.zeros(model.staff.n, dtype=bool)
        self.pilot_since = np.full(n_schools, -1)
        self.launched = np.zeros(n_schools, dtype=bool)

    def step(self, week: int) -> None:
        """Start pilots, bring in the whole staff where due, and hold sessions."""
        m = self.model
        staff = m.staff
        new = m.pln_started & (self.pilot_since < 0)
        if new.any():
            self._start_pilots(new, week)
        piloting = (self.pilot_since >= 0) & ~self.launched
        if piloting.any():
            due = piloting & (self._pilot_ready() | self._waited_long_enough(week))
            if due.any():
                launch(m, due)
                self.launched |= due
        sessions = m.now.session_week & (self.pilot_since >= 0)
        if sessions.any():
            invited = np.where(self.launched[staff.school], True, self.pilot)
            hold_sessions(m, invited & sessions[staff.school], week)

    def _start_pilots(self, schools: np.ndarray, week: int) -> None:
        m = self.model
        staff, ties = m.staff, m.ties
        size = m.config.strategy.pilot_size
        pilot = np.zeros(staff.n, dtype=bool)
        # Each participant's most trusting advice seekers (stable order: higher trust first).
        candidate = staff.participant[ties.adviser] & schools[staff.school[ties.adviser]]
        candidate &= ~staff.participant[ties.seeker]
        ties_idx = np.flatnonzero(candidate)
        order = np.lexsort((-ties.trust[ties_idx], ties.adviser[ties_idx]))
        ties_idx = ties_idx[order]
        taken: dict[int, int] = {}
        for e in ties_idx:
            lead = int(ties.adviser[e])
            if taken.get(lead, 0) < size and not pilot[ties.seeker[e]]:
                pilot[ties.seeker[e]] = True
                taken[lead] = taken.get(lead, 0) + 1
        self.pilot |= pilot
        self.pilot_since[schools] = week
        in_schools = schools[staff.school]
        expose(m, pilot)
        inform(m, in_schools)  # general updates for everyone else

    def _pilot_ready(self) -> np.ndarray:
        m = self.model
        staff = m.staff
        members = self.pilot | staff.participant
        using = (staff.stage >= Stage.TRIALLING) & (staff.stage != Stage.LAPSED)
        quality = np.where(using, staff.quality, 0.0)
        total = np.bincount(staff.school, weights=quality * members, minlength=m.schools.n)
        count = np.bincount(staff.school, weights=members, minlength=m.schools.n)
        mean = np.divide(total, count, out=np.zeros(m.schools.n), where=count > 0)
        return mean >= m.config.strategy.q_ready

    def _waited_long_enough(self, week: int) -> np.ndarray:
        wait = self.model.config.strategy.max_wait_terms * WEEKS_PER_TERM
        return week - self.pilot_since >= wait
