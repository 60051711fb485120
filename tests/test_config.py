"""Configuration: composition with Hydra, validation, one-line errors, and the CLI's bad input."""

import subprocess
import sys
from pathlib import Path

import pytest

import sim
from sim.compose import build_config
from sim.config import Config, ConfigError, iter_params

ROOT = Path(__file__).resolve().parent.parent


def test_default_config_is_new_forest():
    cfg = build_config()
    assert cfg.scenario == "new_forest"
    assert cfg.n_schools == 8
    assert sum(cfg.schools.teachers) == 70  # [seed 000] ~70 teachers
    assert sum(cfg.selection.per_school) == 21  # 21 participants
    assert sum(cfg.selection.leaders_per_school) == 12  # 12 senior leaders (+ 9 opinion formers)
    assert len(cfg.pln.workshop_weeks) == 4 and cfg.pln.support_years == 1


#: Per-school keys the New Forest scenario draws from distributions: (section, key).
DRAWN = {
    ("schools", "trust_climate"),
    ("schools", "disadvantage"),
    ("leadership", "governors_engaged"),
    ("leadership", "collab_hours_per_week"),
    ("leadership", "session_frequency"),
    ("leadership", "research_lead"),
    ("leadership", "involvement"),
    ("leadership", "distributed_leadership"),
    ("leadership", "howto_support"),
}


def test_dataclass_defaults_match_the_new_forest_scenario():
    """`KnowledgeMobilisationModel()` without Hydra builds the same configuration, except that
    the scenario lets its schools differ: there the keys in DRAWN are distributions, whose
    centre is the dataclass default (beta means; the middle choice; never a different value)."""
    plain, scenario = Config().validate(), build_config()
    for section in ("schools", "leadership"):
        for key in vars(getattr(plain, section)):
            a, b = getattr(getattr(plain, section), key), getattr(getattr(scenario, section), key)
            if (section, key) not in DRAWN:
                assert a == b, (section, key)
                continue
            assert isinstance(b, dict), (section, key)
            if b["distribution"] == "beta" and section == "leadership":
                assert b["mean"] == a[0], (section, key)
    for section in ("network", "pln", "selection", "strategy", "mode", "decision", "practice"):
        assert getattr(plain, section) == getattr(scenario, section), section


def test_overrides_reach_the_config_and_per_school_values_broadcast():
    cfg = build_config(overrides=("leadership.collab_hours_per_week=2", "pln.support_years=2"))
    assert cfg.leadership.collab_hours_per_week == [2] * 8
    assert cfg.pln.support_years == 2
    cfg = build_config(overrides=("leadership.involvement=[0,0.1,0.2,0.3,0.4,0.5,0.6,0.7]",))
    assert cfg.leadership.involvement[3] == pytest.approx(0.3)


def test_every_parameter_has_a_source_and_help():
    for key, _default, meta in iter_params():
        assert meta.get("source"), key
        assert meta.get("help"), key


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        (("+pln.foo=1",), "unknown key 'pln.foo'"),
        (("++foo=1",), "unknown key 'foo'"),
        (("pln.nope=1",), "pln.nope"),
        (("seed=x",), "seed=x"),
        (("decision.p_act=1.5",), "decision.p_act"),
        (("decision.p_act=-0.1",), "decision.p_act"),
        (("leadership.involvement=2",), "leadership.involvement"),
        (("schools.teachers=[0,5,5,5,5,5,5,5]",), "schools.teachers"),
        (("pln.support_years=-1",), "pln.support_years"),
        (("years=0",), "years"),
        (("strategy.name=bogus",), "strategy.name"),
        (("selection.policy=bogus",), "selection.policy"),
        (("leadership.session_frequency=daily",), "leadership.session_frequency"),
        (("leadership.collab_hours_per_week=[1,2,3]",), "leadership.collab_hours_per_week"),
        (("leadership.collab_hours_per_week=lots",), "leadership.collab_hours_per_week"),
        (("selection.per_school=[30]",), "selection.per_school"),
        (("selection.leaders_per_school=[3]",), "selection.leaders_per_school"),
        (("decision.w_social=0.9",), "must sum to 1"),
        (("pln=3",), "pln"),
    ],
)
def test_bad_input_gives_one_line_error_naming_the_key(overrides, fragment):
    with pytest.raises(ConfigError) as err:
        build_config(overrides=overrides)
    message = str(err.value)
    assert "\n" not in message
    assert fragment in message


def test_unknown_scenario_lists_the_allowed_ones():
    with pytest.raises(ConfigError, match=r"scenario = 'atlantis'.*new_forest"):
        sim.simulate(scenario="atlantis")


def test_simulate_rejects_a_single_string_of_overrides():
    with pytest.raises(ConfigError):
        sim.simulate(overrides="seed=3")


def _cli(*args, cwd=ROOT, out=None):
    cmd = [sys.executable, "-m", "experiments.run", *args]
    if out is not None:
        cmd += ["--out", str(out)]
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(
    "args",
    [
        ("scenario=atlantis",),
        ("+unknown.key=1",),
        ("decision.p_act=7",),
        ("schools.teachers=[-3]",),
        ("seed=abc",),
        ("selection.per_school=[50]",),
        ("not-an-override",),
    ],
)
def test_cli_bad_input_exits_2_with_one_line_and_writes_nothing(tmp_path, args):
    out = tmp_path / "run"
    proc = _cli(*args, out=out)
    assert proc.returncode == 2, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), proc.stderr
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_cli_writes_a_complete_run_folder(tmp_path):
    out = tmp_path / "run"
    proc = _cli("seed=3", "pln.support_years=2", out=out)
    assert proc.returncode == 0, proc.stderr
    assert str(out) in proc.stdout
    names = {p.name for p in out.iterdir()}
    assert names == {
        "timeseries.parquet",
        "timeseries.csv",
        "schools.parquet",
        "schools.csv",
        "summary.json",
        "config.yaml",
        "provenance.json",
    }
    import json

    import pandas as pd
    import yaml

    prov = json.loads((out / "provenance.json").read_text())
    assert prov["seed"] == 3 and prov["packages"]["mesa"] == "3.5.1"
    assert "pln.support_years=2" in prov["command"]
    assert yaml.safe_load((out / "config.yaml").read_text())["pln"]["support_years"] == 2
    ts = pd.read_parquet(out / "timeseries.parquet")
    assert len(ts) == 117
    summary = json.loads((out / "summary.json").read_text())
    same = sim.simulate(seed=3, overrides=("pln.support_years=2",)).summary
    assert summary == pytest.approx(same)
    # An existing folder is never overwritten.
    again = _cli("seed=3", out=out)
    assert again.returncode == 2
