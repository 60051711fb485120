"""The Markdown report of a paired comparison experiment: one page a policy adviser can read.

:func:`write_report` writes ``report.md`` into an experiment's folder (atomically: a temporary file
in the same folder, then renamed). Every statement of a result is generated from the tables it is
given (``summary``, ``paired``, ``replications``); nothing is hard-coded about which arm wins.

    from experiments import figures, report
    paths = figures.make_all(runs, timeseries, schools, out_dir, meta)
    report.write_report(out_dir, meta, summary, paired, replications, paths)

Tables (pandas DataFrames, long format):

* ``summary``: ``arm, outcome, n, mean, sd, ci_low, ci_high`` (95% t interval of the mean);
* ``paired``: ``arm, baseline, outcome, n, mean_diff, ci_low, ci_high, wilcoxon_p, effect_size,
  var_paired, var_unpaired, crn_gain`` (each arm minus the baseline, matched on seed);
* ``replications``: ``arm, outcome, n, ci_half_width, seeds_for_0.02``.

``meta`` holds ``name, experiment, scenario, years, seeds, arms`` (arm -> override strings),
``baseline``, optionally ``factors``, and ``provenance`` (``pln_sim, git_sha, git_dirty, packages,
created_utc, command``).
"""

from __future__ import annotations

import math
import os
import re
import shlex
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.fileio import write_text_atomic

__all__ = [
    "HEADLINE_OUTCOMES",
    "TABLE_OUTCOMES",
    "answer_paragraphs",
    "decimals_for",
    "describe_seeds",
    "fmt_estimate",
    "render_report",
    "write_report",
]

ROOT = Path(__file__).resolve().parent.parent

#: Outcomes of the plain-language answer, in the order they are discussed.
HEADLINE_OUTCOMES: tuple[str, ...] = ("spread_final", "uptake_final", "pupil_effect")
#: Outcomes of the comparison table.
TABLE_OUTCOMES: tuple[str, ...] = (
    "uptake_final",
    "spread_final",
    "pupil_effect",
    "teacher_hours",
    "hours_per_adopter",
    "schools_lapsed_share",
)

# outcome -> (label, kind). Kinds: share (0-1, shown in % and percentage points), sd, hours,
# count, weeks, index.
_OUTCOMES: dict[str, tuple[str, str]] = {
    "uptake_final": (
        "Uptake after {years}: staff who adopted or embedded the practice",
        "share",
    ),
    "use_final": ("Use after {years}: staff using or trialling the practice", "share"),
    "spread_final": ("Spread after {years}: staff who were not PLN participants using it", "share"),
    "pupil_effect": ("Pupil effect, modelled, against the same world without the PLN", "sd"),
    "pupils_reached": ("Pupils taught by staff using the practice, at the end", "count"),
    "teacher_hours": ("Staff time spent over the whole run", "hours"),
    "hours_per_adopter": ("Staff time per member of staff using the practice", "hours"),
    "weeks_to_half_uptake": ("Weeks until half the staff used it (runs that got there)", "weeks"),
    "schools_lapsed_share": ("Schools that fell below half their peak uptake", "share"),
    "resistant_peak": ("Peak number of resistant staff", "count"),
    "participants_knowledge": ("PLN participants' knowledge (0 to 1)", "index"),
    "mean_spread": ("Average spread over the run (how early it spread)", "share"),
}
_UNITS = {  # kind -> (unit of a level, unit of a difference)
    "share": ("%", "percentage points"),
    "sd": ("SD", "SD"),
    "hours": ("teacher-hours", "teacher-hours"),
    "weeks": ("weeks", "weeks"),
    "count": ("", ""),
    "index": ("", ""),
}
_DEFAULT_DECIMALS = {"share": 1, "sd": 3, "hours": 0, "weeks": 1, "count": 1, "index": 3}
_MIN_DECIMALS = {"share": 1, "sd": 3, "hours": 0, "weeks": 0, "count": 0, "index": 2}
_SHORT = {"spread_final": "spread", "uptake_final": "uptake", "pupil_effect": "the pupil effect"}
_PHRASE = {
    "spread_final": "spread to staff who did not attend the PLN",
    "uptake_final": "uptake among all staff",
    "pupil_effect": "the modelled pupil effect",
}

