"""Documented maxima for every count and size, and the one estimate of the memory a request needs.

A request beyond these bounds is refused with a one-line :class:`~sim.config.ConfigError` before
anything is written (see README, "Limits", and docs/ODD.md, §8.2, whose table is generated from
:data:`LIMITS`). The maxima are generous for the model's purpose (the largest realistic network is
every school in England: about 25,000 schools) but keep a typing slip such as
``schools.teachers=1e12`` or ``years=1000`` from running for hours or exhausting the machine's
memory.

Memory: :func:`run_bytes` estimates one run of any configuration (schools listed one by one or a
generated system), :func:`request_bytes` a request (worker runs at once plus the tables of its
runs), and :func:`check_memory` refuses one that exceeds the machine's physical memory. Config
validation (:meth:`sim.config.Config.validate`, hence every run command and the API) checks one
run; ``experiments.compare`` and ``experiments.sweep`` check their whole request.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any, NamedTuple

from sim.params import ConfigError

__all__ = [
    "MAX_SEED",
    "MAX_SEEDS",
    "MAX_SCHOOLS",
    "MAX_STAFF_PER_SCHOOL",
    "MAX_YEARS",
    "MAX_PUPILS_PER_STAFF",
    "MAX_WORKERS",
    "MAX_PRIMARIES",
    "MAX_SECONDARIES",
    "MAX_SCHOOL_STAFF",
    "LIMITS",
    "Limit",
    "limits_table",
    "check_seed",
    "check_model_size",
    "run_bytes",
    "tables_bytes",
    "request_bytes",
    "check_memory",
    "machine_memory_bytes",
]

#: Largest seed value: seeds are stored as 64-bit signed integers in every table.
MAX_SEED = 2**63 - 1
#: Most seeds in one request (per arm or cell).
MAX_SEEDS = 1_000_000
#: Most schools in one configuration (England has about 25,000).
MAX_SCHOOLS = 30_000
#: Most staff (teachers plus senior leaders) in one school.
MAX_STAFF_PER_SCHOOL = 1_000
#: Longest horizon, in school years.
MAX_YEARS = 30
#: Most pupils taught by one teacher or senior leader.
MAX_PUPILS_PER_STAFF = 1_000
#: Most worker processes or seeds per batch.
MAX_WORKERS = 1_024
#: Most primaries and secondaries of a generated system (``system.*``; DfE 2024: ~16,800 and
#: ~3,400), and most staff a generated school may have or be drawn with.
MAX_PRIMARIES = 25_000
MAX_SECONDARIES = 5_000
MAX_SCHOOL_STAFF = 250


class Limit(NamedTuple):
    """One documented maximum: what it bounds, the keys it applies to, the bound, and why."""

    what: str
    keys: str
    bound: str
    why: str


#: Every documented maximum, in the order docs/ODD.md §8.2 lists them.
LIMITS: tuple[Limit, ...] = (
    Limit(
        "Seed value",
        "`seed`, `seed_start`, `--seed-start`",
        f"0 to 2**63-1 ({MAX_SEED:,})",
        "stored as a 64-bit signed integer",
    ),
    Limit(
        "Seeds per request",
        "`seeds` (per arm), `--seeds` (per sweep cell)",
        f"{MAX_SEEDS:,}",
        "time and memory of the tables",
    ),
    Limit(
        "Schools listed",
        "`schools.teachers` (its length)",
        f"{MAX_SCHOOLS:,}",
        "every school in England: about 25,000",
    ),
    Limit(
        "Staff per listed school",
        "`schools.teachers` + `schools.leaders`",
        f"{MAX_STAFF_PER_SCHOOL:,}",
        "larger than any school",
    ),
    Limit("Horizon", "`years`", f"{MAX_YEARS} school years", "run time"),
    Limit(
        "Pupils per member of staff",
        "`schools.pupils_per_teacher`, `schools.pupils_per_leader`",
        f"{MAX_PUPILS_PER_STAFF:,}",
        "larger than any school",
    ),
    Limit(
        "Workers and seeds per batch",
        "`executor.n_jobs`, `--n-jobs`; `executor.batch_size`, `--batch-size` (seeds)",
        f"{MAX_WORKERS:,} workers; {MAX_SEEDS:,} seeds",
        "processes of one machine",
    ),
    Limit(
        "Generated primaries",
        "`system.primaries`",
        f"{MAX_PRIMARIES:,}",
        "England has ~16,800",
    ),
    Limit(
        "Generated secondaries",
        "`system.secondaries`",
        f"{MAX_SECONDARIES:,}",
        "England has ~3,400",
    ),
    Limit(
        "Staff per generated school",
        "`system.primary_staff`, `system.secondary_staff` (means; drawn sizes are clipped)",
        f"{MAX_SCHOOL_STAFF}",
        "larger than any school",
    ),
    Limit(
        "Memory",
        "every request (see below)",
        "the machine's physical memory",
        "estimated before anything runs",
    ),
)

#: Estimated bytes per member of staff and per advice tie over a run (state, the weekly
#: temporaries of the numpy code, set-up), measured on a generated system of 450,000 staff; per
#: staff and week with ``record=slots`` (the per-slot history).
BYTES_PER_STAFF = 1_500
BYTES_PER_TIE = 120
BYTES_PER_SLOT_WEEK = 27
#: Expected advice ties per member of staff, by phase (measured on the generated networks).
TIES_PER_STAFF = {"primary": 7.5, "secondary": 13.0}
# Bytes per row of the tables a comparison holds in memory while aggregating (with copies).
_TIMESERIES_ROW_BYTES = 600
_SCHOOL_ROW_BYTES = 200
_WEEKS_PER_YEAR = 39


def limits_table() -> str:
    """The Markdown table of :data:`LIMITS` (docs/ODD.md §8.2 holds exactly this)."""
    rows = ["| What | Keys | Maximum | Why |", "|---|---|---:|---|"]
    rows += [f"| {x.what} | {x.keys} | {x.bound} | {x.why} |" for x in LIMITS]
    return "\n".join(rows) + "\n"


def check_seed(key: str, value: Any) -> int:
    """Check one seed value: a whole number in ``[0, MAX_SEED]``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{key} must be a whole number (got {value!r})")
    if not 0 <= value <= MAX_SEED:
        raise ConfigError(f"{key} = {value} is out of range; allowed: 0 to 2**63-1 ({MAX_SEED})")
    return value


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else [value]


