"""Documented maxima for every count and size, and the memory a request will need.

A request beyond these bounds is refused with a one-line :class:`~sim.config.ConfigError` before
anything is written (see README, "Limits"). The maxima are generous for the model's purpose (the
largest realistic network is every school in England: about 25,000 schools) but keep a typing
slip such as ``schools.teachers=1e12`` or ``years=1000`` from running for hours or exhausting the
machine's memory. Memory is estimated from the arrays the model and the tables hold and compared
with the machine's physical memory.
"""

from __future__ import annotations

from typing import Any

from sim.config import ConfigError

__all__ = [
    "MAX_SEED",
    "MAX_SEEDS",
    "MAX_SCHOOLS",
    "MAX_STAFF_PER_SCHOOL",
    "MAX_YEARS",
    "MAX_PUPILS_PER_STAFF",
    "MAX_WORKERS",
    "check_seed",
    "check_model_size",
    "run_memory_bytes",
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

_WEEKS_PER_YEAR = 39
# Bytes per staff slot per recorded week (stage, flags and three float series, for the run and
# its no-PLN counterfactual) and per staff slot for state, ties and a term of random draws.
_RECORD_BYTES_PER_SLOT_WEEK = 64
_STATE_BYTES_PER_SLOT = 8_192
# Bytes per row of the tables a comparison holds in memory while aggregating (with copies).
_TIMESERIES_ROW_BYTES = 600
_SCHOOL_ROW_BYTES = 200


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


def _staff(config: Any) -> int:
    teachers, leaders = _as_list(config.schools.teachers), _as_list(config.schools.leaders)
    n = max(len(teachers), len(leaders))
    return sum(teachers[i % len(teachers)] + leaders[i % len(leaders)] for i in range(n))


def run_memory_bytes(config: Any) -> int:
    """Estimated peak memory of one run (the run, its counterfactual and their records)."""
    weeks = config.years * _WEEKS_PER_YEAR
    staff = _staff(config)
    return staff * (weeks * _RECORD_BYTES_PER_SLOT_WEEK + _STATE_BYTES_PER_SLOT)


def tables_memory_bytes(config: Any, runs: int) -> int:
    """Estimated memory of the run, week and school-week tables of ``runs`` runs."""
    weeks = config.years * _WEEKS_PER_YEAR
    schools = len(_as_list(config.schools.teachers))
    return runs * weeks * (_TIMESERIES_ROW_BYTES + schools * _SCHOOL_ROW_BYTES)


def machine_memory_bytes() -> int:
    """The machine's physical memory."""
    import psutil

    return int(psutil.virtual_memory().total)


def check_memory(needed: int, what: str) -> None:
    """Refuse a request whose estimated memory exceeds the machine's physical memory."""
    total = machine_memory_bytes()
    if needed > total:
        raise ConfigError(
            f"{what} needs about {_gib(needed)} of memory; this machine has {_gib(total)} "
            "(use fewer seeds, schools or years, or split the work with seed_start)"
        )


def _gib(n: int) -> str:
    return f"{n / 2**30:,.1f} GiB"
