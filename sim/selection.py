"""Participant selection: who each school sends to the PLN (MODEL.md §4.4)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from sim.config import Config
from sim.population import Role, Schools, Staff, Ties
from sim.rng import Streams

__all__ = ["SELECTION_POLICIES", "select_participants"]

Policy = Callable[[Config, Schools, Staff, Ties, Streams], np.ndarray]

#: Registered selection policies by name; each returns a boolean participant mask.
SELECTION_POLICIES: dict[str, Policy] = {}


def _policy(name: str) -> Callable[[Policy], Policy]:
    def decorate(fn: Policy) -> Policy:
        SELECTION_POLICIES[name] = fn
        return fn

    return decorate


def select_participants(
    config: Config, schools: Schools, staff: Staff, ties: Ties, streams: Streams
) -> np.ndarray:
    """Participant mask for the configured policy and numbers per school."""
    return SELECTION_POLICIES[config.selection.policy](config, schools, staff, ties, streams)


def _pick(scores: np.ndarray, schools: Schools, counts: list[int]) -> np.ndarray:
    """In each school, pick the ``counts[s]`` slots with the highest scores (ties: lower slot)."""
    chosen = np.zeros(len(scores), dtype=bool)
    for s in range(schools.n):
        lo = schools.first_slot[s]
        local = scores[lo : lo + schools.size[s]]
        top = np.argsort(-local, kind="stable")[: counts[s]]
        chosen[lo + top] = True
    return chosen


@_policy("mixed")
def _mixed(config, schools, staff, ties, streams) -> np.ndarray:
    """Senior leaders (the head first) plus the most-consulted opinion formers (seed 000).

    Each school sends ``leaders_per_school`` senior leaders and fills the rest of its
    ``per_school`` places with opinion formers, then other teachers, by advice in-degree.
    """
    sel = config.selection
    is_leader = staff.role == Role.SENIOR_LEADER
    indegree = np.bincount(ties.adviser, minlength=staff.n)
    # Leaders in slot order (the head is first in each school).
    leader_rank = np.where(is_leader, 1e9 - np.arange(staff.n), -np.inf)
    leaders = _pick(leader_rank, schools, sel.leaders_per_school)
    others = list(np.asarray(sel.per_school) - np.asarray(sel.leaders_per_school))
    teacher_score = np.where(is_leader, -np.inf, staff.opinion_former * 1e6 + indegree)
    return leaders | _pick(teacher_score, schools, others)


@_policy("random")
def _random(config, schools, staff, ties, streams) -> np.ndarray:
    """``per_school`` staff chosen uniformly at random in each school."""
    u = streams.setup("selection.random").random(staff.n)
    return _pick(u, schools, config.selection.per_school)
