"""Arms of a comparison share the no-PLN run of a seed (computed once per process)."""

import numpy as np

import sim
from sim import results
from sim.compose import build_config


def test_arms_share_the_no_pln_run_and_get_the_same_effect_as_alone(monkeypatch):
    runs = []
    real = results.KnowledgeMobilisationModel

    def counting(config, **kw):
        runs.append(config.strategy.name)
        return real(config, **kw)

    results._COUNTERFACTUALS.clear()
    monkeypatch.setattr(results, "KnowledgeMobilisationModel", counting)
    whole = sim.simulate(config=build_config(seed=21))
    small = sim.simulate(config=build_config(seed=21, overrides=("strategy=start_small",)))
    # Each arm runs once; the no-PLN run (strategy none) once for both.
    assert runs == ["whole_staff", "none", "start_small"]
    other_seed = sim.simulate(config=build_config(seed=22))
    assert runs[-2:] == ["whole_staff", "none"]  # another seed: its own no-PLN run

    results._COUNTERFACTUALS.clear()
    alone = sim.simulate(config=build_config(seed=21, overrides=("strategy=start_small",)))
    assert alone.summary["pupil_effect"] == small.summary["pupil_effect"]
    assert np.array_equal(alone.schools["pupil_effect"], small.schools["pupil_effect"])
    assert whole.summary["pupil_effect"] != small.summary["pupil_effect"]
    assert other_seed.summary["pupil_effect"] != whole.summary["pupil_effect"]


def test_a_validated_config_runs_as_given():
    cfg = build_config(seed=5)
    fast = sim.simulate(config=cfg, validated=True)
    slow = sim.simulate(config=cfg)
    assert fast.summary == slow.summary