_CAPTIONS = {
    "uptake_curves": (
        "Uptake week by week",
        "Mean share of all staff using the practice (solid) and of non-participants (dashed) in "
        "each teaching week, per arm; shaded: 95% confidence band of the mean over seeds; dotted "
        "lines: start of a new school year.",
    ),
    "paired_differences": (
        "Paired differences, seed by seed",
        "For each seed, the arm's outcome minus the baseline's on the same random draws: "
        "histogram over seeds, mean (solid) with its 95% CI (shaded) and zero (dashed).",
    ),
    "school_small_multiples": (
        "Uptake in each school",
        "Mean share of each school's staff using the practice over time, per arm, with 95% "
        "bands: where the arms differ between schools.",
    ),
    "stage_composition": (
        "Where staff are",
        "Mean share of staff in each stage of engagement over time (stacked; the top of the "
        "green band is uptake), one panel per arm; black line: share of staff resistant.",
    ),
    "interaction": (
        "Interaction between factors",
        "Mean outcome with 95% CI at each level of one factor, a line per level of another; "
        "lines that are not parallel suggest that one factor's effect depends on the other.",
    ),
}
_FIGURE_ORDER = tuple(_CAPTIONS)


# -- formatting -------------------------------------------------------------------------------


def _finite(x: Any) -> bool:
    try:
        return x is not None and math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def _years_text(meta: Mapping[str, Any]) -> str:
    years = meta.get("years")
    if years is None:
        return "the horizon"
    return f"{years} school year" + ("" if years == 1 else "s")


def _kind(outcome: str) -> str:
    if outcome in _OUTCOMES:
        return _OUTCOMES[outcome][1]
    if outcome.startswith(("uptake_year_", "spread_year_")):
        return "share"
    return "index"


def _label(outcome: str, meta: Mapping[str, Any]) -> str:
    if outcome in _OUTCOMES:
        return _OUTCOMES[outcome][0].format(years=_years_text(meta))
    for prefix, text in (("uptake_year_", "Uptake"), ("spread_year_", "Spread")):
        if outcome.startswith(prefix):
            return f"{text} at the end of year {outcome[len(prefix) :]}"
    return f"`{outcome}`"


def decimals_for(half_width: float | None, kind: str = "index") -> int:
    """Decimals that show a 95% CI half-width (in display units) to two significant digits.

    Within the bounds of the outcome's kind; the kind's default when the half-width is missing
    or zero.
    """
    if not _finite(half_width) or float(half_width) <= 0:
        return _DEFAULT_DECIMALS.get(kind, 2)
    d = 1 - math.floor(math.log10(float(half_width)))
    return int(min(4, max(_MIN_DECIMALS.get(kind, 0), d)))


def _num(x: Any, decimals: int, sign: bool = False) -> str:
    if not _finite(x):
        return "n/a"
    x = float(x)
    if round(x, decimals) == 0:
        x = 0.0
    text = f"{x:,.{decimals}f}"
    if sign and x > 0:
        text = "+" + text
    return text


def fmt_estimate(
    mean: Any, low: Any, high: Any, kind: str, *, diff: bool = False, decimals: int | None = None
) -> tuple[str, str]:
    """``(estimate, "low to high")`` in display units (shares in % or percentage points).

    Differences (``diff=True``) carry a sign. The number of decimals follows the CI half-width
    (:func:`decimals_for`) unless given.
    """
    scale = 100.0 if kind == "share" else 1.0
    values = [float(v) * scale if _finite(v) else math.nan for v in (mean, low, high)]
    if decimals is None:
        half = (values[2] - values[1]) / 2 if _finite(values[1]) and _finite(values[2]) else None
        decimals = decimals_for(half, kind)
    est = _num(values[0], decimals, sign=diff)
    if not (_finite(values[1]) and _finite(values[2])):
        return est, "n/a"
    return est, f"{_num(values[1], decimals, sign=diff)} to {_num(values[2], decimals, sign=diff)}"


def _fmt_p(p: Any) -> str:
    if not _finite(p):
        return "n/a"
    p = float(p)
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def _fmt_g(x: Any, digits: int = 3) -> str:
    return f"{float(x):.{digits}g}" if _finite(x) else "n/a"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], align: str = "") -> list[str]:
    align = align or "l" + "r" * (len(header) - 1)
    marks = {"l": "---", "r": "---:", "c": ":---:"}
    lines = ["| " + " | ".join(_cell(h) for h in header) + " |"]
    lines.append("|" + "|".join(marks[a] for a in align) + "|")
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return lines


def describe_seeds(seeds: Any) -> str:
    """Seeds in words: ``"0–29 (30 seeds)"``, a short list, or the description given."""
    if seeds is None:
        return "not recorded"
    if isinstance(seeds, str):
        return seeds
    if isinstance(seeds, int | np.integer):
        return f"{int(seeds)} seeds"
    if isinstance(seeds, Mapping):
        return ", ".join(f"{k}={v}" for k, v in seeds.items())
    values = [int(s) for s in seeds]
    n = len(values)
    if n == 0:
        return "none"
    ordered = sorted(values)
    if ordered == list(range(ordered[0], ordered[0] + n)) and n > 1:
        return f"{ordered[0]}–{ordered[-1]} ({n} seeds)"
    if n <= 12:
        return ", ".join(map(str, values)) + f" ({n} seed{'s' if n > 1 else ''})"
    return f"{n} seeds: {', '.join(map(str, values[:5]))}, …, {values[-1]}"


