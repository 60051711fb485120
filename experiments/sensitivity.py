"""Global sensitivity analysis: which assumptions drive the answer.

    python -m experiments.sensitivity [key=value ...]

1. **Morris screening** (SALib) over every assumption-tagged (``[assume]``) numeric parameter,
   each over its declared plausible range (``param(..., plausible=(lo, hi))``; the allowed range
   where none is declared; both shown in docs/PARAMETERS.md). ``morris.trajectories`` random
   one-at-a-time trajectories on a ``morris.levels``-level grid: ``trajectories x (k + 1)``
   design points.
2. **Sobol indices** (SALib, Saltelli/Jansen estimators) on the influential parameters (largest
   normalised Morris mu*, at most ``sobol.max_parameters``), first and total order with 95%
   bootstrap intervals: ``sobol.samples x (k + 2)`` design points.

Every design point runs every arm (``arms``; default: the main job's whole staff and start small,
both with full leadership support) on the same ``seeds`` (common random numbers). Outputs
(``outputs``): the whole-staff arm's ``uptake_final``, ``spread_final``, ``pupil_effect``,
``schools_lapsed_share`` and the paired start small minus whole staff difference in spread.

Writes ``results/sensitivity/<name>/``: ``morris.csv``, ``ranking.csv``, ``sobol.csv``,
``morris.png`` (mu* against sigma), ``sobol.png`` (indices with intervals), ``report.md``,
``summary.json`` (read by the main job's report) and ``meta.json`` (settings and provenance).
Runs go through ``executor=local|dask`` in chunks written atomically: rerunning the same command
resumes. Bad settings: one line, exit status 2, nothing written.
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from experiments.exploration import (
    ExecutorSettings,
    ModelEvaluator,
    OutputSpec,
    Space,
    assumption_parameters,
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
from sim.compose import build_config
from sim.config import ConfigError, iter_params
from sim.fileio import atomic_path, save_figure, write_json_atomic, write_text_atomic
from sim.outcome_registry import counted
from sim.system import generated

__all__ = ["SensitivitySettings", "build_settings", "run_sensitivity", "main"]


@dataclass
class MorrisSettings:
    """Morris screening design."""

    trajectories: int = 10  # r: one-at-a-time trajectories
    levels: int = 4  # p: grid levels (even)


@dataclass
class SobolSettings:
    """Sobol design on the influential parameters."""

    samples: int = 128  # N, a power of two: N x (k + 2) points
    max_parameters: int = 6  # at most this many influential parameters
    resamples: int = 200  # bootstrap resamples for the intervals


@dataclass
class SensitivitySettings:
    """A sensitivity analysis (``configs/sensitivity.yaml``)."""

    name: str = "default"
    scenario: str = "new_forest"
    years: int = 3
    seeds: int = 2  # seeds per design point (common to all points)
    seed_start: int = 0
    design_seed: int = 1  # seeds the sampling of the designs
    parameters: list[str] = field(default_factory=list)  # default: every [assume] parameter
    exclude: list[str] = field(default_factory=list)
    ranges: list[str] = field(default_factory=list)  # "key:low:high", narrower, this run
    normalise: list[str] = field(default_factory=list)  # "a+b+c": keys rescaled to keep their sum
    arms: dict[str, list[str]] = field(default_factory=dict)
    outputs: dict[str, OutputSpec] = field(default_factory=dict)
    influence_threshold: float = 0.1  # normalised mu* at or above which a parameter matters
    stages: list[str] = field(default_factory=lambda: ["morris", "sobol"])
    morris: MorrisSettings = field(default_factory=MorrisSettings)
    sobol: SobolSettings = field(default_factory=SobolSettings)
    executor: ExecutorSettings = field(default_factory=ExecutorSettings)
    out_dir: str = "results/sensitivity"


STAGES = ("morris", "sobol")


def build_settings(overrides: list[str]) -> SensitivitySettings:
    """Compose and validate the settings (ConfigError, one line, if invalid)."""
    s = compose_settings("sensitivity", "base_sensitivity", SensitivitySettings, overrides)
    validate(s)
    return s


def parameters_of(s: SensitivitySettings) -> list[str]:
    """The parameters varied: ``parameters`` or every [assume] one, minus ``exclude``.

    Every [assume] one means those the scenario reads: a generated system's settings
    (``system.*``) are left out for a scenario that lists its schools, where they change nothing.
    """
    keys = list(s.parameters)
    if not keys:
        keys = assumption_parameters()
        if not generated(build_config(s.scenario, s.seed_start, [f"years={s.years}"])):
            keys = [k for k in keys if not k.startswith("system.")]
    unknown = [k for k in s.exclude if k not in keys]
    if unknown:
        raise ConfigError(f"exclude names {unknown[0]!r}, which is not among the parameters")
    return [k for k in keys if k not in s.exclude]


def validate(s: SensitivitySettings) -> None:
    """Check every setting before anything runs or is written."""
    check_name(s.name)
    check_executor(s.executor)
    bad = [x for x in s.stages if x not in STAGES]
    if bad or not s.stages:
        raise ConfigError(f"stages = {list(s.stages)} is not allowed; choose from: morris, sobol")
    if s.seeds < 1:
        raise ConfigError(f"seeds = {s.seeds} is too few; at least 1 per design point")
    if s.seed_start < 0 or s.years < 1:
        raise ConfigError("seed_start must be >= 0 and years >= 1")
    if s.morris.trajectories < 2:
        raise ConfigError(f"morris.trajectories = {s.morris.trajectories} is too few; at least 2")
    if s.morris.levels < 2 or s.morris.levels % 2:
        raise ConfigError(f"morris.levels = {s.morris.levels} must be even and at least 2")
    n = s.sobol.samples
    if n < 8 or n & (n - 1):
        raise ConfigError(f"sobol.samples = {n} must be a power of two, at least 8")
    if s.sobol.max_parameters < 1 or s.sobol.resamples < 10:
        raise ConfigError("sobol.max_parameters must be >= 1 and sobol.resamples >= 10")
    if not 0 < s.influence_threshold < 1:
        raise ConfigError(
            f"influence_threshold = {s.influence_threshold} must lie strictly between 0 and 1"
        )
    space = Space.from_schema(parameters_of(s), s.ranges)
    if len(space.factors) < 2:
        raise ConfigError("parameters: a sensitivity analysis needs at least two parameters")
    for group in s.normalise:
        for key in group.split("+"):
            if key not in {k for k, *_ in iter_params()}:
                raise ConfigError(f"normalise names unknown parameter {key!r}")
    if not s.arms:
        raise ConfigError("arms is empty: give at least one arm (a list of model overrides)")
    check_outputs(s.outputs, s.arms)
    evaluator(s)  # every arm must be a valid model configuration


def evaluator(s: SensitivitySettings) -> ModelEvaluator:
    """The model evaluator of these settings (arms validated)."""
    from sim.compose import build_config

    arms = {}
    for arm, overrides in s.arms.items():
        try:
            arms[arm] = build_config(s.scenario, overrides=(*overrides, f"years={s.years}"))
        except ConfigError as exc:
            raise ConfigError(f"arms.{arm}: {exc}") from None
    seeds = list(range(s.seed_start, s.seed_start + s.seeds))
    return ModelEvaluator(arms, dict(s.outputs), seeds, [g.split("+") for g in s.normalise])


# ---------------------------------------------------------------------------------------------
# Designs and analyses
# ---------------------------------------------------------------------------------------------


def morris_design(space: Space, s: SensitivitySettings) -> np.ndarray:
    """Morris trajectories on the unit hypercube (rows: design points)."""
    from SALib.sample import morris

    return morris.sample(
        space.problem(), s.morris.trajectories, num_levels=s.morris.levels, seed=s.design_seed
    )


def noise_floor(rows: pd.DataFrame, output: str, levels: int) -> float:
    """The mu* a parameter with no effect would show from seed noise alone.

    A point's output is a mean over its seeds, with standard error ``se`` (from the spread over
    seeds); the difference of two such means, divided by the Morris step, has mean absolute value
    ``2 se / sqrt(pi) / step``. Common seeds make nearby points' noise correlate, so the real floor
    is lower: this one is conservative. Zero with one seed per point (noise not measurable).
    """
    by = rows.groupby("point")[output]
    n = int(by.size().min())
    if n < 2:
        return 0.0
    se = math.sqrt(float(by.var(ddof=1).mean()) / n)
    step = levels / (2 * (levels - 1))
    return 2 * se / math.sqrt(math.pi) / step


def morris_analysis(
    space: Space,
    unit: np.ndarray,
    means: pd.DataFrame,
    s: SensitivitySettings,
    rows: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """mu, mu*, its 95% interval, sigma, and whether mu* stands out of the seed noise.

    ``mu_star_normalised`` is mu* over the output's largest, and zero where the lower end of
    mu*'s 95% interval does not exceed the noise floor (:func:`noise_floor`).
    """
    from SALib.analyze import morris

    frames = []
    for output in means.columns:
        floor = noise_floor(rows, output, s.morris.levels) if rows is not None else 0.0
        y = _filled(means[output].to_numpy())
        if y is None:
            continue
        res = morris.analyze(
            space.problem(),
            unit,
            y,
            num_levels=s.morris.levels,
            conf_level=0.95,
            num_resamples=1000,
            seed=s.design_seed,
        )
        mu_star = np.asarray(res["mu_star"], float)
        conf = np.nan_to_num(np.asarray(res["mu_star_conf"], float))
        top = float(np.max(mu_star)) or 1.0
        above = mu_star - conf > floor
        frames.append(
            pd.DataFrame(
                {
                    "output": output,
                    "parameter": list(res["names"]),
                    "mu": res["mu"],
                    "mu_star": mu_star,
                    "mu_star_conf": res["mu_star_conf"],
                    "sigma": res["sigma"],
                    "noise_floor": floor,
                    "above_noise": above,
                    "mu_star_normalised": np.where(above, mu_star / top, 0.0),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def _filled(y: np.ndarray) -> np.ndarray | None:
    """Undefined outputs (e.g. no school ever took the practice up) at the output's mean."""
    if np.isnan(y).all():
        return None
    return np.where(np.isnan(y), np.nanmean(y), y)


