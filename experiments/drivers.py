"""The main job's "what drives this answer" section: the latest sensitivity and discovery results.

A comparison's report cites the most recent sensitivity analysis (``results/sensitivity/*/``)
and scenario discovery (``results/discovery/*/``) run on the same scenario and horizon with arms
that include the compared arms (the same overrides), with their provenance, or says that none was
run.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from sim.outcome_registry import counted

__all__ = ["RESULTS", "latest", "drivers_section"]

RESULTS = Path(__file__).resolve().parent.parent / "results"


def _covers(found: Mapping[str, Sequence[str]], wanted: Mapping[str, Sequence[str]]) -> bool:
    """Whether every wanted arm's overrides are among the found analysis's arms."""
    have = [sorted(v) for v in found.values()]
    return all(sorted(v) in have for v in wanted.values())


def latest(
    kind: str,
    scenario: str,
    arms: Mapping[str, Sequence[str]],
    root: Path = RESULTS,
    years: int | None = None,
):
    """The newest ``summary.json`` of ``kind`` (sensitivity | discovery) matching the arms."""
    best = None
    for path in sorted((root / kind).glob("*/summary.json")):
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if data.get("scenario") != scenario or not _covers(data.get("arms", {}), arms):
            continue
        if years is not None and data.get("years") not in (None, years):
            continue
        created = str((data.get("provenance") or {}).get("created_utc", ""))
        if best is None or created > best[0]:
            best = (created, path.parent, data)
    return None if best is None else (best[1], best[2])


def _stamp(folder: Path, data: Mapping[str, Any], root: Path) -> str:
    prov = data.get("provenance") or {}
    try:
        where = folder.relative_to(root.parent)
    except ValueError:
        where = folder
    return (
        f"`{where}` (pln-sim {prov.get('pln_sim', '?')}, git "
        f"`{str(prov.get('git_sha') or 'unknown')[:8]}`, {prov.get('created_utc', '?')})"
    )


def drivers_section(meta: Mapping[str, Any], root: Path = RESULTS) -> list[str]:
    """Markdown lines citing the latest sensitivity and discovery results for these arms."""
    scenario = str(meta.get("scenario"))
    arms = meta.get("arms") or {}
    lines: list[str] = []
    years = meta.get("years")
    found = latest("sensitivity", scenario, arms, root, years)
    if found is None:
        lines.append(
            "No sensitivity analysis has been run for these arms on this scenario "
            "(`python -m experiments.sensitivity`): which assumptions drive the answer is "
            "not known."
        )
    else:
        folder, data = found
        top = data.get("top", [])[:5]
        n_matter = len(data.get("matter", []))
        named = ", ".join(f"`{t['parameter']}` (mostly {t['drives']})" for t in top)
        lines.append(
            f"Sensitivity analysis {_stamp(folder, data, root)}: the assumptions that move the "
            f"outcomes most are {named or 'none'}; "
            f"{counted(n_matter, 'parameter')} {'matters' if n_matter == 1 else 'matter'}. "
            "See its report.md."
        )
    lines.append("")
    found = latest("discovery", scenario, arms, root, years)
    if found is None:
        lines.append(
            "No scenario discovery has been run for these arms on this scenario "
            "(`python -m experiments.discover`): the conditions under which each wins are not "
            "mapped."
        )
    else:
        folder, data = found
        lines.append(f"Scenario discovery {_stamp(folder, data, root)}:")
        lines.append("")
        lines += [f"* {s}" for s in data.get("sentences", {}).values()]
    return lines
