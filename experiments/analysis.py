"""Statistics of a paired comparison: per-arm summaries, paired differences, replications.

Arms share seeds (common random numbers), so each run of an arm is matched with the run of the
baseline arm that has the same seed, and differences are paired. Which outcomes are tabulated,
their labels and units, and the interval each one gets (Student's t, or a BCa bootstrap for
bounded or discrete outcomes) are declared in :mod:`sim.outcome_registry`.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from sim.outcome_registry import HEADLINE, TABULATED, outcome

__all__ = [
    "BOOTSTRAP_RESAMPLES",
    "HEADLINE",
    "OUTCOMES",
    "mean_interval",
    "paired_table",
    "replications_table",
    "school_wins_table",
    "seeds_needed",
    "summary_table",
]

#: Outcomes tabulated per arm and as paired differences (declared in sim.outcome_registry).
OUTCOMES = TABULATED

#: Target 95% CI half-width on uptake (the replication rule).
TARGET_HALF_WIDTH = 0.02
#: Bootstrap resamples, and the seed of the bootstrap's own random numbers (tables reproduce).
BOOTSTRAP_RESAMPLES = 9999
BOOTSTRAP_SEED = 0


def mean_interval(
    values: np.ndarray | Sequence[float], method: str = "t", confidence: float = 0.95
) -> tuple[float, float]:
    """Confidence interval of the mean of ``values`` (NaNs dropped).

    ``method="t"``: ``scipy.stats.ttest_1samp(...).confidence_interval``; ``"bootstrap"``:
    ``scipy.stats.bootstrap`` (BCa, 9,999 resamples, fixed seed). ``(nan, nan)`` with fewer than
    two values; ``(x, x)`` when every value is ``x`` (no spread, nothing to resample).
    """
    x = np.asarray(values, float)
    x = x[~np.isnan(x)]
    if len(x) < 2:
        return math.nan, math.nan
    if np.all(x == x[0]):
        return float(x[0]), float(x[0])
    if method == "t":
        with warnings.catch_warnings():
            # Values equal up to rounding: scipy warns of precision loss; the interval is then
            # as narrow as the values' spread, which is what it should be.
            warnings.filterwarnings("ignore", "Precision loss", RuntimeWarning)
            ci = stats.ttest_1samp(x, 0.0).confidence_interval(confidence)
    elif method == "bootstrap":
        ci = stats.bootstrap(
            (x,),
            np.mean,
            confidence_level=confidence,
            n_resamples=BOOTSTRAP_RESAMPLES,
            method="BCa",
            rng=np.random.default_rng(BOOTSTRAP_SEED),
        ).confidence_interval
    else:
        raise ValueError(f"interval method {method!r}: allowed 't', 'bootstrap'")
    return float(ci.low), float(ci.high)


def _present(runs: pd.DataFrame, outcomes: Sequence[str]) -> list[str]:
    return [o for o in outcomes if o in runs.columns]


def _years(runs: pd.DataFrame) -> int | None:
    """The runs' horizon in years, if they all share one (labels say "after 3 school years")."""
    if "cfg.years" in runs.columns and runs["cfg.years"].nunique() == 1:
        return int(runs["cfg.years"].iloc[0])
    return None


def _described(outcome_name: str, years: int | None) -> dict[str, str]:
    o = outcome(outcome_name)
    return {"label": o.label_for(years), "unit": o.unit, "interval": o.interval}


def summary_table(runs: pd.DataFrame, outcomes: Sequence[str] = OUTCOMES) -> pd.DataFrame:
    """Per arm and outcome: label, unit, n, mean, sd and 95% interval (undefined runs left out).

    The interval is the outcome's declared method (column ``interval``).
    """
    rows = []
    years = _years(runs)
    for arm, group in runs.groupby("arm", sort=False):
        for name in _present(runs, outcomes):
            values = group[name].dropna().to_numpy(float)
            info = _described(name, years)
            lo, hi = mean_interval(values, info["interval"])
            rows.append(
                {
                    "arm": arm,
                    "outcome": name,
                    **info,
                    "n": len(values),
                    "mean": float(values.mean()) if len(values) else math.nan,
                    "sd": float(values.std(ddof=1)) if len(values) > 1 else math.nan,
                    "ci_low": lo,
                    "ci_high": hi,
                }
            )
    return pd.DataFrame(rows)


