r"""Hydra multirun over configuration cells; seeds run inside each job, in parallel.

    python -m experiments.sweep --seeds 200 -m strategy=whole_staff,start_small \
        leadership=full,minimal hydra.sweep.dir=results/sweeps/my_sweep

Each Hydra job is one cell (one model configuration, the cartesian product of the swept
values); it runs ``--seeds`` seeds with joblib workers (``--n-jobs``) and writes its
batches under ``<sweep dir>/<overrides>/``. The job folder is named after the job's overrides, so
rerunning the same command with the same ``hydra.sweep.dir`` resumes: finished batches are
skipped. When all jobs have finished the tables, figures and report are built in the sweep
folder; ``python -m experiments.aggregate <sweep dir>`` rebuilds them on its own (Hydra runs no
callback after Ctrl-C). The first cell is the baseline of the paired comparisons.

Every cell is validated before Hydra starts: a bad key or value in any cell is a one-line error
with exit status 2 and nothing is written. Overrides are the model keys and groups of
``configs/config.yaml``; the seeds and workers of each job are options before them
(``--seeds``, ``--seed-start``, ``--n-jobs``, ``--batch-size``; they reach the jobs through the
``PLN_SIM_SWEEP`` environment variable, so other launchers see them too). Other launchers plug in
through Hydra, e.g. the submitit launcher for Slurm (``hydra/launcher=submitit_slurm``, after
``pip install hydra-submitit-launcher``).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import itertools
import json
import logging
import os
import shutil
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.core.override_parser.overrides_parser import OverridesParser
from omegaconf import DictConfig

from experiments.aggregate import SWEEP_FILE
from experiments.cells import run_cell
from experiments.executors import LocalExecutor
from experiments.ledger import SWEEP_WAYS_FORWARD, writer_lock
from sim.compose import build_config, check_overrides, config_from_dictconfig
from sim.config import ConfigError
from sim.fileio import write_json_atomic
from sim.limits import (
    MAX_SEED,
    MAX_SEEDS,
    MAX_WORKERS,
    check_memory,
    check_seed,
    run_memory_bytes,
    tables_memory_bytes,
)

__all__ = ["SweepSettings", "expand_cells", "main"]

ENV = "PLN_SIM_SWEEP"


@dataclass
class SweepSettings:
    """Seeds and parallelism inside each sweep job."""

    seeds: int = 100
    seed_start: int = 0
    n_jobs: int = 2
    batch_size: int = 25
    fresh: bool = False
    allow_outside_results: bool = False
    sweep_id: str = ""


_LAST_SWEEP_DIR: list[Path] = []


def expand_cells(overrides: list[str]) -> list[list[str]]:
    """The cells of a sweep: every combination of the swept values (as Hydra's basic sweeper)."""
    parsed = OverridesParser.create().parse_overrides(overrides=overrides)
    choices = []
    for o in parsed:
        key = o.get_key_element()
        if o.is_sweep_override():
            choices.append([f"{key}={v}" for v in o.sweep_string_iterator()])
        else:
            choices.append([f"{key}={o.get_value_element_as_str()}"])
    return [list(combo) for combo in itertools.product(*choices)]


def validate_cells(overrides: list[str]) -> list:
    """Check every cell before Hydra runs anything; return each cell's configuration."""
    cells = expand_cells([o for o in overrides if not o.lstrip("+").startswith("hydra")])
    return [build_config(scenario=None, overrides=cell) for cell in cells]


@hydra.main(config_path="../configs", config_name="sweep", version_base="1.3")
def _job(cfg: DictConfig) -> None:
    logging.getLogger("MESA").setLevel(logging.WARNING)
    settings = SweepSettings(**json.loads(os.environ.get(ENV, "{}")))
    config = config_from_dictconfig(cfg)
    hc = HydraConfig.get()
    overrides = list(hc.overrides.task)
    arm = hc.job.override_dirname or "default"
    seeds = range(settings.seed_start, settings.seed_start + settings.seeds)
    from tqdm import tqdm

    cell = Path(hc.runtime.output_dir)
    bars = []

    def progress(n: int) -> None:  # the bar starts once the cell's ledger has been checked
        if not bars:
            bars.append(tqdm(total=settings.seeds, unit="run", desc=arm, file=sys.stderr))
        bars[0].update(n)

    try:
        done = _run_job_cell(cell, arm, overrides, config, seeds, settings, progress)
    except ConfigError as exc:  # another sweep holds the cell, or it holds other results
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)  # Hydra would print a traceback for an exception
    finally:
        for bar in bars:
            bar.close()
    print(f"cell {arm}: {done} runs done now, {settings.seeds} in all")
    if hc.mode.name == "MULTIRUN":
        _LAST_SWEEP_DIR[:] = [Path(hc.sweep.dir)]


