"""Figures of a paired comparison experiment: PNG files drawn with matplotlib's Agg backend.

Every function takes the experiment's tidy tables (see ``experiments/report.py`` and the data
contract of the comparison experiments: ``runs``, ``timeseries``, ``schools``), an output path and
the experiment's ``meta`` dictionary, writes one PNG (atomically: a temporary file in the same
folder, then renamed) and returns its path. Each figure is stamped in its bottom-right corner with
``pln-sim <version> · git <sha> · <scenario> · n=<seeds> seeds``.

Everything is aggregated with pandas ``groupby`` (never a Python loop over seeds), so a thousand
seeds of two arms draw in a few seconds.

    from experiments import figures
    paths = figures.make_all(runs, timeseries, schools, out_dir, meta)
"""

from __future__ import annotations

import itertools
import os
import textwrap
import warnings
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib import patheffects  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
from matplotlib.ticker import MaxNLocator, PercentFormatter  # noqa: E402
from scipy import stats  # noqa: E402

from experiments.analysis import mean_interval  # noqa: E402
from sim import outcome_registry as registry  # noqa: E402
from sim.fileio import save_figure  # noqa: E402
from sim.outcome_registry import counted, ordinal  # noqa: E402
from sim.palette import STAGE_COLOURS  # noqa: E402

__all__ = [
    "ARM_COLOURS",
    "FIGURE_FILES",
    "STAGES",
    "STAGE_COLOURS",
    "arm_order",
    "interaction_plot",
    "make_all",
    "outcome_label",
    "paired_differences",
    "school_ranks",
    "school_small_multiples",
    "stage_composition",
    "stamp_text",
    "uptake_curves",
]

DPI = 120
WEEKS_PER_YEAR = 39  # used only when a table has no ``year`` column

#: File name of each figure made by :func:`make_all`, keyed by figure name.
FIGURE_FILES: dict[str, str] = {
    "uptake_curves": "uptake_curves.png",
    "paired_differences": "paired_differences.png",
    "school_small_multiples": "school_small_multiples.png",
    "stage_composition": "stage_composition.png",
    "interaction": "interaction.png",
}

#: Stages of engagement, in the model's order (``sim.population.STAGE_NAMES``).
STAGES: tuple[str, ...] = (
    "unaware",
    "aware",
    "interested",
    "trialling",
    "adopted",
    "embedded",
    "lapsed",
)
_STAGE_LABELS = {
    "unaware": "unaware",
    "aware": "aware",
    "interested": "interested",
    "trialling": "trialling it",
    "adopted": "adopted",
    "embedded": "embedded (routine)",
    "lapsed": "lapsed (stopped)",
}
# Stacking order, bottom to top: adopters at the bottom, so the top of the green band is uptake.
_STACK_ORDER = ("embedded", "adopted", "trialling", "interested", "aware", "unaware", "lapsed")

#: Arm colours in arm order (the baseline arm first).
ARM_COLOURS: tuple[str, ...] = (
    "#1f4e9c",
    "#d4561c",
    "#2a9d4a",
    "#8e44ad",
    "#b8860b",
    "#17a2b8",
    "#c2185b",
    "#5d4037",
    "#607d8b",
    "#000000",
)

_RC = {
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "legend.fontsize": 9,
    "legend.title_fontsize": 9,
    "figure.titlesize": 13,
    "axes.spines.top": False,
    "axes.spines.right": False,
}


# -- helpers ----------------------------------------------------------------------------------


def outcome_label(name: str, meta: Mapping[str, Any] | None = None) -> str:
    """The outcome's label from :mod:`sim.outcome_registry`, for the horizon in ``meta``."""
    return registry.outcome(name).label_for((meta or {}).get("years"))


def _seed_count(meta: Mapping[str, Any], data: pd.DataFrame | None) -> int | str:
    """Seeds shown in a figure: the distinct seeds of its data, else those listed in ``meta``."""
    if data is not None and "seed" in data.columns and len(data):
        return int(data["seed"].nunique())
    seeds = meta.get("seeds")
    if isinstance(seeds, range | list | tuple | set | np.ndarray | pd.Index):
        return len(seeds)
    return "?"


