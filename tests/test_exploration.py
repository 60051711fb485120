"""Sensitivity analysis, calibration and scenario discovery: the methods on known answers.

Toy outcomes stand in for the model where the right answer must be known: a toy outcome that
depends on one parameter alone must rank it first (Morris) and give it the whole variance
(Sobol); ABC-SMC must recover a known parameter value within its interval; PRIM must recover a
box planted in synthetic data. Short runs on the model check the command lines, resumption and
bad input (one line, exit status 2, nothing written).
"""

import dataclasses
import json
import math

import numpy as np
import pandas as pd
import pytest

from experiments import calibrate, discover, sensitivity, uncertainty
from experiments.exploration import Space, apply_point, assumption_parameters
from sim.compose import build_config
from sim.config import iter_params
from sim.heterogeneity import draw_schools

DRIVER = "practice.quality_rate"
OTHERS = ["practice.lapse_base", "decision.threshold_mean", "trust.gain", "pln.learn_rate"]
OUTPUTS = [
    "uptake_final",
    "spread_final",
    "pupil_effect",
    "schools_lapsed_share",
    "start_small_minus_whole_staff_spread",
]


class Toy:
    """Every output depends on the driver alone (plus seed noise 100 times smaller)."""

    calls = 0

    def __call__(self, chunk):
        Toy.calls += len(chunk)
        rows = []
        for pid, point in chunk:
            for seed in (0, 1):
                noise = 0.001 * math.sin(1000 * pid + seed)
                q = point[DRIVER]
                rows.append({"point": pid, "seed": seed, **{o: q**2 + noise for o in OUTPUTS}})
        return pd.DataFrame(rows)


def _settings(tmp_path, *extra):
    return sensitivity.build_settings(
        [
            f"out_dir={tmp_path}",
            f"parameters=[{DRIVER},{','.join(OTHERS)}]",
            "morris.trajectories=8",
            "sobol.samples=64",
            "executor.n_jobs=1",
            *extra,
        ]
    )


def test_sensitivity_ranks_the_only_driver_first_and_gives_it_the_variance(tmp_path):
    s = _settings(tmp_path)
    out = sensitivity.run_sensitivity(s, progress=False, evaluate=Toy())
    rank = pd.read_csv(out / "ranking.csv")
    assert rank.iloc[0]["parameter"] == DRIVER
    assert rank.iloc[0]["score"] == 1.0
    # The others move the toy only through noise 100x smaller: below the threshold of 0.1.
    assert (rank.iloc[1:]["score"] < 0.1).all()
    assert rank["influential"].sum() == 1  # so no Sobol stage: one influential parameter
    assert not (out / "sobol.csv").exists()
    report = (out / "report.md").read_text()
    assert DRIVER in report and "do not, detectably" in report
    summary = json.loads((out / "summary.json").read_text())
    assert summary["matter"] == [DRIVER] and summary["provenance"]["git_sha"]


def test_sobol_gives_the_driver_the_whole_variance(tmp_path):
    # A threshold above every other parameter's noise-only score but below the driver's keeps
    # Sobol on exactly two parameters: force it with the threshold and two parameters.
    s = _settings(tmp_path, f"parameters=[{DRIVER},{OTHERS[0]}]", "influence_threshold=0.0001")
    out = sensitivity.run_sensitivity(s, progress=False, evaluate=Toy())
    sob = pd.read_csv(out / "sobol.csv")
    row = sob[(sob["output"] == "uptake_final") & (sob["parameter"] == DRIVER)].iloc[0]
    other = sob[(sob["output"] == "uptake_final") & (sob["parameter"] == OTHERS[0])].iloc[0]
    # 64 x 4 points: the driver's total index is 1 within its interval, the other's near 0.
    assert row["ST"] - row["ST_conf"] <= 1.0 <= row["ST"] + row["ST_conf"] + 0.05
    assert row["S1"] > 0.9
    assert abs(other["ST"]) < 0.01
    assert (out / "sobol.png").exists() and (out / "morris.png").exists()


