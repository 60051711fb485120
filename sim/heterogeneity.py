"""Schools that differ: per-school values drawn from distributions.

A per-school parameter (``per_school=True`` in :mod:`sim.config`) takes one value for every
school, a list with one value per school, or a *distribution*: a mapping naming the distribution
and its parameters, e.g. in a scenario file::

    schools:
      trust_climate: {distribution: beta, mean: 0.6, sd: 0.12}
      teachers: {distribution: normal, mean: 9, sd: 2}
      phase: {distribution: choice, values: [primary, secondary], weights: [0.8, 0.2]}
    leadership:
      governors_engaged: {distribution: bernoulli, p: 0.4}

Each school's value is drawn once, at set-up, from the set-up stream ``schools:<key>`` (one
uniform per school, turned into a value by the inverse CDF), so the draws depend only on the run
seed and the key: two arms of an experiment that share a seed get the same schools, and changing
one distribution changes no other draw (common random numbers, MODEL.md §6).

Distributions (values outside the parameter's allowed range are clipped to it; whole-number
parameters are rounded):

* ``beta``: ``mean`` in (0, 1) and ``sd`` with ``0 <= sd < sqrt(mean (1 - mean))``;
* ``normal``: ``mean`` and ``sd >= 0``;
* ``uniform``: ``low <= high``;
* ``choice``: ``values`` (a list of allowed values) and optional ``weights`` (non-negative, one
  per value, summing to 1);
* ``bernoulli``: ``p`` in [0, 1] (true/false parameters).
"""

from __future__ import annotations

import copy
import dataclasses
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import special

from sim.params import ConfigError, check_value, scalar_type

if TYPE_CHECKING:
    from sim.config import Config

__all__ = [
    "DISTRIBUTIONS",
    "check_distribution",
    "is_distribution",
    "draw_schools",
    "recentre",
]

#: Allowed distributions and their parameters (required, optional).
DISTRIBUTIONS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "beta": (("mean", "sd"), ()),
    "normal": (("mean", "sd"), ()),
    "uniform": (("low", "high"), ()),
    "choice": (("values",), ("weights",)),
    "bernoulli": (("p",), ()),
}


def is_distribution(value: Any) -> bool:
    """Whether a per-school value is a distribution (a mapping) rather than values."""
    return isinstance(value, Mapping)


def _number(key: str, spec: Mapping, name: str) -> float:
    v = spec[name]
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
        raise ConfigError(f"{key}.{name} must be a finite number (got {v!r})")
    return float(v)


def check_distribution(key: str, spec: Mapping, f: dataclasses.Field) -> None:
    """Check a distribution's name and parameters; raise a one-line :class:`ConfigError`.

    Args:
        key: The parameter's dotted key (for the message).
        spec: The mapping given for it.
        f: The parameter's field (its type, range and choices).

    """
    kind, meta = scalar_type(f), f.metadata
    name = spec.get("distribution")
    if name not in DISTRIBUTIONS:
        raise ConfigError(
            f"{key}.distribution = {name!r} is not allowed; choose one of: "
            + ", ".join(DISTRIBUTIONS)
        )
    required, optional = DISTRIBUTIONS[name]
    extra = set(spec) - {"distribution", *required, *optional}
    if extra:
        raise ConfigError(
            f"{key}: unknown key {sorted(extra)[0]!r} for a {name} distribution; allowed: "
            + ", ".join((*required, *optional))
        )
    missing = [p for p in required if p not in spec]
    if missing:
        raise ConfigError(f"{key}: a {name} distribution needs {', '.join(required)}")
    numeric = kind in (int, float)
    if name in ("beta", "normal", "uniform") and not numeric:
        raise ConfigError(f"{key} is not a number: use a choice or bernoulli distribution")
    if name == "bernoulli" and kind is not bool:
        raise ConfigError(f"{key} is not true/false: a bernoulli distribution is not allowed")
    if name in ("beta", "normal"):
        mean, sd = _number(key, spec, "mean"), _number(key, spec, "sd")
        if sd < 0:
            raise ConfigError(f"{key}.sd must be >= 0 (got {sd:g})")
        if name == "beta":
            if not 0 < mean < 1:
                raise ConfigError(f"{key}.mean must be in (0, 1) for a beta distribution")
            if sd**2 >= mean * (1 - mean):
                raise ConfigError(
                    f"{key}.sd must be below sqrt(mean*(1-mean)) = "
                    f"{math.sqrt(mean * (1 - mean)):.4f} for a beta distribution (got {sd:g})"
                )
            low, high = meta.get("low"), meta.get("high")
            if (low is not None and low > 0) or (high is not None and high < 1):
                raise ConfigError(f"{key} is not a share in [0, 1]: use normal or uniform")
    elif name == "uniform":
        low, high = _number(key, spec, "low"), _number(key, spec, "high")
        if low > high:
            raise ConfigError(f"{key}: uniform low must not exceed high ({low:g} > {high:g})")
    elif name == "bernoulli":
        p = _number(key, spec, "p")
        if not 0 <= p <= 1:
            raise ConfigError(f"{key}.p must be in [0, 1] (got {p:g})")
    elif name == "choice":
        values = spec["values"]
        if not isinstance(values, list | tuple) or not values:
            raise ConfigError(f"{key}.values must be a non-empty list")
        for v in values:
            check_value(key, v, f)
        weights = spec.get("weights")
        if weights is not None:
            if not isinstance(weights, list | tuple) or len(weights) != len(values):
                raise ConfigError(f"{key}.weights must give one weight per value")
            w = [_number(key, {"weights": x}, "weights") for x in weights]
            if min(w) < 0 or not math.isclose(sum(w), 1.0, abs_tol=1e-9):
                raise ConfigError(f"{key}.weights must be non-negative and sum to 1")


