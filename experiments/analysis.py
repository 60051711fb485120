"""Statistics of a paired comparison: per-arm summaries, paired differences, replications.

Arms share seeds (common random numbers), so each run of an arm is matched with the run of the
baseline arm that has the same seed, and differences are paired.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

__all__ = [
    "HEADLINE",
    "OUTCOMES",
    "summary_table",
    "paired_table",
    "replications_table",
    "school_wins_table",
]

#: Outcomes tabulated per arm and as paired differences.
OUTCOMES = (
    "uptake_final",
    "use_final",
    "spread_final",
    "mean_spread",
    "pupil_effect",
    "pupils_reached",
    "teacher_hours",
    "hours_per_adopter",
    "schools_lapsed_share",
    "resistant_peak",
    "participants_knowledge",
    "weeks_to_half_uptake",
    # Sustainability checkpoints (support_duration runs five years): present when the horizon
    # reaches them.
    "uptake_year_3",
    "spread_year_3",
    "uptake_year_5",
    "spread_year_5",
)

#: Headline outcomes for the replication rule.
HEADLINE = ("uptake_final", "spread_final", "pupil_effect")

#: Target 95% CI half-width on uptake (the replication rule).
TARGET_HALF_WIDTH = 0.02


def _t_ci(values: np.ndarray) -> tuple[float, float, float, float]:
    values = values[~np.isnan(values)]
    n = len(values)
    if n == 0:
        return math.nan, math.nan, math.nan, math.nan
    mean = float(values.mean())
    if n < 2:
        return mean, math.nan, math.nan, math.nan
    sd = float(values.std(ddof=1))
    half = float(stats.t.ppf(0.975, n - 1) * sd / math.sqrt(n))
    return mean, sd, mean - half, mean + half


def _present(runs: pd.DataFrame, outcomes: Sequence[str]) -> list[str]:
    return [o for o in outcomes if o in runs.columns]


def summary_table(runs: pd.DataFrame, outcomes: Sequence[str] = OUTCOMES) -> pd.DataFrame:
    """Per arm and outcome: n, mean, sd and 95% t interval (runs with no value left out)."""
    rows = []
    for arm, group in runs.groupby("arm", sort=False):
        for outcome in _present(runs, outcomes):
            values = group[outcome].to_numpy(float)
            mean, sd, lo, hi = _t_ci(values)
            rows.append(
                {
                    "arm": arm,
                    "outcome": outcome,
                    "n": int((~np.isnan(values)).sum()),
                    "mean": mean,
                    "sd": sd,
                    "ci_low": lo,
                    "ci_high": hi,
                }
            )
    return pd.DataFrame(rows)


def _matched(runs: pd.DataFrame, arm: str, baseline: str, outcome: str) -> np.ndarray:
    a = runs[runs["arm"] == arm].set_index("seed")[outcome]
    b = runs[runs["arm"] == baseline].set_index("seed")[outcome]
    joined = pd.concat([a.rename("a"), b.rename("b")], axis=1, join="inner").dropna()
    return joined.to_numpy(float)


def paired_table(
    runs: pd.DataFrame, baseline: str, outcomes: Sequence[str] = OUTCOMES
) -> pd.DataFrame:
    """Per non-baseline arm and outcome: the paired difference (arm minus baseline, same seed).

    Columns: mean difference and its 95% t interval, Wilcoxon signed-rank p (two-sided; NaN when
    every difference is 0), standardised effect size (Cohen's d_z: mean / sd of differences),
    the variance of paired differences, the variance an unpaired design would have
    (var(arm) + var(baseline)) and their ratio: the gain from common random numbers.
    """
    rows = []
    for arm in runs["arm"].drop_duplicates():
        if arm == baseline:
            continue
        for outcome in _present(runs, outcomes):
            pairs = _matched(runs, arm, baseline, outcome)
            n = len(pairs)
            if n < 2:
                continue
            diff = pairs[:, 0] - pairs[:, 1]
            mean, sd, lo, hi = _t_ci(diff)
            p = stats.wilcoxon(diff).pvalue if np.any(diff != 0) else math.nan
            var_paired = float(diff.var(ddof=1))
            var_unpaired = float(pairs[:, 0].var(ddof=1) + pairs[:, 1].var(ddof=1))
            rows.append(
                {
                    "arm": arm,
                    "baseline": baseline,
                    "outcome": outcome,
                    "n": n,
                    "mean_diff": mean,
                    "ci_low": lo,
                    "ci_high": hi,
                    "wilcoxon_p": float(p),
                    "effect_size": mean / sd if sd and sd > 0 else math.nan,
                    "var_paired": var_paired,
                    "var_unpaired": var_unpaired,
                    "crn_gain": var_unpaired / var_paired if var_paired > 0 else math.inf,
                }
            )
    return pd.DataFrame(rows)


def replications_table(runs: pd.DataFrame, outcomes: Sequence[str] = HEADLINE) -> pd.DataFrame:
    """Per arm and headline outcome: the 95% CI half-width now, and seeds needed for ±0.02.

    Seeds needed: the smallest n with ``t_{0.975, n-1} * sd / sqrt(n) <= 0.02``, using the sd
    measured here.
    """
    rows = []
    for arm, group in runs.groupby("arm", sort=False):
        for outcome in _present(runs, outcomes):
            values = group[outcome].dropna().to_numpy(float)
            n = len(values)
            if n < 2:
                continue
            mean, sd, lo, hi = _t_ci(values)
            rows.append(
                {
                    "arm": arm,
                    "outcome": outcome,
                    "n": n,
                    "ci_half_width": (hi - lo) / 2,
                    "seeds_for_0.02": seeds_needed(sd, TARGET_HALF_WIDTH),
                }
            )
    return pd.DataFrame(rows)


def seeds_needed(sd: float, half_width: float) -> int:
    """Smallest n whose 95% t interval half-width is at most ``half_width``."""
    if not sd or sd <= 0:
        return 2
    n = max(2, math.ceil((1.96 * sd / half_width) ** 2))
    while stats.t.ppf(0.975, n - 1) * sd / math.sqrt(n) > half_width:
        n += 1
    return n


def school_wins_table(
    schools: pd.DataFrame, baseline: str, outcome: str = "uptake"
) -> pd.DataFrame:
    """Per non-baseline arm: the share of schools where it did better than the baseline.

    Schools are matched by seed and school index (the same school in the same model world), on
    ``outcome`` at the last recorded week. Columns: ``arm``, ``baseline``, ``outcome``,
    ``schools`` (matched school-runs), ``share_arm_better``, ``share_baseline_better`` and
    ``share_tied`` (equal to within 1e-9). An average difference can hide that each strategy
    wins in some schools; this says in how many.
    """
    columns = [
        "arm",
        "baseline",
        "outcome",
        "schools",
        "share_arm_better",
        "share_baseline_better",
        "share_tied",
    ]
    if schools is None or schools.empty or outcome not in schools.columns:
        return pd.DataFrame(columns=columns)
    last = schools[schools["week"] == schools["week"].max()]
    base = last[last["arm"] == baseline].set_index(["seed", "school"])[outcome]
    rows = []
    for arm in last["arm"].drop_duplicates():
        if arm == baseline:
            continue
        mine = last[last["arm"] == arm].set_index(["seed", "school"])[outcome]
        joined = pd.concat([mine.rename("a"), base.rename("b")], axis=1, join="inner").dropna()
        if joined.empty:
            continue
        diff = (joined["a"] - joined["b"]).to_numpy(float)
        tied = np.abs(diff) <= 1e-9
        rows.append(
            {
                "arm": arm,
                "baseline": baseline,
                "outcome": outcome,
                "schools": len(diff),
                "share_arm_better": float(((diff > 0) & ~tied).mean()),
                "share_baseline_better": float(((diff < 0) & ~tied).mean()),
                "share_tied": float(tied.mean()),
            }
        )
    return pd.DataFrame(rows, columns=columns)