def _run_job_cell(cell, arm, overrides, config, seeds, settings, progress) -> int:
    with writer_lock(cell, "sweep"):
        if settings.fresh and (cell / "batches").exists():
            shutil.rmtree(cell / "batches")
        return run_cell(
            cell,
            arm,
            overrides,
            config,
            seeds,
            LocalExecutor(settings.n_jobs),
            settings.batch_size,
            progress=progress,
            label=f"cell {arm!r}",
            extra={"sweep_id": settings.sweep_id},
            ways=SWEEP_WAYS_FORWARD,
        )


def _parse(argv: list[str]) -> tuple[SweepSettings, list[str]]:
    parser = argparse.ArgumentParser(prog="python -m experiments.sweep", add_help=True)
    parser.add_argument("--seeds", type=int, default=100, help="seeds per cell (>= 2)")
    parser.add_argument("--seed-start", type=int, default=0, help="first seed")
    parser.add_argument("--n-jobs", type=int, default=2, help="worker processes per job")
    parser.add_argument("--batch-size", type=int, default=25, help="seeds per task")
    parser.add_argument(
        "--fresh", action="store_true", help="discard the cells' earlier batches and start afresh"
    )
    parser.add_argument(
        "--allow-outside-results",
        action="store_true",
        help="let hydra.sweep.dir be an absolute path outside results/",
    )

    def one_line_error(message: str) -> None:
        raise ConfigError(message)

    parser.error = one_line_error  # type: ignore[method-assign]
    known, rest = parser.parse_known_args(argv)
    if not 2 <= known.seeds <= MAX_SEEDS:
        raise ConfigError(f"--seeds = {known.seeds} is out of range; allowed: 2 to {MAX_SEEDS:,}")
    check_seed("--seed-start", known.seed_start)
    if known.seed_start + known.seeds - 1 > MAX_SEED:
        raise ConfigError("--seed-start + --seeds - 1 exceeds the largest seed, 2**63-1")
    for key, value in (("--n-jobs", known.n_jobs), ("--batch-size", known.batch_size)):
        if not 1 <= value <= (MAX_WORKERS if key == "--n-jobs" else MAX_SEEDS):
            raise ConfigError(f"{key} = {value} is out of range; allowed: >= 1")
    settings = SweepSettings(
        known.seeds,
        known.seed_start,
        known.n_jobs,
        known.batch_size,
        known.fresh,
        known.allow_outside_results,
    )
    return settings, rest


def _check_hydra_overrides(overrides: list[str], multirun: bool) -> None:
    """Refuse Hydra settings this mode of the sweep ignores (one folder setting applies)."""
    ignored = "hydra.run." if multirun else "hydra.sweep."
    for ov in overrides:
        key = ov.partition("=")[0].lstrip("+")
        if key.startswith(ignored):
            mode = "with -m (multirun)" if multirun else "without -m"
            used = "hydra.sweep.dir" if multirun else "hydra.run.dir"
            raise ConfigError(f"{key} has no effect {mode}; use {used}")


