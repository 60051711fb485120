"""The main job: paired comparisons, Hydra sweeps, resume, aggregation, executors, bad input."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from experiments.compare import run_comparison
from experiments.settings import build_settings

ROOT = Path(__file__).resolve().parent.parent
OUTPUTS = {
    "meta.json",
    "runs.parquet",
    "runs.csv",
    "timeseries.parquet",
    "schools.parquet",
    "summary.csv",
    "paired.csv",
    "replications.csv",
    "report.md",
    "uptake_curves.png",
    "paired_differences.png",
    "school_small_multiples.png",
    "stage_composition.png",
}


def _settings(tmp_path, *extra):
    return build_settings(
        [
            f"out_dir={tmp_path}",
            "allow_outside_results=true",
            "seeds=6",
            "executor.batch_size=2",
            "executor.n_jobs=1",
            *extra,
        ]
    )


def _cli(module, *args, cwd=ROOT):
    return subprocess.run(
        [sys.executable, "-m", module, *args], cwd=cwd, capture_output=True, text=True, timeout=300
    )


def _comparable(runs: pd.DataFrame) -> pd.DataFrame:
    return runs.sort_values(["arm", "seed"]).reset_index(drop=True)


def test_comparison_writes_every_artifact_with_paired_statistics(tmp_path):
    out = run_comparison(_settings(tmp_path), progress=False)
    assert {p.name for p in out.iterdir()} >= OUTPUTS
    runs = pd.read_parquet(out / "runs.parquet")
    assert len(runs) == 12 and set(runs["arm"]) == {"whole_staff", "start_small"}
    assert "cfg.strategy.name" in runs and "cfg.leadership.collab_hours_per_week" in runs
    assert set(runs.groupby("arm")["seed"].apply(tuple)) == {tuple(range(6))}
    ts = pd.read_parquet(out / "timeseries.parquet")
    assert len(ts) == 12 * 117
    paired = pd.read_csv(out / "paired.csv")
    row = paired[paired["outcome"] == "spread_final"].iloc[0]
    a = runs[runs.arm == "start_small"].set_index("seed")["spread_final"]
    b = runs[runs.arm == "whole_staff"].set_index("seed")["spread_final"]
    assert row["mean_diff"] == pytest.approx((a - b).mean())
    assert row["arm"] == "start_small" and row["baseline"] == "whole_staff"
    summary = pd.read_csv(out / "summary.csv")
    assert {"mean", "ci_low", "ci_high", "git_sha", "pln_sim"} <= set(summary.columns)
    rep = pd.read_csv(out / "replications.csv")
    assert {"ci_half_width", "seeds_for_0.02"} <= set(rep.columns)
    # Provenance travels with the Parquet files too.
    import pyarrow.parquet as pq

    meta = json.loads(pq.read_schema(out / "runs.parquet").metadata[b"pln_sim.provenance"])
    assert meta["provenance"]["packages"]["mesa"] == "3.5.1"
    assert meta["settings"]["seeds"] == 6
    report = (out / "report.md").read_text()
    assert "start_small" in report and "uptake_curves.png" in report


def test_arms_match_single_runs_with_the_same_seed(tmp_path):
    import sim

    out = run_comparison(_settings(tmp_path, "seeds=2"), progress=False, figures=False)
    runs = pd.read_parquet(out / "runs.parquet").set_index(["arm", "seed"])
    single = sim.simulate(seed=1, overrides=("strategy=start_small",))
    assert runs.loc[("start_small", 1), "uptake_final"] == single.summary["uptake_final"]


def test_interrupted_comparison_resumes_without_redoing_work(tmp_path):
    s = _settings(tmp_path)
    out = run_comparison(s, progress=False, figures=False)
    reference = _comparable(pd.read_parquet(out / "runs.parquet"))
    batches = sorted((out / "cells").glob("*/batches/*"))
    assert len(batches) == 6
    # Simulate an interruption: two batches never finished, aggregated outputs never written.
    shutil.rmtree(batches[1])
    shutil.rmtree(batches[4])
    for name in ("runs.parquet", "paired.csv", "report.md"):
        (out / name).unlink()
    kept = {b: b.stat().st_mtime_ns for b in batches if b.exists()}
    run_comparison(s, progress=False, figures=False)
    assert all(b.stat().st_mtime_ns == t for b, t in kept.items())  # finished work untouched
    assert batches[1].exists() and batches[4].exists()
    pd.testing.assert_frame_equal(_comparable(pd.read_parquet(out / "runs.parquet")), reference)


def test_kill_mid_run_then_resume_gives_the_same_results(tmp_path):
    args = [
        f"out_dir={tmp_path}",
        "allow_outside_results=true",
        "seeds=12",
        "executor.batch_size=2",
        "executor.n_jobs=1",
    ]
    proc = subprocess.Popen(
        [sys.executable, "-m", "experiments.compare", "--quiet", *args],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    cells = tmp_path / "strategy_comparison" / "cells"
    deadline = time.time() + 120
    while time.time() < deadline and len(list(cells.glob("*/batches/*"))) < 2:
        time.sleep(0.2)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done_before = len(list(cells.glob("*/batches/*")))
    assert 2 <= done_before < 12
    finish = _cli("experiments.compare", "--quiet", *args)
    assert finish.returncode == 0, finish.stderr
    resumed = _comparable(pd.read_parquet(tmp_path / "strategy_comparison" / "runs.parquet"))
    fresh = run_comparison(
        build_settings(
            [
                f"out_dir={tmp_path}",
                "allow_outside_results=true",
                "name=fresh",
                "seeds=12",
                "executor.n_jobs=1",
            ]
        ),
        progress=False,
        figures=False,
    )
    pd.testing.assert_frame_equal(resumed, _comparable(pd.read_parquet(fresh / "runs.parquet")))


def test_aggregate_rebuilds_tables_and_report_on_its_own(tmp_path):
    out = run_comparison(_settings(tmp_path, "seeds=3"), progress=False)
    paired = (out / "paired.csv").read_text()
    for name in ("paired.csv", "summary.csv", "report.md", "runs.parquet", "uptake_curves.png"):
        (out / name).unlink()
    proc = _cli("experiments.aggregate", str(out))
    assert proc.returncode == 0, proc.stderr
    assert (out / "paired.csv").read_text() == paired
    assert (out / "report.md").exists() and (out / "uptake_curves.png").exists()


def test_factorial_experiment_adds_interaction_plot(tmp_path):
    s = build_settings(
        [
            f"out_dir={tmp_path}",
            "allow_outside_results=true",
            "experiment=levers_factorial",
            "seeds=2",
            "executor.n_jobs=2",
        ]
    )
    assert len(s.arms) == 8 and set(s.factors) == {"formalise", "time", "distributed_leadership"}
    out = run_comparison(s, progress=False)
    assert (out / "interaction.png").exists()
    assert len(pd.read_parquet(out / "runs.parquet")) == 16


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["arms=[whole_staff,nonsense]"], "arms"),
        (["experiment=atlantis"], "experiment"),
        (["executor=ray"], "executor"),
        (["executor.name=ray"], "executor.name"),
        (["seeds=1"], "seeds"),
        (["+colour=blue"], "colour"),
        (["years=zero"], "years"),
        (["executor=dask", "executor.address=tcp://127.0.0.1:9"], "executor.address"),
        (['+arm_overrides.bad=["decision.p_act=7"]', "arms=[whole_staff,bad]"], "p_act"),
    ],
)
def test_bad_input_is_a_one_line_error_with_exit_2_and_no_output(tmp_path, args, fragment):
    proc = _cli(
        "experiments.compare", f"out_dir={tmp_path}", "allow_outside_results=true", "seeds=3", *args
    )
    assert proc.returncode == 2, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:") and fragment in lines[0], lines
    assert list(tmp_path.iterdir()) == []


def test_changed_settings_do_not_overwrite_an_existing_comparison(tmp_path):
    run_comparison(_settings(tmp_path, "seeds=2"), progress=False, figures=False)
    proc = _cli(
        "experiments.compare",
        f"out_dir={tmp_path}",
        "allow_outside_results=true",
        "seeds=2",
        "years=2",
    )
    assert proc.returncode == 2 and "choose a new name=" in proc.stderr
    assert "resume=never" in proc.stderr and "years 3 vs 2" in proc.stderr


def test_hydra_sweep_runs_cells_resumes_and_aggregates(tmp_path):
    sweep = tmp_path / "sweep"
    args = [
        "--allow-outside-results",
        "--seeds",
        "3",
        "--n-jobs",
        "1",
        "-m",
        "strategy=whole_staff,start_small",
        "leadership=full",
        f"hydra.sweep.dir={sweep}",
    ]
    first = _cli("experiments.sweep", *args)
    assert first.returncode == 0, first.stderr
    cells = sorted(p.parent.name for p in sweep.rglob("cell.json"))
    assert cells == ["leadership=full,strategy=start_small", "leadership=full,strategy=whole_staff"]
    runs = pd.read_parquet(sweep / "runs.parquet")
    assert len(runs) == 6
    # The first cell of the sweep is the baseline of the paired comparison.
    paired = pd.read_csv(sweep / "paired.csv")
    assert set(paired["baseline"]) == {"leadership=full,strategy=whole_staff"}
    batch_times = {p: p.stat().st_mtime_ns for p in sweep.rglob("batches/*")}
    again = _cli("experiments.sweep", *args)
    assert again.returncode == 0, again.stderr
    assert {p: p.stat().st_mtime_ns for p in sweep.rglob("batches/*")} == batch_times


@pytest.mark.parametrize(
    "args",
    [
        ["-m", "strategy=whole_staff,nonsense"],
        ["-m", "decision.p_act=0.2,3"],
        ["--seeds", "1", "-m", "strategy=whole_staff,none"],
        ["-m", "+colour=blue,red"],
        # Valid for the first cell only: the second cell's value cannot be composed by its job.
        ["-m", "schools.trust_climate=0.5,[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8]"],
    ],
)
def test_sweep_bad_input_is_rejected_before_any_job(tmp_path, args):
    proc = _cli(
        "experiments.sweep", "--allow-outside-results", *args, f"hydra.sweep.dir={tmp_path / 'sw'}"
    )
    assert proc.returncode == 2, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), lines
    assert not (tmp_path / "sw").exists()


def _tree(folder: Path) -> dict[str, int]:
    return {str(p.relative_to(folder)): p.stat().st_mtime_ns for p in folder.rglob("*")}


def _sweep_args(sweep: Path, seeds: int) -> list[str]:
    return [
        "--allow-outside-results",
        "--seeds",
        str(seeds),
        "--n-jobs",
        "1",
        "-m",
        "strategy=whole_staff,start_small",
        "years=1",
        f"hydra.sweep.dir={sweep}",
    ]


def test_sweep_refusal_of_a_later_cell_is_one_line_before_any_cell_runs(tmp_path):
    sweep = tmp_path / "sweep"
    assert _cli("experiments.sweep", *_sweep_args(sweep, 2)).returncode == 0
    # The second cell's batches now hold runs of another configuration.
    (record,) = (sweep / "strategy=start_small,years=1" / "batches").glob("*/batch.json")
    data = json.loads(record.read_text())
    data["config"]["years"], data["config_sha256"] = 2, "0" * 64
    record.write_text(json.dumps(data))
    before = _tree(sweep)
    proc = _cli("experiments.sweep", *_sweep_args(sweep, 3))  # a resume with one more seed
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert proc.returncode == 2 and len(lines) == 1, proc.stderr
    assert lines[0].startswith("error:") and "'strategy=start_small,years=1'" in lines[0]
    assert "years 2 vs 1" in lines[0] and "--fresh" in lines[0]
    # Nothing ran and nothing was written: not the first cell's new seed, not Hydra's files.
    assert _tree(sweep) == before


def test_sweep_refusal_while_the_jobs_run_stops_at_that_cell_in_one_line(tmp_path):
    from filelock import FileLock

    sweep = tmp_path / "sweep"
    second = sweep / "strategy=start_small,years=1"
    second.mkdir(parents=True)
    lock = FileLock(str(second / ".lock"))  # another sweep is writing the second cell
    with lock:
        proc = _cli("experiments.sweep", *_sweep_args(sweep, 2))
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error:")]
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert errors == [lines[-1]] and "another sweep is writing" in errors[0]
    assert "hydra.sweep.dir=" in errors[0]
    # The refused cell keeps only the other writer's lock: no config, log or results of Hydra's.
    assert [p.name for p in second.iterdir()] == [".lock"]
    assert not (sweep / "report.md").exists() and not (sweep / "COMPLETE.json").exists()


@pytest.fixture
def dask_cluster(dask_processes):
    """The address of a real Dask scheduler with two single-threaded workers on 127.0.0.1."""
    return dask_processes[0]


@pytest.fixture
def dask_processes(tmp_path):
    """A real Dask scheduler and two single-threaded workers on 127.0.0.1: (address, processes)."""
    bin_dir = Path(sys.executable).parent
    scheduler_file = tmp_path / "scheduler.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [
        subprocess.Popen(
            [
                str(bin_dir / "dask"),
                "scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--dashboard-address",
                "127.0.0.1:0",
                "--scheduler-file",
                str(scheduler_file),
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    ]
    try:
        deadline = time.time() + 60
        while not scheduler_file.exists() and time.time() < deadline:
            time.sleep(0.2)
        address = json.loads(scheduler_file.read_text())["address"]
        for _ in range(2):
            procs.append(
                subprocess.Popen(
                    [
                        str(bin_dir / "dask"),
                        "worker",
                        address,
                        "--nthreads",
                        "1",
                        "--no-dashboard",
                        "--host",
                        "127.0.0.1",
                    ],
                    cwd=ROOT,
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        from distributed import Client

        with Client(address, timeout=30) as client:
            client.wait_for_workers(2, timeout=60)
        yield address, procs
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()


def test_dask_cluster_gives_identical_results_to_a_local_run(tmp_path, dask_cluster):
    common = [
        f"out_dir={tmp_path}",
        "allow_outside_results=true",
        "seeds=6",
        "executor.batch_size=2",
    ]
    local = run_comparison(
        build_settings([*common, "name=local", "executor.n_jobs=1"]), False, False
    )
    remote = run_comparison(
        build_settings(
            [*common, "name=remote", "executor=dask", f"executor.address={dask_cluster}"]
        ),
        False,
        False,
    )
    a = _comparable(pd.read_parquet(local / "runs.parquet"))
    b = _comparable(pd.read_parquet(remote / "runs.parquet"))
    pd.testing.assert_frame_equal(a, b)
    ts_a = pd.read_parquet(local / "timeseries.parquet").sort_values(["arm", "seed", "week"])
    ts_b = pd.read_parquet(remote / "timeseries.parquet").sort_values(["arm", "seed", "week"])
    assert np.array_equal(ts_a.to_numpy(), ts_b.to_numpy())


def test_lost_dask_scheduler_keeps_finished_batches_and_says_how_to_resume(
    tmp_path, dask_processes, monkeypatch
):
    import experiments.cells as cells

    address, procs = dask_processes
    real_write = cells._write_batch

    def write_then_kill_scheduler(*args, **kwargs):
        real_write(*args, **kwargs)
        if procs[0].poll() is None:
            procs[0].send_signal(signal.SIGKILL)  # the scheduler dies after the first batch

    monkeypatch.setattr(cells, "_write_batch", write_then_kill_scheduler)
    common = [f"out_dir={tmp_path}", "allow_outside_results=true", "years=1", "seeds=6"]
    s = build_settings(
        [*common, "executor.batch_size=1", "executor=dask", f"executor.address={address}"]
    )
    from sim.config import ConfigError

    with pytest.raises(ConfigError) as err:
        run_comparison(s, progress=False, figures=False)
    msg = str(err.value)
    assert "\n" not in msg and "lost the Dask scheduler" in msg and "rerun the same command" in msg
    out = tmp_path / "strategy_comparison"
    kept = sorted(out.glob("cells/*/batches/*"))
    assert kept and f"{len(kept)} of 12 runs finished" in msg
    monkeypatch.undo()
    local = [*common, "executor.n_jobs=1"]
    resumed = run_comparison(build_settings(local), progress=False, figures=False)
    assert all(b.exists() for b in kept)  # finished batches were reused, not rerun
    fresh = run_comparison(build_settings([*local, "name=fresh"]), progress=False, figures=False)
    pd.testing.assert_frame_equal(
        _comparable(pd.read_parquet(resumed / "runs.parquet")),
        _comparable(pd.read_parquet(fresh / "runs.parquet")),
    )


def test_dask_map_runs_design_points_as_a_local_run_does(dask_cluster):
    """The path sensitivity analysis, calibration and discovery use (``executor.map``) on a real
    scheduler and two workers: every chunk comes back once, equal to running it locally."""
    from experiments.executors import LocalExecutor, make_executor
    from experiments.exploration import ModelEvaluator, OutputSpec
    from sim.compose import build_config

    evaluate = ModelEvaluator(
        arms={"a": build_config(overrides=["years=1"])},
        outputs={"uptake": OutputSpec("uptake_final", "a")},
        seeds=[0, 1],
    )
    items = [[(0, {"leadership.involvement": 0.2})], [(1, {"leadership.involvement": 0.8})]]
    local = dict(LocalExecutor(1).map(evaluate, items))
    executor = make_executor("dask", dask_cluster, timeout=10)
    try:
        remote = dict(executor.map(evaluate, items))
    finally:
        executor.close()
    assert sorted(remote) == [0, 1]
    for i in (0, 1):
        pd.testing.assert_frame_equal(local[i], remote[i])
    assert not local[0]["uptake"].equals(local[1]["uptake"])  # the points differ