def _arm_name(arm: str, meta: Mapping[str, Any]) -> str:
    return f"`{arm}`" + (" (baseline)" if arm == meta.get("baseline") else "")


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


def _lookup(df: pd.DataFrame | None, arm: str, outcome: str) -> pd.Series | None:
    if df is None or df.empty:
        return None
    hit = df[(df["arm"] == arm) & (df["outcome"] == outcome)]
    return None if hit.empty else hit.iloc[0]


def _is_clear(row: pd.Series) -> bool:
    return (
        _finite(row["ci_low"])
        and _finite(row["ci_high"])
        and (row["ci_low"] > 0 or row["ci_high"] < 0)
    )


def _identical(row: pd.Series) -> bool:
    return all(_finite(row[c]) and float(row[c]) == 0 for c in ("mean_diff", "ci_low", "ci_high"))


def _with_unit(value: str, kind: str, diff: bool) -> str:
    unit = _UNITS[kind][1 if diff else 0]
    if not unit or value == "n/a":
        return value
    return f"{value}%" if unit == "%" else f"{value} {unit}"


def _level_texts(
    summary: pd.DataFrame | None, arms: Sequence[str], outcome: str
) -> list[str | None]:
    """The arms' means of an outcome in display units, with the same number of decimals."""
    rows = [_lookup(summary, arm, outcome) for arm in arms]
    kind = _kind(outcome)
    scale = 100.0 if kind == "share" else 1.0
    halves = [
        (r["ci_high"] - r["ci_low"]) / 2 * scale
        for r in rows
        if r is not None and _finite(r["ci_low"]) and _finite(r["ci_high"])
    ]
    decimals = decimals_for(min(halves) if halves else None, kind)
    return [
        _with_unit(_num(float(r["mean"]) * scale, decimals), kind, diff=False)
        if r is not None and _finite(r["mean"])
        else None
        for r in rows
    ]


def _join(items: Sequence[str]) -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


# -- sections ---------------------------------------------------------------------------------


def answer_paragraphs(
    meta: Mapping[str, Any], summary: pd.DataFrame | None, paired: pd.DataFrame
) -> list[str]:
    """The plain-language answer: one paragraph per arm compared with the baseline.

    Generated from ``paired`` (and the arms' means from ``summary``): which arm did better on
    spread, uptake and the pupil effect, by how much, with the 95% CI, and whether the difference
    is statistically clear (its CI excludes zero).
    """
    baseline = meta.get("baseline")
    years = _years_text(meta)
    paragraphs = []
    for arm in [a for a in _arms(meta, paired) if a != baseline and (paired["arm"] == a).any()]:
        better_arm, better_base, unclear, details = [], [], [], []
        n_seeds = None
        for outcome in HEADLINE_OUTCOMES:
            row = _lookup(paired, arm, outcome)
            if row is None:
                continue
            n_seeds = n_seeds or (int(row["n"]) if _finite(row["n"]) else None)
            kind = _kind(outcome)
            est, ci = fmt_estimate(row["mean_diff"], row["ci_low"], row["ci_high"], kind, diff=True)
            est = _with_unit(est, kind, True)
            a_level, b_level = _level_texts(summary, [arm, baseline], outcome)
            levels = (
                f"`{arm}` reached {a_level} and `{baseline}` {b_level}"
                if a_level and b_level
                else ""
            )
            phrase = _PHRASE[outcome]
            if _identical(row):
                unclear.append(_SHORT[outcome])
                details.append(
                    f"On {phrase} the two arms gave the same result in every seed"
                    + (f" ({levels})." if levels else ".")
                )
            elif _is_clear(row):
                winner, loser = (arm, baseline) if row["mean_diff"] > 0 else (baseline, arm)
                (better_arm if winner == arm else better_base).append(_SHORT[outcome])
                details.append(
                    f"On {phrase}, `{winner}` was ahead of `{loser}`"
                    + (f" ({levels})" if levels else "")
                    + f": a paired difference (`{arm}` minus `{baseline}`) of {est} (95% CI "
                    f"{ci}), an interval that excludes zero, so the difference is statistically "
                    "clear."
                )
            else:
                unclear.append(_SHORT[outcome])
                details.append(
                    f"On {phrase}"
                    + (f", {levels}" if levels else "")
                    + f": a paired difference of {est} (95% CI {ci}), an interval that includes "
                    "zero, so neither arm is clearly better."
                )
        if not details:
            continue
        verdict = []
        if better_arm:
            verdict.append(f"`{arm}` did better than `{baseline}` on {_join(better_arm)}")
        if better_base:
            verdict.append(f"`{baseline}` did better than `{arm}` on {_join(better_base)}")
        if unclear:
            verdict.append(f"there was no statistically clear difference in {_join(unclear)}")
        seeds = f"{n_seeds} paired seeds of " if n_seeds else ""
        text = [
            f"In the model ({seeds}the `{meta.get('scenario')}` scenario, {years}), "
            f"{'; '.join(verdict)}.",
            *details,
        ]
        hours = _lookup(paired, arm, "teacher_hours")
        if hours is not None and _finite(hours["mean_diff"]):
            est, ci = fmt_estimate(
                hours["mean_diff"], hours["ci_low"], hours["ci_high"], "hours", diff=True
            )
            base_hours = _level_texts(summary, [baseline], "teacher_hours")[0]
            of_base = f"; `{baseline}` used {base_hours}" if base_hours else ""
            if _is_clear(hours):
                more = "more" if hours["mean_diff"] > 0 else "less"
                text.append(
                    f"`{arm}` used {more} staff time than `{baseline}`: a difference of {est} "
                    f"teacher-hours over the run (95% CI {ci}{of_base})."
                )
            elif not _identical(hours):
                text.append(
                    f"There was no clear difference in staff time ({est} teacher-hours, 95% CI "
                    f"{ci}{of_base})."
                )
        text.append(
            "Statistically clear means only that the difference is not simulation noise in this "
            "model; whether it is large enough to matter, and whether it would hold in real "
            "schools, are separate questions (see below)."
        )
        paragraphs.append(" ".join(text))
    if len(paragraphs) > 1:
        compared = [a for a in _arms(meta, paired) if a != baseline and (paired["arm"] == a).any()]
        paragraphs = [
            f"**`{arm}` against `{baseline}`.** {text}"
            for arm, text in zip(compared, paragraphs, strict=True)
        ]
    return paragraphs


