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


def _by_priority(staff: Staff, ties: Ties, priority: np.ndarray) -> np.ndarray:
    """Score: a priority class first, advice in-degree (how consulted) second."""
    indegree = np.bincount(ties.adviser, minlength=staff.n)
    return priority * 1e6 + indegree


@_policy("opinion_formers")
def _opinion_formers(config, schools, staff, ties, streams) -> np.ndarray:
    """Opinion formers first, then the most consulted other teachers (never senior leaders)."""
    is_leader = staff.role == Role.SENIOR_LEADER
    priority = np.where(is_leader, -10.0, staff.opinion_former * 1.0)
    return _pick(_by_priority(staff, ties, priority), schools, config.selection.per_school)


@_policy("senior_leaders")
def _senior_leaders(config, schools, staff, ties, streams) -> np.ndarray:
    """Senior leaders (the head first), then middle leaders, then the most consulted teachers."""
    is_leader = staff.role == Role.SENIOR_LEADER
    priority = np.where(staff.role == Role.MIDDLE_LEADER, 1.0, 0.0)
    # Leaders in slot order (the head is first in each school), ahead of everyone else.
    leader_rank = 3e9 - np.arange(staff.n)
    score = np.where(is_leader, leader_rank, _by_priority(staff, ties, priority))
    return _pick(score, schools, config.selection.per_school)


@_policy("middle_leaders")
def _middle_leaders(config, schools, staff, ties, streams) -> np.ndarray:
    """Middle leaders, most consulted first, then other teachers (never senior leaders)."""
    priority = np.select(
        [staff.role == Role.SENIOR_LEADER, staff.role == Role.MIDDLE_LEADER], [-10.0, 1.0], 0.0
    )
    return _pick(_by_priority(staff, ties, priority), schools, config.selection.per_school)


@_policy("early_career")
def _early_career(config, schools, staff, ties, streams) -> np.ndarray:
    """Early-career teachers first, then the least consulted teachers (seed 001: "not NQTs")."""
    indegree = np.bincount(ties.adviser, minlength=staff.n)
    priority = np.select(
        [staff.role == Role.SENIOR_LEADER, staff.role == Role.EARLY_CAREER], [-10.0, 1.0], 0.0
    )
    return _pick(priority * 1e6 - indegree, schools, config.selection.per_school)


@_policy("listed")
def _listed(config, schools, staff, ties, streams) -> np.ndarray:
    """The staff named in ``selection.participants`` (ids; at most ``per_school`` a school)."""
    from sim.network_import import listed_participants

    return listed_participants(config, schools, staff)
