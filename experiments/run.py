"""Run one simulation from the command line and write its results.

Usage::

    python -m experiments.run [scenario=NAME] [seed=N] [key=value ...] [--out DIR]

Overrides use Hydra's grammar and the keys of ``configs/`` (see docs/PARAMETERS.md), e.g.
``pln.support_years=2`` or ``leadership.collab_hours_per_week=[0,1,1,2,1,1,0,1]``.

Writes ``timeseries.parquet``/``.csv``, ``schools.parquet``/``.csv``, ``summary.json``,
``config.yaml`` and ``provenance.json`` into a new folder under ``results/runs/`` (or ``--out``)
and prints its path. The folder is written under a temporary name and renamed when complete, so
a failed run leaves nothing behind. Invalid input: a one-line error on stderr, exit status 2.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import logging
import sys
from pathlib import Path

import yaml

from sim.compose import build_config
from sim.config import ConfigError
from sim.fileio import atomic_dir
from sim.provenance import provenance
from sim.results import RunResult, simulate

RESULTS_DIR = Path(__file__).resolve().parent.parent / "results"


def parse_args(argv: list[str]) -> argparse.Namespace:
    """Split the command line into overrides and options (a usage error raises ConfigError)."""
    parser = argparse.ArgumentParser(
        prog="python -m experiments.run",
        description="Run one simulation and write its results under results/runs/.",
    )
    parser.add_argument(
        "overrides", nargs="*", help="key=value overrides, e.g. scenario=new_forest seed=3"
    )
    parser.add_argument(
        "--out", type=Path, default=None, help="folder to create for the results (must not exist)"
    )

    def one_line_error(message: str) -> None:
        raise ConfigError(message)

    parser.error = one_line_error  # type: ignore[method-assign]
    return parser.parse_args(argv)


def write_run(result: RunResult, out: Path, command: list[str]) -> Path:
    """Write a run's files into ``out`` atomically (temporary folder, then rename)."""
    with atomic_dir(out) as tmp:
        result.timeseries.to_parquet(tmp / "timeseries.parquet", index=False)
        result.timeseries.to_csv(tmp / "timeseries.csv", index=False)
        result.schools.to_parquet(tmp / "schools.parquet", index=False)
        result.schools.to_csv(tmp / "schools.csv", index=False)
        (tmp / "summary.json").write_text(json.dumps(result.summary, indent=2) + "\n")
        config = dataclasses.asdict(result.config)
        (tmp / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
        prov = provenance(seed=result.config.seed, command=command)
        (tmp / "provenance.json").write_text(json.dumps(prov, indent=2) + "\n")
        if result.config.network.staff:  # an imported network: what was read, what was drawn
            from sim.network_import import describe, network_summary

            (tmp / "network.md").write_text(describe(result.config))
            summary = network_summary(result.config)
            (tmp / "network.json").write_text(json.dumps(summary, indent=2) + "\n")
    return out


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    argv = sys.argv[1:] if argv is None else argv
    logging.getLogger("MESA").setLevel(logging.WARNING)
    try:
        args = parse_args(argv)
        config = build_config(scenario=None, overrides=args.overrides)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.out is None:
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
        out = RESULTS_DIR / "runs" / f"{config.scenario}-seed{config.seed}-{stamp}"
    else:
        out = args.out
        if out.exists():
            print(f"error: --out {out} already exists; choose a new folder", file=sys.stderr)
            return 2
    result = simulate(config=config)
    write_run(result, out, ["python", "-m", "experiments.run", *argv])
    s = result.summary
    print(
        f"{config.scenario} seed {config.seed}: uptake {s['uptake_final']:.3f}, "
        f"spread {s['spread_final']:.3f}, pupils reached {s['pupils_reached']:.0f}, "
        f"teacher-hours {s['teacher_hours']:.0f}"
    )
    if config.network.staff:
        from sim.network_import import network_summary

        n = network_summary(config)
        print(
            f"network read: {n['schools']} schools, {n['staff']} staff ({n['answered']} answered), "
            f"{n['ties']} ties; {len(n['drawn'])} attributes drawn (see network.md)"
        )
    print(f"results written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