def test_sensitivity_resumes_only_missing_chunks(tmp_path):
    s = _settings(tmp_path, "stages=[morris]", "executor.batch_size=8")
    out = sensitivity.run_sensitivity(s, progress=False, evaluate=Toy())
    first = pd.read_csv(out / "morris.csv")
    chunks = sorted((out / "morris" / "chunks").glob("*.parquet"))
    assert len(chunks) == 6  # 8 trajectories x 6 points / 8 per chunk
    chunks[2].unlink()
    Toy.calls = 0
    sensitivity.run_sensitivity(s, progress=False, evaluate=Toy())
    assert Toy.calls == 8  # only the missing chunk ran again
    pd.testing.assert_frame_equal(first, pd.read_csv(out / "morris.csv"))


def test_every_assumption_has_a_finite_plausible_range_inside_the_allowed_one():
    keys = assumption_parameters()
    assert len(keys) >= 40
    space = Space.from_schema(keys)
    meta = {k: m for k, _, m in iter_params()}
    for f in space.factors:
        assert f.low < f.high
        assert meta[f.key]["plausible"] is not None, f.key
        if meta[f.key]["low"] is not None:
            assert f.low >= meta[f.key]["low"]
        if meta[f.key]["high"] is not None:
            assert f.high <= meta[f.key]["high"]


def test_a_listed_scenario_does_not_vary_a_generated_systems_settings():
    """system.* only shape a generated system (scenario=england): varying them for New Forest
    would spend runs on parameters that change nothing."""
    listed = sensitivity.parameters_of(sensitivity.build_settings([]))
    settings = sensitivity.build_settings([])
    national = sensitivity.parameters_of(dataclasses.replace(settings, scenario="england"))
    assert listed and not [k for k in listed if k.startswith("system.")]
    assert {k for k in national if k.startswith("system.")} == {
        k for k in assumption_parameters() if k.startswith("system.")
    }
    assert set(listed) < set(national)


def test_design_points_at_the_corners_are_valid_configurations():
    """Every corner of the default space (with the weights rescaled) is a valid model."""
    s = sensitivity.build_settings(["stages=[morris]"])
    space = Space.from_schema(sensitivity.parameters_of(s), s.ranges)
    groups = [g.split("+") for g in s.normalise]
    base = build_config("new_forest")
    for corner in (0.0, 1.0):
        point = space.points(np.full((1, len(space.factors)), corner)).iloc[0].to_dict()
        config = apply_point(base, point, groups)
        d = config.decision
        assert math.isclose(d.w_social + d.w_formal + d.w_support, 1.0)


