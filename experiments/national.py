"""One run of a national system, with outputs made for its size.

    python -m experiments.national [key=value ...] [--out FOLDER]

Runs ``scenario=england`` (or any scenario and overrides) and writes, into a new folder under
``results/national/``:

* ``schools.csv``: one row per school at the horizon (phase, PLN, disadvantage and its band,
  staff, participants, uptake, use, spread) from the per-school weekly totals (``record=schools``,
  never the per-slot history);
* ``plns.parquet``: the network-level timeseries, one row per PLN and week (staff, users,
  adopters, participants, knowledge);
* ``system.csv``: the whole system's weekly timeseries;
* ``summary.png``: the distribution of school uptake, and uptake by phase and disadvantage band.

Invalid input: a one-line error, exit status 2, nothing written.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import sys
from pathlib import Path

import numpy as np
import pandas as pd

import sim
from sim.compose import build_config
from sim.config import ConfigError
from sim.fileio import atomic_dir, save_figure
from sim.population import STAGE_NAMES
from sim.system import PHASES

ROOT = Path(__file__).resolve().parent.parent
#: Disadvantage bands: quintiles of the schools' share of disadvantaged pupils.
BANDS = ("least", "low", "middle", "high", "most")
_ADOPT = [STAGE_NAMES.index("adopted"), STAGE_NAMES.index("embedded")]
_USE = [STAGE_NAMES.index("trialling"), *_ADOPT]


def school_table(model: sim.KnowledgeMobilisationModel) -> pd.DataFrame:
    """One row per school at the horizon."""
    tot = model.record.totals()
    last = tot.stages[-1]
    staff = last.sum(axis=1)
    dis = model.schools.disadvantage
    band = np.searchsorted(np.quantile(dis, [0.2, 0.4, 0.6, 0.8]), dis, side="right")
    non_participants = np.maximum(staff - tot.participants[-1], 1)
    return pd.DataFrame(
        {
            "school": np.arange(model.schools.n),
            "phase": np.asarray(PHASES)[model.schools.phase],
            "pln": model.schools.pln,
            "disadvantage": dis,
            "disadvantage_band": np.asarray(BANDS)[band],
            "staff": staff,
            "participants": tot.participants[-1],
            "uptake": last[:, _ADOPT].sum(axis=1) / staff,
            "use": last[:, _USE].sum(axis=1) / staff,
            "spread": tot.spread_users[-1] / non_participants,
        }
    )


def pln_timeseries(model: sim.KnowledgeMobilisationModel) -> pd.DataFrame:
    """Network-level timeseries: one row per PLN and week."""
    tot = model.record.totals()
    pln = model.schools.pln
    n_plns, weeks = int(pln.max()) + 1, tot.stages.shape[0]

    def by_pln(values: np.ndarray) -> np.ndarray:  # (weeks, schools) -> (weeks, plns)
        out = np.zeros((weeks, n_plns))
        np.add.at(out, (slice(None), pln), values)
        return out

    staff = by_pln(tot.stages.sum(axis=2))
    columns = {
        "staff": staff,
        "users": by_pln(tot.stages[:, :, _USE].sum(axis=2)),
        "adopters": by_pln(tot.stages[:, :, _ADOPT].sum(axis=2)),
        "participants": by_pln(tot.participants),
        "knowledge_sum": by_pln(tot.knowledge),
    }
    frame = pd.DataFrame(
        {
            "week": np.repeat(np.arange(1, weeks + 1), n_plns),
            "pln": np.tile(np.arange(n_plns), weeks),
            **{k: v.ravel() for k, v in columns.items()},
        }
    )
    frame["uptake"] = frame["adopters"] / frame["staff"]
    frame["mean_knowledge"] = frame["knowledge_sum"] / frame["staff"]
    return frame.drop(columns="knowledge_sum")


def system_timeseries(model: sim.KnowledgeMobilisationModel) -> pd.DataFrame:
    """The whole system, week by week: staff at each stage and uptake."""
    stages = model.record.totals().stages.sum(axis=1)
    frame = pd.DataFrame(stages, columns=list(STAGE_NAMES))
    frame.insert(0, "week", np.arange(1, len(frame) + 1))
    frame["uptake"] = stages[:, _ADOPT].sum(axis=1) / stages.sum(axis=1)
    return frame


def summary_figure(schools: pd.DataFrame, path: Path) -> None:
    """Distribution of school uptake; uptake by phase and disadvantage band."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    for phase in PHASES:
        values = schools.loc[schools["phase"] == phase, "uptake"]
        if len(values):
            left.hist(values, bins=30, range=(0, 1), alpha=0.6, label=f"{phase} ({len(values):,})")
    left.set_xlabel("share of a school's staff who adopted the practice (uptake)")
    left.set_ylabel("schools")
    left.set_title("Distribution of school uptake")
    left.legend()
    table = schools.groupby(["disadvantage_band", "phase"])["uptake"].mean().unstack("phase")
    table = table.reindex([b for b in BANDS if b in table.index])
    x = np.arange(len(table))
    width = 0.8 / max(len(table.columns), 1)
    for i, phase in enumerate(table.columns):
        right.bar(x + i * width, table[phase], width, label=phase)
    right.set_xticks(x + width * (len(table.columns) - 1) / 2, table.index)
    right.set_xlabel("disadvantage band (quintiles of schools)")
    right.set_ylabel("mean school uptake")
    right.set_title("Uptake by phase and disadvantage")
    right.legend()
    fig.tight_layout()
    save_figure(fig, path, dpi=120)


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m experiments.national", description=__doc__)
    parser.add_argument("overrides", nargs="*", help="key=value overrides (default england)")
    parser.add_argument("--out", type=Path, default=None, help="folder to create (must not exist)")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    logging.getLogger("MESA").setLevel(logging.WARNING)
    overrides = list(args.overrides)
    if not any(o.startswith("scenario=") for o in overrides):
        overrides.insert(0, "scenario=england")
    try:
        config = build_config(scenario=None, overrides=overrides)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.out is None:
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
        out = ROOT / "results" / "national" / f"{config.scenario}-seed{config.seed}-{stamp}"
    else:
        out = args.out
        if out.exists():
            print(f"error: --out {out} already exists; choose a new folder", file=sys.stderr)
            return 2
    model = sim.KnowledgeMobilisationModel(config, validated=True).run()
    schools = school_table(model)
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_dir(out) as tmp:
        schools.to_csv(tmp / "schools.csv", index=False)
        pln_timeseries(model).to_parquet(tmp / "plns.parquet", index=False)
        system_timeseries(model).to_csv(tmp / "system.csv", index=False)
        summary_figure(schools, tmp / "summary.png")
    print(
        f"{config.scenario} seed {config.seed}: {model.schools.n:,} schools, {model.staff.n:,} "
        f"staff; uptake {float(np.isin(model.staff.stage, _ADOPT).mean()):.3f}; "
        f"median school uptake {schools['uptake'].median():.3f}"
    )
    print(f"results written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