def _comparison_table(meta: Mapping[str, Any], summary: pd.DataFrame) -> list[str]:
    arms = [a for a in _arms(meta, summary) if (summary["arm"] == a).any()]
    outcomes = [o for o in TABLE_OUTCOMES if (summary["outcome"] == o).any()]
    header = ["Outcome", *(_arm_name(a, meta) for a in arms)]
    n_max = summary.loc[summary["outcome"].isin(outcomes), "n"].max()
    rows = []
    for outcome in outcomes:
        kind = _kind(outcome)
        found = {a: _lookup(summary, a, outcome) for a in arms}
        halves = [
            (r["ci_high"] - r["ci_low"]) / 2 * (100 if kind == "share" else 1)
            for r in found.values()
            if r is not None and _finite(r["ci_low"]) and _finite(r["ci_high"])
        ]
        decimals = decimals_for(min(halves) if halves else None, kind)
        unit = _UNITS[kind][0]
        label = _label(outcome, meta) + (f" ({unit})" if unit else "")
        cells = [label]
        for arm in arms:
            r = found[arm]
            if r is None:
                cells.append("n/a")
                continue
            est, ci = fmt_estimate(r["mean"], r["ci_low"], r["ci_high"], kind, decimals=decimals)
            cell = est if ci == "n/a" else f"{est} ({ci})"
            if _finite(r["n"]) and int(r["n"]) != int(n_max):
                cell += f" [n={int(r['n'])}]"
            cells.append(cell)
        rows.append(cells)
    runs = ["Runs (seeds)"]
    for arm in arms:
        ns = summary.loc[(summary["arm"] == arm) & summary["outcome"].isin(outcomes), "n"]
        runs.append(str(int(ns.max())) if len(ns) else "n/a")
    rows.append(runs)
    return _table(header, rows)


def _paired_table(meta: Mapping[str, Any], paired: pd.DataFrame, arm: str) -> list[str]:
    sub = paired[paired["arm"] == arm]
    known = [o for o in (*TABLE_OUTCOMES, *_OUTCOMES) if (sub["outcome"] == o).any()]
    outcomes = list(dict.fromkeys(known + list(sub["outcome"])))
    header = [
        "Outcome",
        "Unit",
        "Mean difference",
        "95% CI",
        "Wilcoxon p",
        "Effect size (d_z)",
        "Seeds",
        "CI excludes 0?",
    ]
    rows = []
    for outcome in outcomes:
        r = _lookup(sub, arm, outcome)
        kind = _kind(outcome)
        est, ci = fmt_estimate(r["mean_diff"], r["ci_low"], r["ci_high"], kind, diff=True)
        if _identical(r):
            clear = "no (identical in every seed)"
        elif _is_clear(r):
            clear = "yes, higher" if r["mean_diff"] > 0 else "yes, lower"
        else:
            clear = "no"
        effect = _num(r["effect_size"], 2, sign=True)
        rows.append(
            [
                _label(outcome, meta),
                _UNITS[kind][1] or ("number" if kind == "count" else "value"),
                est,
                ci,
                _fmt_p(r["wilcoxon_p"]),
                effect,
                str(int(r["n"])) if _finite(r["n"]) else "n/a",
                clear,
            ]
        )
    return _table(header, rows, align="llrrrrrl")


