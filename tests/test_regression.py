"""Fixed-seed regression: behaviour matches the stored baseline exactly.

If a change of behaviour is intended, regenerate the baseline on purpose with `make baseline`
(scripts/regenerate_baseline.py) and say why in the commit message.
"""

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SPEC = importlib.util.spec_from_file_location("regen", ROOT / "scripts" / "regenerate_baseline.py")
regen = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(regen)

BASELINE = json.loads(regen.BASELINE.read_text())


def test_baseline_covers_every_case():
    assert set(BASELINE["cases"]) == {name for name, _, _ in regen.CASES}


@pytest.mark.parametrize(
    ("name", "seed", "overrides"), regen.CASES, ids=[c[0] for c in regen.CASES]
)
def test_matches_baseline(name, seed, overrides):
    expected = BASELINE["cases"][name]
    got = regen.compute_case(seed, overrides)
    hint = "behaviour changed; if intended, run `make baseline` and explain why in the commit"
    assert got["stages"] == expected["stages"], hint
    assert got["summary"].keys() == expected["summary"].keys(), hint
    for key, value in expected["summary"].items():
        if isinstance(value, float):
            assert got["summary"][key] == pytest.approx(value, rel=1e-12, abs=1e-15), (key, hint)
        else:
            assert got["summary"][key] == value, (key, hint)
