"""The Markdown report of a paired comparison experiment: one page a policy adviser can read.

:func:`write_report` writes ``report.md`` into an experiment's folder (atomically). The prose is
in Jinja2 templates (``experiments/templates/*.md.j2``); this module only prepares what they
show. Every statement of a result is generated from the tables it is given (``summary``,
``paired``, ``replications``); nothing is hard-coded about which arm wins. Labels, units and
number formats come from :mod:`sim.outcome_registry`.

    from experiments import figures, report
    paths = figures.make_all(runs, timeseries, schools, out_dir, meta)
    report.write_report(out_dir, meta, summary, paired, replications, paths)

Tables (pandas DataFrames, long format):

* ``summary``: ``arm, outcome, n, mean, sd, ci_low, ci_high`` (95% interval of the mean);
* ``paired``: ``arm, baseline, outcome, n, mean_diff, ci_low, ci_high, wilcoxon_p, effect_size,
  var_paired, var_unpaired, crn_gain`` (each arm minus the baseline, matched on seed);
* ``replications``: ``arm, outcome, n, ci_half_width, seeds_for_0.02``.

``summary`` and ``paired`` may carry ``interval`` (``t`` or ``bootstrap``); without it, the
method declared in the registry is assumed. ``meta`` holds ``name, experiment, scenario, years,
seeds, arms`` (arm -> override strings), ``baseline``, optionally ``factors``, and
``provenance`` (``pln_sim, git_sha, git_dirty, packages, created_utc, command``).
"""

from __future__ import annotations

import functools
import math
import os
import re
import shlex
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import jinja2
import numpy as np
import pandas as pd

from experiments.drivers import drivers_section
from sim.fileio import write_text_atomic
from sim.outcome_registry import HEADLINE, KINDS, REPORT_TABLE, counted, outcome, years_text

__all__ = ["describe_seeds", "fmt_estimate", "render_report", "write_report"]

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = Path(__file__).resolve().parent / "templates"
#: Figures in the order the report shows them (captions are in the template).
FIGURE_ORDER = (
    "uptake_curves",
    "paired_differences",
    "school_small_multiples",
    "stage_composition",
    "interaction",
)
_GROUPS = ("scenario", "strategy", "mode", "selection", "leadership")
_SUMMARY_COLUMNS = ("arm", "outcome", "n", "mean", "sd", "ci_low", "ci_high")
_PAIRED_COLUMNS = (
    *("arm", "baseline", "outcome", "n", "mean_diff", "ci_low", "ci_high", "wilcoxon_p"),
    *("effect_size", "var_paired", "var_unpaired", "crn_gain"),
)


# -- formatting -------------------------------------------------------------------------------


def _finite(x: Any) -> bool:
    try:
        return x is not None and math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def fmt_estimate(
    mean: Any, low: Any, high: Any, kind: str, *, diff: bool = False, decimals: int | None = None
) -> tuple[str, str]:
    """``(estimate, "low to high")`` in display units (shares in % or percentage points).

    Differences (``diff=True``) carry a sign. The number of decimals follows the CI half-width
    unless given.
    """
    k = KINDS[kind]
    if decimals is None and _finite(low) and _finite(high):
        decimals = k.decimals_for((float(high) - float(low)) / 2 * k.factor)
    return k.number(mean, decimals, diff), k.interval(low, high, diff, decimals)


def _fmt_p(p: Any) -> str:
    if not _finite(p):
        return "n/a"
    return "<0.001" if float(p) < 0.001 else f"{float(p):.3f}"


def _fmt_g(x: Any, digits: int = 3) -> str:
    return f"{float(x):.{digits}g}" if _finite(x) else "n/a"


def describe_seeds(seeds: Any) -> str:
    """Seeds in words: ``"0–29 (30 seeds)"``, a short list, or the description given."""
    if seeds is None:
        return "not recorded"
    if isinstance(seeds, str):
        return seeds
    if isinstance(seeds, int | np.integer):
        return counted(seeds, "seed")
    if isinstance(seeds, Mapping):
        return ", ".join(f"{k}={v}" for k, v in seeds.items())
    values = [int(s) for s in seeds]
    n = len(values)
    if n == 0:
        return "none"
    ordered = sorted(values)
    if ordered == list(range(ordered[0], ordered[0] + n)) and n > 1:
        return f"{ordered[0]}–{ordered[-1]} ({counted(n, 'seed')})"
    if n <= 12:
        return ", ".join(map(str, values)) + f" ({counted(n, 'seed')})"
    return f"{counted(n, 'seed')}: {', '.join(map(str, values[:5]))}, …, {values[-1]}"


