"""Pattern 7's high-trust half across the calibration posterior (docs/ODD.md §11.4).

    .venv/bin/python scripts/pattern7_across_posterior.py [--points 64] [--seeds 40] [--n-jobs 2]

Pattern 7 says start small loses to a whole-staff launch on 3-year spread when trust is high and
resistance low. At the shipped defaults it does not (a known miss, §11.4). This script asks whether
that is a matter of the calibrated values: it draws a Latin hypercube over the 95% posterior
intervals of the calibrated parameters (§8.1) and, at each point, runs pattern 7's high-trust arms
exactly as ``experiments.patterns.no_universal_winner`` does (same overrides, same paired seeds,
primaries and secondaries). At the points where the high-trust half holds in both school types it
also runs the low-trust half. It prints each point and a summary; it writes nothing.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

import numpy as np
from scipy.stats import qmc

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from experiments.executors import LocalExecutor  # noqa: E402
from experiments.exploration import Space  # noqa: E402
from experiments.patterns import (  # noqa: E402
    HIGH_TRUST,
    LOW_TRUST,
    SCHOOL_TYPES,
    paired_ci,
    run_arm,
)

#: The calibrated shared parameters and their 95% posterior intervals (docs/ODD.md §8.1).
POSTERIOR_95 = {
    "practice.fit_mean": (0.53, 0.84),
    "practice.quality_rate": (0.10, 0.20),
    "decision.threshold_mean": (0.21, 0.47),
    "practice.trial_weeks_max": (16, 37),
    "practice.q_adopt": (0.40, 0.59),
    "practice.lapse_base": (0.0015, 0.0091),
}


def design(points: int, seed: int) -> list[list[str]]:
    """A Latin hypercube over the intervals, as each point's command-line overrides."""
    space = Space.from_schema(list(POSTERIOR_95), ranges=POSTERIOR_95)
    unit = qmc.LatinHypercube(d=len(POSTERIOR_95), seed=seed).random(points)
    rows = space.points(unit).to_dict("records")
    return [[f"{key}={value:.6g}" for key, value in row.items()] for row in rows]


def gaps(args: tuple[list[str], list[str], int]) -> dict[str, tuple[float, float, float]]:
    """Start small minus whole staff in 3-year spread (mean, 95% CI) in each school type."""
    point, climate, n_seeds = args
    logging.getLogger("MESA").setLevel(logging.WARNING)
    out = {}
    for kind, scenario in SCHOOL_TYPES.items():
        small = run_arm(["strategy=start_small", *climate, *point], range(n_seeds), scenario)
        whole = run_arm(["strategy=whole_staff", *climate, *point], range(n_seeds), scenario)
        out[kind] = paired_ci(small["spread_final"] - whole["spread_final"])
    return out


def main(argv: list[str] | None = None) -> int:
    """Run the design and print each point's gaps and the summary; exit status 2 on bad input."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=64, help="Latin hypercube points (>= 2)")
    parser.add_argument("--seeds", type=int, default=40, help="paired seeds per arm (>= 2)")
    parser.add_argument("--n-jobs", type=int, default=2, help="local worker processes (>= 1)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the Latin hypercube")
    args = parser.parse_args(argv)
    for name, least in (("points", 2), ("seeds", 2), ("n_jobs", 1)):
        if getattr(args, name) < least:
            parser.error(f"--{name.replace('_', '-')} must be at least {least}")
    points = design(args.points, args.seed)
    executor = LocalExecutor(n_jobs=args.n_jobs)
    start = time.perf_counter()
    high = dict(executor.map(gaps, [(p, HIGH_TRUST, args.seeds) for p in points]))
    both = [i for i in range(len(points)) if all(high[i][k][2] < 0 for k in SCHOOL_TYPES)]
    low = dict(executor.map(gaps, [(points[i], LOW_TRUST, args.seeds) for i in both]))
    low = {both[j]: v for j, v in low.items()}
    executor.close()
    elapsed = time.perf_counter() - start

    print(
        "  ".join(k.split(".")[1] for k in POSTERIOR_95), "| high trust: start small - whole staff"
    )
    for i in range(len(points)):
        cells = [
            f"{kind} {g:+.3f} ({lo:+.3f} to {hi:+.3f})" for kind, (g, lo, hi) in high[i].items()
        ]
        values = " ".join(o.split("=")[1] for o in points[i])
        print(values, "|", " | ".join(cells))
    print(f"\n{args.points} points x {args.seeds} paired seeds, {elapsed:.0f} s")
    for kind in SCHOOL_TYPES:
        g = np.array([high[i][kind][0] for i in high])
        holds = sum(high[i][kind][2] < 0 for i in high)
        print(
            f"{kind}, high trust: start small loses (CI < 0) at {holds} of {len(high)} points;"
            f" mean gap {g.mean():+.3f}, range {g.min():+.3f} to {g.max():+.3f}"
        )
    print(f"both school types, high trust: {len(both)} of {len(high)} points")
    whole_pattern = [i for i in both if all(low[i][k][1] > 0 for k in SCHOOL_TYPES)]
    print(f"the whole of pattern 7 (low trust too): {len(whole_pattern)} of {len(high)} points")
    for i in whole_pattern:
        print("  ", " ".join(points[i]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