def stamp_text(meta: Mapping[str, Any], data: pd.DataFrame | None = None) -> str:
    """``pln-sim <version> · git <sha[:8]> · <scenario> · n=<seeds> seeds`` for a figure.

    The SHA gets ``-dirty`` when the work tree had uncommitted changes; the seed count is the
    number of distinct seeds in ``data`` (what the figure shows), else the length of
    ``meta["seeds"]``.
    """
    prov = meta.get("provenance") or {}
    version = prov.get("pln_sim") or "?"
    sha = str(prov.get("git_sha") or "unknown")[:8]
    if prov.get("git_dirty"):
        sha += "-dirty"
    scenario = meta.get("scenario") or "?"
    n = _seed_count(meta, data)
    seeds = counted(n, "seed") if isinstance(n, int) else f"{n} seeds"
    return f"pln-sim {version} · git {sha} · {scenario} · n={seeds}"


def arm_order(meta: Mapping[str, Any], present: Iterable[str]) -> list[str]:
    """Arms present in the data: the baseline first, then in ``meta["arms"]`` order, then others."""
    present = list(dict.fromkeys(present))
    declared = [a for a in (meta.get("arms") or {}) if a in present]
    order = declared + [a for a in present if a not in declared]
    baseline = meta.get("baseline")
    if baseline in order:
        order.remove(baseline)
        order.insert(0, baseline)
    return order


def _arm_colours(meta: Mapping[str, Any], arms: Sequence[str]) -> dict[str, str]:
    """A stable colour per arm: by position among all declared arms, so figures agree."""
    everyone = arm_order(meta, [*(meta.get("arms") or {}), *arms])
    return {a: ARM_COLOURS[everyone.index(a) % len(ARM_COLOURS)] for a in arms}


def _baseline(meta: Mapping[str, Any], arms: Sequence[str]) -> str:
    baseline = meta.get("baseline")
    if baseline is None:
        return arms[0]
    if baseline not in arms:
        raise ValueError(f"baseline arm {baseline!r} is not in the data (arms: {list(arms)})")
    return baseline


def _mean_band(df: pd.DataFrame, keys: list[str], column: str, method: str = "t") -> pd.DataFrame:
    """Mean, 95% interval (``low``, ``high``) and count of ``column`` over seeds, per ``keys``.

    ``method="t"``: ``scipy.stats.ttest_1samp`` along the seeds of every group at once; any
    other method (``"bootstrap"``) group by group with :func:`experiments.analysis.mean_interval`.
    """
    wide = df.groupby([*keys, "seed"], sort=True, observed=True)[column].mean().unstack("seed")
    values = wide.to_numpy(float)
    agg = pd.DataFrame(index=wide.index)
    agg["count"] = (~np.isnan(values)).sum(axis=1)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        # Groups whose seeds all agree (week 1: nobody yet) have no spread to test, and groups
        # with no value have no mean: both are handled below.
        warnings.simplefilter("ignore", RuntimeWarning)
        agg["mean"] = np.nanmean(values, axis=1)
        if method == "t":
            ci = stats.ttest_1samp(values, 0.0, axis=1, nan_policy="omit").confidence_interval()
            flat = (np.nanmax(values, axis=1) == np.nanmin(values, axis=1)).astype(bool)
            agg["low"] = np.where(flat, agg["mean"], ci.low)
            agg["high"] = np.where(flat, agg["mean"], ci.high)
    if method != "t":
        bounds = [mean_interval(row, method) for row in values]
        agg["low"], agg["high"] = [b[0] for b in bounds], [b[1] for b in bounds]
    agg.loc[agg["count"] < 2, ["low", "high"]] = np.nan
    return agg


