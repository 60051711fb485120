"""Rebuild the tables, figures and report of a comparison or sweep from its finished runs.

    python -m experiments.aggregate <folder>

``<folder>`` is a comparison (``results/compare/<name>/``, with ``meta.json``) or a Hydra sweep
folder (``results/sweeps/<...>/``, whose job folders hold cells). Only finished batches are
read, so this works on an interrupted run too; every file is written atomically.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

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
from sim.fileio import atomic_path
from sim.provenance import provenance

__all__ = ["aggregate", "find_cells", "main"]


def find_cells(folder: Path) -> dict[str, Path]:
    """Cells under a folder, by arm name, in the order they were defined (or found)."""
    meta_path = folder / "meta.json"
    if meta_path.exists():
        meta = json.loads(meta_path.read_text())
        return {arm: folder / "cells" / arm for arm in meta["settings"]["arms"]}
    found = []
    for cell_file in folder.rglob(CELL_FILE):
        arm = json.loads(cell_file.read_text())["arm"]
        found.append((_job_number(cell_file.parent), str(cell_file), arm, cell_file.parent))
    return {arm: path for *_, arm, path in sorted(found)}


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


def aggregate(folder: Path, figures: bool = True) -> dict[str, Path]:
    """Build every table, figure and the report of a comparison or sweep folder."""
    folder = Path(folder)
    cells = find_cells(folder)
    if len(cells) < 2:
        raise ValueError(f"{folder} holds {len(cells)} cell(s); a comparison needs at least two")
    meta_path = folder / "meta.json"
    meta = json.loads(meta_path.read_text()) if meta_path.exists() else _sweep_meta(folder, cells)
    settings = meta["settings"]
    seeds = range(settings["seed_start"], settings["seed_start"] + settings["seeds"])
    tables = {name: [] for name in ("runs", "timeseries", "schools")}
    for cell in cells.values():
        loaded = load_cell(cell, seeds)
        for name in tables:
            if not loaded[name].empty:
                tables[name].append(loaded[name])
    frames = {k: pd.concat(v, ignore_index=True) for k, v in tables.items() if v}
    if "runs" not in frames:
        raise ValueError(f"{folder} has no finished runs yet")
    runs = frames["runs"].sort_values(["arm", "seed"], key=_arm_order(cells)).reset_index(drop=True)
    baseline = settings.get("baseline") or next(iter(cells))
    prov = meta.get("provenance") or provenance()
    out: dict[str, Path] = {}
    _write_parquet(runs, folder / "runs.parquet", meta)
    _write_csv(_stamp(runs, prov), folder / "runs.csv")
    out["runs"] = folder / "runs.parquet"
    _write_parquet(frames["timeseries"], folder / "timeseries.parquet", meta)
    _write_parquet(frames["schools"], folder / "schools.parquet", meta)
    summary = summary_table(runs)
    paired = paired_table(runs, baseline)
    replications = replications_table(runs, HEADLINE)
    wins = school_wins_table(frames.get("schools"), baseline)
    for name, frame in (
        ("summary", summary),
        ("paired", paired),
        ("replications", replications),
        ("school_wins", wins),
    ):
        _write_csv(_stamp(frame, prov), folder / f"{name}.csv")
        out[name] = folder / f"{name}.csv"
    report_meta = {
        "name": folder.name,
        "experiment": settings.get("experiment"),
        "scenario": settings.get("scenario"),
        "years": settings.get("years"),
        "seeds": f"{len(set(runs['seed']))} paired seeds ({min(seeds)}-{max(seeds)})",
        "arms": {arm: settings["arm_overrides"].get(arm, []) for arm in cells},
        "baseline": baseline,
        "factors": settings.get("factors") or None,
        "provenance": prov,
        "school_wins": wins.to_dict("records"),
    }
    if figures:
        from experiments.figures import make_all

        out.update(make_all(runs, frames["timeseries"], frames["schools"], folder, report_meta))
    from experiments.report import write_report

    figure_paths = {k: v for k, v in out.items() if str(v).endswith(".png")}
    out["report"] = write_report(folder, report_meta, summary, paired, replications, figure_paths)
    return out


def _arm_order(cells: dict[str, Path]):
    order = {arm: i for i, arm in enumerate(cells)}

    def key(col: pd.Series) -> pd.Series:
        return col.map(order) if col.name == "arm" else col

    return key


def _sweep_meta(folder: Path, cells: dict[str, Path]) -> dict[str, Any]:
    """Settings of a Hydra sweep folder, from its cells (seeds: those every cell finished)."""
    arm_overrides, seed_sets, scenario, years = {}, [], None, None
    for arm, cell in cells.items():
        record = json.loads((cell / CELL_FILE).read_text())
        arm_overrides[arm] = record["overrides"]
        scenario, years = record["config"]["scenario"], record["config"]["years"]
        runs = load_cell(cell)["runs"]
        seed_sets.append(set(runs["seed"]) if not runs.empty else set())
    common = sorted(set.intersection(*seed_sets)) if seed_sets else []
    if not common:
        raise ValueError(f"{folder}: the cells share no finished seeds yet")
    return {
        "settings": {
            "experiment": "sweep",
            "scenario": scenario,
            "years": years,
            "seeds": len(common),
            "seed_start": common[0],
            "arms": list(cells),
            "arm_overrides": arm_overrides,
            "baseline": next(iter(cells)),
        },
        "provenance": provenance(),
    }


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1 or argv[0].startswith("-"):
        print(
            "usage: python -m experiments.aggregate <comparison or sweep folder>", file=sys.stderr
        )
        return 2
    folder = Path(argv[0])
    if not folder.is_dir():
        print(f"error: {folder} is not a folder", file=sys.stderr)
        return 2
    try:
        out = aggregate(folder)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"report: {out['report']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
