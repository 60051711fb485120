"""Generated within-school advice networks against MODEL.md §2.

Targets for generated networks of 5-13 staff (de Jong et al. 2022; Spillane, Kim & Frank 2012):
density 0.40-0.86, reciprocity 0.42-0.86, in-degree centralisation 0.10-0.29, and a teacher (not
the head) the most consulted person in most schools; larger schools are sparser.

Networks are built exactly as the model builds them (``sim.population.build_population``: roles,
teams, attractiveness by role, one named set-up stream per school), one school per seed.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest

from sim.config import Config, NetworkConfig
from sim.model import KnowledgeMobilisationModel
from sim.networks import PUBLISHED_RANGES, SchoolNetwork, generate_school_network, network_stats
from sim.population import build_population
from sim.rng import Streams

SEEDS = range(200)
SMALL_SIZES = range(5, 14)

DENSITY = PUBLISHED_RANGES["density"]
RECIPROCITY = PUBLISHED_RANGES["reciprocity"]
CENTRALISATION = PUBLISHED_RANGES["in_centralisation"]


def school_network(
    size: int,
    seed: int,
    *,
    leaders: int | None = None,
    opinion_formers: int = 1,
    team_size: int = 3,
    phase: str = "primary",
) -> tuple[SchoolNetwork, np.ndarray]:
    """The advice network of a one-school population of ``size`` staff, and its leader mask."""
    if leaders is None:
        leaders = 1 if size < 7 else 2
    cfg = Config(seed=seed)
    cfg.schools.phase = phase
    cfg.schools.teachers = [size - leaders]
    cfg.schools.leaders = leaders
    cfg.schools.opinion_formers = opinion_formers
    cfg.schools.team_size = team_size
    cfg.selection.per_school = 1
    cfg.selection.leaders_per_school = 1
    cfg.validate()
    _, staff, ties = build_population(cfg, Streams(seed))
    return SchoolNetwork(n=staff.n, src=ties.seeker, dst=ties.adviser), staff.is_leader


@functools.cache
def small_school_stats(size: int) -> dict[str, np.ndarray]:
    """Statistics of the networks of ``size``-staff schools over all seeds, one entry per seed."""
    rows = [network_stats(*school_network(size, seed)) for seed in SEEDS]
    return {key: np.array([r[key] for r in rows]) for key in rows[0]}


def share_in(values: np.ndarray, bounds: tuple[float, float]) -> float:
    lo, hi = bounds
    return float(((values >= lo) & (values <= hi)).mean())


def describe(size: int) -> str:
    s = small_school_stats(size)
    return (
        f"size {size}: density {s['density'].mean():.3f} "
        f"({share_in(s['density'], DENSITY):.0%} in range), reciprocity "
        f"{s['reciprocity'].mean():.3f} ({share_in(s['reciprocity'], RECIPROCITY):.0%}), "
        f"centralisation {s['in_centralisation'].mean():.3f} "
        f"({share_in(s['in_centralisation'], CENTRALISATION):.0%}), "
        f"teacher most consulted {s['top_is_teacher'].mean():.0%}"
    )


# -- the statistic itself ------------------------------------------------------------------------


def test_network_stats_on_a_hand_built_network():
    """Density, reciprocity and Freeman in-degree centralisation match hand counts."""
    # 0 <-> 1, 2 -> 1, 3 -> 1, 0 -> 2 : 5 ties among 4 people; 1 is the hub.
    src = np.array([0, 0, 1, 2, 3])
    dst = np.array([1, 2, 0, 1, 1])
    net = SchoolNetwork(n=4, src=src, dst=dst)
    stats = network_stats(net, leaders=np.array([False, True, False, False]))
    assert stats["density"] == pytest.approx(5 / 12)
    assert stats["reciprocity"] == pytest.approx(2 / 5)  # only 0->1 and 1->0 are returned
    # in-degrees [1, 3, 1, 0]: sum of (3 - d) = 2 + 0 + 2 + 3 = 7, over (n - 1)^2 = 9
    assert stats["in_centralisation"] == pytest.approx(7 / 9)
    assert stats["top_is_teacher"] == 0.0  # the hub is a leader here
    stats = network_stats(net, leaders=np.array([True, False, False, False]))
    assert stats["top_is_teacher"] == 1.0


# -- MODEL.md §2 targets for small schools --------------------------------------------------------


@pytest.mark.parametrize("size", SMALL_SIZES)
def test_mean_network_statistics_in_target_ranges(size):
    """Over 200 seeds, the mean density, reciprocity and centralisation are in the §2 ranges."""
    s = small_school_stats(size)
    info = describe(size)
    assert DENSITY[0] <= s["density"].mean() <= DENSITY[1], info
    assert RECIPROCITY[0] <= s["reciprocity"].mean() <= RECIPROCITY[1], info
    assert CENTRALISATION[0] <= s["in_centralisation"].mean() <= CENTRALISATION[1], info


@pytest.mark.parametrize("size", SMALL_SIZES)
def test_most_single_networks_in_target_ranges(size):
    """Most individual networks are in range; small networks are noisy, so with tolerances.

    * density: at least 90% of networks of every size;
    * reciprocity: at least 90% of all networks of 5-13 staff pooled (see
      :func:`test_reciprocity_in_range_pooled_over_small_schools`) and at least 75% of every size:
      in a 5- or 6-person school with about eight relationships, one one-way relationship among
      otherwise mutual ones already gives 14/15 = 0.93, above the range;
    * in-degree centralisation: at least 40% of networks (one tie more or less on the hub moves
      it by 1/(n-1)^2, about 0.06 in a 5-person school).
    """
    s = small_school_stats(size)
    info = describe(size)
    assert share_in(s["density"], DENSITY) >= 0.90, info
    assert share_in(s["reciprocity"], RECIPROCITY) >= 0.75, info
    assert share_in(s["in_centralisation"], CENTRALISATION) >= 0.40, info


def test_reciprocity_in_range_pooled_over_small_schools():
    """At least 90% of all generated 5-13-staff networks have reciprocity in 0.42-0.86."""
    pooled = np.concatenate([small_school_stats(size)["reciprocity"] for size in SMALL_SIZES])
    info = "; ".join(describe(size) for size in SMALL_SIZES)
    assert share_in(pooled, RECIPROCITY) >= 0.90, info


@pytest.mark.parametrize("size", SMALL_SIZES)
def test_a_teacher_not_the_head_is_most_consulted_in_most_schools(size):
    """A non-leader has the highest advice in-degree (shared or not) in at least 75% of schools."""
    s = small_school_stats(size)
    assert s["top_is_teacher"].mean() >= 0.75, describe(size)


def test_larger_schools_are_sparser():
    """Mean density falls as schools grow from 10 staff to 60-staff secondaries in departments."""
    layouts = [  # (staff, leaders, opinion formers, team size, phase)
        (10, 2, 1, 3, "primary"),
        (20, 3, 2, 5, "primary"),
        (40, 4, 3, 6, "secondary"),
        (60, 6, 4, 8, "secondary"),
    ]
    densities = []
    for size, leaders, ofs, team_size, phase in layouts:
        values = [
            network_stats(
                school_network(
                    size,
                    seed,
                    leaders=leaders,
                    opinion_formers=ofs,
                    team_size=team_size,
                    phase=phase,
                )[0]
            )["density"]
            for seed in SEEDS
        ]
        densities.append(float(np.mean(values)))
    assert all(a > b for a, b in zip(densities, densities[1:], strict=False)), densities
    # A 60-staff secondary is far sparser than a 10-staff primary (each person keeps about the
    # same number of cross-team relationships, so density falls roughly as 1/n).
    assert densities[-1] < 0.5 * densities[0], densities


# -- structure and purity ------------------------------------------------------------------------


def assert_well_formed(src: np.ndarray, dst: np.ndarray) -> None:
    """Ties sorted by (seeker, adviser), no self-ties, no duplicates."""
    assert len(src) == len(dst)
    assert not np.any(src == dst), "self-tie"
    order = np.lexsort((dst, src))
    assert np.array_equal(order, np.arange(len(src))), "ties not sorted by (seeker, adviser)"
    pairs = np.stack([src, dst], axis=1)
    assert len(np.unique(pairs, axis=0)) == len(src), "duplicate tie"


@pytest.mark.parametrize("size", [2, 5, 9, 13, 60])
def test_generated_ties_sorted_without_self_or_duplicate_ties(size):
    """Every generated network is sorted by (seeker, adviser), with no self or repeated ties."""
    leaders = 1 if size < 7 else 2
    for seed in range(50):
        net, _ = school_network(size, seed, leaders=leaders)
        assert net.n == size
        assert_well_formed(net.src, net.dst)
        assert net.src.min(initial=0) >= 0 and net.dst.max(initial=0) < size


def test_model_ties_sorted_within_schools_and_well_formed():
    """A whole model's ties: globally sorted, well formed, never across schools."""
    for seed in range(5):
        model = KnowledgeMobilisationModel(Config(seed=seed))
        ties, staff = model.ties, model.staff
        assert_well_formed(ties.seeker, ties.adviser)
        assert np.array_equal(staff.school[ties.seeker], staff.school[ties.adviser])
        assert np.all((ties.trust >= 0) & (ties.trust <= 1))
        # tie_ptr indexes each person's ties
        for slot in range(staff.n):
            lo, hi = model.tie_ptr[slot], model.tie_ptr[slot + 1]
            assert np.all(ties.seeker[lo:hi] == slot)


