"""Within-school advice networks: generation and the statistics they are checked against.

A tie ``i -> j`` means *i seeks advice from j*; know-how and awareness flow from ``j`` to ``i``.
Staff cluster in teams; relationships are far likelier inside a team than across; many are mutual;
a few non-leaders (opinion formers) attract advice (MODEL.md §2; de Jong et al. 2022; Spillane, Kim
& Frank 2012). The generator is a pair model:

* a relationship between ``i`` and ``j`` exists with probability
  ``1 - (1 - p)^sqrt(a_i a_j)``, where ``p`` is ``p_within_team`` for team-mates and
  ``min(p_cross_team_max, cross_team_ties / (n - team size))`` otherwise (so larger schools are
  sparser: everyone has about the same number of cross-team relationships), and ``a`` is a
  person's attractiveness as an adviser;
* a relationship is mutual with probability ``mutual_share``; otherwise advice flows towards the
  more attractive person with probability ``a_j / (a_i + a_j)``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from sim.params import Section, param
from sim.registry import section

__all__ = [
    "PUBLISHED_RANGES",
    "NetworkConfig",
    "SchoolNetwork",
    "generate_networks",
    "generate_school_network",
    "network_stats",
]

#: Published ranges for advice networks of schools of 5-13 staff (de Jong et al. 2022; Spillane,
#: Kim & Frank 2012), the targets of MODEL.md §2 (tests/test_networks.py checks generated networks
#: against them; imported networks are reported against them).
PUBLISHED_RANGES: dict[str, tuple[float, float]] = {
    "density": (0.40, 0.86),
    "reciprocity": (0.42, 0.86),
    "in_centralisation": (0.10, 0.29),
}


@section("network")
@dataclass
class NetworkConfig(Section):
    """Within-school advice networks (ODD §2)."""

    p_within_team: float = param(
        0.95,
        low=0,
        high=1,
        source="[lit: Spillane, Kim & Frank 2012; calibrated to de Jong et al. 2022 densities]",
        help="probability that two members of the same team have an advice relationship",
    )
    cross_team_ties: float = param(
        8.0,
        low=0,
        unit="ties",
        source="[calibrated to de Jong et al. 2022 densities]",
        help="expected advice relationships a person has outside their team (sparser large schools)",
    )
    p_cross_team_max: float = param(
        0.85,
        low=0,
        high=1,
        source="[assume]",
        help="cap on the cross-team relationship probability in small schools",
        plausible=(0.6, 1.0),
    )
    mutual_share: float = param(
        0.6,
        low=0,
        high=1,
        source="[calibrated to de Jong et al. 2022 reciprocity]",
        help="share of relationships in which advice flows both ways",
    )
    hub_pull: float = param(
        1.8,
        low=1,
        source="[calibrated to de Jong et al. 2022 centralisation]",
        help="how strongly opinion formers attract advice seekers (relative attractiveness)",
    )
    opinion_former_trust_bonus: float = param(
        0.8,
        low=0,
        high=1,
        source="[seed 000: 'trusted work-related expertise and advice'; calibrated to pattern 4]",
        help="share of the gap to full trust added to the mean trust of ties to opinion formers",
    )
    trust_concentration: float = param(
        10.0,
        low=0,
        low_open=True,
        source="[assume]",
        help="Beta concentration of initial tie trust around the school's trust climate",
        plausible=(4.0, 25.0),
    )
    staff: str = param(
        "",
        source="[your data; docs/NETWORK_DATA.md]",
        help="staff CSV of an imported network (id, school, role, ...); empty: generate networks",
    )
    ties: str = param(
        "",
        source="[your data; docs/NETWORK_DATA.md]",
        help="advice-ties CSV of an imported network (seeker, adviser, optional strength)",
    )
    schools: str = param(
        "",
        source="[your data; docs/NETWORK_DATA.md]",
        help="schools CSV of an imported network (id, phase, size, optional levers)",
    )


@dataclass(frozen=True)
class SchoolNetwork:
    """Directed advice ties of one school, in local indices (0 .. n-1)."""

    n: int
    src: np.ndarray  # advice seeker
    dst: np.ndarray  # adviser


def generate_school_network(
    rng: np.random.Generator,
    team: np.ndarray,
    attractiveness: np.ndarray,
    cfg: NetworkConfig,
) -> SchoolNetwork:
    """Draw one school's advice network.

    Args:
        rng: The school's set-up generator (draws a fixed number of uniforms per pair).
        team: Team index of each member.
        attractiveness: Relative attractiveness of each member as an adviser (> 0).
        cfg: Network parameters.

    Returns:
        The school's directed ties.

    """
    n = len(team)
    u = rng.random((1, 3, n * (n - 1) // 2))
    _, src, dst = generate_networks(u, team, attractiveness[None, :], cfg)
    return SchoolNetwork(n=n, src=src, dst=dst)


@functools.lru_cache(maxsize=256)
def _pairs(n: int) -> tuple[np.ndarray, np.ndarray]:
    """``numpy.triu_indices(n, k=1)``, kept per school size (read-only)."""
    i, j = np.triu_indices(n, k=1)
    i.flags.writeable = j.flags.writeable = False
    return i, j


def _who_asks(same, outside, a_i, a_j, u_exist, u_mutual, u_dir, cfg):
    """For pairs ``i < j``: whether ``i`` asks ``j`` for advice, and whether ``j`` asks ``i``.

    A pair in the same team is tied with ``p_within_team``, across teams with
    ``min(p_cross_team_max, cross_team_ties / outside)`` (``outside``: colleagues outside i's
    team), raised to ``sqrt(a_i a_j)`` of the two attractivenesses; a tie is mutual with
    ``mutual_share``, otherwise it points to j with probability ``a_j / (a_i + a_j)``.
    """
    p_cross = np.minimum(cfg.p_cross_team_max, cfg.cross_team_ties / outside)
    p = np.where(same, cfg.p_within_team, p_cross)
    p_pair = 1.0 - (1.0 - p) ** np.sqrt(a_i * a_j)
    exists = u_exist < p_pair
    mutual = exists & (u_mutual < cfg.mutual_share)
    one_way = exists & ~mutual
    towards_j = u_dir < a_j / (a_i + a_j)
    return mutual | (one_way & towards_j), mutual | (one_way & ~towards_j)


def generate_networks(
    u: np.ndarray, team: np.ndarray, attractiveness: np.ndarray, cfg: NetworkConfig
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Draw the advice networks of ``g`` schools of the same shape at once.

    Args:
        u: Uniforms of shape ``(g, 3, pairs)``: per school and pair ``i < j`` (in
            ``numpy.triu_indices`` order), one for existence, one for mutuality, one for
            direction, drawn whatever the outcome (the network is a pure function of them).
        team: Team index of each member (the same in every school of the shape).
        attractiveness: Shape ``(g, n)``: relative attractiveness as an adviser (> 0).
        cfg: Network parameters.

    Returns:
        ``(school, src, dst)``: the row of the school each tie belongs to and the tie's local
        indices, sorted by (school, seeker, adviser).

    """
    n = len(team)
    i, j = _pairs(n)
    u_exist, u_mutual, u_dir = u[:, 0], u[:, 1], u[:, 2]
    team_sizes = np.bincount(team)
    same = team[i] == team[j]
    outside = np.maximum(n - team_sizes[team[i]], 1)
    a_i, a_j = attractiveness[:, i], attractiveness[:, j]
    i_asks_j, j_asks_i = _who_asks(same, outside, a_i, a_j, u_exist, u_mutual, u_dir, cfg)
    g1, p1 = np.nonzero(i_asks_j)
    g2, p2 = np.nonzero(j_asks_i)
    school = np.concatenate([g1, g2])
    src = np.concatenate([i[p1], j[p2]])
    dst = np.concatenate([j[p1], i[p2]])
    order = np.argsort((school.astype(np.int64) * n + src) * n + dst, kind="stable")
    return school[order], src[order], dst[order]