# -- reading the tables -----------------------------------------------------------------------


def _arms(meta: Mapping[str, Any], *frames: pd.DataFrame) -> list[str]:
    """Arms in order: the baseline, then ``meta["arms"]`` order, then any other arm in the data."""
    seen: list[str] = list(meta.get("arms") or {})
    for df in frames:
        if df is not None and "arm" in df.columns:
            seen += [a for a in df["arm"].unique() if a not in seen]
    baseline = meta.get("baseline")
    if baseline in seen:
        seen.remove(baseline)
        seen.insert(0, baseline)
    return seen


def _arm_name(arm: str, meta: Mapping[str, Any]) -> str:
    return f"`{arm}`" + (" (baseline)" if arm == meta.get("baseline") else "")


def _lookup(df: pd.DataFrame | None, arm: str, name: str) -> pd.Series | None:
    if df is None or df.empty:
        return None
    hit = df[(df["arm"] == arm) & (df["outcome"] == name)]
    return None if hit.empty else hit.iloc[0]


def _status(row: pd.Series) -> str:
    """``same`` (identical in every seed), ``higher``/``lower`` (CI excludes 0), or ``unclear``."""
    cols = (row["mean_diff"], row["ci_low"], row["ci_high"])
    if all(_finite(c) and float(c) == 0 for c in cols):
        return "same"
    if _finite(row["ci_low"]) and _finite(row["ci_high"]):
        if row["ci_low"] > 0:
            return "higher"
        if row["ci_high"] < 0:
            return "lower"
    return "unclear"


def _halves(rows: Sequence[pd.Series | None], factor: float) -> list[float]:
    return [
        (r["ci_high"] - r["ci_low"]) / 2 * factor
        for r in rows
        if r is not None and _finite(r["ci_low"]) and _finite(r["ci_high"])
    ]


def _levels(summary: pd.DataFrame | None, arms: Sequence[str], name: str) -> list[str | None]:
    """The arms' means of an outcome with their unit, all with the same number of decimals."""
    o = outcome(name)
    rows = [_lookup(summary, arm, name) for arm in arms]
    halves = _halves(rows, o.scale.factor)
    decimals = o.scale.decimals_for(min(halves) if halves else None)
    return [
        o.format_level(r["mean"], decimals) if r is not None and _finite(r["mean"]) else None
        for r in rows
    ]


def _difference(row: pd.Series, name: str) -> dict[str, Any]:
    o = outcome(name)
    est, ci = fmt_estimate(row["mean_diff"], row["ci_low"], row["ci_high"], o.kind, diff=True)
    return {"o": o, "est": o.with_unit(est, diff=True), "bare": est, "ci": ci, "row": row}


def _bootstrapped(df: pd.DataFrame, names: Sequence[str], years: Any) -> list[str]:
    """Labels of the outcomes given a bootstrap interval (by the table, else the registry)."""
    given = (
        df.drop_duplicates("outcome").set_index("outcome")["interval"] if "interval" in df else {}
    )
    return [
        outcome(n).label_for(years)
        for n in dict.fromkeys(names)
        if given.get(n, outcome(n).interval) == "bootstrap"
    ]


# -- the report's parts -----------------------------------------------------------------------


def _answers(meta: Mapping[str, Any], summary: pd.DataFrame, paired: pd.DataFrame) -> list[dict]:
    """Per compared arm: its headline differences (with status and levels) and staff time."""
    baseline = meta.get("baseline")
    answers = []
    for arm in [a for a in _arms(meta, paired) if a != baseline and (paired["arm"] == a).any()]:
        items = []
        for name in HEADLINE:
            row = _lookup(paired, arm, name)
            if row is None:
                continue
            levels = _levels(summary, [arm, baseline], name)
            items.append(
                {**_difference(row, name), "status": _status(row), "levels": levels}
                | {"n": int(row["n"]) if _finite(row["n"]) else None}
            )
        if not items:
            continue
        row = _lookup(paired, arm, "teacher_hours")
        hours = None
        if row is not None and _finite(row["mean_diff"]):
            hours = {
                **_difference(row, "teacher_hours"),
                "status": _status(row),
                "base": _levels(summary, [baseline], "teacher_hours")[0],
            }
        answers.append({"arm": arm, "items": items, "hours": hours, "n_seeds": items[0]["n"]})
    return answers


