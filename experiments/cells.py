"""Running a configuration cell: many seeds of one arm, in batches, resumable, written atomically.

A *cell* is one model configuration (an arm of a comparison, or one point of a Hydra sweep). Its
seeds run in batches; each finished batch is written to ``<cell>/batches/<first>-<last>/`` under a
temporary name and renamed into place, so an interrupted run keeps every finished batch and a
rerun skips them. ``cell.json`` records the arm, its overrides and its resolved configuration.

Batches run through an executor (:mod:`experiments.executors`): joblib processes on this
machine, or a Dask cluster. Results do not depend on the executor, the batch size or the order in
which batches finish: every run is a pure function of its configuration and seed.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

import sim
from sim.config import Config
from sim.fileio import atomic_dir, write_json_atomic

__all__ = [
    "CELL_FILE",
    "run_batch",
    "run_cell",
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
        result = sim.simulate(config=cfg)
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


def _batch_dir(cell: Path, seeds: Sequence[int]) -> Path:
    return cell / "batches" / f"{seeds[0]:06d}-{seeds[-1]:06d}"


def _write_batch(cell: Path, seeds: Sequence[int], tables: dict[str, pd.DataFrame]) -> None:
    with atomic_dir(_batch_dir(cell, seeds)) as tmp:
        for name, frame in tables.items():
            frame.to_parquet(tmp / f"{name}.parquet", index=False)


def run_cell(
    cell: Path,
    arm: str,
    overrides: Sequence[str],
    config: Config,
    seeds: Sequence[int],
    executor,
    batch_size: int,
    progress=None,
) -> int:
    """Run every seed of a cell not yet on disk; return how many runs were done now.

    Args:
        cell: The cell's folder.
        arm: The arm's name.
        overrides: The overrides that define the arm (recorded).
        config: The arm's resolved configuration (its seed is replaced per run).
        seeds: All seeds of the cell.
        executor: Runs batches (``experiments.executors``).
        batch_size: Seeds per batch.
        progress: Optional callable advanced by the number of runs finished.

    """
    cell.mkdir(parents=True, exist_ok=True)
    record = {"arm": arm, "overrides": list(overrides), "config": dataclasses.asdict(config)}
    meta_path = cell / CELL_FILE
    if meta_path.exists():
        previous = json.loads(meta_path.read_text())
        if previous.get("config") != json.loads(json.dumps(record["config"], default=str)):
            raise ValueError(
                f"{cell} holds results of a different configuration for arm {arm!r}; "
                "use a new name or remove the folder"
            )
    else:
        write_json_atomic(meta_path, record)
    todo = [b for b in batches(seeds, batch_size) if not _batch_dir(cell, b).exists()]
    if progress is not None:
        progress(len(seeds) - sum(len(b) for b in todo))
    done = 0
    for seeds_done, tables in executor.run(arm, config, todo):
        _write_batch(cell, seeds_done, tables)
        done += len(seeds_done)
        if progress is not None:
            progress(len(seeds_done))
    return done


def load_cell(cell: Path, seeds: Iterable[int] | None = None) -> dict[str, pd.DataFrame]:
    """Read every finished batch of a cell (only the given seeds, if any)."""
    parts: dict[str, list[pd.DataFrame]] = {"runs": [], "timeseries": [], "schools": []}
    for batch in sorted((cell / "batches").glob("[0-9]*-[0-9]*")):
        for name in parts:
            parts[name].append(pd.read_parquet(batch / f"{name}.parquet"))
    tables = {
        name: (pd.concat(frames, ignore_index=True) if frames else pd.DataFrame())
        for name, frames in parts.items()
    }
    if seeds is not None and not tables["runs"].empty:
        keep = set(seeds)
        tables = {k: v[v["seed"].isin(keep)].reset_index(drop=True) for k, v in tables.items()}
    return tables
