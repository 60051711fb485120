"""``start_small``: a pilot first, the whole staff once it shows impact."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.params import param
from sim.population import Role, Stage, stage_lookup
from sim.registry import register
from sim.school_year import WEEKS_PER_TERM
from sim.strategies.base import Strategy, expose, hold_sessions, inform, launch

#: Stages that show a colleague the practice works: adopted or embedded.
SHOWS_IMPACT = stage_lookup(Stage.ADOPTED, Stage.EMBEDDED)


@dataclass
class StartSmallParams:
    """Parameters of ``start_small`` (in the ``strategy`` section)."""

    pilot_share: float = param(
        0.25,
        low=0,
        high=1,
        source="[seed 000: start small; assume share]",
        help="start_small: share of the school's other staff in the pilot (participants' teams "
        "or departments first, then the colleagues who trust them most)",
    )
    pilot_impact_share: float = param(
        0.4,
        low=0,
        high=1,
        source="[seed 000: 'showing positive impact'; assume level]",
        help="start_small: share of the pilot (participants included) who have adopted, at which "
        "the whole staff is brought in",
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

    When a school's participants first attend a workshop they start a pilot of
    ``pilot_share`` of the school's other staff (at least one): first their own teams (a year
    group in a primary, a department in a secondary), then the colleagues who trust them most
    (highest trust on an advice tie to a participant). The work is in sight for the pilot, which
    meets at the school's session frequency, without pressure (pilot members volunteer); the
    school's how-to support is shared among fewer trialling staff. Everyone else gets general
    updates (aware, no pressure). The whole staff is brought in (a launch, with its pressure)
    once the pilot shows an impact staff can see — at least ``pilot_impact_share`` of the pilot
    (participants included) have adopted the practice — or after ``max_wait_terms`` terms; then
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
            due = piloting & (self.pilot_shows_impact() | self._waited_long_enough(week))
            if due.any():
                launch(m, due)
                self.launched |= due
        sessions = m.now.session_week & (self.pilot_since >= 0)
        if sessions.any():
            launched = self.launched[staff.school]
            invited = np.where(launched, True, self.pilot) & sessions[staff.school]
            hold_sessions(m, invited, week, mandate=launched)

    def pilot_size(self, schools: np.ndarray) -> np.ndarray:
        """Pilot size per school: ``pilot_share`` of its non-participants, at least one."""
        staff = self.model.staff
        others = np.bincount(
            staff.school[~staff.participant], minlength=self.model.schools.n
        ).astype(float)
        size = np.maximum(np.rint(self.model.config.strategy.pilot_share * others), 1)
        return np.where(schools, np.minimum(size, others), 0).astype(int)

    def _start_pilots(self, schools: np.ndarray, week: int) -> None:
        m = self.model
        staff, ties = m.staff, m.ties
        # Score each non-participant: in a participant's team (not the leadership team) first,
        # then by their highest trust on a tie to a participant.
        lead = staff.participant[ties.adviser]
        trust_to_part = np.zeros(staff.n)
        np.maximum.at(trust_to_part, ties.seeker[lead], ties.trust[lead])
        teams = np.zeros((m.schools.n, int(staff.team.max()) + 1), dtype=bool)
        teachers = staff.participant & (staff.role != Role.SENIOR_LEADER)
        teams[staff.school[teachers], staff.team[teachers]] = True
        same_team = teams[staff.school, staff.team] & (staff.team > 0)
        score = same_team + trust_to_part
        size = self.pilot_size(schools)
        pilot = np.zeros(staff.n, dtype=bool)
        # Each school's candidates by score, best first (ties: slot order; lexsort is stable);
        # the first size[s] of school s join its pilot.
        cand = np.flatnonzero(schools[staff.school] & ~staff.participant)
        order = cand[np.lexsort((-score[cand], staff.school[cand]))]
        school_of = staff.school[order]
        rank = np.arange(len(order)) - np.searchsorted(school_of, school_of, side="left")
        pilot[order[rank < size[school_of]]] = True
        self.pilot |= pilot
        self.pilot_since[schools] = week
        expose(m, pilot)
        inform(m, schools[staff.school])  # general updates for everyone else

    def pilot_shows_impact(self) -> np.ndarray:
        """Schools where at least ``pilot_impact_share`` of the pilot have adopted the practice."""
        m = self.model
        staff = m.staff
        members = self.pilot | staff.participant
        shown = np.bincount(
            staff.school, weights=members & SHOWS_IMPACT[staff.stage], minlength=m.schools.n
        )
        count = np.bincount(staff.school, weights=members, minlength=m.schools.n)
        share = np.divide(shown, count, out=np.zeros(m.schools.n), where=count > 0)
        return share >= m.config.strategy.pilot_impact_share

    def _waited_long_enough(self, week: int) -> np.ndarray:
        wait = self.model.config.strategy.max_wait_terms * WEEKS_PER_TERM
        return week - self.pilot_since >= wait