def _figures_section(out_dir: Path, figures: Mapping[str, Any] | None) -> list[str]:
    if not figures:
        return ["No figures were made for this experiment."]
    lines: list[str] = []
    items = list(figures.items())
    rank = {name: i for i, name in enumerate(_FIGURE_ORDER)}
    items.sort(key=lambda kv: rank.get(Path(kv[1]).stem, rank.get(kv[0], len(rank))))
    for key, path in items:
        path = Path(path)
        stem = path.stem if path.stem in _CAPTIONS else key
        title, caption = _CAPTIONS.get(stem, (key.replace("_", " ").capitalize(), ""))
        rel = Path(os.path.relpath(path.resolve(), out_dir.resolve())).as_posix()
        lines += [f"### {title}", "", f"![{title}]({rel})", ""]
        if caption:
            lines += [f"*{caption}*", ""]
    return lines[:-1]


def _replications_section(
    meta: Mapping[str, Any], paired: pd.DataFrame, replications: pd.DataFrame | None
) -> list[str]:
    lines: list[str] = []
    if replications is not None and not replications.empty:
        rows = []
        for arm in _arms(meta, replications):
            for _, r in replications[replications["arm"] == arm].iterrows():
                need = r.get("seeds_for_0.02")
                rows.append(
                    [
                        _arm_name(arm, meta),
                        _label(r["outcome"], meta),
                        str(int(r["n"])) if _finite(r["n"]) else "n/a",
                        f"±{_fmt_g(r['ci_half_width'])}",
                        str(int(math.ceil(need))) if _finite(need) else "n/a",
                    ]
                )
        uptake = replications[replications["outcome"] == "uptake_final"]
        if not uptake.empty:
            n_run = int(uptake["n"].min())
            widest = float(uptake["ci_half_width"].max())
            needs = uptake["seeds_for_0.02"].dropna()
            sentence = (
                f"With {n_run} seeds, each arm's mean uptake after {_years_text(meta)} is known to "
                f"within ±{_fmt_g(widest)} or better (half-width of its 95% CI; 0.01 is one "
                "percentage point)."
            )
            if len(needs):
                need = int(math.ceil(needs.max()))
                enough = "so this experiment ran enough" if n_run >= need else "more than were run"
                sentence += (
                    f" Pinning every arm's mean uptake to ±0.02 needs about {need} seeds per arm "
                    f"({enough})."
                )
            lines += [sentence, ""]
        lines += _table(
            ["Arm", "Outcome", "Runs", "95% CI half-width", "Seeds for ±0.02"], rows, "llrrr"
        )
        lines += [
            "",
            "±0.02 is in each outcome's own units: two percentage points for shares, 0.02 SD for "
            "the pupil effect. These are the precisions of each arm's own mean; differences "
            "between arms are estimated more precisely, because the arms are paired (below).",
            "",
        ]
    crn = paired[paired["outcome"].isin(TABLE_OUTCOMES)] if "crn_gain" in paired else paired[:0]
    if not crn.empty:
        lines += [
            "**Common random numbers.** Every arm runs on the same seeds, and a seed fixes the "
            "same staff, advice networks and chance events in every arm. The variance of the "
            "paired (seed-by-seed) differences is compared below with the variance the "
            "difference would have if the arms' runs were independent; their ratio, the gain, is "
            "roughly how many times more seeds an unpaired comparison would need for the same "
            "precision.",
            "",
        ]
        for arm in [a for a in _arms(meta, crn) if (crn["arm"] == a).any()]:
            sub = crn[crn["arm"] == arm]
            rows = []
            for outcome in [o for o in TABLE_OUTCOMES if (sub["outcome"] == o).any()]:
                r = _lookup(sub, arm, outcome)
                if _finite(r["crn_gain"]):
                    gain = f"{float(r['crn_gain']):.1f}×"
                elif (
                    _finite(r["var_paired"])
                    and float(r["var_paired"]) == 0
                    and _finite(r["var_unpaired"])
                    and float(r["var_unpaired"]) > 0
                ):
                    gain = "unbounded (paired differences do not vary)"
                else:
                    gain = "n/a"
                rows.append(
                    [
                        _label(outcome, meta),
                        _fmt_g(r["var_paired"]),
                        _fmt_g(r["var_unpaired"]),
                        gain,
                    ]
                )
            r = _lookup(sub, arm, "uptake_final")
            if r is not None and _finite(r["crn_gain"]):
                g = float(r["crn_gain"])
                if g >= 1:
                    lines.append(
                        f"For uptake (`{arm}` minus `{meta.get('baseline')}`), pairing divided "
                        f"the variance of the difference by {g:.1f}."
                    )
                else:
                    lines.append(
                        f"For uptake (`{arm}` minus `{meta.get('baseline')}`), pairing did not "
                        f"reduce the variance of the difference (gain {g:.2f})."
                    )
                lines.append("")
            lines += _table(
                [
                    "Outcome",
                    "Variance of paired differences",
                    "Variance if unpaired",
                    "Gain (unpaired / paired)",
                ],
                rows,
            )
            lines.append("")
    return lines[:-1] if lines and lines[-1] == "" else lines