def _comparison_rows(meta: Mapping[str, Any], summary: pd.DataFrame) -> dict[str, Any]:
    arms = [a for a in _arms(meta, summary) if (summary["arm"] == a).any()]
    names = [o for o in REPORT_TABLE if (summary["outcome"] == o).any()]
    n_max = summary.loc[summary["outcome"].isin(names), "n"].max()
    rows = []
    for name in names:
        o = outcome(name)
        found = [_lookup(summary, a, name) for a in arms]
        halves = _halves(found, o.scale.factor)
        decimals = o.scale.decimals_for(min(halves) if halves else None)
        unit = o.display_unit
        cells = [o.label_for(meta.get("years")) + (f" ({unit})" if unit else "")]
        for r in found:
            if r is None:
                cells.append("n/a")
                continue
            est, ci = fmt_estimate(r["mean"], r["ci_low"], r["ci_high"], o.kind, decimals=decimals)
            cell = est if ci == "n/a" else f"{est} ({ci})"
            if _finite(r["n"]) and int(r["n"]) != int(n_max):
                cell += f" [n={int(r['n'])}]"
            cells.append(cell)
        rows.append(cells)
    seeds = ["Runs (seeds)"]
    for arm in arms:
        ns = summary.loc[(summary["arm"] == arm) & summary["outcome"].isin(names), "n"]
        seeds.append(str(int(ns.max())) if len(ns) else "n/a")
    return {
        "header": ["Outcome", *(_arm_name(a, meta) for a in arms)],
        "rows": [*rows, seeds],
        "bootstrapped": _bootstrapped(summary, names, meta.get("years")),
    }


def _paired_rows(meta: Mapping[str, Any], paired: pd.DataFrame, arm: str) -> list[list[str]]:
    sub = paired[paired["arm"] == arm]
    present = list(sub["outcome"])
    names = [o for o in REPORT_TABLE if o in present] + [
        o for o in present if o not in REPORT_TABLE
    ]
    rows = []
    for name in names:
        d = _difference(_lookup(sub, arm, name), name)
        r, o, status = d["row"], d["o"], _status(d["row"])
        clear = {"same": "no (identical in every seed)", "unclear": "no"}.get(status, "yes, ")
        rows.append(
            [
                o.label_for(meta.get("years")),
                o.diff_unit or o.unit,
                d["bare"],
                d["ci"],
                _fmt_p(r["wilcoxon_p"]),
                KINDS["index"].number(r["effect_size"], 2, sign=True),
                str(int(r["n"])) if _finite(r["n"]) else "n/a",
                clear + status if clear == "yes, " else clear,
            ]
        )
    return rows


def _replications(meta: Mapping[str, Any], replications: pd.DataFrame | None) -> dict | None:
    if replications is None or replications.empty:
        return None
    rows = [
        [
            _arm_name(arm, meta),
            outcome(r["outcome"]).label_for(meta.get("years")),
            str(int(r["n"])) if _finite(r["n"]) else "n/a",
            f"±{_fmt_g(r['ci_half_width'])}",
            str(math.ceil(r["seeds_for_0.02"])) if _finite(r.get("seeds_for_0.02")) else "n/a",
        ]
        for arm in _arms(meta, replications)
        for _, r in replications[replications["arm"] == arm].iterrows()
    ]
    uptake = replications[replications["outcome"] == "uptake_final"]
    needs = uptake["seeds_for_0.02"].dropna()
    return {
        "rows": rows,
        "uptake": None
        if uptake.empty
        else {
            "n": int(uptake["n"].min()),
            "widest": _fmt_g(uptake["ci_half_width"].max()),
            "need": math.ceil(needs.max()) if len(needs) else None,
        },
    }