def _sweep_dir(overrides: list[str], multirun: bool) -> Path | None:
    """The sweep folder the user chose (``hydra.sweep.dir=``), if any."""
    for ov in overrides:
        key, _, value = ov.partition("=")
        if multirun and key.lstrip("+") == "hydra.sweep.dir":
            return Path(value)
    return None


def main() -> int:
    """Validate every cell, run the sweep through Hydra, then aggregate it."""
    try:
        settings, rest = _parse(sys.argv[1:])
        multirun = any(a in ("-m", "--multirun") for a in rest)
        unknown = [a for a in rest if a.startswith("-") and a not in ("-m", "--multirun")]
        if unknown:
            raise ConfigError(
                f"unknown option {unknown[0]!r}; options: --seeds, --seed-start, --n-jobs, "
                "--batch-size, --fresh, -m"
            )
        overrides = check_overrides([a for a in rest if not a.startswith("-")], allow_hydra=True)
        _check_hydra_overrides(overrides, multirun)
        configs = validate_cells(overrides)
        n_cells = len(configs)
        sweep_dir = _sweep_dir(overrides, multirun)
        if sweep_dir is not None:
            check_sweep_dir(sweep_dir, settings.allow_outside_results)
        check_memory(
            max(settings.n_jobs * run_memory_bytes(c) for c in configs)
            + sum(tables_memory_bytes(c, settings.seeds) for c in configs),
            f"{n_cells} cells of {settings.seeds:,} seeds",
        )
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # Hydra's override grammar
        from sim.compose import _one_line

        print(f"error: {_one_line(exc)}", file=sys.stderr)
        return 2
    settings.sweep_id = uuid.uuid4().hex
    if sweep_dir is not None:
        previous = {}
        with contextlib.suppress(OSError, ValueError):
            previous = json.loads((sweep_dir / SWEEP_FILE).read_text())
        same = {k: previous.get(k) for k in ("seeds", "seed_start", "cells")} == {
            "seeds": settings.seeds,
            "seed_start": settings.seed_start,
            "cells": n_cells,
        }
        if same and previous.get("sweep_id"):
            settings.sweep_id = previous["sweep_id"]  # a resume keeps its cells
        write_json_atomic(
            sweep_dir / SWEEP_FILE,
            {
                "sweep_id": settings.sweep_id,
                "seeds": settings.seeds,
                "seed_start": settings.seed_start,
                "cells": n_cells,
                "overrides": overrides,
            },
        )
    os.environ[ENV] = json.dumps(dataclasses.asdict(settings))
    sys.argv = [sys.argv[0], *rest]
    try:
        _job()
    except ConfigError as exc:  # a cell holding other results, or locked by another sweep
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except SystemExit as exc:  # Hydra reports its own errors and exits
        return 2 if exc.code not in (0, None) else 0
    if _LAST_SWEEP_DIR:
        from experiments.aggregate import aggregate

        try:
            with writer_lock(_LAST_SWEEP_DIR[0], "sweep aggregation"):
                out = aggregate(_LAST_SWEEP_DIR[0])
            print(f"report: {out['report']}")
        except (ValueError, ConfigError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    return 0


def check_sweep_dir(path: Path, allow_outside: bool) -> None:
    """A sweep folder stays under results/ unless ``--allow-outside-results`` is given."""
    from experiments.settings import RESULTS_ROOT, ROOT

    if path.is_absolute():
        if not allow_outside:
            raise ConfigError(
                f"hydra.sweep.dir = {str(path)!r} is outside results/; add "
                "--allow-outside-results to write there"
            )
        return
    if not (ROOT / path).resolve().is_relative_to(RESULTS_ROOT.resolve()):
        raise ConfigError(
            f"hydra.sweep.dir = {str(path)!r} leaves results/; give a folder under results/"
        )


if __name__ == "__main__":
    sys.exit(main())
