"""Schools as arrays: listed one by one, or drawn as a national system (``scenario=england``).

A model is built from a :class:`SchoolTable`: one array per per-school setting (size, leaders,
opinion formers, team size, context, participants, leadership levers) and the PLN each school
belongs to. For the hand-made scenarios the table is the configuration's per-school lists. For a
generated system (``system.primaries + system.secondaries > 0``) it is drawn at set-up, as
arrays, from the distributions of ``system.*`` (:class:`sim.config.SystemConfig`): staff numbers
from a gamma around the phase's mean, trust climate and disadvantage from Betas, binary levers
with the configured shares, involvement, how-to support and distributed leadership from Betas
around the ``leadership.*`` values, collaboration hours from a gamma around its value. Schools
are grouped at random into PLNs of ``system.schools_per_pln``; each PLN holds its workshops
``0..system.pln_offset_weeks`` weeks after ``pln.workshop_weeks`` (its own calendar). Nothing of
this passes through Hydra's parser as a list: the configuration stays a few scalars.

The draws come from set-up streams (``Streams.setup``) that no strategy or lever touches, so
every arm of a comparison has the same schools.

Maxima (:data:`MAX_PRIMARIES`, :data:`MAX_SECONDARIES`, :data:`MAX_SCHOOL_STAFF`, kept with every
other documented maximum in :mod:`sim.limits`) are checked with the configuration, and so is the
estimated memory of the run (:func:`sim.limits.run_bytes`, the one estimate for listed and
generated schools) against the machine's.
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim.limits import MAX_PRIMARIES, MAX_SCHOOL_STAFF, MAX_SECONDARIES
from sim.params import ConfigError, Section, param
from sim.registry import section
from sim.rng import Streams
from sim.school_year import SESSION_PERIOD_WEEKS

if TYPE_CHECKING:
    from sim.config import Config

__all__ = [
    "MAX_PRIMARIES",
    "MAX_SECONDARIES",
    "MAX_SCHOOL_STAFF",
    "PHASES",
    "SystemConfig",
    "SchoolTable",
    "build_config_view",
    "check_system",
    "generated",
    "school_table",
]


@section("system")
@dataclass
class SystemConfig(Section):
    """A generated system of schools (``scenario=england``): counts and distributions.

    With ``primaries + secondaries > 0`` the schools are not listed one by one: their sizes,
    context and levers are drawn at set-up from these distributions as arrays (:mod:`sim.system`);
    ``schools.*``, ``selection.*`` and ``leadership.*`` then give the values every school shares
    and the means the per-school values are drawn around.
    """

    primaries: int = param(
        0,
        low=0,
        high=MAX_PRIMARIES,
        unit="schools",
        source="[lit: DfE Schools, pupils and their characteristics 2024: ~16,800 primaries]",
        help="primary schools in a generated system (0: the schools are listed in schools.*)",
    )
    secondaries: int = param(
        0,
        low=0,
        high=MAX_SECONDARIES,
        unit="schools",
        source="[lit: DfE 2024: ~3,400 secondaries]",
        help="secondary schools in a generated system",
    )
    primary_staff: float = param(
        13.0,
        low=3,
        high=MAX_SCHOOL_STAFF,
        unit="staff",
        source="[lit: DfE School workforce 2024: ~13 teachers per primary]",
        help="mean teaching staff of a primary (leaders included)",
    )
    secondary_staff: float = param(
        60.0,
        low=3,
        high=MAX_SCHOOL_STAFF,
        unit="staff",
        source="[lit: DfE School workforce 2024: ~60 teachers per secondary]",
        help="mean teaching staff of a secondary (leaders included)",
    )
    staff_cv: float = param(
        0.3,
        low=0,
        high=1,
        source="[assume]",
        plausible=(0.2, 0.45),
        help="coefficient of variation of school staff numbers (gamma; clipped to 3..max)",
    )
    primary_leaders: int = param(
        2,
        low=1,
        high=20,
        unit="staff",
        source="[assume]",
        help="senior leaders of a primary",
        plausible=(1, 3),
    )
    secondary_leaders: int = param(
        6,
        low=1,
        high=20,
        unit="staff",
        source="[assume]",
        help="senior leaders of a secondary",
        plausible=(4, 9),
    )
    opinion_former_share: float = param(
        0.1,
        low=0,
        high=1,
        source="[seed 000: 9 in ~70 teachers]",
        help="opinion formers per teacher (rounded, at least one per school)",
    )
    schools_per_pln: int = param(
        8,
        low=1,
        high=100,
        unit="schools",
        source="[seed 000: eight schools]",
        help="schools per PLN (schools are grouped at random; the last PLN may be smaller)",
    )
    pln_offset_weeks: int = param(
        3,
        low=0,
        high=4,
        unit="weeks",
        source="[assume]",
        plausible=(0, 4),
        help="PLNs hold pln.workshop_weeks shifted by 0..this many weeks (one offset per PLN); "
        "a workshop shifted past week 38 is not held",
    )
    climate_concentration: float = param(
        20.0,
        low=0,
        low_open=True,
        plausible=(5.0, 50.0),
        source="[assume]",
        help="Beta concentration of schools' trust climate around schools.trust_climate",
    )
    disadvantage_mean: float = param(
        0.24,
        low=0,
        high=1,
        source="[lit: DfE 2024: 24.6% of pupils eligible for free school meals]",
        help="mean share of disadvantaged pupils",
    )
    disadvantage_concentration: float = param(
        8.0,
        low=0,
        low_open=True,
        plausible=(3.0, 20.0),
        source="[assume]",
        help="Beta concentration of schools' disadvantage",
    )
    share_in_improvement_plan: float = param(
        0.5,
        low=0,
        high=1,
        source="[assume]",
        help="share of schools with the work in the plan",
        plausible=(0.3, 0.7),
    )
    share_in_performance_targets: float = param(
        0.3,
        low=0,
        high=1,
        source="[assume]",
        help="share with the work in performance targets",
        plausible=(0.1, 0.5),
    )
    share_governors_engaged: float = param(
        0.2,
        low=0,
        high=1,
        source="[assume]",
        help="share of schools with governors engaged",
        plausible=(0.05, 0.4),
    )
    share_release_for_workshops: float = param(
        0.7,
        low=0,
        high=1,
        source="[assume]",
        help="share releasing participants for workshops",
        plausible=(0.5, 0.9),
    )
    share_research_lead: float = param(
        0.2,
        low=0,
        high=1,
        source="[assume]",
        help="share of schools with a research lead",
        plausible=(0.05, 0.4),
    )
    lever_concentration: float = param(
        10.0,
        low=0,
        low_open=True,
        plausible=(3.0, 30.0),
        source="[assume]",
        help="Beta concentration of involvement, how-to support and distributed leadership "
        "around the leadership.* values",
    )
    collab_hours_shape: float = param(
        2.0,
        low=0,
        low_open=True,
        plausible=(1.0, 5.0),
        source="[assume]",
        help="gamma shape of allocated collaboration hours around leadership.collab_hours_per_week "
        "(capped at 2)",
    )


#: School phases, by code.
PHASES = ("primary", "secondary")

#: Per-school leadership levers (the ``per_school`` parameters of ``leadership``).
LEVERS = (
    "in_improvement_plan",
    "in_performance_targets",
    "governors_engaged",
    "plan_priorities",
    "release_for_workshops",
    "collab_hours_per_week",
    "session_frequency",
    "distributed_leadership",
    "involvement",
    "research_lead",
    "howto_support",
)


@dataclass
class SchoolTable:
    """Per-school settings as arrays of length ``n`` (see the module docstring)."""

    phase: np.ndarray  # 0 primary, 1 secondary
    teachers: np.ndarray
    leaders: np.ndarray
    opinion_formers: np.ndarray
    team_size: np.ndarray
    trust_climate: np.ndarray
    disadvantage: np.ndarray
    per_school: np.ndarray  # participants
    leaders_per_school: np.ndarray  # of whom senior leaders
    pln: np.ndarray  # the PLN each school belongs to
    pln_offset: np.ndarray  # per PLN: weeks its workshops come after pln.workshop_weeks
    levers: dict[str, np.ndarray]

    @property
    def n(self) -> int:
        """Number of schools."""
        return len(self.teachers)

    @property
    def n_plns(self) -> int:
        """Number of PLNs."""
        return len(self.pln_offset)


def generated(config: Config) -> bool:
    """Whether the configuration asks for a generated system."""
    return config.system.primaries + config.system.secondaries > 0


def school_table(config: Config, streams: Streams) -> SchoolTable:
    """The schools of a validated configuration, listed or drawn."""
    if generated(config):
        return _draw_table(config, streams)
    return _listed_table(config)


def build_config_view(config: Config, table: SchoolTable) -> Config:
    """A shallow copy of ``config`` whose per-school values are the table's arrays.

    Set-up code (population, selection, levers) reads per-school values with ``np.asarray`` and
    indexing, so it takes this view as it takes a listed configuration. The view is never
    validated or stored: the model keeps the small configuration.
    """
    if not generated(config):
        return config
    view = copy.copy(config)
    view.schools = dataclasses.replace(
        config.schools,
        teachers=table.teachers,
        leaders=table.leaders,
        opinion_formers=table.opinion_formers,
        trust_climate=table.trust_climate,
        disadvantage=table.disadvantage,
    )
    view.selection = dataclasses.replace(
        config.selection, per_school=table.per_school, leaders_per_school=table.leaders_per_school
    )
    view.leadership = dataclasses.replace(config.leadership, **table.levers)
    return view


def _listed_table(config: Config) -> SchoolTable:
    sc, sel, lv = config.schools, config.selection, config.leadership
    n = config.n_schools
    phase = np.array([PHASES.index(p) for p in np.broadcast_to(np.asarray(sc.phase), n)], np.int8)
    return SchoolTable(
        phase=phase,
        teachers=np.asarray(sc.teachers, dtype=np.int64),
        leaders=np.asarray(sc.leaders, dtype=np.int64),
        opinion_formers=np.asarray(sc.opinion_formers, dtype=np.int64),
        team_size=np.where(phase == 1, sc.department_size, sc.team_size).astype(np.int64),
        trust_climate=np.asarray(sc.trust_climate, dtype=float),
        disadvantage=np.asarray(sc.disadvantage, dtype=float),
        per_school=np.asarray(sel.per_school, dtype=np.int64),
        leaders_per_school=np.asarray(sel.leaders_per_school, dtype=np.int64),
        pln=np.zeros(n, dtype=np.int32),
        pln_offset=np.zeros(1, dtype=np.int64),
        levers={name: np.asarray(getattr(lv, name)) for name in LEVERS},
    )


def _scalar(value):
    """A per-school value that a generated system's configuration gives once."""
    return value[0] if isinstance(value, list | tuple) else value


