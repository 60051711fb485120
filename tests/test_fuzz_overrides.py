"""Property-based fuzz of overrides (Hypothesis): every rejected input is a one-line error with
exit status 2 that leaves no file; every accepted one is within the documented limits."""

import contextlib
import io
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import experiments.compare as compare
import experiments.run as run
import sim
from experiments.settings import RESULTS_ROOT, build_settings, output_dir
from sim.config import ConfigError
from sim.limits import MAX_SEED, MAX_SEEDS, MAX_YEARS

ROOT = Path(__file__).resolve().parent.parent
FUZZ = settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

COMPARE_KEYS = [
    "seeds",
    "seed_start",
    "years",
    "name",
    "scenario",
    "baseline",
    "arms",
    "out_dir",
    "resume",
    "experiment",
    "allow_outside_results",
    "executor",
    "executor.name",
    "executor.n_jobs",
    "executor.batch_size",
    "executor.timeout",
    "executor.address",
    "strategy",
    "seed",
    "schools.teachers",
    "hydra.run.dir",
    "hydra.job.name",
    "arm_overrides.whole_staff",
]
MODEL_KEYS = [
    "seed",
    "years",
    "scenario",
    "strategy",
    "leadership",
    "schools.teachers",
    "schools.leaders",
    "schools.pupils_per_teacher",
    "decision.p_act",
    "pln.support_years",
    "leadership.collab_hours_per_week",
    "hydra.run.dir",
    "colour",
]
SPECIAL = [
    "${now:%Y}",
    "${oc.env:HOME}",
    "${seeds}",
    "[1,2]",
    "[[1]]",
    "{a:1}",
    "null",
    "''",
    "[]",
    "true",
    "nan",
    "inf",
    "-inf",
    "1e300",
    "0x10",
    "../..",
    "/etc",
    "tcp://127.0.0.1:9",
    "notaurl",
    "rlc_trial",
    "start_small",
    "never",
    "[whole_staff,start_small]",
    '["strategy=none"]',
    '["years=50"]',
    '["seed=${now:%Y}"]',
]
values = st.one_of(
    st.integers(min_value=-(2**80), max_value=2**80).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.text(alphabet="abz09_-./:=,[]{}$ '\"\\~+é", max_size=12),
    st.sampled_from(SPECIAL),
)
prefixes = st.sampled_from(["", "", "", "+", "++", "~"])


def _override(keys):
    return st.builds(
        lambda p, k, v: f"{p}{k}" if p == "~" else f"{p}{k}={v}",
        prefixes,
        st.sampled_from(keys),
        values,
    )


def _snapshot():
    return sorted(p.name for p in RESULTS_ROOT.iterdir()) if RESULTS_ROOT.exists() else []


def _in_process(main, argv):
    err, out = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        code = main(argv)
    return code, [line for line in err.getvalue().splitlines() if line.strip()]


@FUZZ
@given(st.lists(_override(COMPARE_KEYS), min_size=1, max_size=3))
def test_compare_overrides_are_refused_in_one_line_or_within_limits(tmp_path_factory, ovs):
    tmp = tmp_path_factory.mktemp("fuzz")
    base = [f"out_dir={tmp}", "allow_outside_results=true", "seeds=2", "years=1"]
    try:
        s = build_settings([*base, *ovs])
    except ConfigError as exc:
        assert "\n" not in str(exc) and str(exc).strip()
        before = _snapshot()
        code, lines = _in_process(compare.main, ["--quiet", *base, *ovs])
        assert code == 2 and len(lines) == 1 and lines[0].startswith("error:"), lines
        assert list(tmp.iterdir()) == [] and _snapshot() == before
        return
    assert 2 <= s.seeds <= MAX_SEEDS and s.seed_start >= 0
    assert s.seed_start + s.seeds - 1 <= MAX_SEED and 1 <= s.years <= MAX_YEARS
    folder = output_dir(s)
    assert s.allow_outside_results or folder.resolve().is_relative_to(RESULTS_ROOT.resolve())


@FUZZ
@given(st.lists(_override(MODEL_KEYS), min_size=1, max_size=3))
def test_run_overrides_are_refused_in_one_line_or_within_limits(tmp_path_factory, ovs):
    tmp = tmp_path_factory.mktemp("fuzz")
    try:
        config = sim.build_config(scenario=None, overrides=ovs)
    except ConfigError as exc:
        assert "\n" not in str(exc) and str(exc).strip()
        before = _snapshot()
        code, lines = _in_process(run.main, [*ovs, "--out", str(tmp / "run")])
        assert code == 2 and len(lines) == 1 and lines[0].startswith("error:"), lines
        assert list(tmp.iterdir()) == [] and _snapshot() == before
        return
    assert 0 <= config.seed <= MAX_SEED and 1 <= config.years <= MAX_YEARS
    assert max(config.schools.teachers) <= 1000 and config.schools.pupils_per_teacher <= 1000