def check_model_size(config: Any) -> None:
    """Refuse a configuration beyond the documented maxima (schools, staff, years, pupils)."""
    check_seed("seed", config.seed)
    if config.years > MAX_YEARS:
        raise ConfigError(f"years = {config.years} is out of range; allowed: 1 to {MAX_YEARS}")
    s = config.schools
    teachers, leaders = _as_list(s.teachers), _as_list(s.leaders)
    if len(teachers) > MAX_SCHOOLS:
        raise ConfigError(
            f"schools.teachers lists {len(teachers)} schools; allowed: at most {MAX_SCHOOLS}"
        )
    for key, values in (("schools.teachers", teachers), ("schools.leaders", leaders)):
        for i, v in enumerate(values):
            if v > MAX_STAFF_PER_SCHOOL:
                raise ConfigError(
                    f"{key}[{i}] = {v} is out of range; allowed: at most "
                    f"{MAX_STAFF_PER_SCHOOL} staff per school"
                )
    n = max(len(teachers), len(leaders))
    for i in range(n):
        staff = teachers[i % len(teachers)] + leaders[i % len(leaders)]
        if staff > MAX_STAFF_PER_SCHOOL:
            raise ConfigError(
                f"schools.teachers[{i}] + schools.leaders[{i}] = {staff} staff; allowed: at most "
                f"{MAX_STAFF_PER_SCHOOL} per school"
            )
    for key in ("pupils_per_teacher", "pupils_per_leader"):
        value = getattr(s, key)
        if value > MAX_PUPILS_PER_STAFF:
            raise ConfigError(
                f"schools.{key} = {value:g} is out of range; allowed: 0 to {MAX_PUPILS_PER_STAFF}"
            )


