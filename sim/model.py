"""The Mesa model: schools, staff and the PLN, stepped week by week."""

from __future__ import annotations

import copy
from collections.abc import Sequence

import mesa
import numpy as np

from sim.agents import Leader, OpinionFormer, StaffMember, Teacher
from sim.config import Config
from sim.heterogeneity import draw_schools
from sim.loop import WEEKLY_ORDER
from sim.modes import make_mode
from sim.population import Role, build_population
from sim.processes import Process, WeekContext
from sim.processes.calendar import WEEKS_PER_YEAR
from sim.processes.outcomes import Record
from sim.rng import Streams
from sim.selection import select_participants

__all__ = ["KnowledgeMobilisationModel"]


class KnowledgeMobilisationModel(mesa.Model):
    """Knowledge mobilisation from a PLN into its member schools.

    State lives in arrays indexed by permanent slot (``staff``, ``ties``, ``schools``); the
    Mesa agents (:class:`~sim.agents.Teacher`, :class:`~sim.agents.Leader`,
    :class:`~sim.agents.OpinionFormer`) are views of it. Each :meth:`step` is one teaching week
    and runs the processes of :data:`sim.loop.WEEKLY_ORDER` in order.

    Args:
        config: A configuration (default: the New Forest defaults of :class:`~sim.config.Config`).
            It is copied and validated.
        order: The weekly processes, in order (default :data:`sim.loop.WEEKLY_ORDER`); tests swap
            in reference implementations here.
        validated: The caller has just validated ``config`` (skips validating it again).

    Attributes:
        config: The validated configuration.
        streams: The run's named random streams.
        schools, staff, ties: The state arrays.
        now: This week's context (set by the calendar, filled in by processes).
        record: Weekly observations.
        week: Weeks completed so far.
        horizon_weeks: Weeks in the configured horizon.

    """

    def __init__(
        self,
        config: Config | None = None,
        *,
        order: Sequence[type[Process]] | None = None,
        validated: bool = False,
    ):
        config = copy.deepcopy(config) if config is not None else Config()
        if not validated:
            config.validate()
        config = draw_schools(config)  # schools given as distributions differ, per seed
        super().__init__(rng=config.seed)
        self.config = config
        self.streams = Streams(config.seed)
        self.schools, self.staff, self.ties = build_population(config, self.streams)
        staff, schools = self.staff, self.schools
        #: ``tie_ptr[i]:tie_ptr[i+1]`` are the ties of slot i (ties are sorted by seeker).
        self.tie_ptr = np.searchsorted(self.ties.seeker, np.arange(staff.n + 1))
        staff.participant = select_participants(config, schools, staff, self.ties, self.streams)
        staff.network_trust = np.where(staff.participant, config.pln.initial_network_trust, 0.0)
        #: Number of staff selected for the PLN at the start (turnover may take some away).
        self.participants_selected = int(staff.participant.sum())

        # Per-slot views of school levers. Arrays are replaced, never written in place, when they
        # change (turnover, leaders taking control back), so processes can cache on identity.
        self.free_hours = staff.capacity + schools.collab_hours[staff.school]
        self.howto_of_staff = schools.howto_support[staff.school]
        self.signal_of_staff = schools.signal[staff.school]
        #: Distributed leadership in force (leaders may take control back after a failure).
        self.distributed = schools.distributed_leadership.copy()
        #: Schools whose leaders took control back after a visible failure.
        self.control_taken = np.zeros(schools.n, dtype=bool)

        #: Schools whose participants have attended a workshop.
        self.pln_started = np.zeros(schools.n, dtype=bool)
        #: Schools where a strategy has brought the work in sight of some non-participants.
        self.in_sight = np.zeros(schools.n, dtype=bool)
        #: Staff a strategy has brought the work in sight of (a launch: everyone; a pilot: some).
        self.exposed = np.zeros(staff.n, dtype=bool)
        #: Schools where the work has gone out of sight (leadership actions).
        self.out_of_sight = np.zeros(schools.n, dtype=bool)
        self._perception_key: tuple | None = None
        self.week = 0
        self.horizon_weeks = config.years * WEEKS_PER_YEAR
        self.now = WeekContext()
        self._trust_total: tuple[np.ndarray, np.ndarray] | None = None
        self.record = Record(self.horizon_weeks, staff.n, schools.first_slot, staff.school)
        self.mode = make_mode(config.mode.name, self)
        self.processes = [cls(self) for cls in (order or WEEKLY_ORDER)]
        self.agent_at = self._create_agents()
        self.running = True

    def refresh_perception(self) -> None:
        """Set what each person perceives of the school's levers (only when it changes).

        The school's signal (formalisation x involvement) and its how-to support reach
        participants always, and anyone else only while the work is in sight for them: a
        strategy has exposed them and the school has not let the work go out of sight. Otherwise
        "when people return from network meetings it goes out of sight" (seed 001). Participants
        also get the facilitator's how-to support while the PLN is supported. The mode decides
        how deep the collaboration is for those reached (learning conversations: joint work).
        """
        staff, now = self.staff, self.now
        key = (
            now.support_active,
            self.exposed.tobytes(),
            self.out_of_sight.tobytes(),
            staff.participant.tobytes(),
        )
        if key == self._perception_key:
            return
        self._perception_key = key
        facilitator = self.config.pln.facilitator_support if now.support_active else 0.0
        reached = staff.participant | (self.exposed & ~self.out_of_sight[staff.school])
        now.reached = reached
        now.signal = np.where(reached, self.signal_of_staff, 0.0)
        now.support = np.where(
            staff.participant,
            np.maximum(self.howto_of_staff, facilitator),
            np.where(reached, self.howto_of_staff, 0.0),
        )
        now.depth = self.mode.depth(reached)

    def trust_by_seeker(self) -> np.ndarray:
        """Total trust on each person's advice ties (cached until tie trust changes)."""
        trust = self.ties.trust
        if self._trust_total is None or self._trust_total[0] is not trust:
            total = np.bincount(self.ties.seeker, weights=trust, minlength=self.staff.n)
            self._trust_total = (trust, total)
        return self._trust_total[1]

    def _create_agents(self) -> list[StaffMember]:
        staff = self.staff
        agents: list[StaffMember] = []
        for slot in range(staff.n):
            if staff.role[slot] == Role.SENIOR_LEADER:
                cls = Leader
            elif staff.opinion_former[slot]:
                cls = OpinionFormer
            else:
                cls = Teacher
            agents.append(cls(self, slot))
        return agents

    def step(self) -> None:
        """Advance one teaching week through the weekly order."""
        if self.week >= self.horizon_weeks:
            self.running = False
            return
        week = self.week
        for process in self.processes:
            process.step(week)
        self.week = week + 1
        self.running = self.week < self.horizon_weeks

    def run(self) -> KnowledgeMobilisationModel:
        """Run to the configured horizon and return the model."""
        while self.running:
            self.step()
        return self