def _matched(runs: pd.DataFrame, arm: str, baseline: str, outcome_name: str) -> np.ndarray:
    a = runs[runs["arm"] == arm].set_index("seed")[outcome_name]
    b = runs[runs["arm"] == baseline].set_index("seed")[outcome_name]
    joined = pd.concat([a.rename("a"), b.rename("b")], axis=1, join="inner").dropna()
    return joined.to_numpy(float)


def paired_table(
    runs: pd.DataFrame, baseline: str, outcomes: Sequence[str] = OUTCOMES
) -> pd.DataFrame:
    """Per non-baseline arm and outcome: the paired difference (arm minus baseline, same seed).

    Columns: label, unit and interval method of the outcome; mean difference and its 95%
    interval (the outcome's declared method, applied to the differences), Wilcoxon signed-rank p
    (two-sided; NaN when every difference is 0), standardised effect size (Cohen's d_z: mean /
    sd of differences), the variance of paired differences, the variance an unpaired design
    would have (var(arm) + var(baseline)) and their ratio: the gain from common random numbers.
    """
    rows = []
    years = _years(runs)
    for arm in runs["arm"].drop_duplicates():
        if arm == baseline:
            continue
        for name in _present(runs, outcomes):
            pairs = _matched(runs, arm, baseline, name)
            if len(pairs) < 2:
                continue
            info = _described(name, years)
            diff = pairs[:, 0] - pairs[:, 1]
            lo, hi = mean_interval(diff, info["interval"])
            mean, sd = float(diff.mean()), float(diff.std(ddof=1))
            var_unpaired = float(pairs[:, 0].var(ddof=1) + pairs[:, 1].var(ddof=1))
            rows.append(
                {
                    "arm": arm,
                    "baseline": baseline,
                    "outcome": name,
                    **info,
                    "n": len(pairs),
                    "mean_diff": mean,
                    "ci_low": lo,
                    "ci_high": hi,
                    "wilcoxon_p": stats.wilcoxon(diff).pvalue if np.any(diff != 0) else math.nan,
                    "effect_size": mean / sd if sd > 0 else math.nan,
                    "var_paired": sd**2,
                    "var_unpaired": var_unpaired,
                    "crn_gain": var_unpaired / sd**2 if sd > 0 else math.inf,
                }
            )
    return pd.DataFrame(rows)


def replications_table(runs: pd.DataFrame, outcomes: Sequence[str] = HEADLINE) -> pd.DataFrame:
    """Per arm and headline outcome: the 95% CI half-width now, and seeds needed for ±0.02.

    The half-width is half the outcome's declared interval; seeds needed: the smallest n with
    ``t_{0.975, n-1} * sd / sqrt(n) <= 0.02``, using the sd measured here.
    """
    rows = []
    for arm, group in runs.groupby("arm", sort=False):
        for name in _present(runs, outcomes):
            values = group[name].dropna().to_numpy(float)
            if len(values) < 2:
                continue
            lo, hi = mean_interval(values, outcome(name).interval)
            rows.append(
                {
                    "arm": arm,
                    "outcome": name,
                    "n": len(values),
                    "ci_half_width": (hi - lo) / 2,
                    "seeds_for_0.02": seeds_needed(values.std(ddof=1), TARGET_HALF_WIDTH),
                }
            )
    return pd.DataFrame(rows)


def seeds_needed(sd: float, half_width: float) -> int:
    """Smallest n whose 95% t interval half-width is at most ``half_width`` (a planning rule)."""
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
