"""Calibration to evidence: approximate Bayesian computation (ABC-SMC, pyabc).

    python -m experiments.calibrate [key=value ...]

Fits ``parameters`` (default: the parameters that matter in the latest sensitivity analysis
``sensitivity``, at most ``max_parameters``) to quantitative ``targets``: bands from the
literature, each with its source (``configs/calibrate.yaml``; docs/ODD.md lists them). Per-school
parameters are left to the scenarios; ``arm_parameters`` adds parameters fitted for one arm only
(``key@arm``: an assumption of that arm's scenario). Priors are uniform over each parameter's
plausible range. A parameter set's simulated value of a target is its mean over ``seeds`` common
seeds; its distance is the sum over targets of how far that value lies outside the target's band,
in units of the band's width, plus, for a target with a measured value (``contains``), how far it
lies from that value. ABC-SMC (pyabc) lowers the
tolerance population by population; a tolerance of zero means every accepted parameter set puts
every target inside its band. Particles are evaluated through the project's executor (local
processes or a Dask cluster: pyabc's mapping sampler over the executor's ``map``).

A second stage (``filter``) checks patterns that are paired differences of a few points (4 and
7), beyond what a few seeds per parameter set resolve, on draws from the posterior, as the
validation checks them (:class:`PatternChecker`); the draws where every pattern holds are the
filtered posterior.

Writes ``results/calibration/<name>/``: ``posterior.csv`` (the accepted parameter sets and their
weights: the posterior), ``parameters.csv`` (each parameter's posterior median and 95% interval),
``targets.csv`` (each target's fitted value, the posterior predictive median, with its 95%
interval, the band and its source), ``posterior.png``, ``targets.png``, ``report.md``,
``summary.json``, ``meta.json`` and ``abc.db`` (pyabc's history); with the second stage,
``filter.csv`` (each checked set's verdicts and statistics), ``posterior_filtered.csv`` and
``parameters_filtered.csv`` (when any draw holds every pattern) and ``filter/`` (one file per
checked set). Rerunning the same command resumes from the last finished population and from the
sets already checked. Bad settings (an unknown parameter, an empty or
inverted range, a target without a source, too small a population) and an empty posterior: one
line, exit status 2.

``python -m experiments.compare uncertainty=posterior draws=50`` reruns a comparison over posterior
draws (:mod:`experiments.uncertainty`).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from experiments.exploration import (
    ROOT,
    ExecutorSettings,
    Space,
    check_executor,
    check_name,
    check_resume,
    cli,
    compose_settings,
    extra_outcomes,
    output_dir,
    provenance_record,
)
from sim.config import Config, ConfigError
from sim.fileio import atomic_path, save_figure, write_json_atomic, write_text_atomic
from sim.outcome_registry import counted

__all__ = [
    "CalibrationSettings",
    "TargetSpec",
    "build_settings",
    "run_calibration",
    "load_posterior",
    "posterior_draws",
    "shared_keys",
    "main",
]


@dataclass
class TargetSpec:
    """A target: an outcome of an arm, the band the evidence gives, and its source.

    ``outcome`` is a run outcome (see ``sim.simulate(...).summary``), a derived one
    (``schools_sustained_share``, ``schools_implementing_share``, ``participants_use_year_N``;
    see :func:`experiments.exploration.extra_outcomes`), or a ratio ``a/b`` of two of
    them (of their means over seeds).
    """

    arm: str = ""
    outcome: str = ""
    low: float | None = None
    high: float | None = None
    source: str = ""
    contains: float | None = None  # a value the fitted 95% interval should contain (checked)


@dataclass
class FilterSettings:
    """The second stage: paired patterns checked on draws from the posterior (docs/ODD.md §8.1).

    Patterns 4 and 7 are paired differences of a few points that the first stage's few seeds
    per parameter set cannot resolve; they are checked here as the validation checks them, on
    ``seeds`` paired seeds, on ``draws`` parameter sets drawn from the posterior by weight. The
    draws where every pattern holds are the filtered posterior.
    """

    patterns: list[str] = field(default_factory=list)  # names in experiments.patterns.PATTERNS
    draws: int = 0  # 0: no second stage
    seeds: int = 40
    seed: int = 0  # of the draws


@dataclass
class CalibrationSettings:
    """A calibration (``configs/calibrate.yaml``)."""

    name: str = "default"
    parameters: list[str] = field(default_factory=list)  # default: those that matter
    sensitivity: str = "results/sensitivity/default"  # where "those that matter" are read
    max_parameters: int = 6
    ranges: list[str] = field(default_factory=list)  # "key:low:high": narrower prior ranges
    arms: dict[str, list[str]] = field(default_factory=dict)  # may set scenario=...
    # parameters fitted for one arm only (an arm's own scenario assumptions): arm -> keys; they
    # appear as "key@arm", and their ranges are given as "key@arm:low:high"
    arm_parameters: dict[str, list[str]] = field(default_factory=dict)
    targets: dict[str, TargetSpec] = field(default_factory=dict)
    seeds: int = 3
    seed_start: int = 0
    population: int = 200
    max_populations: int = 8
    max_simulations: int = 4000
    filter: FilterSettings = field(default_factory=FilterSettings)
    executor: ExecutorSettings = field(default_factory=ExecutorSettings)
    out_dir: str = "results/calibration"


KEEP = ("parameters", "arm_parameters", "ranges", "arms", "targets", "seeds", "seed_start",
        "population")  # fmt: skip


def build_settings(overrides: list[str]) -> CalibrationSettings:
    """Compose and validate the settings (ConfigError, one line, if invalid)."""
    s = compose_settings("calibrate", "base_calibrate", CalibrationSettings, overrides)
    validate(s)
    return s


def parameters_of(s: CalibrationSettings) -> list[str]:
    """The parameters fitted: ``parameters``, else those that matter in ``sensitivity``."""
    if s.parameters:
        return list(s.parameters)
    folder = Path(s.sensitivity)
    folder = folder if folder.is_absolute() else ROOT / folder
    summary = folder / "summary.json"
    if not summary.exists():
        raise ConfigError(
            f"parameters is empty and sensitivity = {s.sensitivity!r} holds no analysis; run "
            "python -m experiments.sensitivity first or give parameters=[...]"
        )
    from experiments.exploration import per_school_keys

    # Per-school parameters (trust climate, school size, the levers) describe a scenario's
    # schools, and each scenario file sets them from its own sources: they are not fitted here.
    schools = per_school_keys()
    matter = [k for k in json.loads(summary.read_text()).get("matter", []) if k not in schools]
    if not matter:
        raise ConfigError(
            f"sensitivity = {s.sensitivity!r} found no parameter that matters (other than "
            "per-school ones, which scenarios set)"
        )
    return matter[: s.max_parameters]


def calibration_space(s: CalibrationSettings) -> Space:
    """The fitted parameters: shared ones, then each arm's own (``key@arm``), with ranges."""
    shared_ranges = [r for r in s.ranges if "@" not in str(r).split(":")[0]]
    space = Space.from_schema(parameters_of(s), shared_ranges)
    factors = list(space.factors)
    for arm, keys in s.arm_parameters.items():
        if arm not in s.arms:
            raise ConfigError(
                f"arm_parameters.{arm} is not an arm; choose one of: " + ", ".join(s.arms)
            )
        if not keys:
            raise ConfigError(f"arm_parameters.{arm} is empty: give keys or leave the arm out")
        suffix = f"@{arm}"
        ranges = [
            str(r).replace(suffix + ":", ":", 1)
            for r in s.ranges
            if str(r).split(":")[0].endswith(suffix)
        ]
        try:
            own = Space.from_schema(list(keys), ranges)
        except ConfigError as exc:
            raise ConfigError(f"arm_parameters.{arm}: {exc}") from None
        factors += [dataclasses.replace(f, key=f.key + suffix) for f in own.factors]
    known = {f.key for f in factors}
    for r in s.ranges:
        key = str(r).split(":")[0]
        if "@" in key and key not in known:
            raise ConfigError(
                f"ranges: {key!r} names no fitted parameter; give key@arm of arm_parameters"
            )
    return Space(factors)


