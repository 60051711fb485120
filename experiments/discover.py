"""Scenario discovery: the conditions where start small beats whole staff, and the reverse.

    python -m experiments.discover [key=value ...]

Samples ``points`` combinations of leadership levers and school context (``factors``: trust
climate, resistance, collaboration time, formalisation, leaders' involvement, distributed
leadership, how-to support, school size, phase, disadvantage) by Latin hypercube; each runs
start small and whole staff (``arms``) on the same ``seeds`` (common random numbers). The outcome
is the paired difference in spread, start small minus whole staff, averaged over the seeds.

PRIM (the EMA Workbench's implementation) then finds a box of conditions where start small wins
by at least ``margin`` (``start_small_wins``) and one where whole staff wins by at least
``margin`` (``whole_staff_wins``). For each: the peeling trajectory (coverage against density),
the box chosen (coverage at least ``min_coverage``, density within 0.05 of the best such box,
fewest restricted factors), its limits and a sentence a policy adviser can read.

Writes ``results/discovery/<name>/``: ``cases.csv`` (every point: factors and outcome),
``boxes.csv``, ``trajectory_<box>.csv``, ``tradeoff_<box>.png``, ``report.md``,
``summary.json`` and ``meta.json``. Resumable; bad settings: one line, exit status 2, nothing
written.
"""

from __future__ import annotations

import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from experiments.exploration import (
    ExecutorSettings,
    Factor,
    ModelEvaluator,
    OutputSpec,
    Space,
    check_executor,
    check_name,
    check_outputs,
    check_resume,
    cli,
    compose_settings,
    output_dir,
    point_means,
    provenance_record,
    run_design,
)
from sim.config import ConfigError, iter_params
from sim.fileio import atomic_path, save_figure, write_json_atomic, write_text_atomic
from sim.outcome_registry import counted

__all__ = ["DiscoverySettings", "build_settings", "find_box", "run_discovery", "main"]


@dataclass
class FactorSpec:
    """A sampled condition: a parameter and its range (or its choices)."""

    key: str = ""
    low: float | None = None  # default: the parameter's plausible (or allowed) range
    high: float | None = None
    choices: list[Any] = field(default_factory=list)  # categorical / true-false parameters


@dataclass
class DiscoverySettings:
    """A scenario discovery (``configs/discover.yaml``)."""

    name: str = "default"
    scenario: str = "new_forest"
    years: int = 3
    points: int = 500
    seeds: int = 4
    seed_start: int = 0
    design_seed: int = 1
    factors: dict[str, FactorSpec] = field(default_factory=dict)
    arms: dict[str, list[str]] = field(default_factory=dict)
    outcome: OutputSpec = field(default_factory=OutputSpec)
    outcome_label: str = "spread"
    margin: float = 0.05  # a meaningful win: at least this difference
    min_coverage: float = 0.5  # the box chosen covers at least this share of the winning cases
    peel_alpha: float = 0.05
    mass_min: float = 0.05
    executor: ExecutorSettings = field(default_factory=ExecutorSettings)
    out_dir: str = "results/discovery"


KEEP = (
    "scenario",
    "years",
    "points",
    "seeds",
    "seed_start",
    "design_seed",
    "factors",
    "arms",
    "outcome",
)


def build_settings(overrides: list[str]) -> DiscoverySettings:
    """Compose and validate the settings (ConfigError, one line, if invalid)."""
    s = compose_settings("discover", "base_discover", DiscoverySettings, overrides)
    validate(s)
    return s


