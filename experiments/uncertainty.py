"""A comparison rerun over posterior draws: parameter uncertainty beside seed noise.

    python -m experiments.uncertainty uncertainty=posterior draws=50 [posterior=FOLDER] \
        [comparison settings: experiment=..., arms=[...], seeds=..., scenario=..., ...]

Draws ``draws`` parameter sets from a calibration's posterior (``posterior``, default
``results/calibration/default``; by weight, ``draw_seed``) and runs every arm of the comparison
(the same settings as ``python -m experiments.compare``) for each draw on the same ``seeds``
(common random numbers across arms and draws). For each outcome and arm against the baseline:
the mean paired difference, its spread over the draws (parameter uncertainty: the 95% interval of
the draws' means), the seed noise within a draw, and the share of the variance of a single run's
paired difference due to the parameters.

Writes ``results/uncertainty/<name>/``: ``draws.csv`` (the draws' parameter values), ``runs.csv``
(one row per draw and seed), ``decomposition.csv``, ``uncertainty.png``, ``report.md`` and
``meta.json``. Resumable through the same chunked, atomic writes as the other analyses.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from experiments.exploration import (
    ROOT,
    ModelEvaluator,
    OutputSpec,
    check_resume,
    cli,
    run_design,
    settings_dict,
)
from sim.config import ConfigError
from sim.fileio import atomic_path, save_figure, write_json_atomic, write_text_atomic

__all__ = ["OUTCOMES", "split_overrides", "run_uncertainty", "decompose", "main"]

#: Outcomes whose paired differences are decomposed.
OUTCOMES = ("spread_final", "uptake_final", "pupil_effect")
OWN = {"uncertainty": "posterior", "draws": "50", "posterior": "results/calibration/default",
       "draw_seed": "0", "out_dir": "results/uncertainty"}  # fmt: skip


def split_overrides(overrides: list[str]) -> tuple[dict[str, str], list[str]]:
    """Split overrides into the uncertainty settings and the comparison's."""
    own = dict(OWN)
    rest = []
    for ov in overrides:
        key, sep, value = ov.partition("=")
        if sep and key in OWN:
            own[key] = value
        else:
            rest.append(ov)
    if own["uncertainty"] != "posterior":
        raise ConfigError(f"uncertainty = {own['uncertainty']!r} is not allowed; choose: posterior")
    for key in ("draws", "draw_seed"):
        if not own[key].lstrip("-").isdigit():
            raise ConfigError(f"{key} must be a whole number (got {own[key]!r})")
    return own, rest