def _doc_ref(name: str, out_dir: Path) -> str:
    """A relative link to ``docs/<name>`` when the report is inside the repository."""
    target = ROOT / "docs" / name
    try:
        out_dir.resolve().relative_to(ROOT)
    except ValueError:
        return f"`docs/{name}`"
    rel = Path(os.path.relpath(target, out_dir.resolve())).as_posix()
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
        if m:
            cols = [c.strip() for c in line.strip().strip("|").split("|")]
            if len(cols) >= 7:  # parameter tables: key, default, range, unit, …, source
                sources[m.group(1)] = cols[5]
    return sources


_GROUPS = ("scenario", "strategy", "mode", "selection", "leadership")


def _override_notes(overrides: Sequence[str], sources: Mapping[str, str]) -> str:
    notes = []
    for ov in overrides:
        key, _, value = str(ov).partition("=")
        key = key.lstrip("+~")
        if key in _GROUPS:
            notes.append(f"`{ov}` (preset `configs/{key}/{value}.yaml`)")
        elif key in sources and sources[key]:
            notes.append(f"`{ov}` (source of the default: {sources[key]})")
        else:
            notes.append(f"`{ov}`")
    return "; ".join(notes) if notes else "nothing (the scenario as it is)"


def _assumptions_section(meta: Mapping[str, Any], out_dir: Path, n_seeds: int | None) -> list[str]:
    sources = _parameter_sources()
    n_assume = sum(1 for s in sources.values() if "[assume" in s)
    params, odd = _doc_ref("PARAMETERS.md", out_dir), _doc_ref("ODD.md", out_dir)
    scenario = meta.get("scenario")
    lines = [
        f"- **Scenario:** `{scenario}` (its schools, staff and PLN are described in {odd}, "
        "§5.1), run for "
        f"{_years_text(meta)} of 39 teaching weeks"
        + (f", on {n_seeds} seeds per arm" if n_seeds else "")
        + f". Seeds: {describe_seeds(meta.get('seeds'))}, the same in every arm.",
        "- **What each arm changes** (every other parameter keeps the scenario's value; group "
        "presets are applied first, then `key=value` overrides):",
    ]
    for arm in _arms(meta):
        overrides = (meta.get("arms") or {}).get(arm, [])
        lines.append(f"  - {_arm_name(arm, meta)}: {_override_notes(overrides, sources)}")
    factors = meta.get("factors") or {}
    if factors:
        lines.append(
            "- **Factorial design:** "
            + "; ".join(
                f"factor `{f}` with levels "
                + ", ".join(f"`{lv}`" for lv in dict.fromkeys(levels.values()))
                for f, levels in factors.items()
            )
            + "."
        )
    count = f" ({n_assume} of the {len(sources)} parameters)" if sources else ""
    lines += [
        "- **Assumptions:** every parameter tagged `[assume]` in "
        f"{params}{count} is an assumption, not a measurement: a plausible value exposed so that "
        "it can be varied. Other values come from the project's seed texts (`[seed NNN]`) or "
        "the literature (`[lit: …]`), and a few were calibrated so that the model reproduces "
        f"the patterns reported in the literature ({odd}, §1.2).",
        f"- **Mechanisms:** {odd} describes every mechanism, the weekly order of processes, the "
        "common random numbers (§9), the outputs (§10) and where the code departs from the "
        "model specification (§11). File paths are in the pln-sim repository, at the commit "
        "given under Provenance.",
    ]
    return lines