def _year_starts(df: pd.DataFrame) -> list[tuple[int, float, float]]:
    """(year, first week, last week) of each school year in the data's weeks."""
    if "year" in df.columns:
        years = df.groupby("year", sort=True)["week"].agg(["min", "max"])
        return [(int(y), float(r["min"]), float(r["max"])) for y, r in years.iterrows()]
    last = int(df["week"].max())
    return [
        (y + 1, float(y * WEEKS_PER_YEAR + 1), float(min((y + 1) * WEEKS_PER_YEAR, last)))
        for y in range(int(np.ceil(last / WEEKS_PER_YEAR)))
    ]


def _mark_years(
    ax: plt.Axes, years: list[tuple[int, float, float]], label: bool = True, on_top: bool = False
) -> None:
    """Dotted lines between school years and, optionally, "Year k" above each year."""
    colour, zorder = ("white", 5) if on_top else ("0.55", 0)
    for i, (year, first, last) in enumerate(years):
        if i > 0:
            ax.axvline(first - 0.5, color=colour, linestyle=":", linewidth=1.2, zorder=zorder)
        if label and len(years) > 1:
            ax.text(
                (first + last) / 2,
                1.0,
                f"Year {year}",
                transform=ax.get_xaxis_transform(),
                ha="center",
                va="bottom",
                fontsize=9,
                color="0.35",
            )
    ax.set_xlim(years[0][1], years[-1][2])


def _new_figure(width: float, height: float) -> plt.Figure:
    fig = plt.figure(figsize=(width, height), dpi=DPI, layout="constrained")
    # Leave a strip at the bottom for the provenance stamp.
    bottom = 0.22 / height
    fig.get_layout_engine().set(rect=(0, bottom, 1, 1 - bottom))
    return fig


def _finish(fig: plt.Figure, path: str | os.PathLike, meta: Mapping[str, Any], data) -> Path:
    """Stamp, save atomically (temporary file, then rename) and close the figure."""
    fig.text(0.995, 0.005, stamp_text(meta, data), ha="right", va="bottom", fontsize=7, color="0.5")
    return save_figure(fig, path, dpi=DPI, facecolor="white")


def _require(df: pd.DataFrame, columns: Iterable[str], name: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"{name} has no column(s) {missing}")
    if df.empty:
        raise ValueError(f"{name} is empty")


# -- figures ----------------------------------------------------------------------------------


def uptake_curves(
    timeseries: pd.DataFrame, path: str | os.PathLike, meta: Mapping[str, Any]
) -> Path:
    """Mean uptake per week for each arm, with a 95% band over seeds, and mean spread (dashed).

    Uptake is the share of all staff who adopted or embedded the practice; spread is the same
    share among staff who were not PLN participants. The band is the t interval of the mean over
    seeds; dotted vertical lines separate school years.
    """
    _require(timeseries, ("arm", "seed", "week", "uptake", "spread"), "timeseries")
    arms = arm_order(meta, timeseries["arm"].unique())
    colours = _arm_colours(meta, arms)
    uptake = _mean_band(timeseries, ["arm", "week"], "uptake")
    spread = timeseries.groupby(["arm", "week"], sort=True)["spread"].mean()
    with plt.rc_context(_RC):
        fig = _new_figure(11, 5.6)
        ax = fig.add_subplot()
        handles = []
        for arm in arms:
            u = uptake.loc[arm]
            c = colours[arm]
            ax.fill_between(u.index, u["low"], u["high"], color=c, alpha=0.2, linewidth=0)
            (h,) = ax.plot(u.index, u["mean"], color=c, linewidth=2.2)
            s = spread.loc[arm]
            (hs,) = ax.plot(s.index, s.to_numpy(), color=c, linewidth=1.6, linestyle="--")
            tag = " (baseline)" if arm == meta.get("baseline") else ""
            handles += [
                (h, f"{arm}{tag}: uptake, all staff"),
                (hs, f"{arm}{tag}: spread, non-participants"),
            ]
        handles.append((Patch(color="0.5", alpha=0.3), "95% confidence band of mean uptake"))
        _mark_years(ax, _year_starts(timeseries))
        ax.set_ylim(0, 1.02)
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
        ax.grid(axis="y", color="0.92")
        ax.set_xlabel("Teaching week since the PLN started (39 teaching weeks per school year)")
        ax.set_ylabel("Share of staff using the practice")
        ax.set_title("Uptake of the practice week by week (mean over seeds)", loc="left", pad=18)
        fig.legend(
            [h for h, _ in handles],
            [t for _, t in handles],
            loc="outside right upper",
            frameon=False,
        )
        return _finish(fig, path, meta, timeseries)


