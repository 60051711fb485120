"""Running a configuration cell: many seeds of one arm, in batches, resumable, written atomically.

A *cell* is one model configuration (an arm of a comparison, or one point of a Hydra sweep). Its
seeds run in batches (the arms of a comparison together, batch by batch, so they share each seed's
no-PLN run); each finished batch is written to ``<cell>/batches/<first>-<last>/`` under a
temporary name and renamed into place, with a record of what produced it and checksums of its files
(:mod:`experiments.ledger`), so an interrupted run keeps every finished batch and a rerun runs only
the seeds no matching batch holds. ``cell.json`` records the arm, its overrides and its resolved
configuration.

Batches run through an executor (:mod:`experiments.executors`): joblib processes on this
machine, or a Dask cluster. Results do not depend on the executor, the batch size or the order in
which batches finish: every run is a pure function of its configuration and seed.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

import sim
from experiments.ledger import (
    RECORD_FILE,
    TABLES,
    WAYS_FORWARD,
    Ledger,
    load_batches,
    make_record,
    request_identity,
)
from sim.config import Config
from sim.fileio import atomic_dir, write_json_atomic

__all__ = [
    "CELL_FILE",
    "run_batch",
    "run_cell",
    "run_cells",
    "run_task",
    "CellRequest",
    "batches",
    "load_cell",
    "flatten_config",
    "write_json_atomic",
]

CELL_FILE = "cell.json"
SCHOOL_COLUMNS = ["school", "week", "uptake", "use", "pupil_effect"]


def flatten_config(config: Config) -> dict[str, Any]:
    """Config values as ``cfg.<dotted key>`` columns (lists as JSON text)."""
    out: dict[str, Any] = {}

    def walk(node: Any, prefix: str) -> None:
        for key, value in node.items():
            if isinstance(value, dict):
                walk(value, f"{prefix}{key}.")
            elif isinstance(value, list | tuple):
                out[f"cfg.{prefix}{key}"] = json.dumps(list(value))
            else:
                out[f"cfg.{prefix}{key}"] = value

    walk(dataclasses.asdict(config), "")
    return out


def run_batch(arm: str, config: Config, seeds: Sequence[int]) -> dict[str, pd.DataFrame]:
    """Run one batch of seeds of an arm; return its runs, timeseries and schools tables."""
    import logging

    logging.getLogger("MESA").setLevel(logging.WARNING)
    runs, series, schools = [], [], []
    for seed in seeds:
        cfg = dataclasses.replace(config, seed=int(seed))
        result = sim.simulate(config=cfg, validated=True)  # validated once for the batch
        # The resolved configuration: schools given as distributions are this seed's draws.
        columns = flatten_config(result.config)
        columns["cfg.seed"] = int(seed)
        runs.append({"arm": arm, "seed": int(seed), **columns, **result.summary})
        ts = result.timeseries
        ts.insert(0, "seed", int(seed))
        ts.insert(0, "arm", arm)
        series.append(ts)
        sch = result.schools[SCHOOL_COLUMNS].copy()
        sch.insert(0, "seed", int(seed))
        sch.insert(0, "arm", arm)
        schools.append(sch)
    return {
        "runs": pd.DataFrame(runs),
        "timeseries": pd.concat(series, ignore_index=True),
        "schools": pd.concat(schools, ignore_index=True),
    }


def batches(seeds: Sequence[int], size: int) -> list[list[int]]:
    """Split seeds into batches of at most ``size``."""
    seeds = list(seeds)
    return [seeds[i : i + size] for i in range(0, len(seeds), size)]


def _write_batch(
    ledger: Ledger, seeds: Sequence[int], tables: dict[str, pd.DataFrame], identity: dict
) -> None:
    """Write a batch's tables and its record (checksums last) under a temporary name."""
    got = sorted(int(s) for s in tables["runs"]["seed"])
    if got != sorted(int(s) for s in seeds):
        raise RuntimeError(f"a batch returned seeds {got[:5]}... for {list(seeds)[:5]}...")
    with atomic_dir(ledger.new_batch_path(seeds)) as tmp:
        for name in TABLES:
            tables[name].to_parquet(tmp / f"{name}.parquet", index=False)
        rows = {name: len(tables[name]) for name in TABLES}
        write_json_atomic(tmp / RECORD_FILE, make_record(seeds, identity, tmp, rows))


def _notice(line: str) -> None:
    print(line, file=sys.stderr)


