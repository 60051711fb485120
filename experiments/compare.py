"""The main job: a paired comparison of arms over many seeds, with tables, figures and a report.

    python -m experiments.compare [experiment=NAME] [arms=[a,b]] [seeds=N] [key=value ...]

Defaults (``make run``): New Forest, start small vs whole staff, both with full leadership
support, 200 paired seeds, three years. Experiments in ``configs/experiment/``:
``strategy_comparison`` (default), ``who_to_send``, ``levers_factorial``, ``support_duration``.
Settings: ``seeds``, ``seed_start``, ``years``, ``scenario``, ``baseline``, ``name``,
``executor=local|dask``, ``executor.address``, ``executor.n_jobs``, ``executor.batch_size``.
A new arm: ``'+arm_overrides.mine=["strategy=none","leadership=full"]' arms=[whole_staff,mine]``.

Writes ``results/compare/<name>/``: ``runs.parquet``/``.csv``, ``timeseries.parquet``,
``schools.parquet``, ``summary.csv``, ``paired.csv``, ``replications.csv``, figures (PNG) and
``report.md``, plus ``meta.json`` and each arm's finished batches under ``cells/``. Rerunning the
same command resumes: finished batches are kept, only missing seeds run. Invalid settings: a
one-line error, exit status 2, nothing written.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from experiments.aggregate import aggregate
from experiments.cells import run_cell
from experiments.executors import make_executor
from experiments.settings import CompareSettings, arm_configs, build_settings, settings_dict
from sim.config import ConfigError
from sim.fileio import write_json_atomic, write_text_atomic
from sim.provenance import provenance

ROOT = Path(__file__).resolve().parent.parent

__all__ = ["main", "run_comparison"]


def _output_dir(s: CompareSettings) -> Path:
    base = Path(s.out_dir)
    return (base if base.is_absolute() else ROOT / base) / s.run_name


def _check_resume(out: Path, settings: dict) -> None:
    meta_path = out / "meta.json"
    if not meta_path.exists():
        if out.exists() and any(out.iterdir()):
            raise ConfigError(f"{out} exists and is not a comparison folder; choose another name=")
        return
    previous = json.loads(meta_path.read_text())["settings"]
    keep = ("experiment", "scenario", "years", "seed_start", "arm_overrides", "network")
    changed = [k for k in keep if previous.get(k) != settings.get(k)]
    changed += [a for a in settings["arms"] if a not in previous.get("arms", [])]
    if changed:
        raise ConfigError(
            f"{out} holds a comparison with other settings ({', '.join(map(str, changed))}); "
            "choose another name= to keep both"
        )


def run_comparison(s: CompareSettings, progress: bool = True, figures: bool = True) -> Path:
    """Run (or resume) a comparison and build its outputs; return the output folder."""
    configs = arm_configs(s)
    executor = make_executor(s.executor.name, s.executor.address, s.executor.n_jobs)
    out = _output_dir(s)
    settings = settings_dict(s)
    _check_resume(out, settings)
    try:
        out.mkdir(parents=True, exist_ok=True)
        prov = provenance(command=["python", "-m", "experiments.compare", *sys.argv[1:]])
        write_json_atomic(out / "meta.json", {"settings": settings, "provenance": prov})
        total = len(s.seed_list) * len(s.arms)
        bar = _progress_bar(total, progress)
        for arm in s.arms:
            run_cell(
                out / "cells" / arm,
                arm,
                s.arm_overrides[arm],
                configs[arm],
                s.seed_list,
                executor,
                s.executor.batch_size,
                progress=bar.update,
            )
        bar.close()
    finally:
        executor.close()
    aggregate(out, figures=figures)
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
    parser = argparse.ArgumentParser(
        prog="python -m experiments.compare",
        description="Paired comparison of arms; see the module docstring for the settings.",
    )
    parser.add_argument("overrides", nargs="*", help="key=value settings, e.g. seeds=500")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    logging.getLogger("MESA").setLevel(logging.WARNING)
    try:
        s = build_settings(args.overrides)
        out = run_comparison(s, progress=not args.quiet)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    paired = out / "paired.csv"
    print(f"results written to {out}")
    print(f"report: {out / 'report.md'}  (tables: summary.csv, {paired.name})")
    _print_headline(out, s)
    return 0


def _print_headline(out: Path, s: CompareSettings) -> None:
    import pandas as pd

    from sim.outcome_registry import HEADLINE, outcome

    paired = pd.read_csv(out / "paired.csv")
    for name in HEADLINE:
        o = outcome(name)
        for r in paired[paired["outcome"] == name].itertuples():
            print(
                f"  {r.arm} - {r.baseline}: {o.short} "
                f"{o.format_diff_ci(r.mean_diff, r.ci_low, r.ci_high)} over {r.n} paired seeds"
            )


if __name__ == "__main__":
    sys.exit(main())
