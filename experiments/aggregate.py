"""Rebuild the tables, figures and report of a comparison or sweep from its finished runs.

    python -m experiments.aggregate <folder>

``<folder>`` is a comparison (``results/compare/<name>/``, with ``meta.json``) or a Hydra sweep
folder (``results/sweeps/<...>/``, whose job folders hold cells). Only finished batches that
pass their checksums are read, each seed once, so this works on an interrupted run too (the
report then says how many of the requested seeds it covers). The outputs are swapped in together
and ``COMPLETE.json`` marks the set complete; ``--check`` only verifies that marker.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from experiments.analysis import (
    HEADLINE,
    paired_table,
    replications_table,
    school_wins_table,
    summary_table,
)
from experiments.cells import CELL_FILE, load_cell
from experiments.ledger import TABLES, file_checksum, writer_lock
from sim.config import ConfigError
from sim.fileio import atomic_dir, atomic_path, write_json_atomic
from sim.outcome_registry import counted
from sim.provenance import provenance

__all__ = ["COMPLETE_FILE", "aggregate", "check_complete", "find_cells", "main"]

#: The completeness marker: written last, after every output is in place.
COMPLETE_FILE = "COMPLETE.json"
#: A sweep's settings and id, written by ``experiments.sweep``.
SWEEP_FILE = "sweep.json"


def find_cells(folder: Path) -> dict[str, Path]:
    """Cells under a folder, by arm name, in the order they were defined (or found).

    A comparison lists its arms in ``meta.json``; a sweep lists its id in ``sweep.json`` and
    only the cells of that sweep count (a reused sweep folder may hold cells of an earlier one).
    """
    meta_path = folder / "meta.json"
    if meta_path.exists():
        meta = _read_meta(meta_path)
        return {arm: folder / "cells" / arm for arm in meta["settings"]["arms"]}
    sweep = _read_sweep(folder)
    found = []
    for cell_file in folder.rglob(CELL_FILE):
        try:
            record = json.loads(cell_file.read_text())
            arm = record["arm"]
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if sweep and record.get("sweep_id") != sweep.get("sweep_id"):
            continue
        found.append((_job_number(cell_file.parent), str(cell_file), arm, cell_file.parent))
    return {arm: path for *_, arm, path in sorted(found)}


def _read_sweep(folder: Path) -> dict[str, Any]:
    try:
        return json.loads((folder / SWEEP_FILE).read_text())
    except (OSError, ValueError):
        return {}


def _job_number(cell: Path) -> int:
    """A Hydra job's number (its order in the sweep), or a large number if unknown."""
    hydra_file = cell / ".hydra" / "hydra.yaml"
    if hydra_file.exists():
        import yaml

        num = (yaml.safe_load(hydra_file.read_text()) or {}).get("hydra", {}).get("job", {})
        return int(num.get("num", 10**9))
    return 10**9


def _write_parquet(frame: pd.DataFrame, path: Path, meta: dict[str, Any]) -> None:
    table = pa.Table.from_pandas(frame, preserve_index=False)
    info = {b"pln_sim.provenance": json.dumps(meta, default=str).encode()}
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), **info})
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp)


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False)


def _stamp(frame: pd.DataFrame, prov: dict[str, Any]) -> pd.DataFrame:
    """Add provenance columns so a CSV carries its versions and git SHA on its own."""
    frame = frame.copy()
    frame["pln_sim"] = prov.get("pln_sim")
    frame["git_sha"] = prov.get("git_sha")
    return frame