def paired_differences(
    runs: pd.DataFrame,
    path: str | os.PathLike,
    meta: Mapping[str, Any],
    outcomes: Sequence[str] = ("uptake_final", "spread_final", "pupil_effect"),
) -> Path:
    """Distributions of per-seed paired differences (arm minus baseline, matched on seed).

    One row of panels per non-baseline arm, one column per outcome: a histogram of the
    differences over seeds, the mean (solid) with its 95% t interval (shaded), and zero (dashed).
    Shares are shown in percentage points.
    """
    outcomes = [name for name in outcomes if name in runs.columns]
    _require(runs, ("arm", "seed"), "runs")
    if not outcomes:
        raise ValueError("runs has none of the requested outcomes")
    arms = arm_order(meta, runs["arm"].unique())
    if len(arms) < 2:
        raise ValueError("paired differences need at least two arms")
    baseline = _baseline(meta, arms)
    others = [a for a in arms if a != baseline]
    colours = _arm_colours(meta, arms)
    wide = runs.groupby(["seed", "arm"])[outcomes].mean().unstack("arm")
    with plt.rc_context(_RC):
        fig = _new_figure(max(4.1 * len(outcomes) + 0.8, 11.0), 3.1 * len(others) + 1.3)
        axes = fig.subplots(len(others), len(outcomes), squeeze=False)
        for i, arm in enumerate(others):
            for j, name in enumerate(outcomes):
                ax = axes[i, j]
                o = registry.outcome(name)
                diff = (wide[(name, arm)] - wide[(name, baseline)]).dropna()
                _difference_panel(ax, diff.to_numpy(), colours[arm], name)
                ax.set_xlabel(f"Difference ({o.diff_unit or o.unit})")
                if i == 0:
                    ax.set_title(_wrap(outcome_label(name, meta), 42), fontsize=10)
                if j == 0:
                    ax.set_ylabel(
                        f"{_wrap(arm, 26)}\nminus {_wrap(baseline, 26)}\n(number of seeds)"
                    )
        hist_colour = colours[others[0]] if len(others) == 1 else "0.6"
        fig.legend(
            handles=[
                Patch(color=hist_colour, alpha=0.55, label="differences over seeds (histogram)"),
                Line2D([], [], color="k", linewidth=2, label="mean difference"),
                Patch(color="k", alpha=0.15, label="95% CI of the mean"),
                Line2D([], [], color="k", linestyle="--", linewidth=1, label="no difference"),
            ],
            loc="outside lower left",
            ncols=4,
            frameon=False,
        )
        fig.suptitle(
            f"Paired differences, seed by seed: each arm minus {baseline} on the same random draws"
        )
        return _finish(fig, path, meta, runs)


def _wrap(text: str, width: int) -> str:
    return "\n".join(textwrap.wrap(text, width))


