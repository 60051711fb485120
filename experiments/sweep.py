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
import dataclasses
import itertools
import json
import logging
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.core.override_parser.overrides_parser import OverridesParser
from omegaconf import DictConfig

from experiments.cells import run_cell
from experiments.executors import LocalExecutor
from sim.compose import build_config, config_from_dictconfig
from sim.config import ConfigError

__all__ = ["SweepSettings", "expand_cells", "main"]

ENV = "PLN_SIM_SWEEP"


@dataclass
class SweepSettings:
    """Seeds and parallelism inside each sweep job."""

    seeds: int = 100
    seed_start: int = 0
    n_jobs: int = 2
    batch_size: int = 25


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


def validate_cells(overrides: list[str]) -> int:
    """Check every cell before Hydra runs anything; return the number of cells."""
    cells = expand_cells([o for o in overrides if not o.startswith("hydra")])
    for cell in cells:
        build_config(scenario=None, overrides=cell)
    return len(cells)


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

    bar = tqdm(total=settings.seeds, unit="run", desc=arm, file=sys.stderr)
    done = run_cell(
        Path(hc.runtime.output_dir),
        arm,
        overrides,
        config,
        seeds,
        LocalExecutor(settings.n_jobs),
        settings.batch_size,
        progress=bar.update,
    )
    bar.close()
    print(f"cell {arm}: {done} runs done now, {settings.seeds} in all")
    if hc.mode.name == "MULTIRUN":
        _LAST_SWEEP_DIR[:] = [Path(hc.sweep.dir)]


def _parse(argv: list[str]) -> tuple[SweepSettings, list[str]]:
    parser = argparse.ArgumentParser(prog="python -m experiments.sweep", add_help=True)
    parser.add_argument("--seeds", type=int, default=100, help="seeds per cell (>= 2)")
    parser.add_argument("--seed-start", type=int, default=0, help="first seed")
    parser.add_argument("--n-jobs", type=int, default=2, help="worker processes per job")
    parser.add_argument("--batch-size", type=int, default=25, help="seeds per task")
    known, rest = parser.parse_known_args(argv)
    if known.seeds < 2:
        raise ConfigError(f"--seeds = {known.seeds}: paired comparisons need at least 2")
    if known.seed_start < 0 or known.n_jobs < 1 or known.batch_size < 1:
        raise ConfigError("--seed-start must be >= 0, --n-jobs and --batch-size >= 1")
    settings = SweepSettings(known.seeds, known.seed_start, known.n_jobs, known.batch_size)
    return settings, rest


def main() -> int:
    """Validate every cell, run the sweep through Hydra, then aggregate it."""
    try:
        settings, rest = _parse(sys.argv[1:])
        overrides = [a for a in rest if not a.startswith("-")]
        validate_cells(overrides)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # Hydra's override grammar
        from sim.compose import _one_line

        print(f"error: {_one_line(exc)}", file=sys.stderr)
        return 2
    os.environ[ENV] = json.dumps(dataclasses.asdict(settings))
    sys.argv = [sys.argv[0], *rest]
    _job()
    if _LAST_SWEEP_DIR:
        from experiments.aggregate import aggregate

        try:
            out = aggregate(_LAST_SWEEP_DIR[0])
            print(f"report: {out['report']}")
        except ValueError as exc:
            print(f"note: {exc}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