def _crn(meta: Mapping[str, Any], paired: pd.DataFrame) -> list[dict]:
    crn = paired[paired["outcome"].isin(REPORT_TABLE)] if "crn_gain" in paired else paired[:0]
    out = []
    for arm in [a for a in _arms(meta, crn) if (crn["arm"] == a).any()]:
        sub = crn[crn["arm"] == arm]
        rows = []
        for name in [o for o in REPORT_TABLE if (sub["outcome"] == o).any()]:
            r = _lookup(sub, arm, name)
            if _finite(r["crn_gain"]):
                gain = f"{float(r['crn_gain']):.1f}×"
            elif _finite(r["var_paired"]) and r["var_paired"] == 0 and r["var_unpaired"] > 0:
                gain = "unbounded (paired differences do not vary)"
            else:
                gain = "n/a"
            label = outcome(name).label_for(meta.get("years"))
            rows.append([label, _fmt_g(r["var_paired"]), _fmt_g(r["var_unpaired"]), gain])
        r = _lookup(sub, arm, "uptake_final")
        gain = float(r["crn_gain"]) if r is not None and _finite(r["crn_gain"]) else None
        out.append({"arm": arm, "rows": rows, "uptake_gain": gain})
    return out


def _figures(out_dir: Path, figures: Mapping[str, Any] | None) -> list[dict[str, str]]:
    rank = {name: i for i, name in enumerate(FIGURE_ORDER)}
    items = sorted(
        (figures or {}).items(),
        key=lambda kv: rank.get(Path(kv[1]).stem, rank.get(kv[0], len(rank))),
    )
    return [
        {
            "name": Path(path).stem if Path(path).stem in rank else key,
            "path": Path(os.path.relpath(Path(path).resolve(), out_dir.resolve())).as_posix(),
        }
        for key, path in items
    ]


def _doc_ref(name: str, out_dir: Path) -> str:
    """A relative link to ``docs/<name>`` when the report is inside the repository."""
    try:
        out_dir.resolve().relative_to(ROOT)
    except ValueError:
        return f"`docs/{name}`"
    rel = Path(os.path.relpath(ROOT / "docs" / name, out_dir.resolve())).as_posix()
    return f"[`docs/{name}`]({rel})"


def _parameter_sources() -> dict[str, str]:
    """Source tag of every parameter key, read from docs/PARAMETERS.md (empty if unreadable)."""
    try:
        text = (ROOT / "docs" / "PARAMETERS.md").read_text(encoding="utf-8")
    except OSError:
        return {}
    sources = {}
    for line in text.splitlines():
        m = re.match(r"^\| `([\w.]+)` \|", line)
        cols = [c.strip() for c in line.strip().strip("|").split("|")]
        if m and len(cols) >= 7:  # parameter tables: key, default, range, unit, …, source
            sources[m.group(1)] = cols[5]
    return sources


def _override(ov: str, sources: Mapping[str, str]) -> dict[str, str]:
    key, _, value = str(ov).partition("=")
    key = key.lstrip("+~")
    preset = f"configs/{key}/{value}.yaml" if key in _GROUPS else ""
    return {"text": str(ov), "preset": preset, "source": "" if preset else sources.get(key, "")}


_PROVENANCE = ("pln_sim", "git_sha", "git_dirty", "created_utc", "command", "python", "platform")


def _provenance(meta: Mapping[str, Any]) -> dict[str, Any]:
    prov = {key: None for key in _PROVENANCE} | {"packages": {}} | (meta.get("provenance") or {})
    command = prov.get("command")
    if isinstance(command, list | tuple):
        prov["command"] = shlex.join(str(c) for c in command)
    return prov


def _n_seeds(summary: pd.DataFrame | None, paired: pd.DataFrame | None) -> int | None:
    for df in (paired, summary):
        if df is not None and not df.empty and "n" in df and df["n"].notna().any():
            return int(df["n"].max())
    return None


def _ensure(df: pd.DataFrame | None, columns: Sequence[str]) -> pd.DataFrame:
    """The table, or an empty one with the contract's columns if it is missing or empty."""
    if df is None or df.empty:
        return pd.DataFrame(columns=list(columns))
    missing = [c for c in ("arm", "outcome") if c not in df.columns]
    if missing:
        raise ValueError(f"table has no column(s) {missing}")
    return df