def split_point(point: dict[str, Any], arm: str) -> dict[str, Any]:
    """The values a parameter set gives one arm: shared keys and that arm's own ``key@arm``."""
    out = {}
    for key, value in point.items():
        base, _, scope = key.partition("@")
        if not scope or scope == arm:
            out[base] = value
    return out


def validate(s: CalibrationSettings) -> None:
    """Check every setting before anything runs or is written."""
    check_name(s.name)
    check_executor(s.executor)
    if s.population < 10:
        raise ConfigError(f"population = {s.population} is too small for ABC-SMC; at least 10")
    if s.max_populations < 1 or s.max_simulations < s.population:
        raise ConfigError("max_populations must be >= 1 and max_simulations >= population")
    if s.seeds < 1 or s.seed_start < 0:
        raise ConfigError("seeds must be >= 1 and seed_start >= 0")
    check_filter(s.filter)
    calibration_space(s)
    if not s.targets:
        raise ConfigError("targets is empty: give at least one target with its source")
    for name, t in s.targets.items():
        if not t.source.strip():
            raise ConfigError(f"targets.{name}.source is empty: every target needs its source")
        if t.arm not in s.arms:
            raise ConfigError(
                f"targets.{name}.arm = {t.arm!r} is not an arm; choose one of: " + ", ".join(s.arms)
            )
        if t.low is None and t.high is None:
            raise ConfigError(f"targets.{name}: give low, high or both")
        if t.low is not None and t.high is not None and not t.low < t.high:
            raise ConfigError(f"targets.{name}: band [{t.low}, {t.high}] is empty or inverted")
        for part in t.outcome.split("/"):
            _check_outcome(f"targets.{name}.outcome", part)
    arm_configs(s)


def check_filter(f: FilterSettings) -> None:
    """The second stage's settings: known patterns, enough draws and seeds."""
    from experiments.patterns import PATTERNS

    names = [p.__name__ for p in PATTERNS]
    for name in f.patterns:
        if name not in names:
            raise ConfigError(
                f"filter.patterns: unknown pattern {name!r}; choose from: " + ", ".join(names)
            )
    if len(set(f.patterns)) != len(f.patterns):
        raise ConfigError("filter.patterns lists a pattern twice")
    if f.draws != 0 and f.draws < 2:
        raise ConfigError(f"filter.draws = {f.draws}: 0 (no second stage) or at least 2")
    if f.draws and not f.patterns:
        raise ConfigError("filter.draws > 0 but filter.patterns is empty: name the patterns")
    if f.seeds < 2:
        raise ConfigError(f"filter.seeds = {f.seeds} is too few for a paired interval; at least 2")