def ranking(morris_table: pd.DataFrame, threshold: float) -> pd.DataFrame:
    """Parameters ranked by their largest normalised mu* over the outputs."""
    wide = morris_table.pivot(index="parameter", columns="output", values="mu_star_normalised")
    table = pd.DataFrame(
        {
            "parameter": wide.index,
            "score": wide.max(axis=1).to_numpy(),
            "drives": wide.idxmax(axis=1).to_numpy(),
        }
    )
    table = table.sort_values("score", ascending=False, ignore_index=True)
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    table["influential"] = table["score"] >= threshold
    return table


def sobol_design(space: Space, s: SensitivitySettings) -> np.ndarray:
    """Saltelli's extension of a scrambled Sobol sequence (first and total order only)."""
    from SALib.sample import sobol

    return sobol.sample(
        space.problem(), s.sobol.samples, calc_second_order=False, seed=s.design_seed
    )


def sobol_analysis(space: Space, means: pd.DataFrame, s: SensitivitySettings) -> pd.DataFrame:
    """First- and total-order indices with 95% bootstrap intervals, per output."""
    from SALib.analyze import sobol

    frames = []
    for output in means.columns:
        y = _filled(means[output].to_numpy())
        if y is None or np.var(y) == 0:
            continue
        res = sobol.analyze(
            space.problem(),
            y,
            calc_second_order=False,
            num_resamples=s.sobol.resamples,
            conf_level=0.95,
            seed=s.design_seed,
        )
        frames.append(
            pd.DataFrame(
                {
                    "output": output,
                    "parameter": space.keys,
                    "S1": res["S1"],
                    "S1_conf": res["S1_conf"],
                    "ST": res["ST"],
                    "ST_conf": res["ST_conf"],
                }
            )
        )
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def seed_noise(rows: pd.DataFrame, outputs: list[str], levels: int = 4) -> pd.DataFrame:
    """Share of each output's variance over the design that is seed noise in the point means.

    Within-point variance over seeds divided by the number of seeds (the noise left in a point's
    mean), against the variance of the point means.
    """
    out = []
    n = rows.groupby("point").size().iloc[0]
    for o in outputs:
        by = rows.groupby("point")[o]
        within = float(by.var(ddof=1).mean()) / n if n > 1 else float("nan")
        total = float(by.mean().var(ddof=1))
        out.append(
            {
                "output": o,
                "seeds_per_point": int(n),
                "noise_share": within / total if total > 0 else float("nan"),
                "mu_star_noise_floor": noise_floor(rows, o, levels),
            }
        )
    return pd.DataFrame(out)