@pytest.mark.parametrize(
    ("module", "args", "words"),
    [
        (sensitivity, ["parameters=[practice.nope,trust.gain]"], "unknown parameter"),
        (sensitivity, ["ranges=[trust.gain:0.5:0.1]"], "empty or inverted"),
        (sensitivity, ["ranges=[trust.gain:0.1:0.1]"], "empty or inverted"),
        (sensitivity, ["ranges=[trust.gain:0.5:2]"], "above the allowed maximum"),
        (sensitivity, ["ranges=[trust.gain:0.5]"], "key:low:high"),
        (sensitivity, ["morris.trajectories=1"], "too few"),
        (sensitivity, ["sobol.samples=12"], "power of two"),
        (sensitivity, ["parameters=[schools.phase,trust.gain]"], "not a numeric"),
        (sensitivity, ["parameters=[trust.gain]"], "at least two"),
        (discover, ["points=5"], "too few"),
        (discover, ["factors.phase.choices=[primary,tertiary]"], "not allowed"),
        (discover, ["factors.trust_climate.key=schools.nope"], "not a parameter"),
        (calibrate, ["parameters=[trust.gain]", "targets.rlc_pupil_effect.source="], "source"),
        (calibrate, ["parameters=[trust.gain]", "population=3"], "too small"),
        (calibrate, ["parameters=[trust.gain]", "targets.rlc_pupil_effect.low=0.1"], "inverted"),
        (calibrate, ["parameters=[trust.nope]"], "unknown parameter"),
        (calibrate, ["parameters=[trust.gain]", "+arm_parameters.nope=[trust.loss]"], "not an arm"),
        (
            calibrate,
            ["parameters=[trust.gain]", "arm_parameters.rlc=[trust.nope]"],
            "arm_parameters.rlc: unknown parameter",
        ),
        (
            calibrate,
            ["parameters=[trust.gain]", "ranges=[trust.loss@nope:0.1:0.2]"],
            "names no fitted parameter",
        ),
        (calibrate, ["parameters=[trust.gain]", "filter.patterns=[nope]"], "unknown pattern"),
        (calibrate, ["parameters=[trust.gain]", "filter.draws=1"], "at least 2"),
        (calibrate, ["parameters=[trust.gain]", "filter.patterns=[]"], "patterns is empty"),
        (calibrate, ["parameters=[trust.gain]", "filter.seeds=1"], "too few"),
        (sensitivity, ["executor.address=tcp://127.0.0.1:8786"], "add executor=dask"),
        (discover, ["executor.address=tcp://127.0.0.1:8786"], "add executor=dask"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_nothing_written(tmp_path, capsys, module, args, words):
    status = module.main([f"out_dir={tmp_path / 'out'}", *args, "--quiet"])
    err = capsys.readouterr().err.strip()
    assert status == 2
    assert err.startswith("error:") and "\n" not in err and words in err
    assert not (tmp_path / "out").exists()


def test_an_empty_posterior_is_refused(tmp_path, capsys):
    folder = tmp_path / "cal"
    folder.mkdir()
    (folder / "posterior.csv").write_text("trust.gain,weight\n")
    status = uncertainty.main([f"posterior={folder}", "draws=5", f"out_dir={tmp_path / 'u'}"])
    assert status == 2 and "empty" in capsys.readouterr().err
    assert not (tmp_path / "u").exists()


# ---------------------------------------------------------------------------------------------
# Calibration recovers a known parameter
# ---------------------------------------------------------------------------------------------

TRUE_VALUE = 0.12


class ToyTarget:
    """A target equal to the parameter plus small noise: its band is set around 0.12."""

    def __call__(self, params):
        q = params["practice__quality_rate"]
        noise = 0.002 * np.random.default_rng(int(q * 1e9)).standard_normal()
        return {"toy": q + noise}


def _toy_settings(tmp_path, *overrides):
    """A calibration of the quality rate (one process, populations of 40) to the toy band."""
    s = calibrate.build_settings(
        [
            f"out_dir={tmp_path}",
            f"parameters=[{DRIVER}]",
            "population=40",
            "executor.n_jobs=1",
            "filter.draws=0",
            *overrides,
        ]
    )
    s.targets = {
        "toy": calibrate.TargetSpec(
            "full_support", "spread_final", 0.11, 0.13, source="a value set by the test"
        )
    }
    return s


def test_calibration_recovers_a_known_parameter_within_its_interval(tmp_path):
    s = _toy_settings(tmp_path, "max_populations=5", "max_simulations=2000")
    calibrate.validate(s)
    out = calibrate.run_calibration(s, progress=False, model=ToyTarget())
    params = pd.read_csv(out / "parameters.csv").iloc[0]
    # The prior spans 0.06-0.2; the posterior's 95% interval contains the true value and is
    # narrow (the band is 0.02 wide, the noise sd 0.002).
    assert params["low_95"] <= TRUE_VALUE <= params["high_95"]
    assert params["high_95"] - params["low_95"] < 0.035
    targets = pd.read_csv(out / "targets.csv").iloc[0]
    assert 0.11 <= targets["fitted"] <= 0.13
    posterior = pd.read_csv(out / "posterior.csv")
    assert len(posterior) == 40 and math.isclose(posterior["weight"].sum(), 1.0)
    draws = calibrate.posterior_draws(posterior, 10, seed=1)
    assert len(draws) == 10 and all(d[0].startswith(f"{DRIVER}=") for d in draws)
    # Resume: a rerun loads the finished history instead of starting again.
    again = calibrate.run_calibration(s, progress=False, model=ToyTarget())
    pd.testing.assert_frame_equal(posterior, pd.read_csv(again / "posterior.csv"))


class ToyTrial:
    """A shared target set by the quality rate, and a trial's effect set by that rate and by a
    parameter of the trial's arm alone (its schools' involvement): 0.05 x involvement."""

    def __call__(self, params):
        q = params["practice__quality_rate"]
        inv = params["leadership__involvement__AT__rlc"]
        noise = 0.001 * np.random.default_rng(int(inv * 1e9)).standard_normal()
        return {"toy": q, "trial": 0.05 * inv + noise}


def test_an_arms_own_parameter_is_fitted_to_a_measured_value(tmp_path):
    """``arm_parameters`` fits a parameter for one arm (``key@arm``); a target's ``contains``
    (a trial's measured effect, 0.02) pulls the fit toward it inside the band, so the
    involvement that gives it (0.4) is recovered, not just any value the band 0-0.05 allows."""
    s = _toy_settings(
        tmp_path,
        "arm_parameters.rlc=[leadership.involvement]",
        "max_populations=6",
        "max_simulations=3000",
    )
    s.targets["trial"] = calibrate.TargetSpec(
        "rlc", "pupil_effect", 0.0, 0.05, contains=0.02, source="a value set by the test"
    )
    calibrate.validate(s)
    out = calibrate.run_calibration(s, progress=False, model=ToyTrial())
    params = pd.read_csv(out / "parameters.csv").set_index("parameter")
    own = params.loc["leadership.involvement@rlc"]
    assert own["low_95"] <= 0.4 <= own["high_95"]
    assert abs(own["median"] - 0.4) < 0.1  # the prior is 0-1: the band alone would allow 0-1
    targets = pd.read_csv(out / "targets.csv").set_index("target")
    assert bool(targets.loc["trial", "contains_ok"])
    assert "cannot reach 0" in (out / "report.md").read_text()
    # Posterior draws for rerunning an experiment carry the shared parameters only.
    draws = calibrate.posterior_draws(pd.read_csv(out / "posterior.csv"), 5, seed=1)
    assert all(len(d) == 1 and d[0].startswith(f"{DRIVER}=") for d in draws)


class ToyPatterns:
    """Stands in for the patterns in the second stage: pattern 7 "holds" when the quality rate
    is above 0.12, pattern 4 when it is above 0.121; records every parameter set it checks."""

    def __init__(self):
        self.checked = []

    def __call__(self, overrides):
        self.checked.append(overrides)
        q = float(dict(o.split("=") for o in overrides)[DRIVER])
        out = {}
        for name, cut in (("no_universal_winner", 0.12), ("who_you_send", 0.121)):
            holds = q > cut
            out[name] = {"holds": holds, "checks": {"q above": holds}, "statistics": {"q": q}}
            if not holds:
                break
        return out


def test_the_second_stage_keeps_the_draws_where_the_patterns_hold(tmp_path):
    s = _toy_settings(
        tmp_path,
        "max_populations=4",
        "max_simulations=1000",
        "filter.draws=60",
        "filter.seed=2",
    )
    s.targets["toy"].low, s.targets["toy"].high = 0.1, 0.14
    checker = ToyPatterns()
    out = calibrate.run_calibration(s, progress=False, model=ToyTarget(), checker=checker)
    table = pd.read_csv(out / "filter.csv")
    assert table["drawn"].sum() == 60 and len(checker.checked) == len(table)
    q = table[DRIVER]
    # Pattern 7 runs first; where it fails, pattern 4 is not run.
    assert (table["no_universal_winner"] == (q > 0.12)).all()
    assert table.loc[q <= 0.12, "who_you_send"].isna().all()
    assert (table["kept"] == (q > 0.121)).all()
    assert 0 < table["kept"].sum() < len(table)  # the toy posterior straddles the cut
    filtered = pd.read_csv(out / "posterior_filtered.csv")
    assert (filtered[DRIVER] > 0.121).all() and math.isclose(filtered["weight"].sum(), 1.0)
    first = pd.read_csv(out / "parameters.csv").iloc[0]
    second = pd.read_csv(out / "parameters_filtered.csv").iloc[0]
    assert second["low_95"] > 0.121 and second["median"] > first["median"]
    report = (out / "report.md").read_text()
    assert "## Second stage" in report and f"{int(table['kept'].sum())} of {len(table)}" in report
    summary = json.loads((out / "summary.json").read_text())["second_stage"]
    assert summary["kept_sets"] == int(table["kept"].sum())
    # Experiments rerun over the posterior draw from the filtered one.
    pd.testing.assert_frame_equal(calibrate.load_posterior(out), filtered)
    assert calibrate.load_posterior(out).attrs["file"] == "posterior_filtered.csv"
    # A rerun checks nothing again; without the second stage its files go (its checks stay).
    again = ToyPatterns()
    calibrate.run_calibration(s, progress=False, model=ToyTarget(), checker=again)
    assert again.checked == []
    s.filter.draws = 0
    calibrate.run_calibration(s, progress=False, model=ToyTarget(), checker=again)
    assert not (out / "posterior_filtered.csv").exists() and any((out / "filter").iterdir())
    assert calibrate.load_posterior(out).equals(pd.read_csv(out / "posterior.csv"))


def test_the_pattern_checker_sets_the_draws_values_before_each_arms_own():
    checker = calibrate.PatternChecker(["fragile_sustainability"], [0, 1])
    low = checker(["practice.lapse_base=0.001"])["fragile_sustainability"]
    high = checker(["practice.lapse_base=0.01"])["fragile_sustainability"]
    assert isinstance(low["holds"], bool) and "share >= 1/3" in low["checks"]
    lapsed = [r["statistics"]["schools_lapsed_share"] for r in (low, high)]
    assert lapsed[1] > lapsed[0]  # more lapsing: the base override reached the arm


def test_patterns_command_refuses_a_bad_override(capsys):
    from experiments import patterns

    with pytest.raises(SystemExit) as exc:
        patterns.main(["--seeds", "2", "practice.fit_mean=7"])
    assert exc.value.code == 2 and "practice.fit_mean" in capsys.readouterr().err


def test_an_arm_gets_the_shared_values_and_its_own_only():
    point = {"trust.gain": 0.1, "leadership.involvement@rlc": 0.4, "trust.loss@other": 0.2}
    assert calibrate.split_point(point, "rlc") == {"trust.gain": 0.1, "leadership.involvement": 0.4}
    assert calibrate.split_point(point, "defaults") == {"trust.gain": 0.1}


# ---------------------------------------------------------------------------------------------
# PRIM recovers a planted box
# ---------------------------------------------------------------------------------------------


def test_prim_recovers_a_planted_box():
    rng = np.random.default_rng(7)
    n = 1000
    x = pd.DataFrame(
        {
            "trust": rng.uniform(0, 1, n),
            "resistance": rng.uniform(0, 1, n),
            "time": rng.uniform(0, 2, n),
            "size": rng.integers(6, 60, n),
            "phase": rng.choice(["primary", "secondary"], n),
        }
    )
    inside = (x["trust"] < 0.4) & (x["resistance"] > 0.5)
    # 95% of the cases inside the box are of interest, 3% outside it.
    y = np.where(inside, rng.uniform(size=n) < 0.95, rng.uniform(size=n) < 0.03)
    box = discover.find_box(x, y, "planted", min_coverage=0.8)
    assert set(box.limits) == {"trust", "resistance"}
    assert box.limits["trust"][0] is None and abs(box.limits["trust"][1] - 0.4) < 0.05
    assert box.limits["resistance"][1] is None and abs(box.limits["resistance"][0] - 0.5) < 0.05
    assert box.coverage >= 0.8 and box.density >= 0.85
    text = discover.describe_limits(box.limits, {"trust": "trust climate"})
    assert text.startswith("trust climate < 0.")
    assert discover.find_box(x, np.zeros(n, bool), "none") is None


# ---------------------------------------------------------------------------------------------
# The command lines on the model (small)
# ---------------------------------------------------------------------------------------------


def test_sensitivity_and_discovery_run_on_the_model(tmp_path):
    status = sensitivity.main(
        [
            f"out_dir={tmp_path}",
            "name=s",
            "parameters=[practice.quality_rate,schools.disadvantage]",
            "morris.trajectories=2",
            "seeds=1",
            "years=1",
            "stages=[morris]",
            "--quiet",
        ]
    )
    assert status == 0
    rank = pd.read_csv(tmp_path / "s" / "ranking.csv")
    assert sorted(rank["parameter"]) == ["practice.quality_rate", "schools.disadvantage"]
    assert (tmp_path / "s" / "morris.png").exists()
    status = discover.main(
        [f"out_dir={tmp_path}", "name=d", "points=20", "seeds=1", "years=1", "--quiet"]
    )
    assert status == 0
    cases = pd.read_csv(tmp_path / "d" / "cases.csv")
    assert len(cases) == 20 and cases["difference"].notna().all()
    assert (tmp_path / "d" / "report.md").read_text().startswith("# Scenario discovery")


def test_the_report_cites_the_latest_matching_analyses_or_says_none_was_run(tmp_path):
    from experiments.drivers import drivers_section

    arms = {"whole_staff": ["strategy=whole_staff", "leadership=full"]}
    meta = {"scenario": "new_forest", "arms": arms}
    text = "\n".join(drivers_section(meta, root=tmp_path))
    assert "No sensitivity analysis has been run" in text
    assert "No scenario discovery has been run" in text

    def write(kind, name, created, scenario, top):
        folder = tmp_path / kind / name
        folder.mkdir(parents=True)
        data = {
            "scenario": scenario,
            "arms": {"a": ["leadership=full", "strategy=whole_staff"], "b": ["strategy=none"]},
            "top": [{"parameter": top, "drives": "spread_final"}],
            "matter": [top],
            "sentences": {"x": f"start small wins when {top} is low."},
            "provenance": {"pln_sim": "0.1.0", "git_sha": "abcdef123456", "created_utc": created},
        }
        (folder / "summary.json").write_text(json.dumps(data))

    write("sensitivity", "old", "2026-01-01T00:00:00+00:00", "new_forest", "trust.gain")
    write("sensitivity", "new", "2026-02-01T00:00:00+00:00", "new_forest", "practice.lapse_base")
    write("sensitivity", "other", "2026-03-01T00:00:00+00:00", "rlc_trial", "trust.loss")
    write("discovery", "d", "2026-02-01T00:00:00+00:00", "new_forest", "trust_climate")
    text = "\n".join(drivers_section(meta, root=tmp_path))
    assert "practice.lapse_base" in text and "trust.gain" not in text and "trust.loss" not in text
    assert "`abcdef12`" in text and "start small wins when trust_climate is low." in text
    other_arms = {"x": ["strategy=broadcast"]}
    text = "\n".join(drivers_section({"scenario": "new_forest", "arms": other_arms}, tmp_path))
    assert "No sensitivity analysis has been run" in text


def test_decomposition_separates_parameter_spread_from_seed_noise():
    rng = np.random.default_rng(3)
    draws, seeds = 400, 20
    effect = rng.normal(0.05, 0.03, draws)  # parameter sd 0.03
    rows = pd.DataFrame(
        [
            {"point": d, "seed": s, "x": effect[d] + rng.normal(0, 0.1)}  # seed sd 0.1
            for d in range(draws)
            for s in range(seeds)
        ]
    )
    t = uncertainty.decompose(rows, ["x"]).iloc[0]
    # 400 draws x 20 seeds: both standard deviations within 15% of the truth.
    assert abs(t["parameter_sd"] - 0.03) < 0.0045
    assert abs(t["seed_sd"] - 0.1) < 0.015
    assert abs(t["parameter_share"] - 0.03**2 / (0.03**2 + 0.1**2)) < 0.03


def test_a_comparison_reruns_over_posterior_draws(tmp_path):
    from experiments import compare

    cal = tmp_path / "cal"
    cal.mkdir()
    pd.DataFrame(
        {
            "practice.quality_rate": [0.08, 0.16],
            "practice.embed_weeks": [10, 20],
            "weight": [0.5, 0.5],
        }
    ).to_csv(cal / "posterior.csv", index=False)
    args = ["uncertainty=posterior", "draws=3", f"posterior={cal}", f"out_dir={tmp_path / 'u'}"]
    status = compare.main([*args, "seeds=2", "years=1", "name=t", "--quiet"])
    assert status == 0
    out = tmp_path / "u" / "t"
    draws = pd.read_csv(out / "draws.csv")
    assert set(draws["practice.quality_rate"]) <= {0.08, 0.16}
    assert set(draws["practice.embed_weeks"]) <= {10, 20}
    table = pd.read_csv(out / "decomposition.csv")
    assert "start_small-whole_staff:spread_final" in set(table["quantity"])
    assert "parameter uncertainty" in (out / "report.md").read_text().lower()


def test_reruns_draw_from_the_filtered_posterior_and_say_so(tmp_path):
    from experiments import compare

    cal = tmp_path / "cal"
    cal.mkdir()
    both = {"practice.quality_rate": [0.08, 0.16], "weight": [0.5, 0.5]}
    pd.DataFrame(both).to_csv(cal / "posterior.csv", index=False)
    kept = {"practice.quality_rate": [0.16], "weight": [1.0]}
    pd.DataFrame(kept).to_csv(cal / "posterior_filtered.csv", index=False)
    args = ["uncertainty=posterior", "draws=3", f"posterior={cal}", f"out_dir={tmp_path / 'u'}"]
    assert compare.main([*args, "seeds=2", "years=1", "name=t", "--quiet"]) == 0
    out = tmp_path / "u" / "t"
    assert set(pd.read_csv(out / "draws.csv")["practice.quality_rate"]) == {0.16}
    assert "(`posterior_filtered.csv`: the draws where" in (out / "report.md").read_text()


def test_calibration_outcomes_are_the_same_from_school_totals_and_from_the_slot_history():
    """extra_outcomes (the calibration's champions' use by year) reads
    per-school totals, so it works with the default record (record=schools) and agrees with
    the per-person history (record=slots)."""
    import sim
    from experiments.exploration import extra_outcomes
    from sim.processes.decision import USES
    from sim.school_year import WEEKS_PER_YEAR

    by_school = extra_outcomes(sim.simulate(seed=3, overrides=["years=2"]))
    slots = sim.simulate(seed=3, overrides=["years=2", "record=slots"])
    assert extra_outcomes(slots) == by_school
    rec = slots.model.record
    for year in (1, 2):
        w = year * WEEKS_PER_YEAR - 1
        part = rec.participant[w].astype(bool)
        assert (
            by_school[f"participants_use_year_{year}"]
            == (USES[rec.stage[w]] & part).sum() / part.sum()
        )
    assert 0 < by_school["participants_use_year_2"] <= 1


def test_a_design_point_moves_the_mean_of_drawn_schools_and_keeps_them_different():
    """New Forest draws trust climate per school (beta, mean 0.6): a design point at 0.35 gives
    schools whose climates still differ and whose mean is 0.35, not eight copies of 0.35."""
    base = build_config("new_forest")
    means, sds = [], []
    for seed in range(40):
        config = apply_point(dataclasses.replace(base, seed=seed), {"schools.trust_climate": 0.35})
        drawn = np.asarray(draw_schools(config).schools.trust_climate)
        means.append(drawn.mean())
        sds.append(drawn.std(ddof=1))
    # 40 seeds x 8 schools from a beta(mean 0.35, sd 0.12): the mean of 320 draws has a standard
    # error of about 0.007; the within-network sd stays near the scenario's 0.12.
    assert abs(np.mean(means) - 0.35) < 0.025
    assert 0.08 < np.mean(sds) < 0.16
    # A scenario that lists one value per school still gets the value in every school.
    listed = apply_point(
        build_config("new_forest", overrides=("schools.trust_climate=0.6",)),
        {"schools.trust_climate": 0.35},
    )
    assert set(np.atleast_1d(listed.schools.trust_climate)) == {0.35}