@dataclasses.dataclass(frozen=True)
class CellRequest:
    """One cell to run: its folder, arm, defining overrides and resolved configuration.

    ``label`` names the cell in messages (default ``arm '<arm>'``); ``extra`` adds fields to
    ``cell.json`` (a sweep's id).
    """

    cell: Path
    arm: str
    overrides: Sequence[str]
    config: Config
    label: str | None = None
    extra: dict[str, Any] | None = None


def run_cell(
    cell: Path,
    arm: str,
    overrides: Sequence[str],
    config: Config,
    seeds: Sequence[int],
    executor,
    batch_size: int,
    progress=None,
    label: str | None = None,
    extra: dict[str, Any] | None = None,
    ways: str = WAYS_FORWARD,
) -> int:
    """Run every seed of one cell not yet in its ledger; return how many runs were done now.

    One cell of :func:`run_cells` (see there for the arguments and what is raised).
    """
    request = CellRequest(cell, arm, overrides, config, label, extra)
    return run_cells([request], seeds, executor, batch_size, progress=progress, ways=ways)


def run_cells(
    requests: Sequence[CellRequest],
    seeds: Sequence[int],
    executor,
    batch_size: int,
    progress=None,
    ways: str = WAYS_FORWARD,
) -> int:
    """Run every seed of several cells not yet in their ledgers; return how many runs were done.

    Finished batches are reused only if their record matches this request (code,
    configuration, packages); reuse is keyed by seed, so another seed range or batch size
    resumes too, and a seed is never run or counted twice. Corrupt batches are rerun with a
    one-line notice. The caller holds the folder's writer lock.

    The cells share their seeds (the arms of a comparison): each task runs one batch of seeds
    for every cell that lacks them, in one process, so the no-PLN run of a seed, the same for
    every arm that differs only in how the PLN works, is computed once and shared
    (:func:`sim.results.counterfactual_gain`). Each cell's batch is written as its task ends.

    Args:
        requests: The cells.
        seeds: All seeds of every cell.
        executor: Runs tasks (``experiments.executors``).
        batch_size: Seeds per batch.
        progress: Optional callable advanced by the number of runs finished.
        ways: The ways forward named if a cell holds other results.

    Raises:
        ConfigError: A cell holds runs of another code version, configuration or packages.

    """
    cells = []
    for request in requests:
        label = request.label or f"arm {request.arm!r}"
        identity = request_identity(request.config)
        ledger = Ledger(request.cell)
        done_map = ledger.usable(identity, label, notify=_notice, remove=True, ways=ways)
        request.cell.mkdir(parents=True, exist_ok=True)
        record = {
            "arm": request.arm,
            "overrides": list(request.overrides),
            "config": identity["config"],
            **(request.extra or {}),
        }
        write_json_atomic(request.cell / CELL_FILE, record)
        missing = {int(s) for s in seeds if s not in done_map}
        cells.append((request, identity, ledger, missing))
        if progress is not None:
            progress(len(seeds) - len(missing))
    wanted = [s for s in seeds if any(int(s) in c[3] for c in cells)]
    tasks = []
    for batch in batches(wanted, batch_size):
        task = []
        for k, (request, _, _, missing) in enumerate(cells):
            mine = [s for s in batch if int(s) in missing]
            if mine:
                task.append((k, request.arm, request.config, mine))
        tasks.append(task)
    done = 0
    for finished in executor.run(tasks):
        for k, seeds_done, tables in finished:
            _, identity, ledger, _ = cells[k]
            _write_batch(ledger, seeds_done, tables, identity)
            done += len(seeds_done)
            if progress is not None:
                progress(len(seeds_done))
    return done


def run_task(task: Sequence[tuple[int, str, Config, Sequence[int]]]) -> list[tuple]:
    """Run one task of :func:`run_cells`: a batch of seeds for each of several cells.

    Returns ``(cell index, seeds, tables)`` per cell, in the task's order.
    """
    return [(k, seeds, run_batch(arm, config, seeds)) for k, arm, config, seeds in task]


def load_cell(
    cell: Path, seeds: Iterable[int] | None = None, notify=None
) -> dict[str, pd.DataFrame]:
    """Read the cell's verified batches (only the given seeds, if any), each seed once.

    Batches that fail their checksum are left out (with a notice through ``notify``); the
    batches used must all share one record (code, configuration, packages).
    """
    label = f"cell {Path(cell).name!r}"
    seed_map = Ledger(cell).usable(None, label, notify=notify)
    return load_batches(seed_map, seeds)