# ---------------------------------------------------------------------------------------------
# Figures and report
# ---------------------------------------------------------------------------------------------


def morris_figure(table: pd.DataFrame, path: Path, label_top: int = 6) -> None:
    """mu* against sigma per output, the top parameters labelled."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    outputs = list(dict.fromkeys(table["output"]))
    cols = min(3, len(outputs))
    rows = -(-len(outputs) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5 * cols, 4.2 * rows), squeeze=False)
    for ax, output in zip(axes.ravel(), outputs, strict=False):
        t = table[table["output"] == output]
        ax.scatter(t["mu_star"], t["sigma"], s=18, color="#4477aa")
        for r in t.nlargest(label_top, "mu_star").itertuples():
            ax.annotate(r.parameter, (r.mu_star, r.sigma), fontsize=7, xytext=(3, 3),
                        textcoords="offset points")  # fmt: skip
        lim = max(t["mu_star"].max(), t["sigma"].max()) * 1.1 or 1
        ax.plot([0, lim], [0, lim], ls=":", color="grey", lw=0.8)
        ax.set_title(output, fontsize=10)
        ax.set_xlabel("μ* (mean |elementary effect|)")
        ax.set_ylabel("σ (interaction / non-linearity)")
    for ax in axes.ravel()[len(outputs) :]:
        ax.axis("off")
    fig.suptitle("Morris screening: μ* against σ (dotted: σ = μ*)")
    fig.tight_layout()
    save_figure(fig, path)


def sobol_figure(table: pd.DataFrame, path: Path) -> None:
    """First- and total-order indices with their 95% intervals, per output."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    outputs = list(dict.fromkeys(table["output"]))
    cols = min(3, len(outputs))
    rows = -(-len(outputs) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5.2 * cols, 3.8 * rows), squeeze=False)
    for ax, output in zip(axes.ravel(), outputs, strict=False):
        t = table[table["output"] == output].reset_index(drop=True)
        y = np.arange(len(t))
        ax.barh(y - 0.2, t["S1"], 0.4, xerr=t["S1_conf"], label="first order", color="#66ccee")
        ax.barh(y + 0.2, t["ST"], 0.4, xerr=t["ST_conf"], label="total order", color="#4477aa")
        ax.set_yticks(y, t["parameter"], fontsize=7)
        ax.invert_yaxis()
        ax.axvline(0, color="grey", lw=0.6)
        ax.set_title(output, fontsize=10)
        ax.set_xlabel("share of output variance")
    axes.ravel()[0].legend(fontsize=7)
    for ax in axes.ravel()[len(outputs) :]:
        ax.axis("off")
    fig.suptitle("Sobol indices with 95% bootstrap intervals")
    fig.tight_layout()
    save_figure(fig, path)