def recentre(spec: Mapping, value: Any, f: dataclasses.Field) -> Any:
    """The distribution ``spec`` moved so that its mean is ``value`` (its spread kept).

    What a design point of an exploration (sensitivity, calibration, discovery) does to a
    parameter whose schools are drawn: it sets the network's *mean* and keeps the differences
    between schools, rather than giving every school the same value.

    * ``beta``: ``mean`` becomes ``value``; ``sd`` is kept, or shrunk to 95% of its largest
      allowed value ``sqrt(mean (1 - mean))`` when the new mean does not allow it; a ``value``
      of 0 or 1 (the limit where a beta has no spread) gives every school that value;
    * ``normal``: ``mean`` becomes ``value``;
    * ``uniform``: shifted by ``value - (low + high) / 2``, then cut to the allowed range;
    * ``bernoulli``: ``p`` becomes ``value``;
    * ``choice`` of numbers: every value shifted by ``value`` minus the weighted mean, then cut
      to the allowed range; a choice of categories, or any other value: ``value`` itself (every
      school the same).

    Returns a new distribution mapping, or ``value`` where every school takes that value.
    """
    name = spec.get("distribution")
    meta = f.metadata
    lo, hi = meta.get("low"), meta.get("high")

    def cut(x: float) -> float:
        x = max(float(x), float(lo)) if lo is not None else float(x)
        x = min(x, float(hi)) if hi is not None else x
        return round(x, 12)  # no float noise in what is recorded

    numeric = isinstance(value, int | float) and not isinstance(value, bool)
    out = dict(spec)
    if name == "beta" and numeric:
        m = float(value)
        if not 0 < m < 1:
            return value
        out["mean"] = m
        out["sd"] = min(float(spec["sd"]), 0.95 * math.sqrt(m * (1 - m)))
    elif name == "normal" and numeric:
        out["mean"] = float(value)
    elif name == "uniform" and numeric:
        shift = float(value) - (float(spec["low"]) + float(spec["high"])) / 2
        out["low"], out["high"] = cut(float(spec["low"]) + shift), cut(float(spec["high"]) + shift)
    elif name == "bernoulli" and isinstance(value, int | float):
        out["p"] = min(max(float(value), 0.0), 1.0)
    elif (
        name == "choice"
        and numeric
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in spec["values"])
    ):
        values = np.asarray(spec["values"], float)
        w = np.asarray(spec.get("weights") or [1 / len(values)] * len(values), float)
        shifted = [cut(v + float(value) - float(w @ values)) for v in values]
        kind = scalar_type(f)
        out["values"] = [int(round(v)) for v in shifted] if kind is int else shifted
    else:
        return value
    return out


def _quantiles(spec: Mapping, u: np.ndarray, scalar_type: type | None) -> list[Any]:
    """Values at the uniforms ``u`` (inverse CDF of the distribution)."""
    name = spec["distribution"]
    if name == "beta":
        m, sd = float(spec["mean"]), float(spec["sd"])
        if sd == 0:
            x = np.full(len(u), m)
        else:
            kappa = m * (1 - m) / sd**2 - 1
            x = special.betaincinv(m * kappa, (1 - m) * kappa, u)
    elif name == "normal":
        x = float(spec["mean"]) + float(spec["sd"]) * special.ndtri(u)
    elif name == "uniform":
        x = float(spec["low"]) + (float(spec["high"]) - float(spec["low"])) * u
    elif name == "bernoulli":
        return [bool(v) for v in u < float(spec["p"])]
    else:  # choice
        values = list(spec["values"])
        w = np.asarray(spec.get("weights") or [1 / len(values)] * len(values), float)
        idx = np.minimum(np.searchsorted(np.cumsum(w), u, side="right"), len(values) - 1)
        return [values[i] for i in idx]
    if scalar_type is int:
        return [int(v) for v in np.rint(x)]
    return [float(v) for v in x]


def draw_schools(config: Config, *, copy_config: bool = True) -> Config:
    """A validated configuration with every distribution replaced by drawn values.

    Draws come from the set-up streams ``schools:<key>`` of the run seed (see the module
    docstring). Each drawn value is checked against its parameter's type and range, and the
    rules across parameters (e.g. more participants than staff) are checked again, as for values
    given by hand. Returns ``config`` itself when nothing is drawn; otherwise a copy, or
    ``config`` changed in place with ``copy_config=False``.
    """
    from sim.rng import Streams

    todo = [
        (section, f, prefix)
        for section, prefix in _sections(config)
        for f in dataclasses.fields(section)
        if f.metadata.get("per_school") and is_distribution(getattr(section, f.name))
    ]
    if not todo:
        return config
    if copy_config:
        config = copy.deepcopy(config)
    streams = Streams(config.seed)
    n = config.n_schools
    for _, f, prefix in todo:
        key = prefix + f.name
        section_now = _section_of(config, prefix)
        spec = getattr(section_now, f.name)
        u = streams.setup(f"schools:{key}").random(n)
        kind = scalar_type(f)
        values = _quantiles(spec, u, kind)
        low, high = f.metadata.get("low"), f.metadata.get("high")
        if kind in (int, float):
            if low is not None:
                values = [max(v, type(v)(low)) for v in values]
            if high is not None:
                values = [min(v, type(v)(high)) for v in values]
        for v in values:
            check_value(key, v, f)
        setattr(section_now, f.name, values)
    config.check_rules()
    return config


def _sections(config: Config):
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        if dataclasses.is_dataclass(value):
            yield value, f.name + "."


def _section_of(config: Config, prefix: str):
    return getattr(config, prefix.rstrip("."))