def decompose(rows: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Per column: mean, parameter (between-draw) and seed (within-draw) variation."""
    out = []
    for c in columns:
        by = rows.groupby("point")[c]
        means = by.mean()
        n = int(by.size().iloc[0])
        within = float(by.var(ddof=1).mean()) if n > 1 else float("nan")
        between = float(means.var(ddof=1))
        param_var = max(between - (within / n if n > 1 else 0.0), 0.0)
        lo, hi = np.quantile(means, [0.025, 0.975])
        total = param_var + (within if n > 1 else 0.0)
        out.append(
            {
                "quantity": c,
                "mean": float(rows[c].mean()),
                "draws_low_95": float(lo),
                "draws_high_95": float(hi),
                "parameter_sd": float(np.sqrt(param_var)),
                "seed_sd": float(np.sqrt(within)) if n > 1 else float("nan"),
                "parameter_share": param_var / total if total > 0 else float("nan"),
                "draws": int(len(means)),
                "seeds_per_draw": n,
            }
        )
    return pd.DataFrame(out)


def run_uncertainty(overrides: list[str], progress: bool = True) -> Path:
    """Run (or resume) a comparison over posterior draws; return the output folder."""
    from experiments.calibrate import load_posterior, posterior_draws, shared_keys
    from experiments.executors import make_executor
    from experiments.exploration import Space
    from experiments.settings import arm_configs, build_settings

    own, rest = split_overrides(overrides)
    s = build_settings(rest)
    posterior = load_posterior(own["posterior"])
    draws = posterior_draws(posterior, int(own["draws"]), int(own["draw_seed"]))
    keys = shared_keys(posterior)
    space = Space.from_schema(keys)
    points = pd.DataFrame([dict(o.split("=", 1) for o in d) for d in draws], columns=keys)
    for f in space.factors:
        points[f.key] = points[f.key].astype(int if f.kind == "int" else float)
    configs = arm_configs(s)
    outputs = {}
    for arm in s.arms:
        for o in OUTCOMES:
            outputs[f"{arm}:{o}"] = OutputSpec(o, arm)
            if arm != s.baseline:
                outputs[f"{arm}-{s.baseline}:{o}"] = OutputSpec(o, arm, s.baseline)
    model = ModelEvaluator(configs, outputs, s.seed_list)
    model.check(points)
    base = Path(own["out_dir"])
    out = (base if base.is_absolute() else ROOT / base) / s.run_name
    settings = {**settings_dict(s), **own, "posterior_file": posterior.attrs["file"]}
    keep = ("experiment", "scenario", "years", "seeds", "seed_start", "arm_overrides", "arms",
            "posterior", "posterior_file", "draws", "draw_seed")  # fmt: skip
    check_resume(out, settings, keep)
    executor = make_executor(s.executor.name, s.executor.address, s.executor.n_jobs)
    from sim.provenance import provenance

    meta = {
        "settings": settings,
        "provenance": provenance(command=["python", "-m", "experiments.uncertainty", *overrides]),
    }
    try:
        out.mkdir(parents=True, exist_ok=True)
        write_json_atomic(out / "meta.json", meta)
        with atomic_path(out / "draws.csv") as tmp:
            points.to_csv(tmp, index_label="draw")
        t0 = time.perf_counter()
        rows = run_design(
            out / "runs",
            points,
            model,
            executor,
            max(1, s.executor.batch_size // max(len(s.seed_list), 1)),
            model.runs_per_point,
            fingerprint=settings,
            progress=progress,
            desc="draws",
        )
        seconds = time.perf_counter() - t0
    finally:
        executor.close()
    with atomic_path(out / "runs.csv") as tmp:
        rows.rename(columns={"point": "draw"}).to_csv(tmp, index=False)
    table = decompose(rows, list(outputs))
    with atomic_path(out / "decomposition.csv") as tmp:
        table.to_csv(tmp, index=False)
    _figure(rows, [c for c in outputs if "-" in c.split(":")[0]], out / "uncertainty.png")
    write_text_atomic(out / "report.md", _report(s, own, table, len(rows), seconds, meta))
    return out


def _figure(rows: pd.DataFrame, columns: list[str], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if not columns:
        return
    fig, axes = plt.subplots(1, len(columns), figsize=(4.2 * len(columns), 3.6), squeeze=False)
    for ax, c in zip(axes.ravel(), columns, strict=True):
        by = rows.groupby("point")[c]
        means = by.mean().sort_values()
        order = {p: i for i, p in enumerate(means.index)}
        ax.scatter([order[p] for p in rows["point"]], rows[c], s=4, color="#bbbbbb",
                   label="single seeds")  # fmt: skip
        ax.plot(range(len(means)), means.to_numpy(), "o", ms=3, color="#4477aa",
                label="draw mean")  # fmt: skip
        ax.axhline(0, color="grey", lw=0.6)
        ax.set_title(c, fontsize=9)
        ax.set_xlabel("posterior draw (sorted)")
    axes.ravel()[0].legend(fontsize=7)
    fig.tight_layout()
    save_figure(fig, path)


def _report(s, own, table, n_rows, seconds, meta) -> str:
    prov = meta["provenance"]
    diff = table[table["quantity"].str.contains("-")]
    lines = [
        f"# {s.run_name} over posterior draws",
        "",
        f"{own['draws']} parameter sets drawn from the posterior in `{own['posterior']}` "
        f"(`{meta['settings']['posterior_file']}`"
        + (
            ": the draws where the calibration's second-stage patterns hold"
            if meta["settings"]["posterior_file"] == "posterior_filtered.csv"
            else ""
        )
        + "); each "
        f"runs every arm ({', '.join(s.arms)}) on the same {s.seeds} seeds: {n_rows} draw-seed "
        f"rows, {n_rows * len(s.arms)} model runs, {seconds:.0f} s. Provenance: pln-sim "
        f"{prov['pln_sim']}, git {str(prov['git_sha'])[:10]}, {prov['created_utc']}.",
        "",
        "Parameter uncertainty: the spread of the paired difference between posterior draws "
        "(each draw's mean over its seeds; the 95% range of those means, and their standard "
        "deviation corrected for the seed noise left in each mean). Seed noise: the standard "
        "deviation of a single run's paired difference within a draw. Parameter share: the "
        "share of a single run's variance due to the parameters.",
        "",
        "| paired difference | mean | 95% range over draws | parameter sd | seed sd | "
        "parameter share |",
        "|---|---|---|---|---|---|",
    ]
    for r in diff.itertuples():
        lines.append(
            f"| {r.quantity} | {r.mean:+.3f} | {r.draws_low_95:+.3f} to {r.draws_high_95:+.3f} | "
            f"{r.parameter_sd:.3f} | {r.seed_sd:.3f} | {r.parameter_share:.0%} |"
        )
    lines += ["", "![draws](uncertainty.png)", ""]
    return "\n".join(lines)


main = cli("python -m experiments.uncertainty", __doc__.split("\n\n")[0], run_uncertainty)

if __name__ == "__main__":
    sys.exit(main())
