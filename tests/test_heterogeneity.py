"""Schools that differ: per-school values drawn from distributions (sim.heterogeneity).

Draws come from set-up streams keyed by the seed and the parameter's key, so they are the same
in every arm that shares a seed (common random numbers), differ between seeds, and change only
the key whose distribution changes. Bad distributions fail with a one-line ConfigError before
anything runs, and the command line exits 2 writing nothing.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

import sim
from sim.compose import build_config
from sim.config import ConfigError
from sim.heterogeneity import draw_schools

ROOT = Path(__file__).resolve().parent.parent
BETA = "{distribution:beta,mean:0.6,sd:0.12}"


def drawn(overrides=(), seed=0, scenario="new_forest"):
    return draw_schools(build_config(scenario=scenario, seed=seed, overrides=overrides))


def test_new_forest_schools_differ_and_arms_of_a_seed_share_them():
    """The scenario's schools differ from each other; a strategy or lever change leaves every
    drawn value alone; another seed draws other schools."""
    a = drawn(("strategy=whole_staff",))
    b = drawn(("strategy=start_small", "mode=champions", "decision.p_act=0.5"))
    assert len(set(a.schools.trust_climate)) == 8
    assert a.schools.trust_climate == b.schools.trust_climate
    assert a.leadership.involvement == b.leadership.involvement
    assert a.leadership.session_frequency == b.leadership.session_frequency
    assert drawn(seed=1).schools.trust_climate != a.schools.trust_climate


def test_changing_one_distribution_changes_no_other_draw():
    a = drawn()
    b = drawn(("leadership.involvement={distribution:beta,mean:0.8,sd:0.1}",))
    assert a.leadership.involvement != b.leadership.involvement
    assert a.schools.trust_climate == b.schools.trust_climate
    assert a.leadership.howto_support == b.leadership.howto_support


def test_beta_draws_have_the_stated_mean_and_sd():
    """Statistical: 400 schools from Beta(mean 0.6, sd 0.12): the sample mean within 4 standard
    errors (0.024) of 0.6, the sample sd within 0.02 of 0.12, and a KS test against the Beta
    does not reject at 1%."""
    cfg = build_config(
        overrides=(
            "schools.teachers=[5]",
            "schools.opinion_formers=1",
            "selection.per_school=1",
            "selection.leaders_per_school=1",
            f"schools.trust_climate={BETA}",
        )
    )
    cfg.schools.teachers = [5] * 400
    cfg.schools.opinion_formers = [1] * 400
    cfg.selection.per_school = [1] * 400
    cfg.selection.leaders_per_school = [1] * 400
    values = np.array(draw_schools(cfg.validate()).schools.trust_climate)
    assert abs(values.mean() - 0.6) <= 4 * 0.12 / np.sqrt(400)
    assert abs(values.std() - 0.12) <= 0.02
    kappa = 0.6 * 0.4 / 0.12**2 - 1
    assert stats.kstest(values, stats.beta(0.6 * kappa, 0.4 * kappa).cdf).pvalue > 0.01


def test_choice_bernoulli_normal_uniform_and_ranges():
    cfg = drawn(
        (
            "schools.phase={distribution:choice,values:[primary,secondary],weights:[0.0,1.0]}",
            "leadership.research_lead={distribution:bernoulli,p:1.0}",
            "leadership.plan_priorities={distribution:normal,mean:3,sd:2}",
            "leadership.collab_hours_per_week={distribution:uniform,low:0.5,high:5}",
        )
    )
    assert cfg.schools.phase == ["secondary"] * 8
    assert cfg.leadership.research_lead == [True] * 8
    assert all(isinstance(v, int) and v >= 1 for v in cfg.leadership.plan_priorities)
    assert all(0.5 <= v <= 2 for v in cfg.leadership.collab_hours_per_week)  # clipped to <= 2


def test_a_list_or_a_value_still_sets_schools_exactly():
    cfg = drawn(("schools.trust_climate=[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8]",))
    assert cfg.schools.trust_climate == [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]
    assert drawn(("schools.trust_climate=0.3",)).schools.trust_climate == [0.3] * 8


def test_the_model_and_its_results_use_the_drawn_schools():
    result = sim.simulate(seed=4)
    drawn_climate = drawn(seed=4).schools.trust_climate
    np.testing.assert_allclose(result.model.schools.trust_climate, drawn_climate)
    assert result.config.schools.trust_climate == drawn_climate


@pytest.mark.parametrize(
    ("override", "fragment"),
    [
        ("schools.trust_climate={distribution:beta,mean:0.6,sd:-0.1}", "sd must be >= 0"),
        ("schools.trust_climate={distribution:beta,mean:1.2,sd:0.1}", "mean must be in (0, 1)"),
        ("schools.trust_climate={distribution:beta,mean:0.0,sd:0.1}", "mean must be in (0, 1)"),
        ("schools.trust_climate={distribution:beta,mean:0.5,sd:0.6}", "sd must be below"),
        ("schools.trust_climate={distribution:gauss,mean:0.5,sd:0.1}", "distribution = 'gauss'"),
        ("schools.trust_climate={mean:0.5,sd:0.1}", "distribution = None"),
        ("schools.trust_climate={distribution:beta,mean:0.5}", "needs mean, sd"),
        ("schools.trust_climate={distribution:beta,mean:0.5,sd:0.1,p:1}", "unknown key 'p'"),
        ("schools.disadvantage={distribution:uniform,low:0.5,high:0.1}", "low must not exceed"),
        ("schools.phase={distribution:beta,mean:0.5,sd:0.1}", "schools.phase is not a number"),
        ("schools.phase={distribution:choice,values:[primary,middle]}", "schools.phase"),
        ("schools.phase={distribution:choice,values:[primary],weights:[0.5]}", "weights"),
        ("leadership.involvement={distribution:bernoulli,p:0.5}", "not true/false"),
        ("leadership.research_lead={distribution:bernoulli,p:1.5}", "p must be in [0, 1]"),
        ("schools.teachers={distribution:normal,mean:9,sd:2}", "schools.teachers"),
        # a per-school list of the wrong length beside distributions of the same scenario
        ("leadership.involvement=[0.1,0.2,0.3]", "leadership.involvement has 3 values"),
    ],
)
def test_bad_distributions_give_one_line_errors_naming_the_key(override, fragment):
    with pytest.raises(ConfigError) as err:
        build_config(overrides=(override,))
    message = str(err.value)
    assert "\n" not in message
    assert fragment in message


@pytest.mark.parametrize(
    "override",
    [
        "schools.trust_climate={distribution:beta,mean:0.6,sd:-0.1}",
        "leadership.involvement={distribution:lognormal,mean:0.5,sd:0.1}",
        "leadership.howto_support=[0.5,0.5]",
    ],
)
def test_cli_bad_distribution_exits_2_and_writes_nothing(tmp_path, override):
    out = tmp_path / "run"
    proc = subprocess.run(
        [sys.executable, "-m", "experiments.run", override, "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), proc.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("key", "spec", "value", "expected"),
    [
        ("schools.trust_climate", {"distribution": "beta", "mean": 0.6, "sd": 0.12}, 0.3,
         {"distribution": "beta", "mean": 0.3, "sd": 0.12}),
        # the sd a beta of mean 0.05 allows is sqrt(0.05 * 0.95) = 0.218: 0.3 is shrunk to 95% of it
        ("schools.trust_climate", {"distribution": "beta", "mean": 0.6, "sd": 0.3}, 0.05,
         {"distribution": "beta", "mean": 0.05, "sd": 0.95 * (0.05 * 0.95) ** 0.5}),
        ("schools.trust_climate", {"distribution": "beta", "mean": 0.6, "sd": 0.12}, 1.0, 1.0),
        ("schools.teachers", {"distribution": "normal", "mean": 9, "sd": 2}, 12,
         {"distribution": "normal", "mean": 12.0, "sd": 2}),
        ("leadership.collab_hours_per_week", {"distribution": "uniform", "low": 0.5, "high": 1.5},
         0.5, {"distribution": "uniform", "low": 0.0, "high": 1.0}),
        ("leadership.governors_engaged", {"distribution": "bernoulli", "p": 0.4}, 0.9,
         {"distribution": "bernoulli", "p": 0.9}),
        ("leadership.collab_hours_per_week",
         {"distribution": "choice", "values": [0.5, 1.0, 1.5], "weights": [0.5, 0.25, 0.25]}, 1.0,
         {"distribution": "choice", "values": [0.625, 1.125, 1.625], "weights": [0.5, 0.25, 0.25]}),
        ("leadership.session_frequency", {"distribution": "choice", "values": ["termly", "weekly"]},
         "fortnightly", "fortnightly"),
    ],
)  # fmt: skip
def test_recentre_moves_a_distributions_mean_and_keeps_its_spread(key, spec, value, expected):
    """What a design point does to a drawn parameter: the network's mean moves, schools differ."""
    import dataclasses

    from sim.config import Config
    from sim.heterogeneity import recentre

    section, name = key.split(".")
    field = {f.name: f for f in dataclasses.fields(getattr(Config(), section))}[name]
    assert recentre(spec, value, field) == expected