def _beta(rng: np.random.Generator, mean: float, kappa: float, size: int) -> np.ndarray:
    mean = min(max(float(mean), 1e-6), 1 - 1e-6)
    return rng.beta(mean * kappa, (1 - mean) * kappa, size=size)


def _draw_table(config: Config, streams: Streams) -> SchoolTable:
    sy, sc, sel, lv = config.system, config.schools, config.selection, config.leadership
    n_pri, n_sec = sy.primaries, sy.secondaries
    n = n_pri + n_sec
    phase = np.repeat(np.array([0, 1], dtype=np.int8), [n_pri, n_sec])
    secondary = phase == 1

    rng = streams.setup("system:sizes")
    mean_staff = np.where(secondary, sy.secondary_staff, sy.primary_staff)
    leaders = np.where(secondary, sy.secondary_leaders, sy.primary_leaders).astype(np.int64)
    if sy.staff_cv > 0:
        shape = 1.0 / sy.staff_cv**2
        staff = rng.gamma(shape, mean_staff / shape)
    else:
        staff = mean_staff
    staff = np.clip(np.rint(staff), 3, MAX_SCHOOL_STAFF).astype(np.int64)
    per_school = np.full(n, int(_scalar(sel.per_school)), dtype=np.int64)
    leaders_per_school = np.full(n, int(_scalar(sel.leaders_per_school)), dtype=np.int64)
    # Every school has room for its participants and its leaders, and a teacher or more.
    leaders = np.minimum(leaders, np.maximum(staff - 2, 1))
    teachers = np.maximum(staff - leaders, np.maximum(per_school - leaders, 1))
    opinion_formers = np.clip(np.rint(sy.opinion_former_share * teachers), 1, teachers)
    team_size = np.where(secondary, sc.department_size, sc.team_size).astype(np.int64)

    rng = streams.setup("system:context")
    trust_climate = _beta(rng, _scalar(sc.trust_climate), sy.climate_concentration, n)
    disadvantage = _beta(rng, sy.disadvantage_mean, sy.disadvantage_concentration, n)

    rng = streams.setup("system:levers")
    shares = {
        "in_improvement_plan": sy.share_in_improvement_plan,
        "in_performance_targets": sy.share_in_performance_targets,
        "governors_engaged": sy.share_governors_engaged,
        "release_for_workshops": sy.share_release_for_workshops,
        "research_lead": sy.share_research_lead,
    }
    levers: dict[str, np.ndarray] = {}
    for name, share in shares.items():
        levers[name] = rng.random(n) < share
    for name in ("distributed_leadership", "involvement", "howto_support"):
        levers[name] = _beta(rng, _scalar(getattr(lv, name)), sy.lever_concentration, n)
    hours = float(_scalar(lv.collab_hours_per_week))
    shape = sy.collab_hours_shape
    levers["collab_hours_per_week"] = np.minimum(rng.gamma(shape, hours / shape, n), 2.0)
    levers["plan_priorities"] = np.full(n, int(_scalar(lv.plan_priorities)), dtype=np.int64)
    levers["session_frequency"] = np.full(n, _scalar(lv.session_frequency), dtype=object)

    rng = streams.setup("system:plns")
    n_plns = -(-n // sy.schools_per_pln)
    pln = np.empty(n, dtype=np.int32)
    pln[rng.permutation(n)] = np.arange(n, dtype=np.int32) // sy.schools_per_pln
    pln_offset = rng.integers(0, sy.pln_offset_weeks + 1, size=n_plns)
    return SchoolTable(
        phase=phase,
        teachers=teachers,
        leaders=leaders,
        opinion_formers=opinion_formers.astype(np.int64),
        team_size=team_size,
        trust_climate=trust_climate,
        disadvantage=disadvantage,
        per_school=per_school,
        leaders_per_school=leaders_per_school,
        pln=pln,
        pln_offset=pln_offset,
        levers=levers,
    )


def check_system(config: Config) -> None:
    """Reject a generated system the set-up could not honour (memory: :mod:`sim.limits`).

    Raises:
        ConfigError: One line naming the key and what is allowed.

    """
    if not generated(config):
        return
    sy, sel = config.system, config.selection
    for key in ("per_school", "leaders_per_school"):
        value = getattr(sel, key)
        if len(value) != 1:
            raise ConfigError(
                f"selection.{key}: a generated system (system.primaries/secondaries) takes one "
                f"value for every school, not a list of {len(value)}"
            )
    smallest = min(sy.primary_leaders, sy.secondary_leaders)
    if sel.policy == "mixed" and sel.leaders_per_school[0] > smallest:
        raise ConfigError(
            f"selection.leaders_per_school = {sel.leaders_per_school[0]} exceeds the "
            f"{smallest} senior leaders of the smallest phase (system.*_leaders)"
        )
    for key in ("trust_climate",):
        if len(getattr(config.schools, key)) != 1:
            raise ConfigError(f"schools.{key}: a generated system takes one value (its mean)")
    for name in LEVERS:
        value = getattr(config.leadership, name)
        if isinstance(value, list | tuple) and len(value) != 1:
            raise ConfigError(
                f"leadership.{name}: a generated system takes one value (the schools' mean or "
                f"shared value), not a list of {len(value)}"
            )
    if _scalar(config.leadership.session_frequency) not in SESSION_PERIOD_WEEKS:
        raise ConfigError("leadership.session_frequency is not a known frequency")
