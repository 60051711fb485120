"""Schools, staff and advice ties as arrays indexed by permanent slot.

The model's state lives here: :class:`Staff` holds one array per state variable (one entry per
staff slot), :class:`Ties` the advice network as edge arrays sorted by (seeker, adviser), and
:class:`Schools` the per-school attributes fixed for a run (the levers are in :mod:`sim.levers`).
Mesa agents (:mod:`sim.agents`) are views of these arrays. :class:`Staff` and :class:`Ties` are
:class:`~sim.versioning.Versioned`: assigning an array bumps its version stamp, which
invalidates caches derived from it; whoever writes into an array in place calls ``touch``.

Everything here is drawn once, at set-up, from streams no strategy or lever touches
(``Streams.setup``): roles, traits, teams and networks are identical across arms of an
experiment that share a seed.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import special

from sim.networks import draw_networks
from sim.params import ConfigError, Section, drawn_later, param
from sim.registry import section
from sim.rng import Streams, uniforms
from sim.system import SchoolTable, school_table
from sim.versioning import Versioned

if TYPE_CHECKING:
    from sim.config import Config

__all__ = [
    "SchoolsConfig",
    "ROLES",
    "STAGE_NAMES",
    "Stage",
    "Role",
    "Schools",
    "Staff",
    "Ties",
    "build_population",
    "stage_lookup",
    "threshold_ppf",
    "fit_ppf",
]


@section("schools")
@dataclass
class SchoolsConfig(Section):
    """Schools, staff and pupils (ODD §2)."""

    phase: Any = param(
        "primary",
        choices=("primary", "secondary"),
        per_school=True,
        source="[seed 000]",
        help="primary (teams are year groups) or secondary (teams are departments of "
        "department_size; pilots are departments)",
    )
    teachers: Any = param(
        [6, 7, 8, 8, 9, 10, 10, 12],
        low=1,
        per_school=True,
        unit="staff",
        source="[seed 000: ~70 teachers in 8 primaries]",
        help="classroom staff per school (not counting senior leaders); list length sets schools",
    )
    leaders: Any = param(
        2,
        low=1,
        per_school=True,
        unit="staff",
        source="[assume: head and deputy in a primary]",
        help="senior leaders per school; the first is the head",
        plausible=(2, 3),
    )
    team_size: int = param(
        3,
        low=1,
        unit="staff",
        source="[lit: de Jong et al. 2022, year-group or phase teams]",
        help="typical team size (year groups or phases in primaries, departments in secondaries)",
    )
    department_size: int = param(
        8,
        low=1,
        unit="staff",
        source="[assume: secondary departments; MODEL.md §2]",
        help="typical department size in a secondary (its teams, and the unit of a pilot)",
        plausible=(5, 12),
    )
    opinion_formers: Any = param(
        [1, 1, 1, 1, 1, 1, 1, 2],
        low=0,
        per_school=True,
        unit="staff",
        source="[seed 000: 9 opinion formers in 8 schools]",
        help="non-leaders colleagues turn to for advice (advice-network hubs)",
    )
    middle_leader_share: float = param(
        0.2,
        low=0,
        high=1,
        source="[assume]",
        help="share of teachers (senior leaders excluded) who are middle leaders",
        plausible=(0.1, 0.35),
    )
    early_career_share: float = param(
        0.15,
        low=0,
        high=1,
        source="[assume]",
        help="share of teachers in their first years",
        plausible=(0.05, 0.3),
    )
    pupils_per_teacher: float = param(
        21.0,
        low=0,
        unit="pupils",
        source="[seed 000: 1,470 pupils / 70 teachers]",
        help="pupils taught by a teacher",
    )
    pupils_per_leader: float = param(
        0.0,
        low=0,
        unit="pupils",
        source="[seed 000: the 1,470 pupils are counted over the 70 teachers]",
        help="pupils taught by a senior leader (beyond the teachers' classes)",
    )
    trust_climate: Any = param(
        0.6,
        low=0,
        high=1,
        per_school=True,
        source="[assume; lit: Bryk & Schneider 2002]",
        help="mean trust among staff and in leaders",
        plausible=(0.3, 0.85),
    )
    disadvantage: Any = param(
        0.2,
        low=0,
        high=1,
        per_school=True,
        source="[assume]",
        help="share of pupils eligible for free school meals (raises turnover and the arrival "
        "of competing priorities)",
        plausible=(0.05, 0.5),
    )

    @classmethod
    def check(cls, config: Config) -> None:
        """`schools.opinion_formers ≤ schools.teachers` in every school (they are teachers)."""
        s = config.schools
        if drawn_later(s.opinion_formers, s.teachers):
            return  # checked once the schools are drawn
        for i in range(config.n_schools):
            if s.opinion_formers[i] > s.teachers[i]:
                raise ConfigError(
                    f"schools.opinion_formers[{i}] = {s.opinion_formers[i]} exceeds the "
                    f"school's {s.teachers[i]} teachers"
                )


class Stage(IntEnum):
    """Stages of engagement with the practice (MODEL.md §2)."""

    UNAWARE = 0
    AWARE = 1
    INTERESTED = 2
    TRIALLING = 3
    ADOPTED = 4
    EMBEDDED = 5
    LAPSED = 6


STAGE_NAMES: tuple[str, ...] = tuple(s.name.lower() for s in Stage)


def stage_lookup(*stages: Stage) -> np.ndarray:
    """A boolean table over stage codes: ``stage_lookup(A, B)[staff.stage]`` is "in A or B".

    Indexing a small table is far cheaper than ``np.isin`` in the weekly loop.
    """
    table = np.zeros(len(Stage), dtype=bool)
    table[list(stages)] = True
    return table


class Role(IntEnum):
    """Formal roles of staff."""

    SENIOR_LEADER = 0
    MIDDLE_LEADER = 1
    TEACHER = 2
    EARLY_CAREER = 3


ROLES: tuple[str, ...] = tuple(r.name.lower() for r in Role)

#: Relative attractiveness as an adviser, by role [assume]; opinion formers get ``hub_pull``.
ROLE_ATTRACTIVENESS = {
    Role.SENIOR_LEADER: 1.1,
    Role.MIDDLE_LEADER: 1.3,
    Role.TEACHER: 1.0,
    Role.EARLY_CAREER: 0.7,
}


@dataclass
class Schools:
    """Per-school attributes fixed for a run, as arrays of length ``n``.

    The leadership levers, which may change mid-run, are in :class:`sim.levers.Levers`.
    """

    n: int
    first_slot: np.ndarray
    size: np.ndarray
    trust_climate: np.ndarray
    disadvantage: np.ndarray
    phase: np.ndarray  # 0 primary, 1 secondary (sim.system.PHASES)
    pln: np.ndarray  # the PLN the school belongs to


@dataclass
class Staff(Versioned):
    """State of every staff member, one entry per permanent slot."""

    school: np.ndarray
    team: np.ndarray
    role: np.ndarray
    opinion_former: np.ndarray
    participant: np.ndarray
    threshold: np.ndarray
    capacity: np.ndarray  # discretionary hours a week
    fit: np.ndarray  # how well the practice fits the person's class or subject (quality ceiling)
    trust_in_leaders: np.ndarray
    pupils: np.ndarray
    knowledge: np.ndarray
    quality: np.ndarray
    stage: np.ndarray
    stage_weeks: np.ndarray  # whole weeks spent in the current stage
    resistant: np.ndarray
    network_trust: np.ndarray  # participants' trust in the PLN (0 for others)
    pupil_gain: np.ndarray  # cumulative gain of the class, SD

    @property
    def n(self) -> int:
        """Number of slots."""
        return len(self.school)

    @property
    def is_leader(self) -> np.ndarray:
        """Mask of senior leaders."""
        return self.role == Role.SENIOR_LEADER


@dataclass
class Ties(Versioned):
    """Directed advice ties ``seeker -> adviser`` with trust weights, sorted by (seeker, adviser)."""

    seeker: np.ndarray
    adviser: np.ndarray
    trust: np.ndarray
    initial_trust: np.ndarray  # as drawn at set-up (a newcomer's ties start here)

    @property
    def n(self) -> int:
        """Number of ties."""
        return len(self.seeker)


def build_population(
    config: Config,
    streams: Streams,
    table: SchoolTable | None = None,
    given: dict[str, np.ndarray] | None = None,
) -> tuple[Schools, Staff, Ties]:
    """Create schools, staff and advice ties for a validated configuration.

    ``table``: the schools' per-school settings (:func:`sim.system.school_table`; drawn from
    ``config`` when not given). ``given``: an imported network's structure
    (``sim.network_import.imported_structure``: roles, teams, opinion formers, ties, strengths,
    pupils) used instead of generating one.
    """
    if table is None:
        table = school_table(config, streams)
    n_schools = table.n
    leaders, teachers = table.leaders, table.teachers
    size = leaders + teachers
    first = np.concatenate([[0], np.cumsum(size)[:-1]]).astype(np.int64)
    n = int(size.sum())

    schools = _build_schools(table, first, size)
    school = np.repeat(np.arange(n_schools, dtype=np.int32), size)

    if given is not None:  # an imported network (sim.network_import) instead of a generated one
        role, team, opinion_former = given["role"], given["team"], given["opinion_former"]
        seeker, adviser = given["seeker"], given["adviser"]
        # int32 indices sorted by seeker, as for a generated network.
        order = np.argsort(seeker.astype(np.int64) * n + adviser, kind="stable")
        seeker, adviser = seeker[order].astype(np.int32), adviser[order].astype(np.int32)
        given = {**given, "strength": given["strength"][order]}
    else:
        role, team, opinion_former, seeker, adviser = _generate_structure(
            config, streams, table, first, size
        )

    kappa = config.network.trust_concentration
    # Opinion formers are, by definition, colleagues' *trusted* advisers (seed 000): ties to them
    # start closer to full trust.
    climate = schools.trust_climate[school[seeker]]
    bonus = config.network.opinion_former_trust_bonus * opinion_former[adviser]
    trust = _beta_mean(streams.setup("tie_trust"), climate + bonus * (1 - climate), kappa)
    if given is not None:  # strengths given in the ties file replace the drawn trust
        trust = np.where(np.isnan(given["strength"]), trust, given["strength"])

    d = config.decision
    threshold = threshold_ppf(streams.setup("threshold").random(n), d)
    capacity = streams.setup("capacity").gamma(
        d.capacity_shape, d.capacity_mean_hours / d.capacity_shape, size=n
    )
    fit = fit_ppf(streams.setup("fit").random(n), config.practice)
    trust_in_leaders = _beta_mean(
        streams.setup("trust_in_leaders"),
        schools.trust_climate[school],
        d.leader_trust_concentration,
    )
    sc = config.schools
    pupils = np.where(role == Role.SENIOR_LEADER, sc.pupils_per_leader, sc.pupils_per_teacher)
    if given is not None:  # pupils given in the staff file
        pupils = np.where(np.isnan(given["pupils"]), pupils, given["pupils"])

    staff = Staff(
        school=school,
        team=team,
        role=role,
        opinion_former=opinion_former,
        participant=np.zeros(n, dtype=bool),
        threshold=threshold,
        capacity=capacity,
        fit=fit,
        trust_in_leaders=trust_in_leaders,
        pupils=pupils.astype(float),
        knowledge=np.zeros(n),
        quality=np.zeros(n),
        stage=np.zeros(n, dtype=np.int8),
        stage_weeks=np.zeros(n, dtype=np.int32),
        resistant=np.zeros(n, dtype=bool),
        network_trust=np.zeros(n),
        pupil_gain=np.zeros(n),
    )
    ties = Ties(seeker=seeker, adviser=adviser, trust=trust, initial_trust=trust.copy())
    return schools, staff, ties


def _generate_structure(
    config: Config, streams: Streams, table: SchoolTable, first: np.ndarray, size: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Roles, teams, opinion formers and advice ties of generated schools.

    Set-up is vectorised: every school's roles and teams (:func:`_roles`) and advice network
    (:func:`sim.networks.draw_networks`) are drawn at once, whatever the school's size. Each
    school's draws are a pure function of ``(seed, stream, school)``
    (:meth:`sim.rng.Streams.setup_table`), so drawing them together changes none of them. Teams
    are year groups or phases in a primary and departments in a secondary (``table.team_size``).
    """
    role, team, opinion_former = _roles(
        streams.setup_keys("roles", np.arange(table.n)), table, first, config
    )
    attract_of_role = np.array([ROLE_ATTRACTIVENESS[r] for r in Role])
    attract = attract_of_role[role]
    attract[opinion_former] = config.network.hub_pull
    # Every school's network at once, whatever its size (the ties generate_networks draws).
    network_keys = streams.setup_keys("network", np.arange(table.n))
    seeker, adviser = draw_networks(network_keys, first, size, team, attract, config.network)
    # int32 indices: half the memory traffic of int64 in the weekly passes over the ties.
    seeker, adviser = seeker.astype(np.int32), adviser.astype(np.int32)
    order = np.argsort(seeker.astype(np.int64) * len(role) + adviser, kind="stable")
    seeker, adviser = seeker[order], adviser[order]
    return role, team, opinion_former, seeker, adviser


