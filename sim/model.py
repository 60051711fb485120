"""The Mesa model: schools, staff and the PLN, stepped week by week."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import mesa
import numpy as np
from mesa.time import EventGenerator, Priority, Schedule

from sim import kernel
from sim.agents import Leader, OpinionFormer, StaffMember, Teacher
from sim.config import Config, cached_copy
from sim.heterogeneity import draw_schools
from sim.levers import Levers
from sim.limits import check_memory
from sim.loop import WEEKLY_ORDER
from sim.modes import make_mode
from sim.network_import import imported_structure
from sim.population import Role, build_population
from sim.processes import Process, WeekContext
from sim.processes.outcomes import make_record
from sim.rng import Streams
from sim.school_year import WEEKS_PER_YEAR
from sim.selection import select_participants
from sim.system import build_config_view, school_table
from sim.versioning import Versioned, next_stamp

__all__ = ["KnowledgeMobilisationModel", "prepared_config"]


def prepared_config(config: Config, validated: bool = False) -> Config:
    """A model's own copy of ``config``: validated (unless ``validated``), schools drawn.

    The same as ``draw_schools(copy.deepcopy(config).validate(), copy_config=False)``, kept per
    distinct configuration (:func:`sim.config.cached_copy`): a batch of runs of one
    configuration validates it and draws its schools once. The machine's memory is checked
    every time (:func:`sim.limits.check_memory`).
    """

    def prepare(copied: Config) -> Config:
        if not validated:
            copied.validate()
        return draw_schools(copied, copy_config=False)

    prepared = cached_copy(("model", validated), config, prepare)
    if not validated:
        check_memory([prepared])
    return prepared


class KnowledgeMobilisationModel(Versioned, mesa.Model):
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

    State that caches are derived from is versioned (:mod:`sim.versioning`): assigning one of
    the model's attributes, or an array of ``staff`` or ``ties``, bumps its version stamp; the
    agent views bump it when they write in place.

    Attributes:
        config: The validated configuration (the levers' values at the start).
        levers: The current per-school leadership levers (:class:`~sim.levers.Levers`).
        streams: The run's named random streams.
        schools, staff, ties: The state arrays.
        now: This week's context (set by the calendar, filled in by processes).
        record: Weekly observations.
        week: Weeks completed so far.
        horizon_weeks: Weeks in the configured horizon.

    """

    #: The clock and per-week bookkeeping: assigned every week, derived from by no cache.
    unversioned = frozenset({"week", "running", "steps", "time", "now", "kernel_sums"})

    def __init__(
        self,
        config: Config | None = None,
        *,
        order: Sequence[type[Process]] | None = None,
        validated: bool = False,
    ):
        # This model's copy, validated; schools given as distributions differ, per seed.
        config = prepared_config(config if config is not None else Config(), validated)
        super().__init__(rng=config.seed)
        self.config = config
        self.streams = Streams(config.seed)
        #: Per-school settings as arrays (listed in the configuration, or a generated system).
        self.school_table = school_table(config, self.streams)
        view = build_config_view(config, self.school_table)
        # An imported network (network.staff/ties/schools) gives the structure; else generated.
        given = imported_structure(config, self.streams) if config.network.staff else None
        self.schools, self.staff, self.ties = build_population(
            view, self.streams, self.school_table, given
        )
        staff, schools = self.staff, self.schools
        #: ``tie_ptr[i]:tie_ptr[i+1]`` are the ties of slot i (ties are sorted by seeker).
        self.tie_ptr = np.searchsorted(self.ties.seeker, np.arange(staff.n + 1))
        #: Sums left by the fused kernel's conversation pass for Decision (:mod:`sim.kernel`).
        self.kernel_sums = None
        staff.participant = select_participants(view, schools, staff, self.ties, self.streams)
        staff.network_trust = np.where(staff.participant, config.pln.initial_network_trust, 0.0)
        #: Number of staff selected for the PLN at the start (turnover may take some away).
        self.participants_selected = int(staff.participant.sum())

        #: The per-school leadership levers, read by the processes every week (see set_lever).
        self.levers = Levers(view.leadership)
        #: Caches of values derived from versioned state: name -> (key, value, stamp).
        self._derived: dict[str, tuple[object, np.ndarray, int]] = {}
        #: Times each school's leaders took control back after a visible failure.
        self.control_taken = np.zeros(schools.n, dtype=np.int64)

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
        self.record = make_record(
            config.record, self.horizon_weeks, staff.n, schools.first_slot, staff.school
        )
        self.mode = make_mode(config.mode.name, self)
        self.processes = [cls(self) for cls in (order or WEEKLY_ORDER)]
        self._calls_key: tuple | None = None
        self._calls: list[Callable[[int], None]] = []
        self._agent_at: list[StaffMember] | None = None
        self.running = True

    # -- levers and what is derived from them --------------------------------------------------

    def set_lever(self, school: int | None, name: str, value: Any) -> None:
        """Change a leadership lever from the next step on.

        Args:
            school: The school's index, or ``None`` for every school.
            name: A per-school ``leadership.*`` parameter (:data:`sim.levers.LEVER_NAMES`), e.g.
                ``"in_improvement_plan"``, ``"involvement"``, ``"collab_hours_per_week"``.
            value: A value the configuration would accept for that key.

        The processes read the levers every week, so the change takes effect from the next
        call of :meth:`step`; weeks already run are not changed. ``config`` keeps the values the
        run started with.

        Raises:
            ConfigError: Unknown lever or school, or a value outside the lever's allowed range.

        """
        self.levers.set(school, name, value)

    def derived(self, name: str, key: object, compute: Callable[[], np.ndarray]) -> np.ndarray:
        """A value computed from versioned state, recomputed only when ``key`` changes."""
        cached = self._derived.get(name)
        if cached is None or cached[0] != key:
            cached = (key, compute(), next_stamp())
            self._derived[name] = cached
        return cached[1]

    def stamp(self, name: str) -> int:
        """The stamp of the derived value ``name`` (changes whenever the value is recomputed)."""
        getattr(self, name)  # bring it up to date
        return self._derived[name][2]

    def _free_hours_key(self) -> tuple:
        return (self.staff.version("capacity"), self.levers.version)

    @property
    def free_hours(self) -> np.ndarray:
        """Each person's free hours a week: capacity plus the school's allocated collaboration."""
        return self.derived(
            "free_hours",
            self._free_hours_key(),
            lambda: self.staff.capacity + self.levers.collab_hours[self.staff.school],
        )

    @free_hours.setter
    def free_hours(self, value: np.ndarray) -> None:
        # An explicit value (tests use it) holds until capacity or a lever changes.
        self._derived["free_hours"] = (self._free_hours_key(), value, next_stamp())

    @property
    def distributed(self) -> np.ndarray:
        """Distributed leadership in force: the lever, or 0 where leaders took control back."""
        return self.derived(
            "distributed",
            (self.levers.version, self.version("control_taken")),
            lambda: (
                self.levers.distributed_leadership
                * (1.0 - self.config.leadership.control_back_cut) ** self.control_taken
            ),
        )

    @property
    def signal_of_staff(self) -> np.ndarray:
        """The school's signal P_s, per person."""
        return self.derived(
            "signal_of_staff",
            (self.levers.version,),
            lambda: self.levers.signal[self.staff.school],
        )

    @property
    def howto_of_staff(self) -> np.ndarray:
        """The school's how-to support (with a research lead's), per person."""
        return self.derived(
            "howto_of_staff",
            (self.levers.version,),
            lambda: self.levers.howto[self.staff.school],
        )

    def refresh_perception(self) -> None:
        """Set what each person perceives of the school's levers (only when it changes).

        The school's signal (formalisation x involvement) and its how-to support reach
        participants always, and anyone else only while the work is in sight for them: a
        strategy has exposed them and the school has not let the work go out of sight. Otherwise
        "when people return from network meetings it goes out of sight" (seed 001). Participants
        also get the facilitator's how-to support while the PLN is supported. The mode decides
        how deep the collaboration is for those reached (learning conversations: joint work).
        Each recomputation bumps ``version("perception")``.
        """
        staff, now = self.staff, self.now
        key = (
            now.support_active,
            self.version("exposed", "out_of_sight"),
            staff.version("participant"),
            self.levers.version,
        )
        if key == self._perception_key:
            return
        self._perception_key = key
        facilitator = self.config.pln.facilitator_support if now.support_active else 0.0
        if kernel.enabled():  # the same arrays in one compiled pass (sim.kernel)
            now.reached, now.signal, now.support = kernel.perception_pass(
                staff.participant,
                self.exposed,
                self.out_of_sight,
                staff.school,
                self.signal_of_staff,
                self.howto_of_staff,
                facilitator,
            )
        else:
            reached = staff.participant | (self.exposed & ~self.out_of_sight[staff.school])
            now.reached = reached
            now.signal = np.where(reached, self.signal_of_staff, 0.0)
            howto = self.howto_of_staff
            now.support = np.where(
                staff.participant,
                np.maximum(howto, facilitator),
                np.where(reached, howto, 0.0),
            )
        now.depth = self.mode.depth(now.reached)
        self.touch("perception")

    def trust_by_seeker(self) -> np.ndarray:
        """Total trust on each person's advice ties (cached until tie trust changes)."""
        ties = self.ties
        return self.derived(
            "trust_by_seeker",
            ties.version("trust"),
            lambda: np.bincount(ties.seeker, weights=ties.trust, minlength=self.staff.n),
        )

    def set_trust_total(self, total: np.ndarray) -> None:
        """Cache the total trust per seeker of the current tie trust (the fused kernel's)."""
        self.cache_derived("trust_by_seeker", self.ties.version("trust"), total)

    def cache_derived(self, name: str, key: object, value: np.ndarray) -> None:
        """Store ``value`` as the derived value ``name`` for ``key`` (see :meth:`derived`).

        For a value computed elsewhere exactly as ``derived``'s ``compute`` would (the compiled
        kernel's passes compute some alongside their own work).
        """
        self._derived[name] = (key, value, next_stamp())

    @property
    def agent_at(self) -> list[StaffMember]:
        """The Mesa agent of each slot, created on first access (see :attr:`agents`)."""
        if self._agent_at is None:
            self._agent_at = []  # Mesa's registration may read `agents` while they are made
            self._agent_at = self._create_agents()
        return self._agent_at

    @property
    def agents(self) -> mesa.agent.AgentSet:
        """All Mesa agents (one per staff slot), created on first access.

        The state lives in the arrays; the agents are views of it. Creating hundreds of
        thousands of Python objects costs seconds and memory a run that never looks at them
        does not need, so they are made the first time ``agents`` or ``agent_at`` is read (the
        per-agent reference and the workshop page read them; the weekly loop does not).
        """
        self.agent_at  # noqa: B018 (creates the agents)
        return super().agents

    @property
    def agents_by_type(self) -> dict:
        """Mesa's agents by type (created on first access, as :attr:`agents`)."""
        self.agent_at  # noqa: B018 (creates the agents)
        return super().agents_by_type

    @property
    def agent_types(self) -> list[type]:
        """Mesa's agent types (created on first access, as :attr:`agents`)."""
        self.agent_at  # noqa: B018 (creates the agents)
        return super().agent_types

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
        for call in self.weekly_calls():
            call(week)
        self.week = week + 1
        self.running = self.week < self.horizon_weeks

    def weekly_calls(self) -> list[Callable[[int], None]]:
        """What :meth:`step` calls each week: every process's step, in the weekly order.

        With the compiled kernel in use (:mod:`sim.kernel`), consecutive steps run in one call
        where the order has them: Conversation then Decision
        (:meth:`sim.processes.Conversation.step_with_decision`), and Practice, TrustUpdate then
        Outcomes (:meth:`sim.processes.Practice.step_through_outcomes`, with the per-school
        record). Each reads only what the one before it left, so the state is the one the steps
        leave one by one (``tests/test_api.py``). A process replaced by another class, moved or
        left out runs its own step.
        """
        key = (kernel.enabled(), *self.processes)
        if key != self._calls_key:
            self._calls_key = key
            self._calls = _weekly_calls(self.processes, fuse=kernel.enabled(), model=self)
        return self._calls

    def run(self) -> KnowledgeMobilisationModel:
        """Run to the configured horizon and return the model.

        Mesa advances its clock through the remaining weeks in one call (``run_for``), each
        week one :meth:`step`: the same as calling ``step`` until ``running`` is false. When
        nothing but the weekly step is scheduled (no other Mesa event, no simulator), the weeks
        are stepped in a plain loop and Mesa's clock is moved on once at the end
        (:meth:`_run_weeks`): the same steps in the same order, without Mesa's event queue
        around each of them (about 15% of a New Forest run).
        """
        remaining = self.horizon_weeks - self.week
        if self.running and remaining > 0:
            if self._only_weekly_steps_scheduled():
                self._run_weeks(remaining)
            else:
                self.run_for(remaining)
        while self.running:  # a step scheduled differently (or removed) by the caller
            self.step()
        return self

    def _only_weekly_steps_scheduled(self) -> bool:
        """Whether Mesa's event list holds only the next weekly step (nothing else to run).

        Reads Mesa 3.5's private scheduling attributes; if a Mesa release renames them, the
        answer is False and :meth:`run` falls back on Mesa's own ``run_for``.
        """
        try:
            schedule = self._default_schedule
            return (
                self._simulator is None
                and len(self._event_list) == 1
                and schedule.is_active
                and schedule.next_scheduled_time == self.time + 1
            )
        except AttributeError:
            return False

    def _run_weeks(self, weeks: int) -> None:
        """``run_for(weeks)`` when only the weekly step is scheduled: a loop, then the clock.

        Mesa's recurring weekly event is stopped, the weeks are stepped (``steps`` counted as
        Mesa counts them), then ``time`` moves on by ``weeks`` and the weekly event is scheduled
        again from there, as ``run_for`` would leave them.
        """
        self._default_schedule.stop()
        for _ in range(weeks):
            self.steps += 1
            self._user_step()
        self.time = self.time + weeks
        self._default_schedule = EventGenerator(
            self,
            self._do_step,
            Schedule(interval=1.0, start=self.time + 1.0),
            priority=Priority.HIGH,
        ).start()


def _weekly_calls(
    processes: Sequence[Process], fuse: bool, model: KnowledgeMobilisationModel
) -> list[Callable[[int], None]]:
    """The calls of a week (see :meth:`KnowledgeMobilisationModel.weekly_calls`)."""
    from sim.processes import Conversation, Decision, Outcomes, Practice, TrustUpdate
    from sim.processes.outcomes import SchoolRecord

    calls: list[Callable[[int], None]] = []
    i = 0
    while i < len(processes):
        kinds = tuple(type(p) for p in processes[i : i + 3])
        if fuse and kinds[:2] == (Conversation, Decision):
            calls.append(processes[i].step_with_decision)
            i += 2
        elif (
            fuse
            and kinds == (Practice, TrustUpdate, Outcomes)
            and isinstance(model.record, SchoolRecord)
        ):
            practice, trust, outcomes = processes[i : i + 3]
            calls.append(
                functools.partial(practice.step_through_outcomes, trust=trust, outcomes=outcomes)
            )
            i += 3
        else:
            calls.append(processes[i].step)
            i += 1
    return calls