#: Pairs of colleagues drawn at once by :func:`draw_networks`: its temporaries (a few MB) stay in
#: the cache (England's 7 million pairs take a third less time than in chunks of a million).
PAIRS_PER_CHUNK = 32_768


def draw_networks(
    keys: np.ndarray,
    first: np.ndarray,
    size: np.ndarray,
    team: np.ndarray,
    attractiveness: np.ndarray,
    cfg: NetworkConfig,
) -> tuple[np.ndarray, np.ndarray]:
    """The advice networks of many schools of any sizes, in a few array operations.

    The same ties as :func:`generate_networks` school by school: school ``s`` (slots
    ``first[s]`` to ``first[s] + size[s] - 1``) draws its pair ``p`` (in ``numpy.triu_indices``
    order) from the uniforms ``p``, ``pairs + p`` and ``2 pairs + p`` of its key ``keys[s]``
    (:func:`sim.rng.uniforms`: a row of ``uniform_table``), and every number is computed by the
    same element-wise operations. ``team`` and ``attractiveness`` are per slot. Returns the
    ties' global ``(seeker, adviser)`` indices, unsorted. Schools are taken in chunks of about
    :data:`PAIRS_PER_CHUNK` pairs.
    """
    size = np.asarray(size, dtype=np.int64)
    pairs = size * (size - 1) // 2
    seekers, advisers = [], []
    start = 0
    ends = np.cumsum(pairs)
    while start < len(size):
        # Schools start..stop-1: at least one, at most about PAIRS_PER_CHUNK pairs.
        limit = (ends[start - 1] if start else 0) + PAIRS_PER_CHUNK
        stop = max(start + 1, int(np.searchsorted(ends, limit, side="right")))
        chunk = slice(start, stop)
        seeker, adviser = _draw_chunk(
            keys[chunk], first[chunk], size[chunk], pairs[chunk], team, attractiveness, cfg
        )
        seekers.append(seeker)
        advisers.append(adviser)
        start = stop
    return np.concatenate(seekers), np.concatenate(advisers)


