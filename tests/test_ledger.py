"""Fault injection on a results folder: every way of reusing or breaking it ends with tables equal
to a clean run's, or with a clean one-line refusal (experiments.ledger, compare, aggregate)."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

import experiments.aggregate as aggregate_mod
import experiments.compare as compare_mod
from experiments import ledger
from experiments.aggregate import COMPLETE_FILE, check_complete
from experiments.compare import run_comparison
from experiments.executors import LocalExecutor, SchedulerLostError, make_executor
from experiments.settings import build_settings
from sim.config import ConfigError

ROOT = Path(__file__).resolve().parent.parent
TABLE_FILES = ("runs.parquet", "timeseries.parquet", "schools.parquet")


def _settings(out, *extra):
    return build_settings(
        [
            f"out_dir={out}",
            "allow_outside_results=true",
            "years=1",
            "seeds=2",
            "executor.batch_size=1",
            "executor.n_jobs=1",
            *extra,
        ]
    )


def _run(out, *extra):
    return run_comparison(_settings(out, *extra), progress=False, figures=False)


def _tables(folder):
    out = {}
    for name in TABLE_FILES:
        frame = pd.read_parquet(folder / name)
        keys = [c for c in ("arm", "seed", "week", "school") if c in frame]
        out[name] = frame.sort_values(keys).reset_index(drop=True)
    for name in ("summary.csv", "paired.csv"):
        out[name] = pd.read_csv(folder / name).drop(columns=["git_sha", "pln_sim"])
    return out


def assert_same_tables(folder, clean):
    a, b = _tables(folder), _tables(clean)
    for name in a:
        pd.testing.assert_frame_equal(a[name], b[name], check_exact=True, obj=name)
    check_complete(folder)


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    """Clean runs to compare with, made once per requested setting."""
    base = tmp_path_factory.mktemp("clean")
    made = {}

    def get(*extra):
        key = tuple(extra)
        if key not in made:
            made[key] = _run(base, f"name=c{len(made)}", *extra)
        return made[key]

    return get


def _batches(folder):
    return sorted((folder / "cells").glob("*/batches/*"))


def test_resume_with_more_seeds_runs_only_the_new_ones(tmp_path, clean):
    out = _run(tmp_path, "seeds=2", "executor.batch_size=2")
    before = {b: b.stat().st_mtime_ns for b in _batches(out)}
    out = _run(tmp_path, "seeds=3", "executor.batch_size=2")
    assert all(b.stat().st_mtime_ns == t for b, t in before.items())
    assert len(_batches(out)) == len(before) + 2  # seed 2 of each arm, one batch each
    assert_same_tables(out, clean("seeds=3"))
    runs = pd.read_parquet(out / "runs.parquet")
    assert not runs.duplicated(["arm", "seed"]).any() and len(runs) == 6


def test_resume_with_fewer_seeds_uses_only_those(tmp_path, clean):
    _run(tmp_path, "seeds=3")
    out = _run(tmp_path, "seeds=2")
    assert_same_tables(out, clean())
    assert json.loads((out / COMPLETE_FILE).read_text())["seeds_complete"] == 2


def test_resume_with_another_batch_size_never_counts_a_seed_twice(tmp_path, clean):
    out = _run(tmp_path, "seeds=3", "executor.batch_size=2")
    for b in _batches(out):  # interrupted: the second batch of each arm never finished
        if b.name.startswith("000002"):
            shutil.rmtree(b)
    out = _run(tmp_path, "seeds=3", "executor.batch_size=3")
    assert_same_tables(out, clean("seeds=3"))
    seeds = [s for b in _batches(out) for s in json.loads((b / "batch.json").read_text())["seeds"]]
    assert len(seeds) == 2 * 3 and len(set(seeds)) == 3  # each arm holds each seed once


def test_changed_config_is_refused_then_fresh_gives_a_clean_run(tmp_path, clean):
    _run(tmp_path)
    with pytest.raises(ConfigError) as err:
        _run(tmp_path, "years=2")
    msg = str(err.value)
    assert "\n" not in msg and "years 1 vs 2" in msg
    assert "name=" in msg and "resume=never" in msg
    out = _run(tmp_path, "years=2", "resume=never")
    assert_same_tables(out, clean("years=2"))


def test_changed_commit_is_refused(tmp_path, monkeypatch, clean):
    repo = tmp_path / "repo"
    shutil.copytree(ROOT / "sim", repo / "sim", ignore=shutil.ignore_patterns("__pycache__"))
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.org",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.org",
    }

    def git(*args):
        subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True)

    git("init", "-q")
    git("add", "-A")
    git("commit", "-qm", "first")
    monkeypatch.setattr(ledger, "CODE_ROOT", repo)
    ledger.code_identity.cache_clear()
    out = _run(tmp_path / "res")
    first = json.loads(next(iter(_batches(out))).joinpath("batch.json").read_text())["code"]
    assert first["git_dirty"] is False and len(first["git_sha"]) == 40
    # Uncommitted change to the model: same SHA, dirty, another source hash.
    with open(repo / "sim" / "loop.py", "a") as fh:
        fh.write("\n# a change\n")
    ledger.code_identity.cache_clear()
    with pytest.raises(ConfigError, match=r"code \(git .*\+uncommitted changes\)"):
        _run(tmp_path / "res")
    git("commit", "-qam", "second")
    ledger.code_identity.cache_clear()
    with pytest.raises(ConfigError) as err:
        _run(tmp_path / "res")
    assert f"code (git {first['git_sha'][:10]} vs now" in str(err.value)
    assert "\n" not in str(err.value)
    out = _run(tmp_path / "res", "resume=never")
    ledger.code_identity.cache_clear()
    monkeypatch.undo()
    assert_same_tables(out, clean())


def test_truncated_batch_is_rerun_with_a_notice(tmp_path, clean, capsys):
    out = _run(tmp_path)
    victim = _batches(out)[1] / "runs.parquet"
    data = victim.read_bytes()
    victim.write_bytes(data[: len(data) // 2])
    capsys.readouterr()
    out = _run(tmp_path)
    notices = [ln for ln in capsys.readouterr().err.splitlines() if ln.startswith("note:")]
    assert len(notices) == 1 and "checksum" in notices[0] and "rerunning" in notices[0]
    assert_same_tables(out, clean())


def test_short_batch_is_detected_and_rerun(tmp_path, clean, capsys):
    out = _run(tmp_path, "seeds=3", "executor.batch_size=2")
    victim = _batches(out)[0] / "runs.parquet"
    frame = pd.read_parquet(victim)
    frame.iloc[:1].to_parquet(victim, index=False)  # valid Parquet, one seed short
    aggregate_mod.aggregate(out, figures=False)  # aggregate alone leaves the seed out...
    assert json.loads((out / COMPLETE_FILE).read_text())["seeds_complete"] == 1
    assert "1 paired seed of the 3 requested" in (out / "report.md").read_text()
    capsys.readouterr()
    out = _run(tmp_path, "seeds=3", "executor.batch_size=2")  # ...and a rerun runs it again
    assert "unusable" in capsys.readouterr().err
    assert_same_tables(out, clean("seeds=3"))


def test_batch_without_record_or_with_broken_record_is_rerun(tmp_path, clean):
    out = _run(tmp_path)
    batches = _batches(out)
    (batches[0] / "batch.json").unlink()
    (batches[1] / "batch.json").write_text("{not json")
    out = _run(tmp_path)
    assert_same_tables(out, clean())


def _dying_replace(out, after):
    """os.replace that 'kills the process' once ``after`` outputs have been moved into ``out``."""
    moved = []
    real_replace = os.replace

    def replace(src, dst):
        if Path(dst).parent == out and not Path(dst).name.startswith("."):
            if len(moved) == after:
                raise KeyboardInterrupt
            moved.append(dst)
        real_replace(src, dst)

    return replace


def test_kill_while_staging_keeps_the_previous_complete_set(tmp_path, monkeypatch):
    out = _run(tmp_path)
    before = check_complete(out)
    real_replace = os.replace

    def dying(src, dst):  # dies writing the second staged file
        if ".staging" in str(dst) and Path(dst).name == "runs.csv":
            raise KeyboardInterrupt
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", dying)
    with pytest.raises(KeyboardInterrupt):
        aggregate_mod.aggregate(out, figures=False)
    monkeypatch.undo()
    assert check_complete(out) == before


def test_kill_during_aggregation_leaves_a_folder_marked_incomplete(tmp_path, clean, monkeypatch):
    out = _run(tmp_path)
    monkeypatch.setattr(os, "replace", _dying_replace(out, after=2))
    with pytest.raises(KeyboardInterrupt):
        aggregate_mod.aggregate(out, figures=False)
    monkeypatch.undo()
    assert not (out / COMPLETE_FILE).exists()
    with pytest.raises(ConfigError, match="no complete set"):
        check_complete(out)
    proc = subprocess.run(
        [sys.executable, "-m", "experiments.aggregate", "--check", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1
    out = _run(tmp_path)  # rerunning rebuilds the outputs (and clears the staging folder)
    assert not any(p.name.endswith(".staging") for p in out.parent.iterdir())
    assert_same_tables(out, clean())


def test_two_runs_with_one_name_one_refuses_at_once(tmp_path, clean):
    args = [
        f"out_dir={tmp_path}",
        "allow_outside_results=true",
        "years=1",
        "seeds=60",
        "executor.batch_size=1",
        "executor.n_jobs=1",
    ]
    first = subprocess.Popen(
        [sys.executable, "-m", "experiments.compare", "--quiet", *args],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    out = tmp_path / "strategy_comparison"
    deadline = time.time() + 120
    while time.time() < deadline and not list(out.glob("cells/*/batches/0*")):
        time.sleep(0.1)
    try:
        assert first.poll() is None, "the first run ended before the second started"
        second = subprocess.run(
            [sys.executable, "-m", "experiments.compare", "--quiet", *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        lines = second.stderr.strip().splitlines()
        assert second.returncode == 2 and len(lines) == 1, second.stderr
        assert "another comparison is writing" in lines[0]
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    out = _run(tmp_path)  # the folder resumes as if nothing had happened
    assert_same_tables(out, clean())


def test_lost_scheduler_keeps_finished_batches_and_says_how_to_resume(tmp_path, clean, monkeypatch):
    class Dying(LocalExecutor):
        def run(self, tasks):
            for i, item in enumerate(super().run(tasks)):
                if i == 1:  # after the first task (seed 0 of both arms)
                    raise SchedulerLostError("lost the Dask scheduler at tcp://10.0.0.1:8786")
                yield item

    monkeypatch.setattr(compare_mod, "make_executor", lambda *a, **k: Dying(1))
    with pytest.raises(ConfigError) as err:
        _run(tmp_path)
    msg = str(err.value)
    assert "\n" not in msg and "2 of 4 runs finished" in msg and "rerun the same command" in msg
    monkeypatch.undo()
    assert len(_batches(tmp_path / "strategy_comparison")) == 2
    assert_same_tables(_run(tmp_path), clean())


@pytest.mark.parametrize(
    "address", ["notaurl", "http://127.0.0.1:8786", "tcp://127.0.0.1", "tcp://127.0.0.1:99999"]
)
def test_malformed_dask_address_is_refused_before_connecting(address):
    t0 = time.time()
    with pytest.raises(ConfigError, match="not a scheduler address"):
        make_executor("dask", address, timeout=1)
    assert time.time() - t0 < 1


def test_a_listener_that_is_not_dask_is_refused_within_the_timeout():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    held = []
    threading.Thread(target=lambda: held.append(listener.accept()), daemon=True).start()
    port = listener.getsockname()[1]
    t0 = time.time()
    try:
        with pytest.raises(ConfigError, match="no Dask scheduler answered within 1 s"):
            make_executor("dask", f"tcp://127.0.0.1:{port}", timeout=1)
    finally:
        listener.close()
    assert time.time() - t0 < 5


def test_an_unreachable_dask_address_fails_fast():
    with socket.socket() as s:  # a free port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    t0 = time.time()
    with pytest.raises(ConfigError, match="no Dask scheduler reachable"):
        make_executor("dask", f"tcp://127.0.0.1:{port}", timeout=1)
    assert time.time() - t0 < 2


def test_per_arm_years_is_honoured_and_per_arm_scenario_refused(tmp_path):
    s = build_settings(
        [
            f"out_dir={tmp_path}",
            "allow_outside_results=true",
            "years=1",
            "seeds=2",
            "executor.n_jobs=1",
            '+arm_overrides.long=["strategy=whole_staff","leadership=full","years=2"]',
            "arms=[whole_staff,long]",
        ]
    )
    out = run_comparison(s, progress=False, figures=False)
    runs = pd.read_parquet(out / "runs.parquet").set_index("arm")
    assert set(runs.loc["long", "cfg.years"]) == {2} and set(
        runs.loc["whole_staff", "cfg.years"]
    ) == {1}
    assert "1-2 (per arm)" in (out / "report.md").read_text()
    with pytest.raises(ConfigError, match="arms are paired on the same schools"):
        build_settings(['+arm_overrides.x=["scenario=rlc_trial"]', "arms=[whole_staff,x]"])


def test_compare_scenario_works_as_documented(tmp_path):
    s = _settings(tmp_path, "scenario=rlc_trial")
    assert s.scenario == "rlc_trial"
    out = run_comparison(s, progress=False, figures=False)
    runs = pd.read_parquet(out / "runs.parquet")
    assert set(runs["cfg.scenario"]) == {"rlc_trial"}
    assert "rlc_trial" in (out / "report.md").read_text()


def test_batches_record_what_produced_them(tmp_path):
    out = _run(tmp_path)
    record = json.loads((_batches(out)[0] / "batch.json").read_text())
    assert record["seeds"] == [0]
    assert {"git_sha", "git_dirty", "source_sha256"} <= set(record["code"])
    assert record["config"]["years"] == 1 and len(record["config_sha256"]) == 64
    assert record["packages"]["numpy"] == "2.5.5"
    for name in TABLE_FILES:
        entry = record["files"][name]
        assert entry["sha256"] == ledger.file_checksum(_batches(out)[0] / name)
        assert entry["rows"] == pq.read_metadata(_batches(out)[0] / name).num_rows


def test_outputs_follow_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        out = _run(tmp_path)
    finally:
        os.umask(old)
    for path in [out, *out.rglob("*")]:
        if path.name == ledger.LOCK_FILE:
            continue
        mode = path.stat().st_mode & 0o777
        assert mode == (0o755 if path.is_dir() else 0o644), (path, oct(mode))


def test_changed_network_file_is_refused_naming_the_file(tmp_path, capsys):
    net = tmp_path / "net"
    shutil.copytree(ROOT / "examples" / "network", net)
    files = [f"network.{k}={net / (k + '.csv')}" for k in ("staff", "ties", "schools")]
    args = ["scenario=from_files", *files]
    out = _run(tmp_path / "res", *args)
    record = json.loads((_batches(out)[0] / "batch.json").read_text())
    assert record["network_files"]["network.ties"] == {
        "file": "ties.csv",
        "sha256": ledger.file_checksum(net / "ties.csv"),
    }
    made = {b: b.stat().st_mtime_ns for b in _batches(out)}
    _run(tmp_path / "res", *args)  # same files: a resume reuses every batch
    assert {b: b.stat().st_mtime_ns for b in _batches(out)} == made
    # The same path, another advice map: one tie's strength changed.
    ties = (net / "ties.csv").read_text().splitlines()
    seeker, adviser, strength = ties[1].split(",")
    ties[1] = f"{seeker},{adviser},{0.2 if float(strength) != 0.2 else 0.4}"
    (net / "ties.csv").write_text("\n".join(ties) + "\n")
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*")}
    code = compare_mod.main(
        ["--quiet", f"out_dir={tmp_path / 'res'}", "allow_outside_results=true", "years=1"]
        + ["seeds=2", "executor.batch_size=1", "executor.n_jobs=1", *args]
    )
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1, lines
    assert "network.ties file (ties.csv: its content changed" in lines[0]
    assert "name=" in lines[0] and "resume=never" in lines[0]
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*")} == before
    fresh = _run(tmp_path / "res", *args, "resume=never")
    record = json.loads((_batches(fresh)[0] / "batch.json").read_text())
    assert record["network_files"]["network.ties"]["sha256"] == ledger.file_checksum(
        net / "ties.csv"
    )


def test_arms_run_together_seed_batch_by_seed_batch(tmp_path, clean, monkeypatch):
    """Each task runs one batch of seeds for every arm, so the arms share each seed's no-PLN run
    (computed once per process); a resume runs only what each arm lacks."""
    seen = []

    class Recording(LocalExecutor):
        def run(self, tasks):
            seen.extend([(arm, tuple(seeds)) for _, arm, _, seeds in task] for task in tasks)
            yield from super().run(tasks)

    monkeypatch.setattr(compare_mod, "make_executor", lambda *a, **k: Recording(1))
    out = _run(tmp_path, "executor.batch_size=2", "seeds=3")
    assert seen == [
        [("whole_staff", (0, 1)), ("start_small", (0, 1))],
        [("whole_staff", (2,)), ("start_small", (2,))],
    ]
    batches = sorted((out / "cells" / "start_small" / "batches").iterdir())
    shutil.rmtree(batches[-1])  # start small's seed 2 is lost
    seen.clear()
    _run(tmp_path, "executor.batch_size=2", "seeds=3")
    assert seen == [[("start_small", (2,))]]
