"""scripts/pattern7_across_posterior.py, the check behind docs/ODD.md §11.4's statement that
pattern 7's high-trust miss holds across the calibration posterior, runs and refuses bad input."""

import importlib.util
from functools import reduce
from pathlib import Path

import pytest

import sim

ROOT = Path(__file__).resolve().parent.parent
SPEC = importlib.util.spec_from_file_location(
    "pattern7_across_posterior", ROOT / "scripts" / "pattern7_across_posterior.py"
)
script = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(script)


def test_the_intervals_hold_the_shipped_defaults():
    # The shipped defaults are the posterior's medians (docs/ODD.md §8.1), so each must lie
    # inside its parameter's 95% interval; a recalibration that moves them must update both.
    config = sim.build_config(scenario="new_forest")
    for key, (low, high) in script.POSTERIOR_95.items():
        value = reduce(getattr, key.split("."), config)
        assert low < value < high, key


def test_the_design_spans_the_intervals_with_valid_overrides():
    points = script.design(8, seed=3)
    assert len(points) == 8
    for overrides in points:
        sim.build_config(scenario="new_forest", overrides=tuple(overrides)).validate()
    for j, (key, (low, high)) in enumerate(script.POSTERIOR_95.items()):
        values = sorted(float(p[j].split("=")[1]) for p in points)
        assert all(o.startswith(key + "=") for o in (p[j] for p in points))
        # a Latin hypercube puts one point in each eighth of the range (integers are rounded)
        slack = 0.5 if isinstance(reduce(getattr, key.split("."), sim.build_config()), int) else 0
        assert low - slack <= values[0] < low + (high - low) / 8 + slack
        assert high - (high - low) / 8 - slack < values[-1] <= high + slack


def test_it_runs_the_patterns_arms_and_prints_a_summary(capsys):
    assert script.main(["--points", "2", "--seeds", "2", "--n-jobs", "1"]) == 0
    out = capsys.readouterr().out
    assert "primary, high trust: start small loses (CI < 0) at" in out
    assert "secondary, high trust: start small loses (CI < 0) at" in out
    assert out.count(" | primary ") == 2


@pytest.mark.parametrize("bad", [["--points", "1"], ["--seeds", "0"], ["--n-jobs", "0"]])
def test_bad_settings_exit_2(bad, capsys):
    with pytest.raises(SystemExit) as exc:
        script.main(bad)
    assert exc.value.code == 2
    assert "must be at least" in capsys.readouterr().err