def _md_table(frame: pd.DataFrame, floatfmt: str = ".3f") -> str:
    cols = list(frame.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in frame.itertuples(index=False):
        cells = [format(v, floatfmt) if isinstance(v, float) else str(v) for v in row]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def report(
    s: SensitivitySettings,
    space: Space,
    morris_table: pd.DataFrame,
    rank: pd.DataFrame,
    sobol_table: pd.DataFrame,
    noise: pd.DataFrame,
    runs: dict[str, int],
    seconds: dict[str, float],
    meta: dict[str, Any],
) -> str:
    """The report: what was run, the parameters that matter and those that do not."""
    prov = meta["provenance"]
    outputs = list(s.outputs)
    mu = morris_table.pivot(index="parameter", columns="output", values="mu_star")
    top = rank.head(10).copy()
    for o in outputs:
        if o in mu.columns:
            top[f"μ* {o}"] = top["parameter"].map(mu[o])
    matter = rank[rank["influential"]]
    not_matter = rank[rank["score"] < s.influence_threshold / 2]
    lines = [
        f"# Sensitivity analysis: {s.name}",
        "",
        f"Scenario `{s.scenario}`, {s.years} years; arms: "
        + "; ".join(f"`{a}` = {' '.join(o)}" for a, o in s.arms.items())
        + f". Every design point runs every arm on the same {counted(s.seeds, 'seed')} "
        f"({s.seed_start}..{s.seed_start + s.seeds - 1}).",
        "",
        "Outputs: "
        + "; ".join(
            f"`{n}` = {o.outcome} of {o.arm}" + (f" minus {o.minus}" if o.minus else "")
            for n, o in s.outputs.items()
        )
        + ".",
        "",
        "## Runs",
        "",
        f"* Morris: {len(space.factors)} parameters, {s.morris.trajectories} trajectories, "
        f"{s.morris.levels} levels: {runs.get('morris_points', 0)} design points, "
        f"{runs.get('morris', 0)} model runs, {seconds.get('morris', 0):.0f} s.",
    ]
    if "sobol" in runs:
        lines.append(
            f"* Sobol: {runs.get('sobol_parameters', 0)} parameters, N = {s.sobol.samples}: "
            f"{runs['sobol_points']} design points, {runs['sobol']} model runs, "
            f"{seconds.get('sobol', 0):.0f} s."
        )
    lines += [
        "",
        f"Ranges: each parameter's declared plausible range (docs/PARAMETERS.md), else its "
        f"allowed range; the ranges used are in `parameters.csv`. Provenance: pln-sim "
        f"{prov['pln_sim']}, git {str(prov['git_sha'])[:10]}"
        + (" (uncommitted changes)" if prov.get("git_dirty") else "")
        + f", {prov['created_utc']}.",
        "",
        "## Morris screening: the ten most influential parameters",
        "",
        "Score: the largest μ* over the outputs, as a share of that output's largest μ*, "
        "counting an output only where the lower end of μ*'s 95% interval exceeds the μ* that "
        "seed noise alone would give (the noise floor, below); a parameter matters at a score of "
        f"{s.influence_threshold:g} or more.",
        "",
        _md_table(top),
        "",
        "![Morris](morris.png)",
        "",
        "## The parameters that matter",
        "",
        ", ".join(f"`{p}`" for p in matter["parameter"]) or "none above the threshold",
        "",
        f"## The parameters that do not, detectably (score below {s.influence_threshold / 2:g}: "
        "on no output does μ* stand out of the seed noise by that much)",
        "",
        ", ".join(f"`{p}`" for p in not_matter["parameter"]) or "none",
        "",
    ]
    if not sobol_table.empty:
        lines += [
            "## Sobol indices (first order S1, total order ST, 95% intervals)",
            "",
            "S1: the share of an output's variance a parameter explains alone; ST: with all its "
            "interactions. ST well above S1 means the parameter acts through interactions.",
            "",
        ]
        for o in dict.fromkeys(sobol_table["output"]):
            t = sobol_table[sobol_table["output"] == o].copy()
            t["S1 [95%]"] = [
                f"{a:.2f} [{a - c:.2f}, {a + c:.2f}]"
                for a, c in zip(t["S1"], t["S1_conf"], strict=True)
            ]
            t["ST [95%]"] = [
                f"{a:.2f} [{a - c:.2f}, {a + c:.2f}]"
                for a, c in zip(t["ST"], t["ST_conf"], strict=True)
            ]
            lines += [f"**{o}**", "", _md_table(t[["parameter", "S1 [95%]", "ST [95%]"]]), ""]
        lines += ["![Sobol](sobol.png)", ""]
    lines += [
        "## Seed noise",
        "",
        "The model is stochastic: each point's outputs are means over its seeds. The share of "
        "the variance of the point means that is seed noise (within-point variance / seeds, "
        "against the variance over the design) bounds what the parameters can explain: Sobol "
        "indices then sum to about one minus this share. The noise floor is the μ* a parameter "
        "with no effect would show from this noise (conservative: common seeds make it lower).",
        "",
        _md_table(noise),
        "",
    ]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# Running
# ---------------------------------------------------------------------------------------------


#: Settings a resumed analysis must share with the folder's (the executor, the stages and the
#: Sobol settings may differ: each Sobol sample size keeps its own design folder).
KEEP = (
    "scenario",
    "years",
    "seeds",
    "seed_start",
    "design_seed",
    "parameters",
    "exclude",
    "ranges",
    "normalise",
    "arms",
    "outputs",
    "influence_threshold",
    "morris",
)


#: What the Morris design and its evaluation depend on (its folder's fingerprint).
DESIGN = ("scenario", "years", "seeds", "seed_start", "design_seed", "normalise", "arms", "outputs")


def run_sensitivity(
    s: SensitivitySettings,
    progress: bool = True,
    evaluate: Any = None,
    argv: list[str] | None = None,
) -> Path:
    """Run (or resume) the analysis; return the output folder.

    ``evaluate`` replaces the model (a picklable callable mapping chunks of
    ``(point, values)`` to rows of outputs; used by the method's tests).
    """
    from experiments.executors import make_executor

    space = Space.from_schema(parameters_of(s), s.ranges)
    model = evaluate if evaluate is not None else evaluator(s)
    per_point = getattr(model, "runs_per_point", s.seeds)
    outputs = list(s.outputs)
    out = output_dir(s.out_dir, s.name)
    meta = provenance_record(s, "experiments.sensitivity", argv or [])
    check_resume(out, meta["settings"], KEEP)
    executor = make_executor(s.executor.name, s.executor.address, s.executor.n_jobs)
    runs: dict[str, int] = {}
    seconds: dict[str, float] = {}
    try:
        out.mkdir(parents=True, exist_ok=True)
        write_json_atomic(out / "meta.json", meta)
        with atomic_path(out / "parameters.csv") as tmp:
            space.table().to_csv(tmp, index=False)
        unit = morris_design(space, s)
        points = space.points(unit)
        t0 = time.perf_counter()
        rows = run_design(
            out / "morris",
            points,
            model,
            executor,
            s.executor.batch_size,
            per_point,
            fingerprint={"keys": space.keys, "settings": {k: meta["settings"][k] for k in DESIGN}},
            progress=progress,
            desc="morris",
        )
        seconds["morris"] = time.perf_counter() - t0
        runs["morris_points"] = len(points)
        runs["morris"] = len(points) * per_point
        means = point_means(rows, outputs, len(points))
        mtable = morris_analysis(space, unit, means, s, rows)
        rank = ranking(mtable, s.influence_threshold)
        noise = seed_noise(rows, outputs, s.morris.levels)
        stable = pd.DataFrame()
        if "sobol" in s.stages:
            chosen = rank[rank["influential"]]["parameter"].head(s.sobol.max_parameters).tolist()
            if len(chosen) >= 2:
                sub = Space([f for f in space.factors if f.key in chosen])
                sunit = sobol_design(sub, s)
                spoints = sub.points(sunit)
                t0 = time.perf_counter()
                srows = run_design(
                    out / f"sobol_n{s.sobol.samples}_k{len(sub.factors)}",  # one folder per design
                    spoints,
                    model,
                    executor,
                    s.executor.batch_size,
                    per_point,
                    fingerprint={"keys": sub.keys, "n": s.sobol.samples},
                    progress=progress,
                    desc="sobol",
                )
                seconds["sobol"] = time.perf_counter() - t0
                runs.update(
                    sobol_points=len(spoints),
                    sobol=len(spoints) * per_point,
                    sobol_parameters=len(sub.factors),
                )
                stable = sobol_analysis(sub, point_means(srows, outputs, len(spoints)), s)
    finally:
        executor.close()
    with atomic_path(out / "morris.csv") as tmp:
        mtable.to_csv(tmp, index=False)
    with atomic_path(out / "ranking.csv") as tmp:
        rank.to_csv(tmp, index=False)
    with atomic_path(out / "seed_noise.csv") as tmp:
        noise.to_csv(tmp, index=False)
    morris_figure(mtable, out / "morris.png")
    if not stable.empty:
        with atomic_path(out / "sobol.csv") as tmp:
            stable.to_csv(tmp, index=False)
        sobol_figure(stable, out / "sobol.png")
    text = report(s, space, mtable, rank, stable, noise, runs, seconds, meta)
    write_text_atomic(out / "report.md", text)
    write_json_atomic(
        out / "summary.json",
        {
            "kind": "sensitivity",
            "name": s.name,
            "scenario": s.scenario,
            "years": s.years,
            "arms": {a: list(o) for a, o in s.arms.items()},
            "outputs": list(s.outputs),
            "matter": rank[rank["influential"]]["parameter"].tolist(),
            "top": rank.head(10)[["parameter", "score", "drives"]].to_dict("records"),
            "runs": runs,
            "seconds": seconds,
            "provenance": meta["provenance"],
        },
    )
    return out


def _run(overrides: list[str], progress: bool) -> Path:
    return run_sensitivity(build_settings(overrides), progress=progress, argv=overrides)


main = cli("python -m experiments.sensitivity", __doc__.split("\n\n")[0], _run)

if __name__ == "__main__":
    sys.exit(main())