def _check_outcome(key: str, outcome: str) -> None:
    import sim

    known = set(sim.simulate(overrides=("years=1",)).summary) | {
        "schools_sustained_share",
        "schools_implementing_share",
    }
    if outcome in known or outcome.startswith(("participants_use_year_", "uptake_year_")):
        return
    if outcome.startswith("spread_year_"):
        return
    raise ConfigError(
        f"{key} = {outcome!r} is not an outcome; choose one of: "
        + ", ".join(sorted(known | {"participants_use_year_N"}))
    )


def arm_configs(s: CalibrationSettings) -> dict[str, Config]:
    """Each arm's configuration (an arm may choose its own scenario with ``scenario=``)."""
    from sim.compose import build_config

    configs = {}
    for arm, overrides in s.arms.items():
        own = any(o.startswith("scenario=") for o in overrides)
        try:
            configs[arm] = build_config(None if own else "new_forest", overrides=tuple(overrides))
        except ConfigError as exc:
            raise ConfigError(f"arms.{arm}: {exc}") from None
    return configs


# ---------------------------------------------------------------------------------------------
# The model pyabc sees: parameters -> the targets' simulated values
# ---------------------------------------------------------------------------------------------


def _safe(key: str) -> str:
    return key.replace("@", "__AT__").replace(".", "__")  # keys are lower case


def _unsafe(name: str) -> str:
    return name.replace("__AT__", "@").replace("__", ".")


@dataclass
class TargetModel:
    """Runs a parameter set on every arm and seed; returns each target's mean over seeds."""

    arms: dict[str, Config]
    targets: dict[str, TargetSpec]
    seeds: list[int]
    kinds: dict[str, str]  # parameter key -> float | int

    def __call__(self, params: dict[str, float]) -> dict[str, float]:
        """The model as pyabc calls it: parameter values (safe names) -> summary statistics."""
        import dataclasses

        import sim
        from experiments.exploration import apply_point

        logging.getLogger("MESA").setLevel(logging.WARNING)
        point = {}
        for name, value in params.items():
            key = _unsafe(name)
            point[key] = int(round(value)) if self.kinds.get(key) == "int" else float(value)
        needed: dict[str, set[str]] = {}
        for t in self.targets.values():
            needed.setdefault(t.arm, set()).update(t.outcome.split("/"))
        means: dict[str, dict[str, float]] = {}
        for arm, outcomes in needed.items():
            config = apply_point(self.arms[arm], split_point(point, arm))
            values: dict[str, list[float]] = {o: [] for o in outcomes}
            for seed in self.seeds:
                result = sim.simulate(config=dataclasses.replace(config, seed=int(seed)))
                summary = {**result.summary, **extra_outcomes(result)}
                lapsed = summary.get("schools_lapsed_share")
                summary["schools_sustained_share"] = None if lapsed is None else 1 - lapsed
                for o in outcomes:
                    v = summary.get(o)
                    values[o].append(np.nan if v is None else float(v))
            means[arm] = {o: float(np.nanmean(v)) if not np.isnan(v).all() else np.nan
                          for o, v in values.items()}  # fmt: skip
        out = {}
        for name, t in self.targets.items():
            parts = t.outcome.split("/")
            v = means[t.arm][parts[0]]
            if len(parts) == 2:
                d = means[t.arm][parts[1]]
                v = v / d if d and not np.isnan(d) else np.nan
            out[name] = v
        return out


@dataclass
class BandDistance:
    """Sum over targets of the distance outside each band, in units of the band's width.

    A target that names a value its interval should contain (``contains``: a trial's measured
    effect) also counts the distance from that value, in the same units: the measurement is the
    observation to fit and the band only what is plausible, so such a calibration ends at a
    tolerance above zero.
    """

    bands: dict[str, tuple[float | None, float | None]]
    points: dict[str, float] = field(default_factory=dict)

    def __call__(self, x: dict[str, float], x0: dict[str, float] | None = None) -> float:
        """The distance of simulated values ``x`` (``x0`` is unused: the data are bands)."""
        total = 0.0
        for name, (lo, hi) in self.bands.items():
            v = x[name]
            if v is None or np.isnan(v):
                total += 1.0  # undefined: as far as one band width
                continue
            width = (hi - lo) if lo is not None and hi is not None else 0.5
            below = (lo - v) if lo is not None and v < lo else 0.0
            above = (v - hi) if hi is not None and v > hi else 0.0
            total += (below + above) / width
            if name in self.points:
                total += abs(v - self.points[name]) / width
        return float(total)


def _mapper(executor):
    def map_(fn, items):
        results = dict(executor.map(fn, list(items)))
        return [results[i] for i in range(len(results))]

    return map_


def _pyabc():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pyabc
    logging.getLogger("ABC").setLevel(logging.WARNING)
    logging.getLogger("Sampler").setLevel(logging.WARNING)
    logging.getLogger("Epsilon").setLevel(logging.WARNING)
    logging.getLogger("History").setLevel(logging.WARNING)
    logging.getLogger("Distance").setLevel(logging.WARNING)
    logging.getLogger("Acceptor").setLevel(logging.WARNING)
    logging.getLogger("ABC.Sampler").setLevel(logging.WARNING)
    return pyabc