def _difference_panel(ax: plt.Axes, diff: np.ndarray, colour: str, name: str) -> None:
    """Histogram of one outcome's paired differences, with the mean and its declared interval."""
    n = len(diff)
    if n == 0:
        ax.text(0.5, 0.5, "no paired seeds", transform=ax.transAxes, ha="center", va="center")
        return
    o = registry.outcome(name)
    low, high = mean_interval(diff, o.interval)
    d, mean = diff * o.scale.factor, float(diff.mean()) * o.scale.factor  # in display units
    low, high = low * o.scale.factor, high * o.scale.factor
    lo, hi = float(d.min()), float(d.max())
    if hi - lo < 1e-12:
        pad = max(abs(lo) * 0.05, 1e-3)
        edges = np.linspace(lo - pad, hi + pad, 4)
    else:
        edges = np.histogram_bin_edges(d, bins="auto")
        if len(edges) > 41:
            edges = np.linspace(lo, hi, 41)
    ax.hist(d, bins=edges, color=colour, alpha=0.55, edgecolor="white", linewidth=0.5)
    top = 0.68  # lines stop below the text box
    if np.isfinite(low):
        ax.axvspan(low, high, ymax=top, color="k", alpha=0.15, linewidth=0)
    ax.axvline(mean, ymax=top, color="k", linewidth=2)
    ax.axvline(0, ymax=top, color="k", linestyle="--", linewidth=1)
    dec = o.scale.decimals_for((high - low) / 2 if np.isfinite(low) else None)
    ci = f"{low:+.{dec}f} to {high:+.{dec}f}" if np.isfinite(low) else "n/a"
    above, below = int((d > 0).sum()), int((d < 0).sum())
    ax.text(
        0.02,
        0.98,
        f"mean {mean:+.{dec}f}   95% CI {ci}\n"
        f"higher in {above}, equal in {n - above - below}, lower in {below} of {counted(n, 'seed')}",
        transform=ax.transAxes,
        ha="left",
        va="top",
        fontsize=8,
    )
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylim(0, ax.get_ylim()[1] / top)  # room for the text box


#: Above this many schools, the small multiples show nine ranks from the highest to the lowest.
MAX_SCHOOL_PANELS = 12


def school_ranks(schools: pd.DataFrame) -> pd.DataFrame:
    """Each school's rank within its run (arm and seed) by its uptake at the run's last week.

    Schools are drawn afresh for every seed (:mod:`sim.heterogeneity`), so a school's number
    names a different school in each seed, and averaging school 3 over seeds averages unrelated
    schools. Ranking within each run compares like with like: rank 1 is the run's highest
    uptake at the end, rank ``n_schools`` its lowest (ties broken by the higher mean uptake over
    the run, then by school number). Each arm is ranked on its own, so a rank's curves compare
    the arms' distributions of schools, not the same school under both arms.

    Returns:
        One row per (arm, seed, school) with ``rank`` (1 = highest) and ``n_schools``.

    """
    _require(schools, ("arm", "seed", "school", "week", "uptake"), "schools")
    keys = ["arm", "seed", "school"]
    per_school = schools.groupby(keys, sort=True, observed=True).agg(
        last_week=("week", "max"), mean_uptake=("uptake", "mean")
    )
    last = schools.set_index([*keys, "week"])["uptake"]
    per_school["final"] = last.loc[
        pd.MultiIndex.from_arrays(
            [*(per_school.index.get_level_values(k) for k in keys), per_school["last_week"]]
        )
    ].to_numpy()
    per_school = per_school.reset_index().sort_values(
        ["arm", "seed", "final", "mean_uptake", "school"],
        ascending=[True, True, False, False, True],
        kind="stable",
    )
    runs = per_school.groupby(["arm", "seed"], sort=False, observed=True)
    per_school["rank"] = runs.cumcount() + 1
    per_school["n_schools"] = runs["school"].transform("size")
    return per_school[[*keys, "rank", "n_schools"]].reset_index(drop=True)


def _rank_title(rank: int, n: int) -> str:
    if rank == 1:
        return f"Highest of {n}"
    if rank == n:
        return f"Lowest of {n}"
    return f"{ordinal(rank)} highest of {n}"


