"""The process contract and the per-week scratch state processes pass along."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

import numpy as np

if TYPE_CHECKING:
    from sim.model import KnowledgeMobilisationModel

__all__ = ["Process", "WeekContext"]


class Process:
    """One step of the weekly order.

    A process reads the model's state arrays, draws from its own named random streams
    (``model.streams``) and writes new state. Subclasses set :attr:`name` and implement
    :meth:`step`; parameters come from the model's configuration section named after the
    process.

    Args:
        model: The model the process belongs to.

    """

    name: ClassVar[str] = "process"

    def __init__(self, model: KnowledgeMobilisationModel) -> None:
        self.model = model

    def step(self, week: int) -> None:
        """Advance this process by one week (``week`` counts from 0)."""
        raise NotImplementedError


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
    workshop_week: bool = False  # some PLN holds a workshop this week
    workshop_schools: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
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