def _schools_staff_ties(config: Any) -> tuple[int, float, float]:
    """Schools, staff and expected advice ties of a configuration (listed or generated)."""
    sy = getattr(config, "system", None)
    if sy is not None and sy.primaries + sy.secondaries > 0:
        staff_p, staff_s = sy.primaries * sy.primary_staff, sy.secondaries * sy.secondary_staff
        ties = staff_p * TIES_PER_STAFF["primary"] + staff_s * TIES_PER_STAFF["secondary"]
        return sy.primaries + sy.secondaries, staff_p + staff_s, ties
    s = config.schools
    teachers, leaders = _as_list(s.teachers), _as_list(s.leaders)
    phases = _as_list(s.phase)
    n = max(len(teachers), len(leaders))
    staff = ties = 0.0
    for i in range(n):
        size = teachers[i % len(teachers)] + leaders[i % len(leaders)]
        phase = phases[i % len(phases)]
        staff += size
        per_staff = TIES_PER_STAFF.get(phase) if isinstance(phase, str) else None
        ties += size * (per_staff or max(TIES_PER_STAFF.values()))
    return n, staff, ties


def run_bytes(config: Any) -> int:
    """Estimated peak memory of one run (bytes), for schools listed one by one or generated."""
    weeks = config.years * _WEEKS_PER_YEAR
    _, staff, ties = _schools_staff_ties(config)
    per_staff = BYTES_PER_STAFF + (
        BYTES_PER_SLOT_WEEK * weeks if getattr(config, "record", "schools") == "slots" else 0
    )
    return int(staff * per_staff + ties * BYTES_PER_TIE)


def tables_bytes(config: Any, runs: int) -> int:
    """Estimated memory of the run, week and school-week tables of ``runs`` runs (bytes)."""
    weeks = config.years * _WEEKS_PER_YEAR
    schools, _, _ = _schools_staff_ties(config)
    return int(runs * weeks * (_TIMESERIES_ROW_BYTES + schools * _SCHOOL_ROW_BYTES))


def request_bytes(configs: Iterable[Any], runs: int = 0, workers: int = 1) -> int:
    """Estimated peak memory of a request (bytes).

    ``workers`` runs of the largest configuration at once (configurations run one after the
    other), plus the tables of ``runs`` runs of every configuration, held while aggregating.
    """
    configs = list(configs)
    if not configs:
        return 0
    running = workers * max(run_bytes(c) for c in configs)
    return running + sum(tables_bytes(c, runs) for c in configs)


@functools.cache
def machine_memory_bytes() -> int:
    """The machine's physical memory (bytes; asked once per process)."""
    import psutil

    return int(psutil.virtual_memory().total)


def check_memory(
    configs: Iterable[Any], runs: int = 0, workers: int = 1, what: str = "the run"
) -> None:
    """Refuse a request whose estimated memory exceeds the machine's physical memory.

    Args:
        configs: The request's configurations (one for a single run; one per arm or cell).
        runs: Runs per configuration whose tables are held (0: a single run writes its own).
        workers: Runs at once.
        what: How the refusal names the request.

    Raises:
        ConfigError: One line with both figures and the keys that reduce the need.

    """
    configs = list(configs)
    need, have = request_bytes(configs, runs, workers), machine_memory_bytes()
    if need <= have:
        return
    generated = any(
        getattr(c, "system", None) and c.system.primaries + c.system.secondaries > 0
        for c in configs
    )
    schools = "system.primaries, system.secondaries" if generated else "schools.teachers"
    fewer = [f"fewer schools or staff ({schools})", "fewer years"]
    if any(getattr(c, "record", "schools") == "slots" for c in configs):
        fewer.append("record=schools")
    if runs:
        fewer.append("fewer seeds or workers (or split the seeds with seed_start)")
    raise ConfigError(
        f"{what} needs about {_gib(need)} of memory, more than this machine's {_gib(have)}; "
        f"use {', '.join(fewer)}"
    )


def _gib(n: int) -> str:
    return f"{n / 2**30:,.1f} GiB"