def school_small_multiples(
    schools: pd.DataFrame, path: str | os.PathLike, meta: Mapping[str, Any]
) -> Path:
    """One small panel per rank of school within a run: uptake over weeks for each arm.

    Schools are ranked within each run by their uptake at the end (:func:`school_ranks`);
    a panel's line is the mean over seeds of the school at that rank, shaded with its 95%
    confidence band, so the panels show how far schools of one run differ. With more than
    :data:`MAX_SCHOOL_PANELS` schools, nine ranks from the highest to the lowest are shown.
    All panels share their axes.
    """
    ranks = school_ranks(schools)
    ranked = schools.merge(ranks, on=["arm", "seed", "school"], validate="many_to_one")
    arms = arm_order(meta, schools["arm"].unique())
    colours = _arm_colours(meta, arms)
    agg = _mean_band(ranked, ["rank", "arm", "week"], "uptake")
    n = int(ranks["n_schools"].max())
    shown = (
        list(range(1, n + 1))
        if n <= MAX_SCHOOL_PANELS
        else sorted({int(round(r)) for r in np.linspace(1, n, 9)})
    )
    ncols = min(len(shown), 4) if len(shown) <= 8 else int(np.ceil(np.sqrt(len(shown))))
    nrows = int(np.ceil(len(shown) / ncols))
    years = _year_starts(schools)
    seeds = _seed_count(meta, schools)
    # the shared axis stops a little above the highest school, so the ranks can be told apart
    highest = float(np.nanmax(agg[["mean", "high"]].to_numpy(float), initial=0.0))
    y_top = min(1.02, np.ceil(highest * 10) / 10 + 0.1)
    with plt.rc_context(_RC):
        fig = _new_figure(max(3.0 * ncols, 7.0), 2.5 * nrows + 1.6)
        axes = fig.subplots(nrows, ncols, sharex=True, sharey=True, squeeze=False)
        for k, ax in enumerate(axes.flat):
            if k >= len(shown):
                ax.set_visible(False)
                continue
            rank = shown[k]
            for arm in arms:
                if (rank, arm) not in agg.index.droplevel("week"):
                    continue
                s = agg.loc[(rank, arm)]
                ax.fill_between(s.index, s["low"], s["high"], color=colours[arm], alpha=0.2, lw=0)
                ax.plot(s.index, s["mean"], color=colours[arm], linewidth=1.6)
            _mark_years(ax, years, label=False)
            ax.set_title(_rank_title(rank, n), fontsize=10)
            ax.set_ylim(0, y_top)
            ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
            ax.grid(axis="y", color="0.92")
        fig.supxlabel(
            "Teaching week (dotted lines: start of a new school year)"
            if len(years) > 1
            else "Teaching week"
        )
        fig.supylabel("Share of the school's staff using the practice")
        fig.suptitle(
            "Schools ranked within each run by uptake at the end (rank 1: the run's highest)\n"
            f"line: mean over {counted(seeds, 'seed')} of the school at that rank; "
            "shaded: its 95% confidence band",
            fontsize=11,
        )
        fig.legend(
            handles=[
                Line2D(
                    [],
                    [],
                    color=colours[a],
                    linewidth=2,
                    label=a + (" (baseline)" if a == meta.get("baseline") else ""),
                )
                for a in arms
            ],
            loc="outside right upper",
            frameon=False,
            title="Arm",
        )
        return _finish(fig, path, meta, schools)


