"""Regenerate ``examples/network/``: a small SYNTHETIC network in the import formats.

    python scripts/make_example_network.py

Three invented primary schools (Ashdown, Beechwood, Cedar Vale) drawn by the model's own network
generator, then made to look like real survey data: a few staff did not answer (their own ties
are missing, the ties others name to them stay), strengths are a 1-5 rating divided by 5 and
some are blank, teams carry phase names, a few pupil numbers are blank, and Cedar Vale's size
counts two staff the staff file does not list. No real person or school is in it.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from sim.compose import build_config
from sim.fileio import atomic_path
from sim.network_import import export_network

OUT = Path(__file__).resolve().parent.parent / "examples" / "network"
NAMES = {
    "school1": ("Ashdown", "ASH"),
    "school2": ("Beechwood", "BEE"),
    "school3": ("CedarVale", "CED"),
}
TEAMS = {0: "SLT", 1: "EYFS", 2: "KS1", 3: "LKS2", 4: "UKS2"}


def main() -> int:
    """Write the example's three files."""
    config = build_config(
        "new_forest",
        seed=2024,
        overrides=(
            "schools.teachers=[8,10,14]",
            "schools.opinion_formers=[1,1,2]",
            "selection.per_school=[2,3,3]",
            "selection.leaders_per_school=1",
        ),
    )
    rng = np.random.default_rng(2024)
    with tempfile.TemporaryDirectory() as tmp:
        export_network(config, tmp)
        staff = pd.read_csv(Path(tmp) / "staff.csv", dtype=str, keep_default_na=False)
        ties = pd.read_csv(Path(tmp) / "ties.csv", dtype=str, keep_default_na=False)
        schools = pd.read_csv(Path(tmp) / "schools.csv", dtype=str, keep_default_na=False)
    ids = {}
    for old_school, (_name, prefix) in NAMES.items():
        mine = staff.index[staff["school"] == old_school]
        for k, i in enumerate(mine):
            ids[staff.at[i, "id"]] = f"{prefix}{k + 1:02d}"
    staff["id"] = staff["id"].map(ids)
    staff["school"] = staff["school"].map(lambda s: NAMES[s][0])
    staff["team"] = staff["team"].map(lambda t: TEAMS.get(int(t), f"T{t}"))
    staff["pupils"] = staff["pupils"].map(lambda p: str(int(float(p))))
    staff.loc[rng.random(len(staff)) < 0.15, "pupils"] = ""
    # Two staff per school did not answer (never the head): their own ties are missing.
    silent = []
    for name, _ in NAMES.values():
        mine = staff.index[(staff["school"] == name) & (staff["role"] != "senior_leader")]
        silent += list(staff.loc[rng.choice(mine, 2, replace=False), "id"])
    staff["responded"] = np.where(staff["id"].isin(silent), "no", "yes")
    staff = staff.drop(columns=["opinion_former"])  # left to the model: the most consulted
    # Cedar Vale: the last two listed staff are not in the staff file (size still counts them).
    cedar = staff.index[staff["school"] == "CedarVale"][-2:]
    gone = set(staff.loc[cedar, "id"])
    staff = staff.drop(index=cedar)
    ties["seeker"] = ties["seeker"].map(ids)
    ties["adviser"] = ties["adviser"].map(ids)
    ties = ties[~ties["seeker"].isin(silent) & ~ties["seeker"].isin(gone)]
    ties = ties[~ties["adviser"].isin(gone)].copy()
    rating = np.clip(np.ceil(ties["strength"].astype(float) * 5), 1, 5)
    ties["strength"] = (rating / 5).map(lambda x: f"{x:.1f}")
    ties.loc[rng.random(len(ties)) < 0.1, "strength"] = ""
    schools["id"] = schools["id"].map(lambda s: NAMES[s][0])
    schools = schools[
        ["id", "phase", "size", "participants", "trust_climate", "collab_hours_per_week"]
    ]
    schools = schools.assign(
        trust_climate=["0.7", "0.55", ""], collab_hours_per_week=["1", "0.5", "1.5"]
    )
    OUT.mkdir(parents=True, exist_ok=True)
    for name, frame in (("staff", staff), ("ties", ties), ("schools", schools)):
        with atomic_path(OUT / f"{name}.csv") as tmp_path:
            frame.to_csv(tmp_path, index=False)
    print(f"wrote {len(staff)} staff, {len(ties)} ties, {len(schools)} schools to {OUT.name}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