@FUZZ
@given(
    st.one_of(
        st.none(),
        st.integers(),
        st.text(max_size=5),
        st.lists(
            st.one_of(st.none(), st.integers(), st.floats(), st.binary(max_size=3)), min_size=1
        ),
        st.tuples(st.integers()),
    )
)
def test_api_raises_config_error_for_any_bad_argument(bad):
    with pytest.raises(ConfigError):
        sim.build_config(overrides=bad)
    with pytest.raises(ConfigError):
        sim.simulate(overrides=bad)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"config": "x"},
        {"config": 3},
        {"seed": "a"},
        {"seed": -1},
        {"seed": 2**70},
        {"scenario": 5},
        {"overrides": ("seed=${now:%Y}",)},
        {"overrides": ("hydra.run.dir=x",)},
        {"overrides": ("~seed",)},
        {"overrides": ("years=1000",)},
        {"overrides": ("schools.teachers=1000000000000",)},
        {"overrides": ("schools.pupils_per_teacher=1e300",)},
    ],
)
def test_api_refuses_bad_arguments_with_config_error(kwargs):
    with pytest.raises(ConfigError) as err:
        sim.simulate(**kwargs)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        ([f"seed_start={2**70}"], "seed_start"),
        (["out_dir=''"], "out_dir is empty"),
        (["out_dir=/srv/elsewhere"], "allow_outside_results"),
        (["name=../x"], "name"),
        (["years=31"], "years"),
        (["executor.n_jobs=1000000000"], "executor.n_jobs"),
        (["executor.batch_size=1000000000000"], "executor.batch_size"),
        (["executor.timeout=0"], "executor.timeout"),
        (["executor=dask", "executor.address=tcp://127.0.0.1"], "address"),
        (["executor.address=tcp://127.0.0.1:8786"], "executor.address"),
        (["executor=local", "executor.address=tcp://127.0.0.1:8786"], "add executor=dask"),
        (["strategy=none"], "setting of an arm"),
        (['+arm_overrides.x=["seed=${now:%Y}"]', "arms=[whole_staff,x]"], "interpolations"),
        (['+arm_overrides.x=["years=50"]', "arms=[whole_staff,x]"], "years"),
        (['+arm_overrides.x=["hydra.run.dir=y"]', "arms=[whole_staff,x]"], "hydra"),
        (["seeds=1000000", "years=30"], "memory"),
    ],
)
def test_compare_bad_input_in_process(tmp_path, args, fragment):
    code, lines = _in_process(compare.main, ["--quiet", "seeds=2", *args])
    assert code == 2 and len(lines) == 1 and fragment in lines[0], lines
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("module", "args", "fragment"),
    [
        ("experiments.compare", ["seeds=10000000000000"], "seeds"),
        ("experiments.compare", ["seed_start=${now:%s}"], "interpolations"),
        ("experiments.compare", ["hydra.run.dir=x"], "hydra.run.dir"),
        ("experiments.compare", ["~seeds"], "deleting a key"),
        ("experiments.compare", ["out_dir=../.."], "leaves results/"),
        ("experiments.compare", ["executor=dask", "executor.address=notaurl"], "address"),
        ("experiments.compare", ["--bogus"], "unrecognized"),
        ("experiments.run", ["years=1000"], "years"),
        ("experiments.run", ["--bogus"], "unrecognized"),
        ("experiments.sweep", ["--seeds", "x"], "--seeds"),
        ("experiments.sweep", ["-m", "~seed"], "deleting a key"),
        ("experiments.sweep", ["-m", "strategy=none,whole_staff", "hydra.run.dir=x"], "hydra.run"),
        ("experiments.sweep", ["-m", "strategy=none", "hydra.sweep.dir=/srv/x"], "outside"),
        ("experiments.aggregate", ["--check", "README.md"], "not a folder"),
    ],
)
def test_cli_bad_input_exits_2_with_one_line_and_writes_nothing(module, args, fragment):
    before = _snapshot()
    proc = subprocess.run(
        [sys.executable, "-m", module, *args], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert proc.returncode == 2 and len(lines) == 1, proc.stderr
    assert lines[0].startswith("error:") and fragment in lines[0], lines
    assert _snapshot() == before
    assert not (ROOT / "x").exists() and not (ROOT / "outputs").exists()