def _build_schools(table: SchoolTable, first: np.ndarray, size: np.ndarray) -> Schools:
    return Schools(
        n=table.n,
        first_slot=first,
        size=size,
        trust_climate=table.trust_climate,
        disadvantage=table.disadvantage,
        phase=table.phase,
        pln=table.pln,
    )


def _roles(
    keys: np.ndarray, table: SchoolTable, first: np.ndarray, config: Config
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Roles, teams and opinion-former flags of every school at once, per slot.

    What :func:`_school_roles` gives school by school: a school's teacher ``t`` draws its role
    from uniform ``t`` of the school's key and its chance to be an opinion former from uniform
    ``teachers + t`` (a row of :func:`sim.rng.uniform_table`), by the same element-wise
    arithmetic; a school's opinion formers are its ``opinion_formers`` teachers with the
    smallest ``u + 2 [early career]`` (ties by position, as a stable sort).
    """
    sc = config.schools
    leaders, teachers = table.leaders.astype(np.int64), table.teachers.astype(np.int64)
    n_schools = len(leaders)
    n = int((leaders + teachers).sum())
    role = np.full(n, Role.TEACHER, dtype=np.int8)
    team = np.zeros(n, dtype=np.int32)  # team 0: the senior leadership team
    opinion_former = np.zeros(n, dtype=bool)

    def local(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each item's school and index within its school, for ``counts`` items per school."""
        school = np.repeat(np.arange(n_schools), counts)
        return school, np.arange(len(school)) - np.repeat(np.cumsum(counts) - counts, counts)

    lead_school, lead_index = local(leaders)
    role[first[lead_school] + lead_index] = Role.SENIOR_LEADER  # leaders first, the head first
    school, t = local(teachers)
    slot = first[school] + leaders[school] + t
    u_role = uniforms(keys[school], t)
    u_of = uniforms(keys[school], teachers[school] + t)
    tr = np.full(len(t), Role.TEACHER, dtype=np.int8)
    tr[u_role < sc.middle_leader_share] = Role.MIDDLE_LEADER
    tr[u_role > 1.0 - sc.early_career_share] = Role.EARLY_CAREER
    role[slot] = tr
    # Opinion formers: experienced teachers (not early career), chosen at random among them;
    # early-career teachers only where there are too few experienced ones.
    order = np.lexsort((t, u_of + 2.0 * (tr == Role.EARLY_CAREER), school))
    rank = np.empty(len(t), dtype=np.int64)
    rank[order] = t  # order keeps each school's teachers together, in school order
    opinion_former[slot[rank < table.opinion_formers[school]]] = True
    n_teams = np.maximum(1, np.round(teachers / table.team_size)).astype(np.int64)
    team[slot] = 1 + (t * n_teams[school]) // np.maximum(teachers[school], 1)
    return role, team, opinion_former


def _school_roles(
    u_role: np.ndarray,
    u_of: np.ndarray,
    n_leaders: int,
    n_teachers: int,
    n_of: int,
    team_size: int,
    config: Config,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Roles, teams and opinion-former flags of schools of one shape, one row per school.

    Leaders come first (the head is first); each school has one row of uniforms per purpose.
    Set-up uses :func:`_roles` (every school at once); this is the school-by-school form it is
    tested against (``tests/test_networks.py``).
    """
    sc = config.schools
    g = len(u_role)
    n = n_leaders + n_teachers
    role = np.full((g, n), Role.TEACHER, dtype=np.int8)
    role[:, :n_leaders] = Role.SENIOR_LEADER
    tr = np.full((g, n_teachers), Role.TEACHER, dtype=np.int8)
    tr[u_role < sc.middle_leader_share] = Role.MIDDLE_LEADER
    tr[u_role > 1.0 - sc.early_career_share] = Role.EARLY_CAREER
    # Opinion formers: experienced teachers (not early career), chosen at random among them;
    # early-career teachers only where there are too few experienced ones.
    rank = np.argsort(u_of + 2.0 * (tr == Role.EARLY_CAREER), axis=1, kind="stable")[:, :n_of]
    of = np.zeros((g, n), dtype=bool)
    np.put_along_axis(of, n_leaders + rank, True, axis=1)
    role[:, n_leaders:] = tr
    n_teams = max(1, round(n_teachers / team_size))
    team = np.zeros((g, n), dtype=np.int32)  # team 0: the senior leadership team
    team[:, n_leaders:] = 1 + (np.arange(n_teachers) * n_teams) // max(n_teachers, 1)
    return role, team, of


def threshold_ppf(u: np.ndarray, d) -> np.ndarray:
    """Thresholds from uniforms by the inverse CDF of the configured distribution.

    ``beta`` (default; Valente 1996) has the configured mean and sd on [0, 1]; ``normal``
    (Granovetter 1978) may fall below 0 (acts unprompted) or above 1 (never persuaded).
    Inverse-CDF draws keep the thresholds a fixed function of one uniform per slot.
    """
    m, sd = d.threshold_mean, d.threshold_sd
    if sd == 0:
        return np.full(len(u), m)
    if d.threshold_distribution == "normal":
        return m + sd * special.ndtri(u)
    kappa = m * (1 - m) / sd**2 - 1
    return special.betaincinv(m * kappa, (1 - m) * kappa, u)


def fit_ppf(u: np.ndarray, practice) -> np.ndarray:
    """Fit of the practice to each person's class or subject, from uniforms (Beta inverse CDF).

    Fit caps the quality a person's enactment can reach (:class:`~sim.processes.Practice`):
    where it is below ``q_adopt`` the person cannot adopt however much support they get, a
    persistent non-adopter (Rogers' laggards; MODEL.md §9b).
    """
    m, sd = practice.fit_mean, practice.fit_sd
    if sd == 0:
        return np.full(len(u), m)
    kappa = m * (1 - m) / sd**2 - 1
    return special.betaincinv(m * kappa, (1 - m) * kappa, u)


def _beta_mean(rng: np.random.Generator, mean: np.ndarray, kappa: float) -> np.ndarray:
    """Beta draws with the given means and concentration (degenerate at the mean if infinite)."""
    mean = np.clip(np.asarray(mean, float), 1e-6, 1 - 1e-6)
    if not np.isfinite(kappa):
        return mean.copy()
    return rng.beta(mean * kappa, (1 - mean) * kappa)