def space_of(s: DiscoverySettings) -> tuple[Space, dict[str, str]]:
    """The sampled factors, and each factor's label by parameter key."""
    meta = {k: m for k, _, m in iter_params()}
    factors, labels = [], {}
    if len(s.factors) < 2:
        raise ConfigError("factors: scenario discovery needs at least two factors")
    for label, spec in s.factors.items():
        if spec.key not in meta:
            raise ConfigError(
                f"factors.{label}.key = {spec.key!r} is not a parameter; allowed: a key of "
                "docs/PARAMETERS.md"
            )
        if spec.key in labels:
            raise ConfigError(f"factors.{label}.key = {spec.key!r} is sampled twice")
        labels[spec.key] = label
        if spec.choices:
            allowed = meta[spec.key].get("choices")
            for c in spec.choices:
                if allowed is not None and c not in allowed:
                    raise ConfigError(
                        f"factors.{label}.choices: {c!r} is not allowed; choose from: "
                        + ", ".join(map(str, allowed))
                    )
            if len(spec.choices) < 2:
                raise ConfigError(f"factors.{label}.choices needs at least two values")
            kind = "bool" if all(isinstance(c, bool) for c in spec.choices) else "choice"
            factors.append(Factor(spec.key, kind=kind, choices=tuple(spec.choices)))
            continue
        ranges = {}
        if spec.low is not None or spec.high is not None:
            if spec.low is None or spec.high is None:
                raise ConfigError(f"factors.{label}: give both low and high, or neither")
            ranges[spec.key] = [spec.low, spec.high]
        try:
            factors.extend(Space.from_schema([spec.key], ranges).factors)
        except ConfigError as exc:
            raise ConfigError(f"factors.{label}: {exc}") from None
    return Space(factors), labels


def validate(s: DiscoverySettings) -> None:
    """Check every setting before anything runs or is written."""
    check_name(s.name)
    check_executor(s.executor)
    if s.points < 20:
        raise ConfigError(f"points = {s.points} is too few for PRIM; at least 20")
    if s.seeds < 1 or s.seed_start < 0 or s.years < 1:
        raise ConfigError("seeds and years must be >= 1 and seed_start >= 0")
    if s.margin < 0:
        raise ConfigError(f"margin = {s.margin} must be >= 0")
    if not 0 < s.min_coverage <= 1:
        raise ConfigError(f"min_coverage = {s.min_coverage} must lie in (0, 1]")
    if not 0 < s.peel_alpha < 0.5 or not 0 < s.mass_min < 1:
        raise ConfigError("peel_alpha must lie in (0, 0.5) and mass_min in (0, 1)")
    space, _ = space_of(s)
    if len(s.arms) < 2:
        raise ConfigError("arms: scenario discovery compares two arms (give both)")
    check_outputs({"difference": s.outcome}, s.arms)
    if not s.outcome.minus:
        raise ConfigError("outcome.minus: the outcome must be a paired difference of two arms")
    evaluator(s).check(space.points(np.full((1, len(space.factors)), 0.5)))


def evaluator(s: DiscoverySettings) -> ModelEvaluator:
    """Both arms' configurations; the outputs are the difference and each arm's outcome."""
    from sim.compose import build_config

    arms = {}
    for arm, overrides in s.arms.items():
        try:
            arms[arm] = build_config(s.scenario, overrides=(*overrides, f"years={s.years}"))
        except ConfigError as exc:
            raise ConfigError(f"arms.{arm}: {exc}") from None
    o = s.outcome
    outputs = {
        "difference": o,
        o.arm: OutputSpec(o.outcome, o.arm),
        o.minus: OutputSpec(o.outcome, o.minus),
    }
    seeds = list(range(s.seed_start, s.seed_start + s.seeds))
    return ModelEvaluator(arms, outputs, seeds)


def design(space: Space, s: DiscoverySettings) -> pd.DataFrame:
    """Latin hypercube sample of the factors."""
    from scipy.stats import qmc

    unit = qmc.LatinHypercube(d=len(space.factors), seed=s.design_seed).random(s.points)
    return space.points(unit)


# ---------------------------------------------------------------------------------------------
# PRIM
# ---------------------------------------------------------------------------------------------