def fit(
    space: Space,
    model: Any,
    bands: dict[str, tuple[float | None, float | None]],
    db: Path,
    executor: Any,
    population: int,
    max_populations: int,
    max_simulations: int,
    progress: bool = True,
    points: dict[str, float] | None = None,
) -> Any:
    """Run (or continue) ABC-SMC; return pyabc's History (``points``: see BandDistance)."""
    pyabc = _pyabc()
    prior = pyabc.Distribution(
        **{_safe(f.key): pyabc.RV("uniform", f.low, f.high - f.low) for f in space.factors}
    )
    sampler = pyabc.sampler.MappingSampler(map_=_mapper(executor))
    sampler.show_progress = False
    abc = pyabc.ABCSMC(
        model,
        prior,
        BandDistance(bands, points or {}),
        population_size=population,
        sampler=sampler,
        eps=pyabc.QuantileEpsilon(alpha=0.5),
    )
    url = f"sqlite:///{db}"
    observed = {n: 0.0 for n in bands}
    if db.exists():
        history = abc.load(url, 1, observed)
        done = history.n_populations
        if done >= max_populations or _finished(history):
            return history
        remaining = max_populations - done
    else:
        abc.new(url, observed)
        remaining = max_populations
    if progress:
        print(
            f"ABC-SMC: up to {counted(remaining, 'more population', 'more populations')} "
            f"of {population}",
            file=sys.stderr,
        )
    return abc.run(
        minimum_epsilon=0.0,
        max_nr_populations=remaining,
        max_total_nr_simulations=max_simulations,
    )


def _finished(history: Any) -> bool:
    pops = history.get_all_populations()
    pops = pops[pops["t"] >= 0]
    return bool(len(pops)) and float(pops["epsilon"].iloc[-1]) <= 0.0


# ---------------------------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------------------------


def weighted_quantiles(values: np.ndarray, weights: np.ndarray, qs: list[float]) -> list[float]:
    """Quantiles of a weighted sample."""
    values = np.asarray(values, float)
    weights = np.asarray(weights, float)
    ok = ~np.isnan(values)
    values, weights = values[ok], weights[ok]
    if not len(values):
        return [float("nan")] * len(qs)
    order = np.argsort(values)
    values, weights = values[order], weights[order]
    cum = (np.cumsum(weights) - 0.5 * weights) / weights.sum()
    return [float(np.interp(q, cum, values)) for q in qs]


def summarise_posterior(history: Any, space: Space, targets: dict[str, TargetSpec]):
    """Posterior sample, parameter intervals and each target's fitted value with interval."""
    t = history.max_t
    if t is None or t < 0:
        raise ConfigError("the posterior is empty: no population finished; rerun to resume")
    frame, w = history.get_distribution(m=0, t=t)
    if frame.empty:
        raise ConfigError("the posterior is empty: no parameter set was accepted")
    w = np.asarray(w, float) / np.sum(w)
    frame = frame.rename(columns=_unsafe)[space.keys]
    posterior = frame.reset_index(drop=True).assign(weight=w)
    params = []
    for f in space.factors:
        lo, med, hi = weighted_quantiles(frame[f.key].to_numpy(), w, [0.025, 0.5, 0.975])
        params.append(
            {
                "parameter": f.key,
                "median": med,
                "low_95": lo,
                "high_95": hi,
                "prior_low": f.low,
                "prior_high": f.high,
            }  # fmt: skip
        )
    sw, stats = history.get_weighted_sum_stats(t=t)
    sw = np.asarray(sw, float) / np.sum(sw)
    rows = []
    for name, spec in targets.items():
        values = np.array([s[name] for s in stats], float)
        lo, med, hi = weighted_quantiles(values, sw, [0.025, 0.5, 0.975])
        inside = np.array(
            [
                (spec.low is None or v >= spec.low) and (spec.high is None or v <= spec.high)
                for v in values
            ]
        )
        rows.append(
            {
                "target": name,
                "arm": spec.arm,
                "outcome": spec.outcome,
                "band_low": spec.low,
                "band_high": spec.high,
                "fitted": med,
                "low_95": lo,
                "high_95": hi,
                "share_inside_band": float((sw * inside).sum()),
                "contains": spec.contains,
                "contains_ok": None if spec.contains is None else bool(lo <= spec.contains <= hi),
                "source": spec.source,
            }
        )
    pops = history.get_all_populations()
    pops = pops[pops["t"] >= 0][["t", "epsilon", "samples", "particles"]].reset_index(drop=True)
    return posterior, pd.DataFrame(params), pd.DataFrame(rows), pops