@functools.cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        extensions=["jinja2.ext.do"],
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )
    env.filters["oneline"] = lambda text: " ".join(str(text).split())
    env.filters["cell"] = lambda text: str(text).replace("|", "\\|").replace("\n", " ")
    env.filters["and_join"] = lambda items: (
        ", ".join(items[:-1]) + " and " + items[-1] if len(items) > 1 else "".join(items)
    )
    env.filters["seeds"] = describe_seeds
    env.filters["counted"] = counted  # "1 seed", "2 seeds": every count in the prose
    env.filters["code"] = lambda text: f"`{text}`"
    env.filters["uncap"] = lambda text: text[:1].lower() + text[1:]
    env.filters["package"] = lambda item: [item[0], str(item[1]) if item[1] else "not installed"]
    from experiments.figures import MAX_SCHOOL_PANELS  # matplotlib only when a report is written

    env.globals["max_school_panels"] = MAX_SCHOOL_PANELS  # the captions say what is drawn
    return env


def render_report(
    out_dir: str | os.PathLike,
    meta: Mapping[str, Any],
    summary: pd.DataFrame,
    paired: pd.DataFrame,
    replications: pd.DataFrame | None,
    figures: Mapping[str, Any] | None,
) -> str:
    """The report's Markdown text (see :func:`write_report`)."""
    out = Path(out_dir)
    summary = _ensure(summary, _SUMMARY_COLUMNS)
    paired = _ensure(paired, _PAIRED_COLUMNS)
    arms = _arms(meta, summary, paired)
    sources = _parameter_sources()
    context = {
        "meta": {"name": None, "experiment": None, "scenario": None, "years": None}
        | {"seeds": None, "arms": {}, "factors": None}
        | dict(meta),
        "baseline": meta.get("baseline"),
        "years": years_text(meta.get("years")),
        "arms": arms,
        "others": [a for a in arms if a != meta.get("baseline")],
        "n_seeds": _n_seeds(summary, paired),
        "prov": _provenance(meta),
        "answers": _answers(meta, summary, paired),
        "comparison": _comparison_rows(meta, summary),
        "paired_bootstrapped": _bootstrapped(paired, paired["outcome"], meta.get("years")),
        "arm_names": {a: _arm_name(a, meta) for a in arms},
        "paired": {a: _paired_rows(meta, paired, a) for a in arms if (paired["arm"] == a).any()},
        # In what share of schools each arm did better (experiments.analysis.school_wins_table).
        "school_wins": {
            row["arm"]: row for row in meta.get("school_wins") or () if row.get("schools")
        },
        "figures": _figures(out, figures),
        "replications": _replications(meta, replications),
        "crn": _crn(meta, paired),
        "declared": _arms(meta),  # arms whose configuration the report states
        "overrides": {
            a: [_override(ov, sources) for ov in (meta.get("arms") or {}).get(a, [])]
            for a in _arms(meta)
        },
        "n_params": len(sources),
        "n_assume": sum(1 for s in sources.values() if "[assume" in s),
        "params": _doc_ref("PARAMETERS.md", out),
        "odd": _doc_ref("ODD.md", out),
        "drivers": "\n".join(drivers_section(meta)),
    }
    return _environment().get_template("report.md.j2").render(context)


def write_report(
    out_dir: str | os.PathLike,
    meta: Mapping[str, Any],
    summary: pd.DataFrame,
    paired: pd.DataFrame,
    replications: pd.DataFrame | None,
    figures: Mapping[str, Any] | None,
) -> Path:
    """Write ``out_dir/report.md`` atomically and return its path.

    Args:
        out_dir: The experiment's folder (created if missing); figure links are relative to it.
        meta: Experiment metadata (name, scenario, years, seeds, arms, baseline, factors,
            provenance).
        summary: Per arm and outcome: n, mean, sd and 95% CI.
        paired: Per arm and outcome, against the baseline: mean difference, CI, Wilcoxon p,
            effect size, paired and unpaired variances and the common-random-numbers gain.
        replications: Per arm and headline outcome: CI half-width and seeds needed for ±0.02.
        figures: ``{name: path}`` of the figures, as returned by ``figures.make_all``.

    Returns:
        The path of ``report.md``.

    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    text = render_report(out, meta, summary, paired, replications, figures)
    return write_text_atomic(out / "report.md", text)
