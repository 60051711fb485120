"""What sensitivity analysis, calibration and scenario discovery share.

* :class:`Space`: the parameters varied and their ranges, read from the schema's declarations
  (``param(..., plausible=(lo, hi))`` where declared, else the allowed range), so docs/PARAMETERS.md
  and the analyses use one source of truth.
* :class:`ModelEvaluator`: runs design points (parameter values) on the model, for every arm and
  seed (common random numbers: every point runs the same seeds), and returns one row per point and
  seed with the requested outputs (an arm's outcome, or a paired difference between two arms).
* :func:`run_design`: evaluates a design through the project's executor (local processes or a
  Dask cluster) in chunks, each written atomically, so an interrupted run resumes where it stopped.
* Settings composition with Hydra and the one-line-error, exit-2 entry point of the three tools.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import hashlib
import json
import logging
import math
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.config import Config, ConfigError, iter_params
from sim.fileio import atomic_path, write_json_atomic
from sim.heterogeneity import is_distribution, recentre

__all__ = [
    "ASSUMPTION_TAG",
    "ExecutorSettings",
    "OutputSpec",
    "Space",
    "Factor",
    "ModelEvaluator",
    "run_design",
    "assumption_parameters",
    "compose_settings",
    "check_executor",
    "output_dir",
    "check_resume",
    "cli",
    "extra_outcomes",
]

ROOT = Path(__file__).resolve().parent.parent
ASSUMPTION_TAG = "[assume"


@dataclass
class ExecutorSettings:
    """Where model runs go (the same executors as ``experiments.compare``)."""

    name: str = "local"  # local (joblib processes) | dask (an existing cluster)
    address: str = ""  # dask: the scheduler, e.g. tcp://127.0.0.1:8786
    n_jobs: int = 2  # local: worker processes
    batch_size: int = 10  # design points per task (each runs every arm and seed)


@dataclass
class OutputSpec:
    """An output: ``outcome`` of ``arm``, or the paired difference ``arm`` minus ``minus``."""

    outcome: str = "spread_final"
    arm: str = ""
    minus: str = ""


# ---------------------------------------------------------------------------------------------
# The parameter space
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Factor:
    """One varied parameter: its dotted key, range (or choices) and kind."""

    key: str
    low: float | None = None
    high: float | None = None
    kind: str = "float"  # float | int | bool | choice
    choices: tuple[Any, ...] = ()
    source: str = ""

    def value(self, u: float) -> Any:
        """The parameter value at ``u`` in [0, 1] (the position in the range)."""
        u = min(max(float(u), 0.0), 1.0)
        if self.kind in ("bool", "choice"):
            options = self.choices or (False, True)
            return options[min(int(u * len(options)), len(options) - 1)]
        x = self.low + u * (self.high - self.low)
        return int(round(x)) if self.kind == "int" else float(x)


def _schema() -> dict[str, tuple[Any, Any]]:
    return {key: (default, meta) for key, default, meta in iter_params()}


def assumption_parameters(tag: str = ASSUMPTION_TAG) -> list[str]:
    """Every numeric parameter whose source tag marks it as an assumption."""
    keys = []
    for key, (default, meta) in _schema().items():
        if tag not in str(meta.get("source", "")):
            continue
        value = default[0] if isinstance(default, list) and default else default
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        if meta.get("choices"):
            continue
        keys.append(key)
    return keys


def _declared_range(key: str, meta: Any) -> tuple[float | None, float | None]:
    plausible = meta.get("plausible")
    if plausible is not None:
        return float(plausible[0]), float(plausible[1])
    return meta.get("low"), meta.get("high")


@dataclass
class Space:
    """The varied parameters, in order."""

    factors: list[Factor]

    @property
    def keys(self) -> list[str]:
        """Dotted keys of the factors."""
        return [f.key for f in self.factors]

    @classmethod
    def from_schema(
        cls, keys: Sequence[str], ranges: Sequence[str] | dict[str, Sequence[float]] = ()
    ) -> Space:
        """Numeric parameters ``keys`` with their declared plausible (or allowed) ranges.

        ``ranges`` narrows a parameter's range for one analysis (``"key:low:high"`` strings, or
        a mapping of key to ``(low, high)``); it must lie inside the allowed range. Raises
        :class:`ConfigError` for unknown keys, non-numeric parameters, missing, empty or
        inverted ranges.
        """
        schema = _schema()
        ranges = parse_ranges(ranges)
        factors = []
        if not keys:
            raise ConfigError("parameters is empty: give at least one parameter to vary")
        if len(set(keys)) != len(keys):
            dup = next(k for k in keys if list(keys).count(k) > 1)
            raise ConfigError(f"parameters lists {dup!r} twice")
        for key in [*keys, *ranges]:
            if key not in schema:
                raise ConfigError(
                    f"unknown parameter {key!r}; allowed: a key of docs/PARAMETERS.md "
                    "(e.g. practice.quality_rate)"
                )
        for key in ranges:
            if key not in keys:
                raise ConfigError(f"ranges.{key} is given but {key} is not among the parameters")
        for key in keys:
            default, meta = schema[key]
            value = default[0] if isinstance(default, list) and default else default
            if isinstance(value, bool) or not isinstance(value, int | float) or meta.get("choices"):
                raise ConfigError(f"{key} is not a numeric parameter; only numbers can be varied")
            low, high = _declared_range(key, meta)
            if key in ranges:
                given = list(ranges[key])
                if len(given) != 2:
                    raise ConfigError(f"ranges.{key} must be [low, high] (got {given})")
                low, high = float(given[0]), float(given[1])
                _inside_allowed(key, low, high, meta)
            if low is None or high is None or not (math.isfinite(low) and math.isfinite(high)):
                raise ConfigError(
                    f"{key} has no finite range; declare plausible=(low, high) beside it or give "
                    f"ranges.{key}=[low,high]"
                )
            if not low < high:
                raise ConfigError(f"{key}: range [{low:g}, {high:g}] is empty or inverted")
            kind = "int" if isinstance(value, int) else "float"
            factors.append(Factor(key, low, high, kind, source=str(meta.get("source", ""))))
        return cls(factors)

    def problem(self) -> dict[str, Any]:
        """The SALib problem over the unit hypercube (positions within each range)."""
        return {
            "num_vars": len(self.factors),
            "names": self.keys,
            "bounds": [[0.0, 1.0]] * len(self.factors),
        }

    def points(self, unit: np.ndarray) -> pd.DataFrame:
        """Parameter values at positions ``unit`` (rows in [0, 1]^k)."""
        unit = np.atleast_2d(unit)
        rows = [{f.key: f.value(u) for f, u in zip(self.factors, row, strict=True)} for row in unit]
        return pd.DataFrame(rows, columns=self.keys)

    def table(self) -> pd.DataFrame:
        """The factors as a table (key, low, high, kind, source)."""
        return pd.DataFrame(
            [
                {
                    "parameter": f.key,
                    "low": f.low,
                    "high": f.high,
                    "kind": f.kind,
                    "choices": json.dumps(list(f.choices)) if f.choices else "",
                    "source": f.source,
                }
                for f in self.factors
            ]
        )


def parse_ranges(ranges: Sequence[str] | dict[str, Sequence[float]]) -> dict[str, list[float]]:
    """``["key:low:high", ...]`` (the command line's form) as a mapping key -> [low, high]."""
    if isinstance(ranges, dict):
        return {k: list(v) for k, v in ranges.items()}
    out = {}
    for text in ranges:
        key, *bounds = str(text).split(":")
        try:
            low, high = (float(b) for b in bounds)
        except ValueError:
            raise ConfigError(f"ranges: {text!r} must be key:low:high") from None
        out[key] = [low, high]
    return out


def _inside_allowed(key: str, low: float, high: float, meta: Any) -> None:
    lo, hi = meta.get("low"), meta.get("high")
    if lo is not None and (low < lo or (meta.get("low_open") and low == lo)):
        raise ConfigError(f"ranges.{key}: {low:g} is below the allowed minimum {lo:g}")
    if hi is not None and high > hi:
        raise ConfigError(f"ranges.{key}: {high:g} is above the allowed maximum {hi:g}")


# ---------------------------------------------------------------------------------------------
# Running points on the model
# ---------------------------------------------------------------------------------------------


def apply_point(
    base: Config, point: dict[str, Any], normalise: Sequence[Sequence[str]] = ()
) -> Config:
    """A validated copy of ``base`` with the point's values.

    A per-school key takes the point's value in every school, unless ``base`` draws its schools
    from a distribution: then the point sets the distribution's mean and the schools still
    differ as the scenario says (:func:`sim.heterogeneity.recentre`).

    ``normalise`` lists groups of keys rescaled to keep their default sum (e.g. weights that
    must sum to one), after the point's values are set.
    """
    config = copy.deepcopy(base)
    per_school = per_school_keys()
    ints = _int_keys()
    for key, value in point.items():
        value = value.item() if isinstance(value, np.generic) else value
        if key in ints and isinstance(value, float) and value.is_integer():
            value = int(value)  # a whole number carried in a float column
        if key in per_school and not isinstance(value, list | tuple):
            now = _get(base, key)
            if is_distribution(now):  # schools drawn: move the network's mean, keep the spread
                value = recentre(now, value, per_school[key])
            if not is_distribution(value):
                value = [value] * base.n_schools  # one value for every school of the network
        _set(config, key, value)
    for group in normalise:
        if not any(k in point for k in group):
            continue
        values = [_get(config, k) for k in group]
        target = sum(_get(base, k) for k in group)
        total = sum(values)
        if total > 0:
            for k, v in zip(group, values, strict=True):
                _set(config, k, v * target / total)
    try:
        return config.validate()
    except ConfigError as exc:
        raise ConfigError(f"design point {point}: {exc}") from None


@functools.lru_cache(maxsize=1)
def per_school_keys() -> dict[str, dataclasses.Field]:
    """Per-school parameters: dotted key -> its field (type, range)."""
    config = Config()
    return {
        f"{section.name}.{f.name}": f
        for section in dataclasses.fields(config)
        if dataclasses.is_dataclass(getattr(config, section.name))
        for f in dataclasses.fields(getattr(config, section.name))
        if f.metadata.get("per_school")
    }


def _int_keys() -> set[str]:
    keys = set()
    for k, default, _ in iter_params():
        v = default[0] if isinstance(default, list) and default else default
        if isinstance(v, int) and not isinstance(v, bool):
            keys.add(k)
    return keys


def _get(config: Any, key: str) -> Any:
    for part in key.split("."):
        config = getattr(config, part)
    return config


def _set(config: Any, key: str, value: Any) -> None:
    *path, name = key.split(".")
    for part in path:
        config = getattr(config, part)
    setattr(config, name, value)


def extra_outcomes(result: Any) -> dict[str, float]:
    """Outcomes the calibration targets need beyond the run summary.

    ``participants_use_year_N``: share of the PLN's participants (the champions) using the
    practice (trialling, adopted or embedded) in the last week of school year N.
    (Schools still implementing, ``schools_implementing_share``, is in the run summary.)
    """
    from sim.school_year import WEEKS_PER_YEAR

    rec = result.model.record
    t = rec.weeks_recorded
    out = {}
    totals = rec.totals()  # per-school totals: any record (record=schools or slots)
    for year in range(1, t // WEEKS_PER_YEAR + 1):
        w = year * WEEKS_PER_YEAR - 1
        n = int(totals.participants[w].sum())
        out[f"participants_use_year_{year}"] = (
            float(totals.participants_using[w].sum() / n) if n else float("nan")
        )
    return out


@dataclass
class ModelEvaluator:
    """Runs design points on the model: every arm, every seed; one row per (point, seed).

    Args:
        arms: Each arm's base configuration (the point's values are applied on top).
        outputs: Output name -> :class:`OutputSpec` (an arm's outcome, or a paired difference).
        seeds: The seeds every point runs (common random numbers).
        normalise: Groups of keys rescaled to keep their default sum.
        extras: Whether to add :func:`extra_outcomes` to each run's summary.

    """

    arms: dict[str, Config]
    outputs: dict[str, OutputSpec]
    seeds: list[int]
    normalise: list[list[str]] = field(default_factory=list)
    extras: bool = False

    @property
    def runs_per_point(self) -> int:
        """Model runs per design point."""
        return len(self.arms) * len(self.seeds)

    def check(self, points: pd.DataFrame) -> None:
        """Validate every point's configuration before anything runs (ConfigError if not)."""
        for point in points.to_dict("records"):
            for config in self.arms.values():
                apply_point(config, point, self.normalise)

    def __call__(self, chunk: list[tuple[int, dict[str, Any]]]) -> pd.DataFrame:
        """Run a chunk of ``(point_id, values)``; return one row per point and seed."""
        import sim

        logging.getLogger("MESA").setLevel(logging.WARNING)
        rows = []
        for pid, point in chunk:
            configs = {a: apply_point(c, point, self.normalise) for a, c in self.arms.items()}
            for seed in self.seeds:
                summaries = {}
                for arm, config in configs.items():
                    result = sim.simulate(config=dataclasses.replace(config, seed=int(seed)))
                    summary = dict(result.summary)
                    if self.extras:
                        summary.update(extra_outcomes(result))
                    summaries[arm] = summary
                row: dict[str, Any] = {"point": pid, "seed": int(seed)}
                for name, spec in self.outputs.items():
                    value = _num(summaries[spec.arm].get(spec.outcome))
                    if spec.minus:
                        value = value - _num(summaries[spec.minus].get(spec.outcome))
                    row[name] = value
                rows.append(row)
        return pd.DataFrame(rows)


def _num(value: Any) -> float:
    return float("nan") if value is None else float(value)


def check_outputs(outputs: dict[str, OutputSpec], arms: Iterable[str]) -> None:
    """Every output names known arms and a known outcome (ConfigError if not)."""
    import sim

    arms = list(arms)
    if not outputs:
        raise ConfigError("outputs is empty: name at least one outcome to analyse")
    summary = sim.simulate(config=_quick_config()).summary
    known = sorted(set(summary) | {"participants_use_year_1", "participants_use_year_2"})
    for name, spec in outputs.items():
        for role, arm in (("arm", spec.arm), ("minus", spec.minus)):
            if (arm or role == "arm") and arm not in arms:
                raise ConfigError(
                    f"outputs.{name}.{role} = {arm!r} is not an arm; choose one of: "
                    + ", ".join(arms)
                )
        base = spec.outcome
        if base not in summary and not base.startswith(("participants_use_year_", "uptake_year_")):
            raise ConfigError(
                f"outputs.{name}.outcome = {spec.outcome!r} is not an outcome; choose one of: "
                + ", ".join(known)
            )


def _quick_config() -> Config:
    from sim.compose import build_config

    return build_config(overrides=("years=1",))


# ---------------------------------------------------------------------------------------------
# Evaluating a design: chunked, resumable, through the executor
# ---------------------------------------------------------------------------------------------


def design_hash(points: pd.DataFrame, extra: Any) -> str:
    """A fingerprint of a design and what it is evaluated with (to refuse mixing results)."""
    text = points.to_csv(index=False) + json.dumps(extra, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def run_design(
    folder: Path,
    points: pd.DataFrame,
    evaluate: Callable[[list[tuple[int, dict[str, Any]]]], pd.DataFrame],
    executor: Any,
    chunk_size: int,
    runs_per_point: int = 1,
    fingerprint: Any = None,
    progress: bool = True,
    desc: str = "runs",
) -> pd.DataFrame:
    """Evaluate every point not yet on disk; return all rows (sorted by point and seed).

    Chunks of ``chunk_size`` points are written atomically to ``folder/chunks/`` as they
    finish; a rerun skips them. ``folder/design.json`` fingerprints the design: a rerun with a
    different design or evaluator refuses to mix the results.
    """
    folder.mkdir(parents=True, exist_ok=True)
    digest = design_hash(points, fingerprint)
    marker = folder / "design.json"
    if marker.exists():
        if json.loads(marker.read_text()).get("hash") != digest:
            raise ConfigError(
                f"{folder} holds results of another design; choose another name= to keep both"
            )
    else:
        with atomic_path(folder / "design.parquet") as tmp:
            points.to_parquet(tmp, index=True)
        write_json_atomic(marker, {"hash": digest, "points": len(points)})
    chunks_dir = folder / "chunks"
    chunks_dir.mkdir(exist_ok=True)
    ids = list(range(len(points)))
    chunks = [ids[i : i + chunk_size] for i in range(0, len(ids), chunk_size)]
    records = points.to_dict("records")

    def path(chunk: list[int]) -> Path:
        return chunks_dir / f"{chunk[0]:06d}-{chunk[-1]:06d}.parquet"

    todo = [c for c in chunks if not path(c).exists()]
    from tqdm import tqdm

    bar = tqdm(
        total=len(ids) * runs_per_point,
        initial=(len(ids) - sum(len(c) for c in todo)) * runs_per_point,
        unit="run",
        desc=desc,
        disable=not progress,
        file=sys.stderr,
    )
    items = [[(i, records[i]) for i in chunk] for chunk in todo]
    for index, frame in executor.map(evaluate, items):
        with atomic_path(path(todo[index])) as tmp:
            frame.to_parquet(tmp, index=False)
        bar.update(len(todo[index]) * runs_per_point)
    bar.close()
    frames = [pd.read_parquet(path(c)) for c in chunks]
    return pd.concat(frames, ignore_index=True).sort_values(["point", "seed"], ignore_index=True)


def point_means(rows: pd.DataFrame, outputs: Sequence[str], n_points: int) -> pd.DataFrame:
    """Mean of each output over seeds, per point (indexed 0..n_points-1)."""
    means = rows.groupby("point")[list(outputs)].mean()
    return means.reindex(range(n_points))


# ---------------------------------------------------------------------------------------------
# Settings, outputs and the entry point
# ---------------------------------------------------------------------------------------------


def compose_settings(config_name: str, schema_name: str, schema: Any, overrides: list[str]) -> Any:
    """Compose ``configs/<config_name>.yaml`` over its dataclass schema; one-line errors."""
    from hydra import compose, initialize_config_dir
    from hydra.core.config_store import ConfigStore
    from hydra.core.global_hydra import GlobalHydra
    from omegaconf import OmegaConf

    from sim.compose import CONFIG_DIR, _one_line, _reject_unknown_keys, check_override_syntax

    check_override_syntax(overrides)
    ConfigStore.instance().store(name=schema_name, node=schema)
    try:
        if GlobalHydra.instance().is_initialized():
            cfg = compose(config_name=config_name, overrides=overrides)
        else:
            with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
                cfg = compose(config_name=config_name, overrides=overrides)
        _reject_unknown_keys(cfg, schema(), "")
        return OmegaConf.to_object(cfg)
    except ConfigError:
        raise
    except Exception as exc:
        raise ConfigError(_one_line(exc)) from exc


def check_executor(e: ExecutorSettings) -> None:
    """The executor settings are usable (ConfigError if not)."""
    from experiments.executors import EXECUTORS, check_executor_choice

    if e.name not in EXECUTORS:
        raise ConfigError(
            f"executor.name = {e.name!r} is not allowed; choose one of: {', '.join(EXECUTORS)}"
        )
    check_executor_choice(e.name, e.address)
    if e.n_jobs < 1 or e.batch_size < 1:
        raise ConfigError("executor.n_jobs and executor.batch_size must be >= 1")
    if e.name == "dask" and not e.address:
        raise ConfigError("executor.address is required with executor.name=dask (tcp://host:port)")


def check_name(name: str) -> None:
    """A folder name of letters, digits, '-' and '_' (ConfigError if not)."""
    if not name or not name.replace("-", "").replace("_", "").isalnum():
        raise ConfigError(f"name = {name!r}: use letters, digits, '-' and '_' only")


def output_dir(out_dir: str, name: str) -> Path:
    """The results folder (relative paths are under the project root)."""
    base = Path(out_dir)
    return (base if base.is_absolute() else ROOT / base) / name


def check_resume(out: Path, settings: dict[str, Any], keep: Sequence[str]) -> None:
    """Refuse to resume into a folder whose recorded settings differ in ``keep``."""
    meta = out / "meta.json"
    if not meta.exists():
        if out.exists() and any(out.iterdir()):
            raise ConfigError(f"{out} exists and holds other results; choose another name=")
        return
    previous = json.loads(meta.read_text()).get("settings", {})
    changed = [k for k in keep if previous.get(k) != settings.get(k)]
    if changed:
        raise ConfigError(
            f"{out} holds results with other settings ({', '.join(changed)}); "
            "choose another name= to keep both"
        )


def settings_dict(settings: Any) -> dict[str, Any]:
    """Settings as plain data."""
    from omegaconf import OmegaConf

    return OmegaConf.to_container(OmegaConf.structured(settings))


def cli(prog: str, doc: str, run: Callable[[list[str], bool], Path]) -> Callable[..., int]:
    """An entry point: ``key=value`` overrides, ``--quiet``; ConfigError -> one line, exit 2."""
    import argparse

    def main(argv: list[str] | None = None) -> int:
        argv = sys.argv[1:] if argv is None else argv
        parser = argparse.ArgumentParser(prog=prog, description=doc)
        parser.add_argument("overrides", nargs="*", help="key=value settings")
        parser.add_argument("--quiet", action="store_true", help="no progress bar")
        args = parser.parse_args(argv)
        logging.getLogger("MESA").setLevel(logging.WARNING)
        try:
            out = run(args.overrides, not args.quiet)
        except ConfigError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        print(f"results written to {out}")
        print(f"report: {out / 'report.md'}")
        return 0

    return main


def provenance_record(settings: Any, command: str, argv: Sequence[str]) -> dict[str, Any]:
    """Settings plus provenance (versions, git SHA, command), for meta.json."""
    from sim.provenance import provenance

    return {
        "settings": settings_dict(settings),
        "provenance": provenance(command=["python", "-m", command, *argv]),
    }