def _limits_section(meta: Mapping[str, Any], out_dir: Path) -> list[str]:
    years = _years_text(meta)
    params, odd = _doc_ref("PARAMETERS.md", out_dir), _doc_ref("ODD.md", out_dir)
    return [
        "**It shows** how the arms compare *inside the model* of the "
        f"`{meta.get('scenario')}` scenario over {years}. Each seed is one model world: the same "
        "staff, advice networks and chance events (who talks to whom, who leaves, who tries the "
        "practice) in every arm. Comparing arms seed by seed (common random numbers) isolates "
        "what the arms' settings change in the model, and the confidence intervals say how "
        "consistently they change it across model worlds.",
        "",
        "**It does not show:**",
        "",
        "- **A forecast for a particular school or network.** This is not a forecast: the "
        "schools are synthetic, built to resemble the scenario's description; a real school's "
        "staff, relationships, history and leadership differ, and the variation between seeds "
        "is chance in the model, not the range of real schools.",
        "- **Effects that hold whatever the assumptions.** The results depend on the model's "
        f"structure ({odd}) and on its parameter values, many of them assumptions (`[assume]` in "
        f"{params}). Other plausible values could change the size of a difference, and possibly "
        "its direction; this comparison does not vary them unless an arm's overrides do. Check "
        "the sensitivity of a result before relying on it.",
        "- **Uncertainty about the model.** Confidence intervals and p-values measure simulation "
        "noise only (variation across seeds); they leave out uncertainty about parameters and "
        "mechanisms, and they shrink as more seeds are run, so with enough seeds any "
        "difference, however small, becomes statistically clear. Judge whether a difference "
        "matters by its size.",
        "- **Measured pupil outcomes.** Pupil effects are modelled, not measured: the model turns "
        "how well and how long teachers use the practice into pupil gains at a fixed rate per "
        "year of use (`outcomes.effect_per_year`, set from typical effect sizes in education "
        "research), against the same model world without the PLN. They are "
        "not test results and are not directly comparable with effect sizes from trials.",
        "- **Costs in money.** Teacher-hours are modelled staff time (allocated collaboration "
        "time, research leads' time, workshop and session attendance); they are not budgets and "
        "leave out what the model does not represent (cover, materials, facilitators).",
        f"- **What happens after {years}**, or anything the model leaves out ({odd}, §11.2).",
        "- **Several comparisons at once, corrected.** Each p-value and interval is for one "
        "outcome and one pair of arms, without correction for multiple comparisons.",
        "- **Validity for real networks.** The model reproduces seven qualitative patterns "
        f"reported in the literature ({odd}, §1.2), some of them by calibration; that does not "
        "establish that its numbers are right for any real network.",
    ]


def _provenance_section(meta: Mapping[str, Any]) -> list[str]:
    prov = meta.get("provenance") or {}
    sha = prov.get("git_sha")
    dirty = prov.get("git_dirty")
    if sha is None:
        git = "unknown (not run from a git work tree)"
    else:
        git = f"`{sha}`"
        if dirty:
            git += (
                " — the work tree had uncommitted changes, so this commit alone may not reproduce "
                "the results"
            )
        elif dirty is False:
            git += " (no uncommitted changes)"
    command = prov.get("command")
    if isinstance(command, list | tuple):
        command = shlex.join(str(c) for c in command)
    lines = [
        f"- **Experiment:** `{meta.get('name')}`"
        + (
            f" ({meta.get('experiment')})"
            if meta.get("experiment") and meta.get("experiment") != meta.get("name")
            else ""
        ),
        f"- **pln-sim version:** {prov.get('pln_sim') or 'unknown'}",
        f"- **Git commit:** {git}",
        f"- **Created (UTC):** {prov.get('created_utc') or 'unknown'}",
        f"- **Command:** `{command}`" if command else "- **Command:** not recorded",
        f"- **Scenario:** `{meta.get('scenario')}`; **years:** {meta.get('years')}; **seeds:** "
        f"{describe_seeds(meta.get('seeds'))}; **baseline arm:** `{meta.get('baseline')}`",
    ]
    for key in ("python", "platform"):
        if prov.get(key):
            lines.append(f"- **{key.capitalize()}:** {prov[key]}")
    lines += [
        "",
        "Configuration of each arm: the scenario plus these overrides, in this order (the same "
        "grammar as `python -m experiments.run`):",
        "",
        "```",
    ]
    for arm in _arms(meta):
        overrides = (meta.get("arms") or {}).get(arm, [])
        parts = [f"scenario={meta.get('scenario')}", *map(str, overrides)]
        lines.append(f"{arm}: {' '.join(parts)}")
    lines.append("```")
    packages = prov.get("packages") or {}
    if packages:
        lines += ["", "Package versions:", ""]
        lines += _table(
            ["Package", "Version"],
            [[name, str(v) if v else "not installed"] for name, v in packages.items()],
            "ll",
        )
    return lines


