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

Every cell is checked before Hydra starts anything: its configuration is composed exactly as its
job will compose it (the same primary config and overrides), and, when the sweep folder already
holds the cell, its finished batches must match the request (:mod:`experiments.ledger`). A bad key
or value in any cell, or a cell holding other results, is a one-line error with exit status 2
and nothing is written, whichever cell it is. A refusal that can only arise while the jobs run
(another sweep took a cell's lock meanwhile) stops the sweep at that cell with one line and exit
status 2, and removes what Hydra had written for a cell that held no results. Overrides are the model keys and groups of
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
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.core.hydra_config import HydraConfig
from hydra.core.override_parser.overrides_parser import OverridesParser
from omegaconf import DictConfig, OmegaConf, open_dict

from experiments.aggregate import SWEEP_FILE
from experiments.cells import CELL_FILE, run_cell
from experiments.executors import LocalExecutor
from experiments.ledger import SWEEP_WAYS_FORWARD, Ledger, request_identity, writer_lock
from sim.compose import CONFIG_DIR, _one_line, check_overrides, config_from_dictconfig
from sim.config import Config, ConfigError
from sim.fileio import write_json_atomic
from sim.limits import (
    MAX_SEED,
    MAX_SEEDS,
    MAX_WORKERS,
    check_memory,
    check_seed,
)
from sim.outcome_registry import counted

__all__ = ["SweepSettings", "Cell", "CellRefused", "expand_cells", "plan_cells", "main"]

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


class CellRefused(BaseException):
    """A cell's job refused to run: it stops the sweep at that cell.

    Hydra's launchers record an ordinary exception of a job as a failed job and go on to the
    next ones (and report it later as a traceback); this one passes through them, like Ctrl-C,
    so that ``main`` ends the sweep with one line and exit status 2.
    """


@dataclass
class Cell:
    """One cell of a sweep, as its Hydra job will see it."""

    overrides: list[str]
    config: Config
    name: str  # the job's folder name (Hydra's override_dirname)
    folder: Path | None  # where its batches go (None: the folder's name depends on the clock)


def _is_hydra(override: str) -> bool:
    return override.lstrip("+~").split(".")[0].split("/")[0] == "hydra"


def plan_cells(overrides: list[str], multirun: bool = True) -> list[Cell]:
    """Compose every cell exactly as its Hydra job will, before any job runs.

    Each cell's configuration comes from the sweep's primary config with the cell's overrides
    and the sweep's ``hydra.*`` overrides, through :func:`config_from_dictconfig` as in the
    job, so a value only one cell has is refused here, before the first cell runs.
    """
    hydra_ovs = [o for o in overrides if _is_hydra(o)]
    cells = (
        expand_cells([o for o in overrides if not _is_hydra(o)])
        if multirun
        else [[o for o in overrides if not _is_hydra(o)]]
    )
    planned = []
    if GlobalHydra.instance().is_initialized():  # inside a Hydra app: the same search path
        context = contextlib.nullcontext()
    else:
        context = initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3")
    with context:
        for cell in cells:
            try:
                cfg = compose(
                    config_name="sweep", overrides=[*cell, *hydra_ovs], return_hydra_config=True
                )
                name = str(cfg.hydra.job.override_dirname) or "default"
            except ConfigError:
                raise
            except Exception as exc:  # Hydra's composition: one line, as everywhere
                raise ConfigError(_one_line(exc)) from exc
            folder = _job_folder(cfg.hydra, multirun)
            with open_dict(cfg):
                del cfg["hydra"]
            planned.append(Cell(cell, config_from_dictconfig(cfg), name, folder))
    return planned


def _job_folder(hc: DictConfig, multirun: bool) -> Path | None:
    """The job's folder, or None when it cannot be known before the job runs.

    A folder named after the clock (``${now:...}``, the default) or after values only the
    launcher sets (such as ``${hydra.job.num}``) is new, so it holds nothing to check.
    """
    node = hc.sweep if multirun else hc.run
    if "${now:" in str(OmegaConf.to_container(node, resolve=False)):
        return None
    try:
        return Path(str(node.dir)) / str(node.subdir) if multirun else Path(str(node.dir))
    except Exception:
        return None


def check_cell_ledgers(cells: list[Cell], fresh: bool) -> None:
    """Refuse, before any job runs, a cell whose folder holds runs of another request."""
    if fresh:
        return
    for cell in cells:
        if cell.folder is not None:
            Ledger(cell.folder).usable(
                request_identity(cell.config), f"cell {cell.name!r}", ways=SWEEP_WAYS_FORWARD
            )


@hydra.main(config_path="../configs", config_name="sweep", version_base="1.3")
def _job(cfg: DictConfig) -> None:
    logging.getLogger("MESA").setLevel(logging.WARNING)
    settings = SweepSettings(**json.loads(os.environ.get(ENV, "{}")))
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

    held_results = (cell / CELL_FILE).exists()
    try:
        config = config_from_dictconfig(cfg)
        done = _run_job_cell(cell, arm, overrides, config, seeds, settings, progress)
    except ConfigError as exc:  # another sweep took the cell, or it changed since the check
        if not held_results:
            _remove_job_files(cell, hc)
        raise CellRefused(str(exc)) from None
    finally:
        for bar in bars:
            bar.close()
    print(f"cell {arm}: {done} runs done now, {settings.seeds} in all")
    if hc.mode.name == "MULTIRUN":
        _LAST_SWEEP_DIR[:] = [Path(hc.sweep.dir)]


def _remove_job_files(cell: Path, hc) -> None:
    """Remove what Hydra wrote for a refused cell that held no results (its configs and log)."""
    if hc.output_subdir:
        shutil.rmtree(cell / str(hc.output_subdir), ignore_errors=True)
    with contextlib.suppress(OSError):
        (cell / f"{hc.job.name}.log").unlink()
    with contextlib.suppress(OSError):
        cell.rmdir()  # only if nothing else is there (another writer's lock stays)


def _run_job_cell(cell, arm, overrides, config, seeds, settings, progress) -> int:
    with writer_lock(cell, "sweep", "choose another hydra.sweep.dir="):
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
        sweep_dir = _sweep_dir(overrides, multirun)
        if sweep_dir is not None:
            check_sweep_dir(sweep_dir, settings.allow_outside_results)
        cells = plan_cells(overrides, multirun)
        configs = [c.config for c in cells]
        n_cells = len(configs)
        check_cell_ledgers(cells, settings.fresh)
        check_memory(
            configs,
            settings.seeds,
            settings.n_jobs,
            f"{counted(n_cells, 'cell')} of {counted(settings.seeds, 'seed')}",
        )
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # Hydra's override grammar
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
    except CellRefused as exc:  # a cell refused while the jobs ran: the sweep stops there
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except SystemExit as exc:  # Hydra reports its own errors and exits
        return 2 if exc.code not in (0, None) else 0
    if _LAST_SWEEP_DIR:
        from experiments.aggregate import aggregate

        try:
            with writer_lock(
                _LAST_SWEEP_DIR[0], "sweep aggregation", "choose another hydra.sweep.dir="
            ):
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