def _generate(seed: int, cfg: NetworkConfig | None = None) -> tuple[SchoolNetwork, np.ndarray]:
    """A 10-person network from generator ``seed``; also returns the generator's next draws."""
    team = np.array([0, 0, 1, 1, 1, 2, 2, 2, 3, 3])
    attract = np.array([1.1, 1.1, 1.0, 1.8, 0.7, 1.3, 1.0, 1.0, 1.0, 0.7])
    rng = np.random.default_rng(seed)
    net = generate_school_network(rng, team, attract, cfg or NetworkConfig())
    return net, rng.random(3)


def test_generator_is_a_pure_function_of_its_generator():
    """Same seed gives an identical network; different seeds give different networks."""
    nets = [_generate(seed)[0] for seed in range(20)]
    for seed in range(20):
        again = _generate(seed)[0]
        assert np.array_equal(again.src, nets[seed].src)
        assert np.array_equal(again.dst, nets[seed].dst)
    distinct = {(n.src.tobytes(), n.dst.tobytes()) for n in nets}
    assert len(distinct) > 15


def test_generator_draws_a_fixed_number_of_uniforms():
    """The generator consumes the same draws whatever the parameters (common random numbers)."""
    _, after_default = _generate(7)
    sparse = NetworkConfig(p_within_team=0.1, cross_team_ties=0.5, mutual_share=0.0, hub_pull=1.0)
    net_sparse, after_sparse = _generate(7, sparse)
    assert np.array_equal(after_default, after_sparse)
    # and the parameters did matter
    assert len(net_sparse.src) < len(_generate(7)[0].src)