@dataclass
class Box:
    """A PRIM box: its limits on the restricted factors, coverage and density."""

    name: str
    cases: int  # cases of interest
    total: int
    coverage: float
    density: float
    mass: float
    limits: dict[str, Any]  # factor -> (low, high) or a set of categories
    trajectory: pd.DataFrame
    chosen: int

    @property
    def base_rate(self) -> float:
        """Share of all cases that are of interest."""
        return self.cases / self.total if self.total else 0.0


def find_box(
    x: pd.DataFrame,
    y: np.ndarray,
    name: str,
    min_coverage: float = 0.5,
    peel_alpha: float = 0.05,
    mass_min: float = 0.05,
) -> Box | None:
    """PRIM's first box for the cases ``y`` (booleans); ``None`` if there are none.

    The box chosen on the peeling trajectory has coverage >= ``min_coverage`` and the fewest
    restricted factors among those within 0.05 of the highest such density.
    """
    y = np.asarray(y, bool)
    if not y.any():
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # optional ipyparallel is not installed
        from ema_workbench.analysis import prim

    x = x.reset_index(drop=True).copy()
    for col in x.columns:  # whole numbers as floats: the Workbench's integer peel fails on pandas 3
        if pd.api.types.is_integer_dtype(x[col]):
            x[col] = x[col].astype(float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the Workbench's own pandas deprecations
        p = prim.Prim(x, y, peel_alpha=peel_alpha, mass_min=mass_min)
        box = p.find_box()
    traj = box.peeling_trajectory.reset_index(drop=True)
    ok = traj[traj["coverage"] >= min_coverage - 1e-12]
    if ok.empty:
        ok = traj
    # Within 0.05 of the best density, prefer fewer restricted factors (easier to read, less
    # over-fitted), then density.
    near = ok[ok["density"] >= ok["density"].max() - 0.05]
    best = near.sort_values(["res_dim", "density"], ascending=[True, False]).index[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        box.select(int(best))
    lims = box.box_lims[int(best)]
    limits: dict[str, Any] = {}
    for col in lims.columns:
        lo, hi = lims[col].iloc[0], lims[col].iloc[1]
        init_lo, init_hi = p.box_init[col].iloc[0], p.box_init[col].iloc[1]
        if isinstance(lo, set):
            if lo != init_lo:
                limits[col] = sorted(lo, key=str)
        elif lo != init_lo or hi != init_hi:
            limits[col] = (
                None if lo == init_lo else float(lo),
                None if hi == init_hi else float(hi),
            )
    row = traj.loc[best]
    return Box(
        name=name,
        cases=int(y.sum()),
        total=len(y),
        coverage=float(row["coverage"]),
        density=float(row["density"]),
        mass=float(row["mass"]),
        limits=limits,
        trajectory=traj,
        chosen=int(best),
    )


def describe_limits(limits: dict[str, Any], labels: dict[str, str]) -> str:
    """Box limits in words: 'trust climate < 0.45 and resistance > 0.3'."""
    parts = []
    for key, lim in limits.items():
        name = labels.get(key, key).replace("_", " ")
        if isinstance(lim, list):
            parts.append(f"{name} is {' or '.join(map(str, lim))}")
            continue
        lo, hi = lim
        if lo is not None and hi is not None:
            parts.append(f"{name} is between {lo:.3g} and {hi:.3g}")
        elif lo is not None:
            parts.append(f"{name} > {lo:.3g}")
        else:
            parts.append(f"{name} < {hi:.3g}")
    return " and ".join(parts) if parts else "in any of the conditions sampled"


def sentence(box: Box | None, winner: str, margin: float, label: str, labels: dict) -> str:
    """The plain-language summary of a box."""
    if box is None:
        return f"{winner} never won by {margin * 100:.0g} points or more in the cases sampled."
    return (
        f"{winner} wins by ≥ {margin * 100:.0f} points of {label} in {box.density:.0%} of cases "
        f"when {describe_limits(box.limits, labels)}; these conditions hold "
        f"{box.coverage:.0%} of all the cases where it wins by that much (coverage), and "
        f"{box.mass:.0%} of all cases sampled. Overall it wins by that much in "
        f"{box.base_rate:.0%} of cases."
    )


def tradeoff_figure(box: Box, path: Path, title: str) -> None:
    """Coverage against density along the peeling trajectory; the chosen box circled."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = box.trajectory
    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    sc = ax.scatter(t["coverage"], t["density"], c=t["res_dim"], cmap="viridis", s=22)
    ax.scatter([box.coverage], [box.density], s=160, facecolors="none", edgecolors="red",
               label="box chosen")  # fmt: skip
    fig.colorbar(sc, ax=ax, label="restricted factors")
    ax.set_xlabel("coverage (share of the cases of interest inside the box)")
    ax.set_ylabel("density (share of the box's cases that are of interest)")
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0, 1.02)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8, loc="lower left")
    fig.tight_layout()
    save_figure(fig, path)


def _prim_frame(points: pd.DataFrame, space: Space) -> pd.DataFrame:
    """Factors as PRIM wants them: numbers stay numbers, true/false and choices are text."""
    x = points.copy()
    for f in space.factors:
        if f.kind in ("bool", "choice"):
            x[f.key] = x[f.key].map(lambda v: str(v).lower() if isinstance(v, bool) else str(v))
    return x


# ---------------------------------------------------------------------------------------------
# Running
# ---------------------------------------------------------------------------------------------


def run_discovery(
    s: DiscoverySettings, progress: bool = True, argv: list[str] | None = None
) -> Path:
    """Run (or resume) the discovery; return the output folder."""
    from experiments.executors import make_executor

    space, labels = space_of(s)
    model = evaluator(s)
    out = output_dir(s.out_dir, s.name)
    meta = provenance_record(s, "experiments.discover", argv or [])
    check_resume(out, meta["settings"], KEEP)
    executor = make_executor(s.executor.name, s.executor.address, s.executor.n_jobs)
    points = design(space, s)
    model.check(points)
    try:
        out.mkdir(parents=True, exist_ok=True)
        write_json_atomic(out / "meta.json", meta)
        t0 = time.perf_counter()
        rows = run_design(
            out / "runs",
            points,
            model,
            executor,
            s.executor.batch_size,
            model.runs_per_point,
            fingerprint={k: meta["settings"][k] for k in KEEP},
            progress=progress,
            desc="discovery",
        )
        seconds = time.perf_counter() - t0
    finally:
        executor.close()
    o = s.outcome
    means = point_means(rows, ["difference", o.arm, o.minus], len(points))
    cases = pd.concat([points, means], axis=1)
    with atomic_path(out / "cases.csv") as tmp:
        cases.to_csv(tmp, index_label="point")
    x = _prim_frame(points, space)
    diff = means["difference"].to_numpy()
    boxes = {
        f"{o.arm}_wins": (
            find_box(
                x, diff >= s.margin, f"{o.arm}_wins", s.min_coverage, s.peel_alpha, s.mass_min
            ),
            o.arm,
        ),  # fmt: skip
        f"{o.minus}_wins": (
            find_box(
                x, diff <= -s.margin, f"{o.minus}_wins", s.min_coverage, s.peel_alpha, s.mass_min
            ),
            o.minus,
        ),  # fmt: skip
    }
    records, sentences = [], {}
    for name, (box, winner) in boxes.items():
        sentences[name] = sentence(box, winner.replace("_", " "), s.margin, s.outcome_label,
                                   labels)  # fmt: skip
        if box is None:
            continue
        with atomic_path(out / f"trajectory_{name}.csv") as tmp:
            box.trajectory.to_csv(tmp, index=False)
        tradeoff_figure(box, out / f"tradeoff_{name}.png", f"PRIM peeling: {name}")
        records.append(
            {
                "box": name,
                "cases_of_interest": box.cases,
                "cases": box.total,
                "coverage": box.coverage,
                "density": box.density,
                "mass": box.mass,
                "restricted": describe_limits(box.limits, labels),
            }
        )
    with atomic_path(out / "boxes.csv") as tmp:
        pd.DataFrame(records).to_csv(tmp, index=False)
    runs = len(points) * model.runs_per_point
    text = report(s, space, labels, cases, boxes, sentences, runs, seconds, meta)
    write_text_atomic(out / "report.md", text)
    write_json_atomic(
        out / "summary.json",
        {
            "kind": "discovery",
            "name": s.name,
            "scenario": s.scenario,
            "years": s.years,
            "arms": {a: list(v) for a, v in s.arms.items()},
            "margin": s.margin,
            "sentences": sentences,
            "boxes": records,
            "runs": runs,
            "seconds": seconds,
            "provenance": meta["provenance"],
        },
    )
    return out


def report(s, space, labels, cases, boxes, sentences, runs, seconds, meta) -> str:
    """The report: what was sampled, the boxes and the plain-language summary."""
    prov = meta["provenance"]
    o = s.outcome
    diff = cases["difference"]
    lines = [
        f"# Scenario discovery: when does {o.arm.replace('_', ' ')} beat "
        f"{o.minus.replace('_', ' ')}?",
        "",
        "## In plain words",
        "",
        *[f"* {t}" for t in sentences.values()],
        "",
        f"Outcome: the paired difference in {o.outcome} ({o.arm} minus {o.minus}), the mean over "
        f"{s.seeds} common seeds per case; a meaningful win is a difference of at least "
        f"{s.margin:g}. Across the {len(cases)} cases sampled the difference averaged "
        f"{diff.mean():+.3f} (from {diff.min():+.3f} to {diff.max():+.3f}).",
        "",
        "## What was sampled",
        "",
        f"Scenario `{s.scenario}`, {s.years} years; arms: "
        + "; ".join(f"`{a}` = {' '.join(v)}" for a, v in s.arms.items())
        + f". {len(cases)} cases (Latin hypercube), {runs} model runs, {seconds:.0f} s. "
        f"Provenance: pln-sim {prov['pln_sim']}, git {str(prov['git_sha'])[:10]}"
        + (" (uncommitted changes)" if prov.get("git_dirty") else "")
        + f", {prov['created_utc']}.",
        "",
        "| factor | parameter | range or choices |",
        "|---|---|---|",
    ]
    for f in space.factors:
        rng = ", ".join(map(str, f.choices)) if f.choices else f"{f.low:g} to {f.high:g}"
        lines.append(f"| {labels[f.key]} | `{f.key}` | {rng} |")
    lines += ["", "## Boxes (PRIM)", ""]
    lines.append(
        f"The box chosen on each peeling trajectory has coverage of at least {s.min_coverage:.0%} "
        "and the fewest restricted factors among those within 0.05 of the best density. Coverage: the share of the cases of interest inside the box; "
        "density: the share of the box's cases that are of interest; mass: the share of all "
        "cases inside the box."
    )
    lines.append("")
    for name, (box, _) in boxes.items():
        lines += [f"### {name}", ""]
        if box is None:
            lines += [sentences[name], ""]
            continue
        lines += [
            f"{box.cases} of {box.total} cases of interest; coverage {box.coverage:.2f}, "
            f"density {box.density:.2f}, mass {box.mass:.2f}; "
            f"{counted(len(box.limits), 'restricted factor')}:",
            "",
        ]
        for key, lim in box.limits.items():
            lines.append(f"* {labels[key]} (`{key}`): {describe_limits({key: lim}, labels)}")
        lines += ["", f"![peeling trade-off](tradeoff_{name}.png)", ""]
    return "\n".join(lines)


def _run(overrides: list[str], progress: bool) -> Path:
    return run_discovery(build_settings(overrides), progress=progress, argv=overrides)


main = cli("python -m experiments.discover", __doc__.split("\n\n")[0], _run)

if __name__ == "__main__":
    sys.exit(main())