def stage_composition(
    timeseries: pd.DataFrame, path: str | os.PathLike, meta: Mapping[str, Any]
) -> Path:
    """Stacked areas of the mean share of staff in each stage over weeks, one panel per arm.

    Adopters are at the bottom, so the top of the green band is uptake; the share of staff who
    are resistant (a state alongside the stages) is the black line.
    """
    stages = [s for s in STAGES if s in timeseries.columns]
    _require(timeseries, ("arm", "seed", "week", *stages), "timeseries")
    if not stages:
        raise ValueError("timeseries has no stage columns")
    arms = arm_order(meta, timeseries["arm"].unique())
    counts = timeseries[stages].to_numpy(float)
    total = counts.sum(axis=1, keepdims=True)
    shares = pd.DataFrame(
        np.divide(counts, total, out=np.zeros_like(counts), where=total > 0), columns=stages
    )
    shares["arm"] = timeseries["arm"].to_numpy()
    shares["week"] = timeseries["week"].to_numpy()
    has_resistant = "resistant" in timeseries.columns
    if has_resistant:
        shares["resistant"] = np.divide(
            timeseries["resistant"].to_numpy(float)[:, None],
            total,
            out=np.zeros_like(total),
            where=total > 0,
        )[:, 0]
    means = shares.groupby(["arm", "week"], sort=True).mean()
    order = [s for s in _STACK_ORDER if s in stages]
    years = _year_starts(timeseries)
    ncols = min(len(arms), 2)
    nrows = int(np.ceil(len(arms) / ncols))
    with plt.rc_context(_RC):
        fig = _new_figure(5.6 * ncols + 2.4, 3.9 * nrows + 0.8)
        axes = fig.subplots(nrows, ncols, sharex=True, sharey=True, squeeze=False)
        for k, ax in enumerate(axes.flat):
            if k >= len(arms):
                ax.set_visible(False)
                continue
            arm = arms[k]
            m = means.loc[arm]
            ax.stackplot(
                m.index,
                *(m[s].to_numpy() for s in order),
                colors=[STAGE_COLOURS[s] for s in order],
                linewidth=0,
            )
            if has_resistant:
                ax.plot(
                    m.index,
                    m["resistant"],
                    color="k",
                    linewidth=1.6,
                    zorder=6,
                    path_effects=[patheffects.withStroke(linewidth=3.5, foreground="white")],
                )
            _mark_years(ax, years, on_top=True)
            ax.set_ylim(0, 1)
            ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
            tag = " (baseline)" if arm == meta.get("baseline") else ""
            ax.set_title(f"{arm}{tag}", loc="left", pad=16)
            if k % ncols == 0:
                ax.set_ylabel("Share of staff")
            if k >= len(arms) - ncols:
                ax.set_xlabel("Teaching week")
        handles = [Patch(color=STAGE_COLOURS[s], label=_STAGE_LABELS[s]) for s in reversed(order)]
        if has_resistant:
            handles.append(Line2D([], [], color="k", linewidth=1.6, label="resistant (line)"))
        fig.legend(handles=handles, loc="outside right upper", frameon=False, title="Stage")
        fig.suptitle("Where staff are in taking up the practice (mean share over seeds)")
        return _finish(fig, path, meta, timeseries)


def _levels(mapping: Mapping[str, Any]) -> list[Any]:
    levels = list(dict.fromkeys(mapping.values()))
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in levels):
        levels.sort()
    return levels


