"""Adding a strategy, a mode or a selection policy is one new file plus one YAML preset.

The project's ``sim/``, ``configs/`` and ``scripts/`` are copied to a temporary folder; the test
suite adds three toy modules there (the files below) and one preset each, editing nothing else,
and a fresh interpreter on that copy then: runs a simulation that uses all three through the
configuration (group options and their own keys), checks their effect, rejects a bad value of a
toy key with the usual one-line error, and finds the toys in docs/PARAMETERS.md as generated.
A fourth toy without its preset yet is still an option of its group (the registry stores it in
Hydra's ConfigStore), without Hydra's schema-matching warning.
"""

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

TOY_STRATEGY = '''
"""``toy_everyone``: everyone is told about the work in one week (a test of the contract)."""

from dataclasses import dataclass

import numpy as np

from sim.params import param
from sim.registry import register
from sim.strategies.base import Strategy, inform


@dataclass
class ToyEveryoneParams:
    toy_week: int = param(3, low=0, unit="weeks", source="[test]", help="toy: the week to tell")


@register
class ToyEveryone(Strategy):
    name = "toy_everyone"
    Params = ToyEveryoneParams
    owns = ("staff.stage",)

    def step(self, week):
        if week == self.pars.toy_week:
            inform(self.model, np.ones(self.model.staff.n, dtype=bool))
'''

TOY_MODE = '''
"""``toy_spotlight``: opinion formers' practice counts ``toy_spotlight`` times."""

from dataclasses import dataclass

import numpy as np

from sim.modes.base import Mode
from sim.params import param
from sim.registry import register


@dataclass
class ToySpotlightParams:
    toy_spotlight: float = param(3.0, low=1, source="[test]", help="toy: visibility of hubs")


@register
class ToySpotlight(Mode):
    name = "toy_spotlight"
    Params = ToySpotlightParams

    def visibility(self):
        staff = self.model.staff
        return np.where(staff.opinion_former, self.model.config.mode.toy_spotlight, 1.0)
'''

TOY_POLICY = '''
"""``toy_first``: the first ``per_school`` slots of each school (the head first)."""

import numpy as np

from sim.registry import register
from sim.selection.base import SelectionPolicy, pick


@register
class ToyFirst(SelectionPolicy):
    name = "toy_first"

    @classmethod
    def select(cls, config, schools, staff, ties, streams):
        return pick(-np.arange(staff.n, dtype=float), schools, config.selection.per_school)
'''

TOY_NO_PRESET = '''
"""``toy_quiet``: a strategy whose preset is not written yet (does nothing)."""

from sim.registry import register
from sim.strategies.base import Strategy


@register
class ToyQuiet(Strategy):
    name = "toy_quiet"
    owns = ()

    def step(self, week):
        pass
'''

FILES = {
    "sim/strategies/toy_everyone.py": TOY_STRATEGY,
    "configs/strategy/toy_everyone.yaml": "name: toy_everyone\n",
    "sim/modes/toy_spotlight.py": TOY_MODE,
    "configs/mode/toy_spotlight.yaml": "name: toy_spotlight\n",
    "sim/selection/toy_first.py": TOY_POLICY,
    "configs/selection/toy_first.yaml": "policy: toy_first\n",
    "sim/strategies/toy_quiet.py": TOY_NO_PRESET,  # no preset: the registry's group option
}

CHECK = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    import sim
    from sim import ConfigError
    from sim.population import Stage

    result = sim.simulate(seed=1, overrides=(
        "strategy=toy_everyone", "strategy.toy_week=5", "mode=toy_spotlight",
        "mode.toy_spotlight=2.5", "selection=toy_first",
    ))
    m = result.model
    first = np.zeros(m.staff.n, dtype=bool)
    for s in range(m.schools.n):
        lo = m.schools.first_slot[s]
        first[lo : lo + m.config.selection.per_school[s]] = True
    try:
        sim.build_config(overrides=("strategy=toy_everyone", "strategy.toy_week=-1"))
        error = None
    except ConfigError as exc:
        error = str(exc)
    quiet = sim.build_config(overrides=("strategy=toy_quiet",)).strategy.name
    sys.path.insert(0, "scripts")
    import generate_parameters
    text = generate_parameters.render()
    print(json.dumps({
        "unaware_before": int((m.record.stage[4] == Stage.UNAWARE).sum()),
        "unaware_at": int((m.record.stage[5] == Stage.UNAWARE).sum()),
        "visibility": sorted(set(m.mode.visibility().tolist())),
        "participants_first": bool(np.array_equal(m.record.participant[0], first)),
        "error": error,
        "documented": [k in text for k in (
            "`strategy.toy_week`", "`mode.toy_spotlight`", "`toy_everyone`", "`toy_spotlight`",
            "`toy_first`")],
        "default_strategy": sim.Config().strategy.name,
        "quiet": quiet,
    }))
    """
)


def test_a_new_strategy_mode_and_policy_need_one_file_and_one_preset_each(tmp_path):
    for folder in ("sim", "configs", "scripts"):
        shutil.copytree(
            ROOT / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__")
        )
    for rel, text in FILES.items():
        assert not (tmp_path / rel).exists()
        (tmp_path / rel).write_text(text, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    proc = subprocess.run(
        [sys.executable, "-W", "error::UserWarning", "-c", CHECK],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["unaware_before"] > 0 and out["unaware_at"] == 0  # told everyone in week 5
    assert out["visibility"] == [1.0, 2.5]  # opinion formers in the spotlight
    assert out["participants_first"]
    assert out["error"] is not None and out["error"].startswith("strategy.toy_week = -1")
    assert all(out["documented"]), out["documented"]
    assert out["default_strategy"] == "whole_staff"
    assert out["quiet"] == "toy_quiet"  # a module without a preset is still a group option
