"""The main job: a paired comparison of arms over many seeds, with tables, figures and a report.

    python -m experiments.compare [experiment=NAME] [arms=[a,b]] [seeds=N] [key=value ...]

Defaults (``make run``): New Forest, start small vs whole staff, both with full leadership
support, 200 paired seeds, three years. Experiments in ``configs/experiment/``:
``strategy_comparison`` (default), ``who_to_send``, ``levers_factorial``, ``support_duration``.
Settings: ``seeds``, ``seed_start``, ``years``, ``scenario``, ``baseline``, ``name``,
``executor=local|dask``, ``executor.address``, ``executor.n_jobs``, ``executor.batch_size``.
A new arm: ``'+arm_overrides.mine=["strategy=none","leadership=full"]' arms=[whole_staff,mine]``.
Over posterior draws of a calibration: ``uncertainty=posterior draws=50`` (see
:mod:`experiments.uncertainty`).

Writes ``results/compare/<name>/``: ``runs.parquet``/``.csv``, ``timeseries.parquet``,
``schools.parquet``, ``summary.csv``, ``paired.csv``, ``replications.csv``, figures (PNG) and
``report.md``, plus ``meta.json`` and each arm's finished batches under ``cells/`` (a ledger:
:mod:`experiments.ledger`). Rerunning resumes, with more or fewer seeds or another batch size:
batches whose record matches the request are reused seed by seed, only missing seeds run. A folder
holding runs of other code or settings is refused (a new ``name=``, or ``resume=never`` /
``--fresh`` to start afresh). Invalid settings: a one-line error, exit status 2, nothing written.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from experiments.aggregate import aggregate, check_complete
from experiments.cells import CellRequest, run_cells
from experiments.executors import SchedulerLostError, make_executor
from experiments.ledger import LOCK_FILE, Ledger, request_identity, writer_lock
from experiments.settings import (
    CompareSettings,
    arm_configs,
    build_settings,
    output_dir,
    settings_dict,
)
from sim.config import ConfigError
from sim.fileio import write_json_atomic, write_text_atomic
from sim.outcome_registry import counted
from sim.provenance import provenance

ROOT = Path(__file__).resolve().parent.parent

__all__ = ["main", "run_comparison"]


def _check_folder(out: Path) -> None:
    """Refuse a folder that exists but is not a comparison (nothing of ours to resume)."""
    if not out.exists():
        return
    if not out.is_dir():
        raise ConfigError(f"{out} exists and is not a folder; choose another name=")
    ours = {"meta.json", "cells", LOCK_FILE}
    if not (out / "meta.json").exists() and any(p.name not in ours for p in out.iterdir()):
        raise ConfigError(f"{out} exists and is not a comparison folder; choose another name=")


def _clear(out: Path) -> None:
    """Start a folder afresh (``resume=never``): remove its batches and outputs (lock held)."""
    import shutil

    for path in out.iterdir():
        if path.name == LOCK_FILE:
            continue
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()


def run_comparison(s: CompareSettings, progress: bool = True, figures: bool = True) -> Path:
    """Run (or resume) a comparison and build its outputs; return the output folder.

    Everything is checked before anything is written: settings, every arm, the limits, the Dask
    scheduler and, when resuming, that every finished batch matches this request (code,
    configuration, packages). One writer per folder: a second run with the same name refuses.

    Raises:
        ConfigError: Invalid settings, a folder holding other results, a folder another run is
            writing, or a lost Dask scheduler (finished batches are kept; rerun to resume).

    """
    configs = arm_configs(s)
    out = output_dir(s)
    _check_folder(out)
    settings = settings_dict(s)
    executor = make_executor(
        s.executor.name, s.executor.address, s.executor.n_jobs, s.executor.timeout
    )
    bar = None
    finished = [0]

    def advance(n: int) -> None:
        finished[0] += n
        bar.update(n)

    try:
        with writer_lock(out, "comparison"):
            if s.resume == "never":
                _clear(out)
            else:  # refuse a mismatch before writing anything
                for arm in s.arms:
                    Ledger(out / "cells" / arm).usable(
                        request_identity(configs[arm]), f"arm {arm!r}"
                    )
            prov = provenance(command=["python", "-m", "experiments.compare", *sys.argv[1:]])
            write_json_atomic(out / "meta.json", {"settings": settings, "provenance": prov})
            total = len(s.seed_list) * len(s.arms)
            bar = _progress_bar(total, progress)
            requests = [
                CellRequest(out / "cells" / arm, arm, s.arm_overrides[arm], configs[arm])
                for arm in s.arms
            ]
            run_cells(requests, s.seed_list, executor, s.executor.batch_size, progress=advance)
            bar.close()
            aggregate(out, figures=figures)
    except SchedulerLostError as exc:
        raise ConfigError(
            f"{exc} with {finished[0]} of {len(s.seed_list) * len(s.arms)} runs finished; they are kept "
            f"in {out}: rerun the same command when the cluster is back to resume"
        ) from None
    finally:
        if bar is not None:
            bar.close()
        executor.close()
    if s.network.staff:  # an imported network: what was read and what was drawn
        from sim.network_import import describe

        write_text_atomic(out / "network.md", describe(next(iter(configs.values()))))
    return out


def _progress_bar(total: int, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=total, unit="run", desc="runs", disable=not enabled, file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    argv = sys.argv[1:] if argv is None else argv
    if any(a.startswith("uncertainty=") for a in argv):  # rerun over posterior draws
        from experiments.uncertainty import main as uncertainty_main

        return uncertainty_main(argv)
    parser = argparse.ArgumentParser(
        prog="python -m experiments.compare",
        description="Paired comparison of arms; see the module docstring for the settings.",
    )
    parser.add_argument("overrides", nargs="*", help="key=value settings, e.g. seeds=500")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument(
        "--fresh", action="store_true", help="start the folder afresh (same as resume=never)"
    )
    args = _parse_args(parser, argv)
    if args is None:
        return 2
    logging.getLogger("MESA").setLevel(logging.WARNING)
    try:
        s = build_settings([*args.overrides, *(["resume=never"] if args.fresh else [])])
        out = run_comparison(s, progress=not args.quiet)
        check_complete(out)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    paired = out / "paired.csv"
    print(f"results written to {out}")
    print(f"report: {out / 'report.md'}  (tables: summary.csv, {paired.name})")
    _print_headline(out, s)
    return 0


def _parse_args(parser: argparse.ArgumentParser, argv: list[str]):
    """Parse options; a usage error is one line and exit status 2 (``None``)."""

    def one_line_error(message: str) -> None:
        raise ConfigError(message)

    parser.error = one_line_error  # type: ignore[method-assign]
    try:
        return parser.parse_args(argv)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return None


def _print_headline(out: Path, s: CompareSettings) -> None:
    import pandas as pd

    from sim.outcome_registry import HEADLINE, outcome

    paired = pd.read_csv(out / "paired.csv")
    for name in HEADLINE:
        o = outcome(name)
        for r in paired[paired["outcome"] == name].itertuples():
            print(
                f"  {r.arm} - {r.baseline}: {o.short} "
                f"{o.format_diff_ci(r.mean_diff, r.ci_low, r.ci_high)} over {counted(r.n, 'paired seed')}"
            )
    wins_path = out / "school_wins.csv"
    if wins_path.exists():
        for r in pd.read_csv(wins_path).itertuples():
            print(
                f"  schools where {r.arm} did better: {r.share_arm_better:.0%}, "
                f"{r.baseline} better: {r.share_baseline_better:.0%}, tied: {r.share_tied:.0%} "
                f"({r.outcome} at the horizon, {counted(r.schools, 'school-run')})"
            )


if __name__ == "__main__":
    sys.exit(main())