def posterior_figure(
    posterior: pd.DataFrame,
    params: pd.DataFrame,
    path: Path,
    filtered: pd.DataFrame | None = None,
) -> None:
    """Each parameter's weighted posterior histogram over its prior range.

    When the second stage kept any draw, the filtered posterior's is drawn over it.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = list(params["parameter"])
    cols = min(3, len(keys))
    rows = -(-len(keys) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.5 * cols, 3.2 * rows), squeeze=False)
    for ax, r in zip(axes.ravel(), params.itertuples(), strict=False):
        ax.hist(posterior[r.parameter], bins=20, range=(r.prior_low, r.prior_high),
                weights=posterior["weight"], color="#4477aa", alpha=0.8, density=True,
                label="posterior")  # fmt: skip
        if filtered is not None and not filtered.empty:
            ax.hist(filtered[r.parameter], bins=20, range=(r.prior_low, r.prior_high),
                    weights=filtered["weight"], color="#cc6677", lw=1.6, histtype="step",
                    density=True, label="patterns hold")  # fmt: skip
            ax.legend(fontsize=7, frameon=False)
        ax.axvline(r.median, color="black", lw=1)
        ax.axvspan(r.low_95, r.high_95, color="grey", alpha=0.2)
        ax.set_xlim(r.prior_low, r.prior_high)
        ax.set_title(r.parameter, fontsize=9)
        ax.set_yticks([])
    for ax in axes.ravel()[len(keys) :]:
        ax.axis("off")
    title = "Posterior (bars) over the prior range (axis); median and 95% interval"
    if filtered is not None and not filtered.empty:
        title += "\nline: the draws where the second stage's patterns hold"
    fig.suptitle(title)
    fig.tight_layout()
    save_figure(fig, path)


def targets_figure(targets: pd.DataFrame, path: Path) -> None:
    """Each target's band and the fitted value with its 95% interval."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(targets), 1, figsize=(7, 1.3 * len(targets) + 0.6),
                             squeeze=False)  # fmt: skip
    for ax, r in zip(axes.ravel(), targets.itertuples(), strict=True):
        lo = r.band_low if r.band_low is not None and not _nan(r.band_low) else None
        hi = r.band_high if r.band_high is not None and not _nan(r.band_high) else None
        vals = [v for v in (lo, hi, r.low_95, r.high_95) if v is not None and not _nan(v)]
        span = (max(vals) - min(vals)) or 1.0
        left, right = min(vals) - 0.2 * span, max(vals) + 0.2 * span
        ax.axvspan(lo if lo is not None else left, hi if hi is not None else right,
                   color="#ccddaa", label="target band")  # fmt: skip
        ax.errorbar([r.fitted], [0], xerr=[[r.fitted - r.low_95], [r.high_95 - r.fitted]],
                    fmt="o", color="black", capsize=4, label="fitted, 95% interval")  # fmt: skip
        if r.contains is not None and not _nan(r.contains):
            ax.axvline(r.contains, color="red", ls=":", label="should contain")
        ax.set_xlim(left, right)
        ax.set_yticks([])
        ax.set_title(f"{r.target}: {r.outcome} ({r.arm})", fontsize=9)
    axes.ravel()[0].legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    save_figure(fig, path)


def _nan(v: Any) -> bool:
    return isinstance(v, float) and math.isnan(v)


def _fmt_band(lo: Any, hi: Any) -> str:
    lo = None if lo is None or _nan(lo) else lo
    hi = None if hi is None or _nan(hi) else hi
    if lo is not None and hi is not None:
        return f"{lo:g} to {hi:g}"
    return f"≥ {lo:g}" if lo is not None else f"≤ {hi:g}"


