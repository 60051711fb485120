"""The process contract and the per-week scratch state processes pass along."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sim.module import Module

__all__ = ["PERCEPTION", "Process", "WeekContext"]

#: What :meth:`~sim.model.KnowledgeMobilisationModel.refresh_perception` writes: a process that
#: changes who the work reaches (exposure, sight, participants) owns these too.
PERCEPTION: tuple[str, ...] = ("now.reached", "now.signal", "now.support", "now.depth")


class Process(Module):
    """One step of the weekly order (a :class:`~sim.module.Module` of kind ``process``).

    A process reads the model's state arrays, draws from its own named random streams
    (``model.streams``) and writes new state. Subclasses set ``name``, declare their parameter
    section (``section``, ``Params``), the state they write (``owns``) and read (``reads``), and
    implement :meth:`step`; they are registered with :func:`sim.registry.register` and run in the
    order of :data:`sim.loop.WEEKLY_ORDER`.
    """

    kind = "process"


@dataclass
class WeekContext:
    """What the calendar sets and earlier processes record for later ones, this week.

    Reset by :class:`~sim.processes.calendar.Calendar` at the start of every week.
    """

    week: int = -1
    year: int = 0
    term: int = 0
    week_of_year: int = 0
    week_in_term: int = 0
    workshop_week: bool = False
    support_active: bool = False
    support_ended: bool = False
    session_week: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    stage_at_start: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int8))
    reached: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    signal: np.ndarray = field(default_factory=lambda: np.zeros(0))
    depth: np.ndarray = field(default_factory=lambda: np.zeros(0))
    support: np.ndarray = field(default_factory=lambda: np.zeros(0))
    attended_workshop: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    pressured: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    active_ties: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    helpful_ties: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    failed_trials: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    hours: np.ndarray = field(default_factory=lambda: np.zeros(0))