def aggregate(folder: Path, figures: bool = True, notify=None) -> dict[str, Path]:
    """Build every table, figure and the report of a comparison or sweep folder.

    All or nothing: the outputs are written to a staging folder beside ``folder``, then moved in
    with the completeness marker (``COMPLETE.json``, checksums of every output) removed first and
    written last, so a kill at any moment leaves either a complete set or a folder marked
    incomplete (``check_complete`` refuses it; rerunning rebuilds it). The caller holds the
    folder's writer lock.

    Raises:
        ValueError: The folder has fewer than two cells or no finished runs.
        ConfigError: A cell holds runs of more than one code version or configuration.

    """
    folder = Path(folder)
    notify = notify or _notice
    cells = find_cells(folder)
    if len(cells) < 2:
        raise ValueError(
            f"{folder} holds {counted(len(cells), 'cell')}; a comparison needs at least two"
        )
    meta_path = folder / "meta.json"
    meta = _read_meta(meta_path) if meta_path.exists() else _sweep_meta(folder, cells)
    settings = meta["settings"]
    seeds = range(settings["seed_start"], settings["seed_start"] + settings["seeds"])
    loaded = {arm: load_cell(cell, seeds, notify=notify) for arm, cell in cells.items()}
    present = [set(t["runs"]["seed"]) if not t["runs"].empty else set() for t in loaded.values()]
    common = set.intersection(*present)
    if not common:
        raise ValueError(f"{folder} has no finished runs yet")
    tables = {name: [] for name in TABLES}
    for t in loaded.values():
        for name in tables:  # paired: only the seeds every arm has finished
            tables[name].append(t[name][t[name]["seed"].isin(common)])
    frames = {k: pd.concat(v, ignore_index=True) for k, v in tables.items()}
    runs = frames["runs"].sort_values(["arm", "seed"], key=_arm_order(cells)).reset_index(drop=True)
    baseline = settings.get("baseline") or next(iter(cells))
    prov = meta.get("provenance") or provenance()
    summary = summary_table(runs)
    paired = paired_table(runs, baseline)
    replications = replications_table(runs, HEADLINE)
    wins = school_wins_table(frames.get("schools"), baseline)
    n, requested = len(common), len(seeds)
    seeds_text = f"{counted(n, 'paired seed')} ({min(common)}-{max(common)})"
    if n < requested:
        seeds_text = (
            f"{counted(n, 'paired seed')} of the {requested:,} requested ({min(seeds)}-{max(seeds)}; "
            "the run was interrupted: rerun it to finish)"
        )
    report_meta = {
        "name": folder.name,
        "experiment": settings.get("experiment"),
        "scenario": _per_arm_text(runs, "cfg.scenario", settings.get("scenario")),
        "years": _per_arm_text(runs, "cfg.years", settings.get("years")),
        "seeds": seeds_text,
        "arms": {arm: settings["arm_overrides"].get(arm, []) for arm in cells},
        "baseline": baseline,
        "factors": settings.get("factors") or None,
        "provenance": prov,
        "school_wins": wins.to_dict("records"),
    }
    staging = folder.parent / f".{folder.name}.staging"
    if staging.exists():
        shutil.rmtree(staging)
    out: dict[str, Path] = {}
    with atomic_dir(staging) as tmp:
        _write_parquet(runs, tmp / "runs.parquet", meta)
        _write_csv(_stamp(runs, prov), tmp / "runs.csv")
        out["runs"] = folder / "runs.parquet"
        _write_parquet(frames["timeseries"], tmp / "timeseries.parquet", meta)
        _write_parquet(frames["schools"], tmp / "schools.parquet", meta)
        for name, frame in (
            ("summary", summary),
            ("paired", paired),
            ("replications", replications),
            ("school_wins", wins),
        ):
            _write_csv(_stamp(frame, prov), tmp / f"{name}.csv")
            out[name] = folder / f"{name}.csv"
        if figures:
            from experiments.figures import make_all

            made = make_all(runs, frames["timeseries"], frames["schools"], tmp, report_meta)
            out.update({k: folder / Path(v).name for k, v in made.items()})
        from experiments.report import write_report

        figure_paths = {k: tmp / Path(v).name for k, v in out.items() if str(v).endswith(".png")}
        write_report(tmp, report_meta, summary, paired, replications, figure_paths)
        out["report"] = folder / "report.md"
    _swap_in(staging, folder, {"seeds_requested": requested, "seeds_complete": n})
    return out


def _notice(line: str) -> None:
    print(line, file=sys.stderr)


def _read_meta(path: Path) -> dict[str, Any]:
    try:
        meta = json.loads(path.read_text())
        meta["settings"]["seed_start"], meta["settings"]["seeds"], meta["settings"]["arms"]
    except (OSError, ValueError, KeyError, TypeError):
        raise ValueError(f"{path} is unreadable; rerun the comparison to rewrite it") from None
    return meta


def _per_arm_text(runs: pd.DataFrame, column: str, default: Any) -> Any:
    """One value if every arm shares it, else the range (each arm's value is in its config)."""
    if column not in runs:
        return default
    values = sorted(set(runs[column]), key=str)
    if len(values) == 1:
        return values[0]
    if all(isinstance(v, int | np.integer) for v in values):
        return f"{min(values)}-{max(values)} (per arm)"
    return " / ".join(map(str, values)) + " (per arm)"