def interaction_plot(
    runs: pd.DataFrame,
    factors: Mapping[str, Mapping[str, Any]],
    path: str | os.PathLike,
    meta: Mapping[str, Any],
    outcome: str = "spread_final",
) -> Path:
    """Interaction plots of a factorial design, one panel per pair of factors.

    ``factors`` maps each factor to ``{arm: level}``. In the panel of factors (A, B) the x axis
    holds the levels of A and there is a line per level of B: the mean outcome over seeds with
    its 95% t interval, averaging each seed over the other factors' levels first (arms share
    seeds). Lines that are not parallel suggest that the effect of A depends on B. With a single
    factor the panel shows its main effect.
    """
    _require(runs, ("arm", "seed", outcome), "runs")
    method = registry.outcome(outcome).interval
    if not factors:
        raise ValueError("interaction plots need at least one factor")
    names = list(factors)
    levels = {f: _levels(factors[f]) for f in names}
    arms = [a for a in runs["arm"].unique() if all(a in factors[f] for f in names)]
    if not arms:
        raise ValueError("no arm of runs has a level for every factor")
    df = runs.loc[runs["arm"].isin(arms), ["arm", "seed", outcome]].copy()
    for f in names:
        df[f] = df["arm"].map({a: levels[f].index(factors[f][a]) for a in arms})
    pairs: list[tuple[str, str | None]] = list(itertools.combinations(names, 2)) or [
        (names[0], None)
    ]
    ncols = min(len(pairs), 3)
    nrows = int(np.ceil(len(pairs) / ncols))
    line_colours = ARM_COLOURS
    with plt.rc_context(_RC):
        width = max(5.2 * ncols + 0.4, 7.5)
        fig = _new_figure(width, 4.2 * nrows + 1.2)
        axes = fig.subplots(nrows, ncols, squeeze=False)
        for k, ax in enumerate(axes.flat):
            if k >= len(pairs):
                ax.set_visible(False)
                continue
            fx, fl = pairs[k]
            keys = [fx] if fl is None else [fx, fl]
            per_seed = df.groupby([*keys, "seed"])[outcome].mean().reset_index()
            agg = _mean_band(per_seed, keys, outcome, method)
            line_levels = [None] if fl is None else list(range(len(levels[fl])))
            nl = len(line_levels)
            for j, lv in enumerate(line_levels):
                if lv is None:
                    sub = agg
                elif lv in agg.index.get_level_values(fl):
                    sub = agg.xs(lv, level=fl)
                else:
                    continue
                x = sub.index.to_numpy(float) + (j - (nl - 1) / 2) * 0.05
                yerr = np.vstack([sub["mean"] - sub["low"], sub["high"] - sub["mean"]])
                label = None if lv is None else f"{levels[fl][lv]}"
                ax.errorbar(
                    x,
                    sub["mean"],
                    yerr=np.nan_to_num(yerr),
                    color=line_colours[j % len(line_colours)],
                    marker="o",
                    markersize=6,
                    linewidth=2,
                    capsize=4,
                    label=label,
                )
            ax.set_xticks(range(len(levels[fx])), [str(v) for v in levels[fx]])
            ax.set_xlim(-0.4, len(levels[fx]) - 0.6)
            ax.set_xlabel(fx)
            ax.set_ylabel(_wrap(outcome_label(outcome, meta), 40))
            if registry.outcome(outcome).kind == "share":
                ax.yaxis.set_major_formatter(PercentFormatter(1.0))
            ax.grid(axis="y", color="0.92")
            if fl is None:
                ax.set_title(f"Effect of {fx}")
            else:
                ax.set_title(f"{fx} × {fl}")
                ax.legend(title=fl, frameon=False)
        fig.suptitle(
            _wrap(
                "Interaction plot: mean over seeds with 95% CI. Lines that are not parallel "
                "suggest that the effect of one factor depends on the other."
                + (" Each panel averages over the other factors." if len(names) > 2 else ""),
                int(width * 11),
            ),
            fontsize=11,
        )
        return _finish(fig, path, meta, df)


def make_all(
    runs: pd.DataFrame,
    timeseries: pd.DataFrame | None,
    schools: pd.DataFrame | None,
    out_dir: str | os.PathLike,
    meta: Mapping[str, Any],
) -> dict[str, Path]:
    """Draw every figure that applies into ``out_dir``; return ``{figure name: path}``.

    Files are named as in :data:`FIGURE_FILES`. Paired differences need at least two arms;
    interaction plots are drawn only when ``meta["factors"]`` is set; a figure whose table is
    missing or empty is skipped.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    made: dict[str, Path] = {}

    def usable(df: pd.DataFrame | None) -> bool:
        return df is not None and not df.empty

    if usable(timeseries):
        made["uptake_curves"] = uptake_curves(timeseries, out / FIGURE_FILES["uptake_curves"], meta)
    if usable(runs) and runs["arm"].nunique() >= 2:
        made["paired_differences"] = paired_differences(
            runs, out / FIGURE_FILES["paired_differences"], meta
        )
    if usable(schools):
        made["school_small_multiples"] = school_small_multiples(
            schools, out / FIGURE_FILES["school_small_multiples"], meta
        )
    if usable(timeseries):
        made["stage_composition"] = stage_composition(
            timeseries, out / FIGURE_FILES["stage_composition"], meta
        )
    if meta.get("factors") and usable(runs):
        made["interaction"] = interaction_plot(
            runs, meta["factors"], out / FIGURE_FILES["interaction"], meta
        )
    return made