def test_model_networks_identical_for_same_seed_and_other_strategy():
    """The advice network and tie trust depend on the seed only, not on the strategy."""
    a = KnowledgeMobilisationModel(Config(seed=3))
    cfg = Config(seed=3)
    cfg.strategy.name = "none"
    b = KnowledgeMobilisationModel(cfg)
    c = KnowledgeMobilisationModel(Config(seed=4))
    assert np.array_equal(a.ties.seeker, b.ties.seeker)
    assert np.array_equal(a.ties.adviser, b.ties.adviser)
    assert np.array_equal(a.ties.trust, b.ties.trust)
    assert not (
        len(a.ties.seeker) == len(c.ties.seeker)
        and np.array_equal(a.ties.seeker, c.ties.seeker)
        and np.array_equal(a.ties.adviser, c.ties.adviser)
    )


def test_all_schools_at_once_equals_school_by_school():
    """Set-up draws every school's roles and network at once (population._roles,
    networks.draw_networks): the same as school by school, for schools of many sizes."""
    from sim.compose import build_config
    from sim.networks import draw_networks, generate_networks
    from sim.population import ROLE_ATTRACTIVENESS, Role, _roles, _school_roles
    from sim.rng import uniform_table
    from sim.system import school_table

    cfg = build_config("england", seed=4, overrides=["system.primaries=30", "system.secondaries=6"])
    streams = Streams(cfg.seed)
    table = school_table(cfg, streams)
    size = table.leaders + table.teachers
    first = np.concatenate([[0], np.cumsum(size)[:-1]]).astype(np.int64)
    assert len(set(size.tolist())) > 10  # many sizes, primaries and secondaries
    role_keys = streams.setup_keys("roles", np.arange(table.n))
    network_keys = streams.setup_keys("network", np.arange(table.n))
    role, team, of = _roles(role_keys, table, first, cfg)
    attract = np.array([ROLE_ATTRACTIVENESS[r] for r in Role])[role]
    attract[of] = cfg.network.hub_pull
    seeker, adviser = draw_networks(network_keys, first, size, team, attract, cfg.network)
    got = set(zip(seeker.tolist(), adviser.tolist(), strict=True))
    expected = set()
    for s in range(table.n):
        lead, teach = int(table.leaders[s]), int(table.teachers[s])
        u = uniform_table(role_keys[[s]], 2 * teach)
        r, t, o = _school_roles(
            u[:, :teach],
            u[:, teach:],
            lead,
            teach,
            int(table.opinion_formers[s]),
            int(table.team_size[s]),
            cfg,
        )
        slots = slice(first[s], first[s] + size[s])
        assert np.array_equal(role[slots], r[0]) and np.array_equal(team[slots], t[0])
        assert np.array_equal(of[slots], o[0])
        pairs = int(size[s] * (size[s] - 1) // 2)
        u = uniform_table(network_keys[[s]], 3 * pairs).reshape(1, 3, pairs)
        _, src, dst = generate_networks(u, t[0], attract[slots][None, :], cfg.network)
        expected |= set(zip((src + first[s]).tolist(), (dst + first[s]).tolist(), strict=True))
    assert got == expected and len(seeker) == len(got)