def _swap_in(staging: Path, folder: Path, extra: dict[str, Any]) -> None:
    """Move staged outputs into ``folder``: marker removed first, written last."""
    marker = folder / COMPLETE_FILE
    previous = _read_marker(folder)
    marker.unlink(missing_ok=True)
    names = sorted(p.name for p in staging.iterdir())
    files = {name: file_checksum(staging / name) for name in names}
    for name in names:
        os.replace(staging / name, folder / name)
    for stale in set(previous.get("files", {})) - set(names):  # outputs no longer produced
        (folder / stale).unlink(missing_ok=True)
    staging.rmdir()
    write_json_atomic(marker, {"complete": True, "files": files, **extra})


def _read_marker(folder: Path) -> dict[str, Any]:
    try:
        return json.loads((folder / COMPLETE_FILE).read_text())
    except (OSError, ValueError):
        return {}


def check_complete(folder: Path) -> dict[str, Any]:
    """Check that a folder's outputs are one complete, unaltered set; return its marker.

    Raises:
        ConfigError: The marker is missing (aggregation was interrupted) or an output differs
            from its checksum.

    """
    folder = Path(folder)
    marker = _read_marker(folder)
    fix = f"rebuild it with: python -m experiments.aggregate {folder}"
    if not marker.get("complete"):
        raise ConfigError(f"{folder} has no complete set of tables and report; {fix}")
    for name, digest in marker.get("files", {}).items():
        path = folder / name
        if not path.is_file() or file_checksum(path) != digest:
            raise ConfigError(f"{folder}: {name} is missing or altered since aggregation; {fix}")
    return marker


def _arm_order(cells: dict[str, Path]):
    order = {arm: i for i, arm in enumerate(cells)}

    def key(col: pd.Series) -> pd.Series:
        return col.map(order) if col.name == "arm" else col

    return key


def _sweep_meta(folder: Path, cells: dict[str, Path]) -> dict[str, Any]:
    """Settings of a Hydra sweep folder (seeds: from ``sweep.json``, else those every cell has)."""
    arm_overrides, scenario, years = {}, None, None
    for arm, cell in cells.items():
        record = json.loads((cell / CELL_FILE).read_text())
        arm_overrides[arm] = record["overrides"]
        scenario, years = record["config"]["scenario"], record["config"]["years"]
    sweep = _read_sweep(folder)
    if "seeds" in sweep and "seed_start" in sweep:
        seeds, seed_start = sweep["seeds"], sweep["seed_start"]
    else:
        seed_sets = []
        for cell in cells.values():
            runs = load_cell(cell)["runs"]
            seed_sets.append(set(runs["seed"]) if not runs.empty else set())
        common = sorted(set.intersection(*seed_sets)) if seed_sets else []
        if not common:
            raise ValueError(f"{folder}: the cells share no finished seeds yet")
        seeds, seed_start = len(common), common[0]
    return {
        "settings": {
            "experiment": "sweep",
            "scenario": scenario,
            "years": years,
            "seeds": seeds,
            "seed_start": seed_start,
            "arms": list(cells),
            "arm_overrides": arm_overrides,
            "baseline": next(iter(cells)),
        },
        "provenance": provenance(),
    }


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status (2 with one line on any error)."""
    argv = sys.argv[1:] if argv is None else argv
    check = bool(argv) and argv[0] == "--check"
    args = argv[1:] if check else argv
    if len(args) != 1 or args[0].startswith("-"):
        print(
            "error: usage: python -m experiments.aggregate [--check] <comparison or sweep folder>",
            file=sys.stderr,
        )
        return 2
    folder = Path(args[0])
    if not folder.is_dir():
        print(f"error: {folder} is not a folder", file=sys.stderr)
        return 2
    try:
        if check:
            marker = check_complete(folder)
            print(
                f"{folder}: complete ({counted(marker.get('seeds_complete') or 0, 'paired seed')})"
            )
            return 0
        cells = find_cells(folder)  # refuse a folder that is not ours before locking it
        if len(cells) < 2:
            raise ValueError(
                f"{folder} holds {counted(len(cells), 'cell')}; a comparison needs at least two"
            )
        with writer_lock(folder, "run or aggregation"):
            out = aggregate(folder)
    except (ValueError, ConfigError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"report: {out['report']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
