"""How parameters are declared: :func:`param`, configuration sections and value checks.

Every parameter is declared once, in the module whose mechanism it drives, with :func:`param`:
its default, allowed range or choices, unit and source tag. A module's parameters form a
configuration *section* (a dataclass deriving from :class:`Section`); :mod:`sim.registry`
assembles the sections into :class:`sim.config.Config`. This module imports nothing else of the
package, so any module can declare parameters without an import cycle.

Source tags: ``[seed NNN]`` a text in the project's seed collection (see docs/ODD.md),
``[lit]`` the literature (named), ``[assume]`` an assumption, exposed for sensitivity analysis.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import field
from typing import Any

__all__ = [
    "ConfigError",
    "Section",
    "param",
    "check_value",
    "scalar_type",
    "per_school",
    "drawn_later",
    "SECTION_KEYS",
]


class ConfigError(ValueError):
    """An invalid configuration; the message is one line naming the key and what is allowed."""


class Section:
    """Base of every configuration section: assigning a key it does not declare is an error.

    ``cfg.leadership.involvment = 0.5`` (a typo) raises :class:`ConfigError` naming the key and
    the allowed keys, instead of adding an attribute no process reads.
    """

    def __setattr__(self, name: str, value: Any) -> None:
        fields = self.__dataclass_fields__  # type: ignore[attr-defined]
        if name not in fields:
            prefix = SECTION_KEYS.get(type(self), "")
            allowed = ", ".join(prefix + n for n in fields)
            raise ConfigError(f"unknown key '{prefix}{name}'; allowed keys here: {allowed}")
        object.__setattr__(self, name, value)


#: The key prefix of each section class ("leadership." for LeadershipConfig), filled in by sim.config.
SECTION_KEYS: dict[type, str] = {}


def param(
    default: Any,
    *,
    source: str,
    help: str,
    unit: str = "",
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    choices: tuple[Any, ...] | None = None,
    per_school: bool = False,
    plausible: tuple[float, float] | None = None,
) -> Any:
    """Declare a parameter: its default plus the metadata used for validation and docs.

    Args:
        default: Default value (lists are copied for each instance).
        source: Source tag, e.g. ``"[seed 000]"``, ``"[lit: Valente 1996]"``, ``"[assume]"``.
        help: One-line meaning of the parameter.
        unit: Unit, if the value has one.
        low: Smallest allowed value (inclusive unless ``low_open``).
        high: Largest allowed value (inclusive).
        low_open: Whether ``low`` itself is excluded.
        choices: Allowed values, for categorical parameters.
        per_school: Whether the parameter may be given per school (scalar or one value per school).
        plausible: ``(lo, hi)``, a documented plausible range inside the allowed one, used by
            sensitivity analysis, calibration and docs/PARAMETERS.md instead of the allowed range.

    """
    if plausible is not None:
        lo, hi = plausible
        if not lo < hi or (low is not None and lo < low) or (high is not None and hi > high):
            raise ValueError(
                f"plausible range {plausible} must be increasing and inside the allowed one"
            )
    meta = {
        "source": source,
        "help": help,
        "unit": unit,
        "low": low,
        "high": high,
        "low_open": low_open,
        "choices": choices,
        "per_school": per_school,
        "plausible": plausible,
    }
    if isinstance(default, list):
        return field(default_factory=lambda d=tuple(default): list(d), metadata=meta)
    return field(default=default, metadata=meta)


def per_school(key: str, value: Any, n_schools: int | None) -> list[Any]:
    """Normalise a per-school value to a list of length ``n_schools``."""
    if isinstance(value, list | tuple):
        values = list(value)
        if n_schools is None:  # schools.teachers itself defines the number of schools
            if not values:
                raise ConfigError(f"{key} must list at least one school")
            return values
        if len(values) == 1:
            return values * n_schools
        if len(values) != n_schools:
            raise ConfigError(
                f"{key} has {len(values)} values; give one value or one per school ({n_schools})"
            )
        return values
    return [value] * (n_schools or 1)


def drawn_later(*values: Any) -> bool:
    """Whether any of these per-school values is a distribution, drawn once the run starts.

    Rules between per-school values are checked once the schools are drawn
    (:func:`sim.heterogeneity.draw_schools`).
    """
    return any(isinstance(v, Mapping) for v in values)


def check_value(key: str, value: Any, f: dataclasses.Field) -> None:
    """Check one scalar against the field's declared type, range and choices."""
    meta = f.metadata
    expected = scalar_type(f)
    if expected is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{key} must be true or false (got {value!r})")
    elif expected is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{key} must be a whole number (got {value!r})")
    elif expected is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{key} must be a number (got {value!r})")
        if not math.isfinite(value):
            raise ConfigError(f"{key} must be finite (got {value!r})")
    elif expected is str and not isinstance(value, str):
        raise ConfigError(f"{key} must be text (got {value!r})")
    choices = meta.get("choices")
    if choices is not None and value not in choices:
        raise ConfigError(f"{key} = {value!r} is not allowed; choose one of: {', '.join(choices)}")
    low, high, low_open = meta.get("low"), meta.get("high"), meta.get("low_open")
    if low is not None and (value < low or (low_open and value == low)):
        bound = f"> {low:g}" if low_open else f">= {low:g}"
        rng = f"{bound}" + (f" and <= {high:g}" if high is not None else "")
        raise ConfigError(f"{key} = {value!r} is out of range; allowed: {rng}")
    if high is not None and value > high:
        rng = (f">= {low:g} and " if low is not None else "") + f"<= {high:g}"
        raise ConfigError(f"{key} = {value!r} is out of range; allowed: {rng}")


def scalar_type(f: dataclasses.Field) -> type | None:
    """The scalar type a field holds (for per-school and list fields, the element type)."""
    default = f.default
    if default is dataclasses.MISSING and f.default_factory is not dataclasses.MISSING:
        default = f.default_factory()
    if isinstance(default, list):
        default = default[0] if default else None
    if isinstance(default, bool):
        return bool
    if isinstance(default, int):
        return int
    if isinstance(default, float):
        return float
    if isinstance(default, str):
        return str
    return None
