"""Regenerate the fixed-seed regression baseline (tests/baseline/regression.json) on purpose.

Run this only when a change to the model's behaviour is intended, and say why in the commit:

    make baseline        # or: .venv/bin/python scripts/regenerate_baseline.py

The baseline holds, for a few fixed configurations and seeds, every summary outcome and the
weekly stage counts, so any change in behaviour fails ``tests/test_regression.py``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sim  # noqa: E402
from sim.population import STAGE_NAMES  # noqa: E402

BASELINE = ROOT / "tests" / "baseline" / "regression.json"

#: (name, seed, overrides) of each baseline case.
CASES: list[tuple[str, int, tuple[str, ...]]] = [
    ("new_forest_seed0", 0, ()),
    ("new_forest_seed1", 1, ()),
    ("new_forest_seed2", 2, ()),
    ("no_mobilisation_seed0", 0, ("strategy.name=none",)),
    ("no_time_seed0", 0, ("leadership.collab_hours_per_week=0",)),
    (
        "random_selection_two_years_support_seed3",
        3,
        ("selection.policy=random", "pln.support_years=2"),
    ),
]


def compute_case(seed: int, overrides: tuple[str, ...]) -> dict:
    """Summary and weekly stage counts of one case."""
    result = sim.simulate(seed=seed, overrides=overrides)
    stages = result.timeseries[list(STAGE_NAMES)].to_numpy().tolist()
    return {"seed": seed, "overrides": list(overrides), "summary": result.summary, "stages": stages}


def compute_all() -> dict:
    """All baseline cases."""
    return {name: compute_case(seed, ov) for name, seed, ov in CASES}


def main() -> int:
    """Write the baseline file."""
    BASELINE.parent.mkdir(parents=True, exist_ok=True)
    data = {"sim_version": sim.__version__, "cases": compute_all()}
    tmp = BASELINE.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=1) + "\n")
    tmp.replace(BASELINE)
    print(f"wrote {BASELINE.relative_to(ROOT)} ({len(CASES)} cases)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