def report(s, space, posterior, params, targets, pops, runs, seconds, meta) -> str:
    """The report: the posterior, each target's fitted value and what is left."""
    prov = meta["provenance"]
    eps = float(pops["epsilon"].iloc[-1])
    lines = [
        f"# Calibration: {s.name}",
        "",
        f"ABC-SMC (pyabc) over {counted(len(space.factors), 'parameter')}, uniform priors over their "
        f"plausible ranges; {counted(s.seeds, 'common seed')} per parameter set and arm; populations of "
        f"{s.population}. {counted(len(pops), 'population')}, {runs} parameter sets simulated "
        f"({runs * s.seeds * len(s.arms)} model runs at most), {seconds:.0f} s in this "
        f"invocation. Provenance: pln-sim {prov['pln_sim']}, git {str(prov['git_sha'])[:10]}"
        + (" (uncommitted changes)" if prov.get("git_dirty") else "")
        + f", {prov['created_utc']}.",
        "",
    ]
    measured = [n for n, t in s.targets.items() if t.contains is not None]
    if eps <= 0:
        lines.append(
            "The final tolerance is 0: every accepted parameter set puts every target's "
            "simulated value (its mean over the seeds) inside the target's band."
        )
    elif measured:
        lines.append(
            f"The final tolerance is {eps:.3f}. "
            + ", ".join(f"`{n}`" for n in measured)
            + " also counts the distance from the value measured (`contains`), in band widths, "
            "so the tolerance cannot reach 0; the share of accepted sets inside each band is in "
            "the table."
        )
    else:
        lines.append(
            f"The final tolerance is {eps:.3f} > 0: the run stopped (population or simulation "
            "budget) before every accepted parameter set met every band; the posterior below "
            "is the best approximation reached. Rerun with a larger max_populations or "
            "max_simulations to continue."
        )
    lines += ["", "## Targets: fitted values (posterior predictive median, 95% interval)", ""]
    lines += ["| target | arm | outcome | band | fitted | 95% interval | inside band | source |",
              "|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for r in targets.itertuples():
        extra = ""
        if r.contains is not None and not _nan(r.contains):
            extra = f" (contains {r.contains:g}: {'yes' if r.contains_ok else 'no'})"
        lines.append(
            f"| {r.target} | {r.arm} | {r.outcome} | {_fmt_band(r.band_low, r.band_high)} | "
            f"{r.fitted:.3f} | {r.low_95:.3f} to {r.high_95:.3f}{extra} | "
            f"{r.share_inside_band:.0%} | {r.source} |"
        )
    lines += ["", "![targets](targets.png)", "", "## Posterior", ""]
    lines += ["| parameter | prior range | median | 95% interval |", "|---|---|---|---|"]
    for r in params.itertuples():
        lines.append(
            f"| `{r.parameter}` | {r.prior_low:g} to {r.prior_high:g} | {r.median:.4g} | "
            f"{r.low_95:.4g} to {r.high_95:.4g} |"
        )
    own = [r.parameter for r in params.itertuples() if "@" in r.parameter]
    if own:
        lines += [
            "",
            "`key@arm` is fitted for that arm only: an assumption of the arm's own scenario ("
            + "; ".join(
                f"`{k}`: `{' '.join(s.arms[k.partition('@')[2]]) or 'scenario defaults'}`"
                for k in own
            )
            + "). A drawn (per-school) parameter is fitted as the mean of its distribution.",
        ]
    lines += [
        "",
        "![posterior](posterior.png)",
        "",
        "Populations (tolerance, simulations, particles):",
        "",
        "| population | tolerance | simulations | particles |",
        "|---|---|---|---|",
        *[f"| {r.t} | {r.epsilon:.4f} | {r.samples} | {r.particles} |" for r in pops.itertuples()],
        "",
        "The accepted parameter sets (`posterior.csv`) can be rerun with any experiment: "
        "`python -m experiments.compare uncertainty=posterior posterior=<this folder> draws=50` "
        "reruns a comparison over posterior draws and separates parameter uncertainty from "
        "seed noise. The model runs use fixed seeds, but pyabc draws its proposals from fresh "
        "random states: a calibration started again from scratch gives another sample of the "
        "same posterior, not the same parameter sets.",
        "",
    ]
    return "\n".join(lines)


def second_stage_summary(
    s: CalibrationSettings,
    table: pd.DataFrame,
    filtered: pd.DataFrame,
    fparams: pd.DataFrame,
    seconds: float,
) -> dict[str, Any]:
    """The second stage in numbers (for summary.json and the report)."""
    drawn = int(table["drawn"].sum())
    out = {
        "patterns": list(s.filter.patterns),
        "seeds": s.filter.seeds,
        "draws": drawn,
        "distinct_sets": len(table),
        "kept_draws": int(table.loc[table["kept"], "drawn"].sum()),
        "kept_sets": int(table["kept"].sum()),
        "seconds_this_invocation": seconds,
        "holds": {},
        "parameters": fparams.to_dict("records") if not filtered.empty else [],
    }
    for name in s.filter.patterns:
        run = table[name].notna()
        out["holds"][name] = {
            "checked_sets": int(run.sum()),
            "holding_sets": int((table[name] == True).sum()),  # noqa: E712 (object column)
        }
    return out


def second_stage_report(
    s: CalibrationSettings,
    params: pd.DataFrame,
    info: dict[str, Any],
    filtered: pd.DataFrame,
    fparams: pd.DataFrame,
    seconds: float,
) -> str:
    """The report's section on the second stage (``info``: :func:`second_stage_summary`)."""
    names = ", ".join(f"`{n}`" for n in s.filter.patterns)
    lines = [
        "",
        "## Second stage: paired patterns on posterior draws",
        "",
        f"{counted(info['draws'], 'draw')} from the posterior by weight (seed {s.filter.seed}), "
        f"{counted(info['distinct_sets'], 'distinct parameter set')}; at each, the patterns "
        f"{names} were checked in that order as the validation checks them, on "
        f"{counted(s.filter.seeds, 'paired seed')} (seeds 0-{s.filter.seeds - 1}); a pattern "
        f"that failed ended the check. {seconds:.0f} s in this invocation (sets checked "
        "before were read from `filter/`).",
        "",
        "| pattern | sets checked | sets where it holds |",
        "|---|---|---|",
        *[
            f"| `{n}` | {v['checked_sets']} | {v['holding_sets']} |"
            for n, v in info["holds"].items()
        ],
        "",
        f"Every pattern holds at {info['kept_sets']} of {info['distinct_sets']} sets "
        f"({info['kept_draws']:,} of {info['draws']:,} draws). Each set's verdicts and statistics "
        "are in `filter.csv`.",
        "",
    ]
    if filtered.empty:
        lines.append(
            "**No draw holds every pattern**: at this posterior the patterns and the targets of "
            "the first stage conflict, or the patterns need values the posterior rarely draws."
        )
        return "\n".join(lines) + "\n"
    first = params.set_index("parameter")
    lines += [
        "The filtered posterior (`posterior_filtered.csv`: the kept draws, weighted by how "
        "often each was drawn) is what `uncertainty=posterior` reruns draw from. Its medians "
        "summarise it; a small or scattered kept region's centre may lie outside it, so check "
        "the patterns at them (`python -m experiments.patterns key=value ...`) before using "
        "them as defaults:",
        "",
        "| parameter | posterior median (95%) | filtered median (95%) |",
        "|---|---|---|",
    ]
    for r in fparams.itertuples():
        a = first.loc[r.parameter]
        lines.append(
            f"| `{r.parameter}` | {a['median']:.4g} ({a['low_95']:.4g} to {a['high_95']:.4g}) | "
            f"{r.median:.4g} ({r.low_95:.4g} to {r.high_95:.4g}) |"
        )
    return "\n".join(lines) + "\n"


def run_calibration(
    s: CalibrationSettings,
    progress: bool = True,
    model: Any = None,
    argv: list[str] | None = None,
    checker: Any = None,
) -> Path:
    """Run (or resume) the calibration and its second stage; return the output folder.

    ``model`` replaces the simulator (a picklable callable: parameter values by safe name ->
    each target's value) and ``checker`` the second stage's patterns (a picklable callable:
    overrides -> each pattern's verdict, as :class:`PatternChecker`); the method's tests use them.
    """
    from experiments.executors import make_executor

    space = calibration_space(s)
    if model is None:
        model = TargetModel(
            arm_configs(s),
            dict(s.targets),
            list(range(s.seed_start, s.seed_start + s.seeds)),
            {f.key: f.kind for f in space.factors},
        )
    bands = {n: (t.low, t.high) for n, t in s.targets.items()}
    points = {n: t.contains for n, t in s.targets.items() if t.contains is not None}
    out = output_dir(s.out_dir, s.name)
    meta = provenance_record(s, "experiments.calibrate", argv or [])
    meta["settings"]["parameters"] = space.keys
    check_resume(out, meta["settings"], KEEP)
    executor = make_executor(s.executor.name, s.executor.address, s.executor.n_jobs)
    try:
        out.mkdir(parents=True, exist_ok=True)
        write_json_atomic(out / "meta.json", meta)
        t0 = time.perf_counter()
        history = fit(space, model, bands, out / "abc.db", executor, s.population,
                      s.max_populations, s.max_simulations, progress, points)  # fmt: skip
        posterior, params, targets, pops = summarise_posterior(history, space, dict(s.targets))
        seconds = time.perf_counter() - t0
        second = None
        if s.filter.draws:
            t1 = time.perf_counter()
            second = filter_posterior(s, posterior, out, executor, checker, progress)
            second = (*second, time.perf_counter() - t1)
    finally:
        executor.close()
    runs = int(pops["samples"].sum())
    filtered, info = None, None
    if second is None:
        for name in FILTER_FILES:  # from an earlier invocation; out/filter/ keeps its checks
            (out / name).unlink(missing_ok=True)
    else:
        table, filtered, fparams, filter_seconds = second
        info = second_stage_summary(s, table, filtered, fparams, filter_seconds)
        with atomic_path(out / "filter.csv") as tmp:
            table.to_csv(tmp, index=False)
        if filtered.empty:
            for name in FILTER_FILES[1:]:
                (out / name).unlink(missing_ok=True)
            print(
                "the second stage kept no draw: no checked parameter set holds every pattern "
                "(see filter.csv and report.md)",
                file=sys.stderr,
            )
        else:
            with atomic_path(out / "posterior_filtered.csv") as tmp:
                filtered.to_csv(tmp, index=False)
            with atomic_path(out / "parameters_filtered.csv") as tmp:
                fparams.to_csv(tmp, index=False)
    with atomic_path(out / "posterior.csv") as tmp:
        posterior.to_csv(tmp, index=False)
    with atomic_path(out / "parameters.csv") as tmp:
        params.to_csv(tmp, index=False)
    with atomic_path(out / "targets.csv") as tmp:
        targets.to_csv(tmp, index=False)
    with atomic_path(out / "populations.csv") as tmp:
        pops.to_csv(tmp, index=False)
    posterior_figure(posterior, params, out / "posterior.png", filtered)
    targets_figure(targets, out / "targets.png")
    text = report(s, space, posterior, params, targets, pops, runs, seconds, meta)
    if info is not None:
        text += second_stage_report(s, params, info, filtered, fparams, filter_seconds)
    write_text_atomic(out / "report.md", text)
    write_json_atomic(
        out / "summary.json",
        {
            "kind": "calibration",
            "name": s.name,
            "parameters": params.to_dict("records"),
            "targets": targets.to_dict("records"),
            "final_tolerance": float(pops["epsilon"].iloc[-1]),
            "parameter_sets_simulated": runs,
            "second_stage": info,
            "provenance": meta["provenance"],
        },
    )
    return out


# ---------------------------------------------------------------------------------------------
# The second stage: paired patterns on posterior draws
# ---------------------------------------------------------------------------------------------

FILTER_FILES = ("filter.csv", "posterior_filtered.csv", "parameters_filtered.csv")


@dataclass
class PatternChecker:
    """Runs the named patterns of :mod:`experiments.patterns` at a parameter set.

    The patterns run in the order given on the same paired seeds as the validation, the
    parameter set's overrides before every arm's own; a pattern that fails ends the check (the
    rest are not run). Returns each run pattern's verdict, checks and statistics.
    """

    patterns: list[str]
    seeds: list[int]

    def __call__(self, overrides: list[str]) -> dict[str, Any]:
        """Check one parameter set (its ``key=value`` overrides)."""
        from experiments.patterns import PATTERNS

        logging.getLogger("MESA").setLevel(logging.WARNING)
        by_name = {p.__name__: p for p in PATTERNS}
        out: dict[str, Any] = {}
        for name in self.patterns:
            r = by_name[name](self.seeds, overrides)
            out[name] = {
                "holds": bool(r.holds),
                "checks": {k: bool(v) for k, v in r.checks.items()},
                "statistics": {k: float(v) for k, v in r.statistics.items()},
            }
            if not r.holds:
                break
        return out


def _draw_indices(posterior: pd.DataFrame, draws: int, seed: int) -> np.ndarray:
    """Rows of the posterior drawn by weight, with replacement."""
    w = posterior["weight"].to_numpy(float)
    return np.random.default_rng(seed).choice(len(posterior), size=draws, p=w / w.sum())


def _draw_overrides(row: pd.Series, keys: list[str], ints: set[str]) -> list[str]:
    return [f"{k}={int(round(row[k]))}" if k in ints else f"{k}={float(row[k])!r}" for k in keys]


def _int_keys_of(keys: list[str]) -> set[str]:
    return {f.key for f in Space.from_schema(keys).factors if f.kind == "int"}


def filter_posterior(
    s: CalibrationSettings,
    posterior: pd.DataFrame,
    out: Path,
    executor: Any,
    checker: Any = None,
    progress: bool = True,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The second stage: check the patterns on draws from the posterior; keep those that hold.

    ``filter.draws`` parameter sets are drawn by weight; each distinct parameter set's check is
    written to ``out/filter/<hash>.json`` as it finishes (the hash of its overrides, the
    patterns and the seeds), so an interrupted stage
    resumes and a rerun with the same settings runs nothing again. Only the shared parameters
    are set (an arm's own ``key@arm`` describes that arm's scenario, which the patterns do not
    run). Returns the table of checked sets, the filtered posterior (the kept sets, weighted by
    how often they were drawn) and its parameters' medians and 95% intervals.
    """
    import hashlib

    from tqdm import tqdm

    f = s.filter
    seeds = list(range(f.seeds))
    checker = checker or PatternChecker(list(f.patterns), seeds)
    drawn = pd.Series(_draw_indices(posterior, f.draws, f.seed)).value_counts().sort_index()
    keys = shared_keys(posterior)
    ints = _int_keys_of(keys)
    cache = out / "filter"
    cache.mkdir(parents=True, exist_ok=True)
    overrides, files = {}, {}
    for i in drawn.index:
        o = _draw_overrides(posterior.iloc[int(i)], keys, ints)
        tag = json.dumps([o, list(f.patterns), seeds]).encode()
        overrides[i] = o
        files[i] = cache / f"{hashlib.sha256(tag).hexdigest()[:20]}.json"
    todo = [i for i in drawn.index if not files[i].exists()]
    bar = tqdm(total=len(todo), unit="set", desc="patterns", disable=not progress,
               file=sys.stderr)  # fmt: skip
    try:
        for j, result in executor.map(checker, [overrides[i] for i in todo]):
            write_json_atomic(files[todo[j]], result)
            bar.update(1)
    finally:
        bar.close()
    rows = []
    for i, n in drawn.items():
        result = json.loads(files[i].read_text())
        row = {"particle": int(i), "drawn": int(n)}
        row.update({c: posterior.iloc[int(i)][c] for c in posterior.columns if c != "weight"})
        for name in f.patterns:
            verdict = result.get(name)
            row[name] = None if verdict is None else verdict["holds"]
            for k, v in (verdict or {}).get("statistics", {}).items():
                row[f"{name}.{k}"] = v
        row["kept"] = all(row[name] is True for name in f.patterns)
        rows.append(row)
    table = pd.DataFrame(rows)
    params_cols = [c for c in posterior.columns if c != "weight"]
    kept = table[table["kept"]]
    filtered = kept[params_cols].reset_index(drop=True)
    filtered["weight"] = kept["drawn"].to_numpy(float) / max(kept["drawn"].sum(), 1)
    intervals = []
    for c in params_cols:
        lo, med, hi = weighted_quantiles(
            kept[c].to_numpy(), kept["drawn"].to_numpy(), [0.025, 0.5, 0.975]
        )
        intervals.append({"parameter": c, "median": med, "low_95": lo, "high_95": hi})
    return table, filtered, pd.DataFrame(intervals)


# ---------------------------------------------------------------------------------------------
# Posterior draws, for rerunning experiments
# ---------------------------------------------------------------------------------------------


def shared_keys(posterior: pd.DataFrame) -> list[str]:
    """The posterior's shared parameters (not one arm's own ``key@arm``)."""
    return [c for c in posterior.columns if c != "weight" and "@" not in c]


def load_posterior(folder: str | Path) -> pd.DataFrame:
    """The accepted parameter sets of a calibration folder (ConfigError if there are none).

    The filtered posterior when the second stage kept any draw, else the first stage's.
    """
    folder = Path(folder)
    folder = folder if folder.is_absolute() else ROOT / folder
    path = folder / "posterior_filtered.csv"
    path = path if path.exists() else folder / "posterior.csv"
    if not path.exists():
        raise ConfigError(f"posterior = {str(folder)!r} holds no posterior.csv; run a calibration")
    frame = pd.read_csv(path)
    if frame.empty or "weight" not in frame or frame["weight"].sum() <= 0:
        raise ConfigError(f"posterior = {str(folder)!r}: the posterior is empty")
    frame.attrs["file"] = path.name
    return frame


def posterior_draws(posterior: pd.DataFrame, draws: int, seed: int = 0) -> list[list[str]]:
    """``draws`` parameter sets drawn by weight, as model overrides (``key=value``).

    Only the shared parameters: an arm's own (``key@arm``, e.g. the assumed leadership of the
    trial's schools) describe that arm's scenario, not the experiment rerun over the draws.
    """
    if draws < 2:
        raise ConfigError(f"draws = {draws} is too few; at least 2 to measure their spread")
    keys = shared_keys(posterior)
    ints = _int_keys_of(keys)
    return [
        _draw_overrides(posterior.iloc[int(i)], keys, ints)
        for i in _draw_indices(posterior, draws, seed)
    ]


def _run(overrides: list[str], progress: bool) -> Path:
    return run_calibration(build_settings(overrides), progress=progress, argv=overrides)


main = cli("python -m experiments.calibrate", __doc__.split("\n\n")[0], _run)

if __name__ == "__main__":
    sys.exit(main())
