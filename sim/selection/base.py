"""The selection-policy contract, the parameters all policies share, and helpers to pick."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from sim import registry
from sim.module import Module
from sim.params import ConfigError, Section, drawn_later, param
from sim.population import Schools, Staff, Ties
from sim.rng import Streams

if TYPE_CHECKING:
    from sim.config import Config

__all__ = ["SelectionParams", "SelectionPolicy", "select_participants", "pick", "by_priority"]


@dataclass
class SelectionParams(Section):
    """Who is sent to the PLN (ODD §4.4 participant selection)."""

    per_school: Any = param(
        [3, 3, 3, 3, 2, 2, 2, 3],
        low=0,
        per_school=True,
        unit="staff",
        source="[seed 000: 21 participants from 8 schools]",
        help="participants per school",
    )


@registry.kind
class SelectionPolicy(Module):
    """A selection policy: at set-up, which staff each school sends to the PLN.

    Its step is :meth:`select`, run once when the model is built (before any week).
    """

    kind = "selection"
    section = "selection"
    selector = "policy"
    selector_param = param(
        "mixed",
        source="[seed 000: senior leaders plus opinion formers; seed 001]",
        help="how participants are chosen",
    )
    Params = SelectionParams
    owns = ("staff.participant",)
    reads = ("staff.role", "staff.opinion_former", "ties.adviser", "schools")

    @classmethod
    def check(cls, config: Config) -> None:
        """`selection.per_school ≤` the school's staff (senior leaders and teachers)."""
        s, per_school = config.schools, config.selection.per_school
        if drawn_later(s.teachers, s.leaders, per_school):
            return  # checked once the schools are drawn
        for i in range(config.n_schools):
            staff = s.teachers[i] + s.leaders[i]
            if per_school[i] > staff:
                raise ConfigError(
                    f"selection.per_school[{i}] = {per_school[i]} exceeds the "
                    f"school's {staff} staff"
                )

    @classmethod
    def select(
        cls, config: Config, schools: Schools, staff: Staff, ties: Ties, streams: Streams
    ) -> np.ndarray:
        """The participant mask."""
        raise NotImplementedError


def select_participants(
    config: Config, schools: Schools, staff: Staff, ties: Ties, streams: Streams
) -> np.ndarray:
    """Participant mask for the configured policy and numbers per school."""
    policy = registry.get("selection", config.selection.policy)
    return policy.select(config, schools, staff, ties, streams)


def pick(scores: np.ndarray, schools: Schools, counts: list[int]) -> np.ndarray:
    """In each school, pick the ``counts[s]`` slots with the highest scores (ties: lower slot)."""
    school = np.repeat(np.arange(schools.n), schools.size)
    # Slots by school, then by descending score (ties: lower slot), all schools at once.
    order = np.lexsort((-scores, school))
    rank = np.arange(len(scores)) - schools.first_slot[school[order]]
    chosen = np.zeros(len(scores), dtype=bool)
    chosen[order] = rank < np.asarray(counts)[school[order]]
    return chosen


def by_priority(staff: Staff, ties: Ties, priority: np.ndarray) -> np.ndarray:
    """Score: a priority class first, advice in-degree (how consulted) second."""
    indegree = np.bincount(ties.adviser, minlength=staff.n)
    return priority * 1e6 + indegree