def _draw_chunk(keys, first, size, pairs, team, attractiveness, cfg):
    """:func:`draw_networks` for one chunk of schools."""
    from sim.rng import uniforms

    n_schools = len(size)
    # Row i of school s holds its pairs (i, j > i): rows in order, then pairs in a row in order,
    # is numpy.triu_indices order within each school.
    rows = np.maximum(size - 1, 0)
    row_school = np.repeat(np.arange(n_schools), rows)
    row_i = np.arange(len(row_school)) - np.repeat(np.cumsum(rows) - rows, rows)
    row_len = size[row_school] - 1 - row_i
    pair_row = np.repeat(np.arange(len(row_school)), row_len)
    within_row = np.arange(len(pair_row)) - np.repeat(np.cumsum(row_len) - row_len, row_len)
    school = row_school[pair_row]
    local_i = row_i[pair_row]
    local_j = local_i + 1 + within_row
    k = np.arange(len(pair_row)) - np.repeat(np.cumsum(pairs) - pairs, pairs)  # triu index
    key = keys[school]
    n_pairs = pairs[school]
    u_exist = uniforms(key, k)
    u_mutual = uniforms(key, n_pairs + k)
    u_dir = uniforms(key, 2 * n_pairs + k)
    i = first[school] + local_i
    j = first[school] + local_j
    # Team sizes, per slot of the chunk's schools (teams are numbered within a school).
    lo, hi = int(first[0]), int(first[-1] + size[-1])
    slot_team = team[lo:hi].astype(np.int64)
    slot_school = np.repeat(np.arange(n_schools), size)
    code = slot_school * (int(slot_team.max(initial=0)) + 1) + slot_team
    team_size = np.bincount(code)[code]
    same = team[i] == team[j]
    outside = np.maximum(size[school] - team_size[i - lo], 1)
    a_i, a_j = attractiveness[i], attractiveness[j]
    i_asks_j, j_asks_i = _who_asks(same, outside, a_i, a_j, u_exist, u_mutual, u_dir, cfg)
    return (
        np.concatenate([i[i_asks_j], j[j_asks_i]]),
        np.concatenate([j[i_asks_j], i[j_asks_i]]),
    )


def network_stats(net: SchoolNetwork, leaders: np.ndarray | None = None) -> dict[str, float]:
    """Density, reciprocity and in-degree centralisation of a directed network.

    Args:
        net: The network.
        leaders: Optional boolean mask of senior leaders; adds ``top_is_teacher`` (1.0 when a
            non-leader has the highest in-degree, shared or not).

    Returns:
        ``density`` (ties / n(n-1)), ``reciprocity`` (share of ties that are returned),
        ``in_centralisation`` (Freeman: sum of (max in-degree - in-degree) / (n-1)^2).

    """
    n = net.n
    m = len(net.src)
    density = m / (n * (n - 1)) if n > 1 else 0.0
    key = net.src.astype(np.int64) * n + net.dst
    back = net.dst.astype(np.int64) * n + net.src
    reciprocity = float(np.isin(back, key).mean()) if m else 0.0
    indeg = np.bincount(net.dst, minlength=n)
    central = float((indeg.max() - indeg).sum() / (n - 1) ** 2) if n > 1 else 0.0
    stats = {"density": density, "reciprocity": reciprocity, "in_centralisation": central}
    if leaders is not None:
        top = indeg == indeg.max()
        stats["top_is_teacher"] = float(bool(np.any(top & ~leaders)))
    return stats
