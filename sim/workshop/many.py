"""Many runs for the room: the same choices over many seeds, through the project's comparison code.

One run is one roll of the dice. :func:`run_band` runs each side's choices (as set up) over
``n_seeds`` consecutive seeds with :mod:`experiments.executors` (the batches of
``experiments.compare``), then summarises them with :mod:`experiments.analysis`: per week, the
middle 80% of runs (10th to 90th percentile) and the median of the share of staff using it; at the
end, each side's mean with its 95% interval, and side by side the paired difference (same seeds,
common random numbers) and how often each side came out ahead. Decisions made during the live
run are not part of these runs: the band shows the choices as set up.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from experiments.analysis import paired_table, summary_table
from experiments.cells import batches
from experiments.executors import make_executor
from sim.compose import build_config
from sim.workshop.session import Controls

__all__ = ["Band", "run_band", "DEFAULT_SEEDS"]

#: Seeds per side for "Run 50 seeds".
DEFAULT_SEEDS = 50
_BATCH = 5


@dataclass(frozen=True)
class Band:
    """Outcomes of many seeds for each side.

    Attributes:
        controls: The controls the runs were made with.
        seeds: Seeds per side.
        names: Display names of the sides.
        weekly: Per side, (10th percentile, median, 90th percentile) of % using it, per week.
        summary: ``experiments.analysis.summary_table`` of the final outcomes.
        paired: ``experiments.analysis.paired_table`` (B minus A), side by side only.
        runs: One row per side and seed (``experiments.cells.run_batch``'s runs table).
        b_ahead: Seeds where B ended with more staff using it than A (side by side only).
        a_ahead: Seeds where A ended ahead.

    """

    controls: Controls
    seeds: int
    names: tuple[str, ...]
    weekly: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]]
    summary: pd.DataFrame
    paired: pd.DataFrame | None
    runs: pd.DataFrame
    b_ahead: int = 0
    a_ahead: int = 0

    def text(self) -> str:
        """The band in words, e.g. 'Over 50 seeds: Start small 38% using it at the end ...'."""
        parts = []
        for i, name in enumerate(self.names):
            low, _, high = (100 * v[-1] for v in self.weekly[i])
            row = self.summary[
                (self.summary["arm"] == "AB"[i]) & (self.summary["outcome"] == "uptake_final")
            ].iloc[0]
            parts.append(
                f"{name} {100 * row['mean']:.0f}% using it at the end "
                f"(95% interval of the mean {100 * row['ci_low']:.0f} to {100 * row['ci_high']:.0f}%; "
                f"middle 80% of runs {low:.0f} to {high:.0f}%)"
            )
        text = f"Over {self.seeds} seeds (the same choices, different luck): " + "; ".join(parts)
        if self.paired is not None and not self.paired.empty:
            row = self.paired[self.paired["outcome"] == "uptake_final"].iloc[0]
            text += (
                f". {self.names[1]} ahead in {self.b_ahead} of {self.seeds} paired runs, "
                f"{self.names[0]} in {self.a_ahead}; {self.names[1]} minus {self.names[0]}: "
                f"{100 * row['mean_diff']:+.1f} points on average (95% interval "
                f"{100 * row['ci_low']:+.1f} to {100 * row['ci_high']:+.1f})"
            )
        return text + "."


def run_band(
    controls: Controls,
    names: tuple[str, ...],
    n_seeds: int = DEFAULT_SEEDS,
    n_jobs: int = 2,
    progress: Callable[[float], None] | None = None,
) -> Band:
    """Run each side's choices over ``n_seeds`` seeds from the controls' seed; summarise them.

    Args:
        controls: The page's controls (scenario, seed, sides, levers as set up).
        names: Display names of the sides.
        n_seeds: Seeds per side.
        n_jobs: Worker processes (joblib, as ``experiments.compare`` uses).
        progress: Called with the share of runs done.

    """
    seeds = list(range(controls.seed, controls.seed + n_seeds))
    executor = make_executor("local", n_jobs=n_jobs)
    runs, series = [], []
    done, total = 0, n_seeds * len(controls.sides)
    try:
        configs = [
            build_config(controls.scenario, controls.seed, controls.overrides(side))
            for side in controls.sides
        ]
        # Both sides of a batch of seeds in one task, as experiments.compare runs its arms.
        tasks = [
            [(i, "AB"[i], config, batch) for i, config in enumerate(configs)]
            for batch in batches(seeds, _BATCH)
        ]
        for finished in executor.run(tasks):
            for _, seeds_done, tables in finished:
                runs.append(tables["runs"])
                series.append(tables["timeseries"][["arm", "seed", "week", "uptake"]])
                done += len(seeds_done)
            if progress is not None:
                progress(done / total)
    finally:
        executor.close()
    run_table = pd.concat(runs, ignore_index=True)
    weekly_table = pd.concat(series, ignore_index=True)
    weekly = {}
    for i in range(len(controls.sides)):
        by_week = weekly_table[weekly_table["arm"] == "AB"[i]].groupby("week")["uptake"]
        weekly[i] = tuple(by_week.quantile(q).sort_index().to_numpy() for q in (0.1, 0.5, 0.9))
    outcomes = ("uptake_final", "spread_final", "resistant_peak", "pupils_reached")
    summary = summary_table(run_table, outcomes)
    paired, a_ahead, b_ahead = None, 0, 0
    if len(controls.sides) == 2:
        paired = paired_table(run_table, baseline="A", outcomes=outcomes)
        final = run_table.pivot(index="seed", columns="arm", values="uptake_final")
        b_ahead = int((final["B"] > final["A"]).sum())
        a_ahead = int((final["A"] > final["B"]).sum())
    return Band(controls, n_seeds, names, weekly, summary, paired, run_table, b_ahead, a_ahead)