_SUMMARY_COLUMNS = ("arm", "outcome", "n", "mean", "sd", "ci_low", "ci_high")
_PAIRED_COLUMNS = (
    "arm",
    "baseline",
    "outcome",
    "n",
    "mean_diff",
    "ci_low",
    "ci_high",
    "wilcoxon_p",
    "effect_size",
    "var_paired",
    "var_unpaired",
    "crn_gain",
)


def _ensure(df: pd.DataFrame | None, columns: Sequence[str]) -> pd.DataFrame:
    """The table, or an empty one with the contract's columns if it is missing or empty."""
    if df is None or df.empty:
        return pd.DataFrame(columns=list(columns))
    missing = [c for c in ("arm", "outcome") if c not in df.columns]
    if missing:
        raise ValueError(f"table has no column(s) {missing}")
    return df


def _n_seeds(summary: pd.DataFrame | None, paired: pd.DataFrame | None) -> int | None:
    for df in (paired, summary):
        if df is not None and not df.empty and "n" in df and df["n"].notna().any():
            return int(df["n"].max())
    return None


def _school_wins_lines(meta: Mapping[str, Any], arm: str) -> list[str]:
    """One sentence: in what share of schools each arm did better (same seed, same school)."""
    for row in meta.get("school_wins") or ():
        if row.get("arm") == arm and row.get("schools"):
            return [
                f"School by school (the same school in the same model world, "
                f"{row['outcome']} at the horizon, {row['schools']} school-runs): "
                f"`{arm}` did better in {row['share_arm_better']:.0%}, "
                f"`{row['baseline']}` in {row['share_baseline_better']:.0%}, "
                f"and they tied in {row['share_tied']:.0%}.",
                "",
            ]
    return []


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
    baseline = meta.get("baseline")
    arms = _arms(meta, summary, paired)
    others = [a for a in arms if a != baseline]
    n_seeds = _n_seeds(summary, paired)
    if len(others) <= 3:
        title = f"# Paired comparison: {_join([f'`{a}`' for a in others])} against `{baseline}`"
    else:
        title = f"# Paired comparison of {len(arms)} arms against `{baseline}`"
    if not others:
        title = f"# Experiment `{meta.get('name')}`"
    prov = meta.get("provenance") or {}
    sha = str(prov.get("git_sha") or "unknown")[:8]
    sub = [
        f"**Experiment** `{meta.get('name')}`",
        f"**scenario** `{meta.get('scenario')}`",
        f"**horizon** {_years_text(meta)}",
        f"**seeds** {describe_seeds(meta.get('seeds'))}",
        f"**baseline** `{baseline}`",
        f"pln-sim {prov.get('pln_sim') or '?'}, git `{sha}`",
    ]
    lines = [title, "", " · ".join(sub), "", "## In brief", ""]
    answers = answer_paragraphs(meta, summary, paired) if paired is not None else []
    if answers:
        for text in answers:
            lines += [text, ""]
    else:
        none = "a single arm" if not others else "no paired results were given"
        lines += [f"There is no paired comparison in this report ({none}).", ""]
    lines += [
        "## Results by arm",
        "",
        "Mean over seeds, with the 95% confidence interval of the mean in brackets. Runs where an "
        "outcome is undefined (no adopter, or no school that ever took the practice up) are left "
        "out of that outcome; [n=…] marks a cell with fewer runs.",
        "",
        *_comparison_table(meta, summary),
        "",
        "## Paired differences",
        "",
        "Each arm minus the baseline on the same seed (the same model world). 95% CI: t interval "
        "of the mean difference. Wilcoxon p: signed-rank test of the paired differences (n/a "
        "when every difference is zero). Effect size d_z: mean difference divided by the "
        "standard deviation of the differences; because pairing removes the noise the arms share, "
        "it is usually larger than a between-group Cohen's d and is not comparable with effect "
        "sizes from trials.",
        "",
    ]
    for arm in [a for a in others if paired is not None and (paired["arm"] == a).any()]:
        lines += [f"### `{arm}` minus `{baseline}`", "", *_paired_table(meta, paired, arm), ""]
        lines += _school_wins_lines(meta, arm)
    lines += ["## Figures", "", *_figures_section(out, figures), ""]
    lines += [
        "## How many runs",
        "",
        *(
            _replications_section(meta, paired, replications)
            or ["No replication results were given."]
        ),
        "",
    ]
    lines += ["## Assumptions", "", *_assumptions_section(meta, out, n_seeds), ""]
    lines += ["## What this comparison does and does not show", "", *_limits_section(meta, out), ""]
    lines += ["## Provenance", "", *_provenance_section(meta), ""]
    return "\n".join(lines)


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
