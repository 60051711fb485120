"""Figures and the Markdown report of a paired comparison, on small synthetic tables.

The tables follow the data contract of the comparison experiments (runs, timeseries, schools,
summary, paired, replications, meta); their numbers are chosen so that the report's statements
can be checked exactly.
"""

import itertools
import math
import re

import matplotlib.image as mpimg
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from experiments import figures, report

SHA = "0123456789abcdef0123456789abcdef01234567"
SEEDS = list(range(5))
WEEKS = 39
SCHOOLS = 3
STAFF = 30
STAGES = ("unaware", "aware", "interested", "trialling", "adopted", "embedded", "lapsed")
# Paired differences (arm minus baseline) per seed: uptake clearly higher (+0.05 on average),
# pupil effect not clearly different (mean 0, CI around 0).
UPTAKE_DIFF = np.array([0.04, 0.05, 0.06, 0.05, 0.05])
PUPIL_DIFF = np.array([-0.01, 0.01, 0.0, 0.02, -0.02])


def make_meta(arms, baseline, factors=None):
    return {
        "name": "test_experiment",
        "experiment": "strategy comparison",
        "scenario": "new_forest",
        "years": 1,
        "seeds": range(len(SEEDS)),
        "arms": arms,
        "baseline": baseline,
        "factors": factors,
        "provenance": {
            "pln_sim": "0.1.0",
            "git_sha": SHA,
            "git_dirty": False,
            "packages": {"numpy": np.__version__, "pandas": pd.__version__},
            "created_utc": "2026-01-01T00:00:00+00:00",
            "command": ["python", "-m", "experiments.compare", "test"],
        },
    }


def make_runs(arm_shift):
    """One row per (arm, seed); ``arm_shift[arm]`` is added to the baseline's outcomes."""
    rows = []
    for arm, shift in arm_shift.items():
        for i, seed in enumerate(SEEDS):
            uptake = 0.5 + 0.02 * seed + shift * UPTAKE_DIFF[i] / 0.05
            rows.append(
                {
                    "arm": arm,
                    "seed": seed,
                    "cfg.strategy.name": arm,
                    "cfg.schools.teachers": "[8, 10, 12]",
                    "uptake_final": uptake,
                    "use_final": uptake + 0.05,
                    "spread_final": uptake - 0.03,
                    "pupil_effect": 0.03 + 0.002 * seed + (PUPIL_DIFF[i] if shift else 0.0),
                    "pupils_reached": 300.0 + 10 * seed,
                    "teacher_hours": 1000.0 + 10 * seed + 100 * shift / 0.05,
                    "hours_per_adopter": np.nan if seed == 0 else 60.0 + seed,
                    "weeks_to_half_uptake": np.nan if seed == 4 else 20.0 + seed,
                    "schools_lapsed_share": 0.1 * (seed % 2),
                    "schools_implementing_share": 0.125 * (4 + seed % 3),  # eighths
                    "resistant_peak": 3 + seed,
                    "participants_knowledge": 0.7,
                    "uptake_year_1": uptake,
                    "spread_year_1": uptake - 0.03,
                    "mean_spread": (uptake - 0.03) / 2,
                }
            )
    return pd.DataFrame(rows)


def _stage_counts(progress, n):
    """Stage counts that sum to n for a progress in [0, 1] (vectorised)."""
    adopted = np.floor(0.3 * progress * n)
    embedded = np.floor(0.4 * progress**2 * n)
    trialling = np.floor(0.15 * progress * n)
    lapsed = np.floor(0.05 * progress * n)
    interested = np.floor(0.05 * n * np.sin(np.pi * progress))
    aware = np.floor(0.1 * n * np.minimum(1, 3 * progress))
    unaware = n - (adopted + embedded + trialling + lapsed + interested + aware)
    return dict(
        zip(STAGES, (unaware, aware, interested, trialling, adopted, embedded, lapsed), strict=True)
    )


def make_timeseries(arm_shift):
    arm, seed, week = (
        a.ravel()
        for a in np.meshgrid(list(arm_shift), SEEDS, np.arange(1, WEEKS + 1), indexing="ij")
    )
    shift = np.array([arm_shift[a] for a in arm])
    progress = np.clip(week / WEEKS * (0.8 + 0.04 * seed) + shift, 0, 1)
    counts = _stage_counts(progress, STAFF)
    df = pd.DataFrame({"arm": arm, "seed": seed, "week": week})
    df["year"] = (week - 1) // 39 + 1
    df["term"] = ((week - 1) % 39) // 13 + 1
    for name, c in counts.items():
        df[name] = c.astype(int)
    df["resistant"] = (np.arange(len(df)) % 3).astype(int)
    df["uptake"] = (df["adopted"] + df["embedded"]) / STAFF
    df["use"] = df["uptake"] + df["trialling"] / STAFF
    df["spread"] = np.clip(df["uptake"] - 0.05, 0, 1)
    df["mean_knowledge"] = progress
    df["mean_quality"] = progress / 2
    df["pupils_reached"] = df["uptake"] * 600
    df["teacher_hours"] = 30.0
    return df


def make_schools(arm_shift):
    arm, seed, school, week = (
        a.ravel()
        for a in np.meshgrid(
            list(arm_shift), SEEDS, range(SCHOOLS), np.arange(1, WEEKS + 1), indexing="ij"
        )
    )
    shift = np.array([arm_shift[a] for a in arm])
    uptake = np.clip(week / WEEKS * (0.5 + 0.2 * school) + 0.03 * seed + shift, 0, 1)
    return pd.DataFrame(
        {
            "arm": arm,
            "seed": seed,
            "school": school,
            "week": week,
            "uptake": uptake,
            "use": np.clip(uptake + 0.1, 0, 1),
            "pupil_effect": uptake * 0.05,
        }
    )


def _t_ci(x):
    """n, mean, sd and the 95% t interval of the mean (scipy), NaNs dropped."""
    x = np.asarray(x, float)
    x = x[~np.isnan(x)]
    if np.ptp(x) == 0:  # no spread: the interval is the value (scipy would warn)
        return len(x), float(x[0]), 0.0, float(x[0]), float(x[0])
    ci = stats.ttest_1samp(x, 0.0).confidence_interval()
    return len(x), float(x.mean()), float(x.std(ddof=1)), float(ci.low), float(ci.high)


OUTCOMES = (
    "uptake_final",
    "spread_final",
    "pupil_effect",
    "teacher_hours",
    "hours_per_adopter",
    "schools_lapsed_share",
    "weeks_to_half_uptake",
    "participants_knowledge",
)


def analyse(runs, baseline):
    """summary, paired and replications tables as the contract describes them (t intervals)."""
    summary, paired, reps = [], [], []
    for arm, g in runs.groupby("arm", sort=False):
        for outcome in OUTCOMES:
            n, mean, sd, lo, hi = _t_ci(g[outcome])
            summary.append(
                dict(arm=arm, outcome=outcome, n=n, mean=mean, sd=sd, ci_low=lo, ci_high=hi)
            )
        for outcome in ("uptake_final", "spread_final", "pupil_effect"):
            n, mean, sd, lo, hi = _t_ci(g[outcome])
            reps.append(
                {
                    "arm": arm,
                    "outcome": outcome,
                    "n": n,
                    "ci_half_width": (hi - lo) / 2,
                    "seeds_for_0.02": math.ceil((1.96 * sd / 0.02) ** 2),
                }
            )
    base = runs[runs["arm"] == baseline].set_index("seed")
    for arm, g in runs[runs["arm"] != baseline].groupby("arm", sort=False):
        g = g.set_index("seed")
        for outcome in OUTCOMES:
            d = (g[outcome] - base[outcome]).dropna().to_numpy()
            n, mean, sd, lo, hi = (len(d), 0.0, 0.0, 0.0, 0.0) if np.all(d == 0) else _t_ci(d)
            var_u = float(g[outcome].var() + base[outcome].var())
            paired.append(
                dict(
                    arm=arm,
                    baseline=baseline,
                    outcome=outcome,
                    n=n,
                    mean_diff=mean,
                    ci_low=lo,
                    ci_high=hi,
                    wilcoxon_p=np.nan if np.all(d == 0) else stats.wilcoxon(d).pvalue,
                    effect_size=mean / sd if sd > 0 else np.nan,
                    var_paired=sd**2,
                    var_unpaired=var_u,
                    crn_gain=var_u / sd**2 if sd > 0 else np.nan,
                )
            )
    t = {"interval": "t"}
    return pd.DataFrame(summary).assign(**t), pd.DataFrame(paired).assign(**t), pd.DataFrame(reps)


TWO_ARMS = {"whole_staff": 0.0, "start_small": 0.05}


@pytest.fixture(scope="module")
def two_arm(tmp_path_factory):
    out = tmp_path_factory.mktemp("two_arm")
    meta = make_meta(
        {"whole_staff": ["strategy=whole_staff"], "start_small": ["strategy=start_small"]},
        "whole_staff",
    )
    runs = make_runs(TWO_ARMS)
    paths = figures.make_all(runs, make_timeseries(TWO_ARMS), make_schools(TWO_ARMS), out, meta)
    summary, paired, reps = analyse(runs, "whole_staff")
    path = report.write_report(out, meta, summary, paired, reps, paths)
    return {
        "out": out,
        "paths": paths,
        "report": path,
        "paired": paired,
        "reps": reps,
        "meta": meta,
    }


@pytest.fixture(scope="module")
def factorial(tmp_path_factory):
    out = tmp_path_factory.mktemp("factorial")
    arms = {
        f"{s}_{t}": [f"strategy={s}", f"schools.trust_climate={0.3 if t == 'low' else 0.85}"]
        for s, t in itertools.product(("whole_staff", "start_small"), ("low", "high"))
    }
    shift = {a: 0.05 * (a.startswith("start")) + 0.1 * a.endswith("high") for a in arms}
    factors = {
        "strategy": {a: a.rsplit("_", 1)[0] for a in arms},
        "trust": {a: a.rsplit("_", 1)[1] for a in arms},
    }
    meta = make_meta(arms, "whole_staff_low", factors)
    runs = make_runs(shift)
    paths = figures.make_all(runs, make_timeseries(shift), make_schools(shift), out, meta)
    summary, paired, reps = analyse(runs, "whole_staff_low")
    path = report.write_report(out, meta, summary, paired, reps, paths)
    return {"out": out, "paths": paths, "report": path}


def assert_valid_png(path):
    assert path.exists(), path
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path.name} is not a PNG file"
    assert len(data) > 5_000, f"{path.name} is suspiciously small ({len(data)} bytes)"
    pixels = mpimg.imread(path)
    assert pixels.ndim == 3 and min(pixels.shape[:2]) > 300
    assert pixels[..., :3].var() > 0, f"{path.name} is blank"


def test_make_all_writes_every_figure_that_applies(two_arm):
    expected = {
        "uptake_curves",
        "paired_differences",
        "school_small_multiples",
        "stage_composition",
    }
    assert set(two_arm["paths"]) == expected  # no factors: no interaction plot
    for name, path in two_arm["paths"].items():
        assert path == two_arm["out"] / figures.FIGURE_FILES[name]
        assert_valid_png(path)
    assert not (two_arm["out"] / "interaction.png").exists()
    # atomic writes leave no temporary files behind
    assert not [p.name for p in two_arm["out"].iterdir() if p.name.startswith(".")]


def _shuffled_schools(n_schools, seeds=8, weeks=10):
    """Schools that differ within a run but whose numbers are shuffled from seed to seed.

    In seed ``s`` school ``i`` ends at ``LEVELS[perm_s[i]]`` (a straight line from 0), so every
    school number averages to nearly the same curve over seeds, while the schools of one run
    run from the highest level to the lowest.
    """
    levels = np.linspace(0.6, 0.05, n_schools)
    rng = np.random.default_rng(7)
    rows = []
    for arm, shift in (("whole_staff", 0.0), ("start_small", 0.02)):
        for seed in range(seeds):
            final = levels[rng.permutation(n_schools)] + shift
            for school in range(n_schools):
                for week in range(1, weeks + 1):
                    rows.append((arm, seed, school, week, final[school] * week / weeks))
    df = pd.DataFrame(rows, columns=["arm", "seed", "school", "week", "uptake"])
    return df, levels


def _drawn(monkeypatch, draw, *args):
    """The figure a drawing function made (kept open), instead of its PNG."""
    kept = {}
    monkeypatch.setattr(figures, "_finish", lambda fig, *a: kept.setdefault("fig", fig))
    draw(*args)
    return kept["fig"]


def test_school_panels_rank_schools_within_each_run(monkeypatch, tmp_path):
    # school numbers are shuffled between seeds: a panel per school number would show eight
    # near-identical curves; a panel per rank within the run shows the spread between schools
    schools, levels = _shuffled_schools(8)
    ranks = figures.school_ranks(schools)
    assert len(ranks) == 2 * 8 * 8 and set(ranks["n_schools"]) == {8}
    final = schools[schools.week == 10].merge(ranks, on=["arm", "seed", "school"])
    base = final[final.arm == "whole_staff"]
    assert np.allclose(base.groupby("rank")["uptake"].mean().to_numpy(), levels)
    meta = make_meta({"whole_staff": [], "start_small": []}, "whole_staff")
    fig = _drawn(monkeypatch, figures.school_small_multiples, schools, tmp_path / "s.png", meta)
    panels = [ax for ax in fig.axes if ax.get_visible() and ax.get_title()]
    assert [ax.get_title() for ax in panels] == [
        "Highest of 8",
        *(f"{k} highest of 8" for k in ("2nd", "3rd", "4th", "5th", "6th", "7th")),
        "Lowest of 8",
    ]
    for ax, level in zip(panels, levels, strict=True):
        ends = sorted(line.get_ydata()[-1] for line in ax.get_lines() if len(line.get_ydata()) > 2)
        assert ends == pytest.approx([level, level + 0.02])  # each arm's school at that rank
    assert "ranked within each run" in fig._suptitle.get_text()
    assert "mean over 8 seeds" in fig._suptitle.get_text()
    plt.close(fig)


def test_many_schools_show_nine_ranks_highest_to_lowest(monkeypatch, tmp_path):
    schools, levels = _shuffled_schools(30, seeds=3, weeks=3)
    meta = make_meta({"whole_staff": [], "start_small": []}, "whole_staff")
    fig = _drawn(monkeypatch, figures.school_small_multiples, schools, tmp_path / "s.png", meta)
    titles = [ax.get_title() for ax in fig.axes if ax.get_visible() and ax.get_title()]
    assert len(titles) == 9 and titles[0] == "Highest of 30" and titles[-1] == "Lowest of 30"
    plt.close(fig)


def test_the_school_figure_caption_says_what_is_plotted(two_arm):
    text = two_arm["report"].read_text(encoding="utf-8")
    caption = text[text.index("(school_small_multiples.png)") :].split("\n\n")[1]
    assert "ranked by the share of their staff using the practice at the end" in caption
    assert f"more than {figures.MAX_SCHOOL_PANELS} schools" in caption
    assert "mean over seeds of the school at that rank" in caption


def test_factorial_design_adds_the_interaction_plot(factorial):
    assert set(factorial["paths"]) == set(figures.FIGURE_FILES)
    for path in factorial["paths"].values():
        assert_valid_png(path)
    text = factorial["report"].read_text(encoding="utf-8")
    assert "(interaction.png)" in text and "Factorial design" in text
    for arm in ("start_small_low", "whole_staff_high", "start_small_high"):
        assert f"### `{arm}` minus `whole_staff_low`" in text


def test_stamp_names_version_commit_scenario_and_seeds(two_arm):
    runs = make_runs(TWO_ARMS)
    assert figures.stamp_text(two_arm["meta"], runs) == (
        "pln-sim 0.1.0 · git 01234567 · new_forest · n=5 seeds"
    )
    dirty = {**two_arm["meta"], "provenance": {**two_arm["meta"]["provenance"], "git_dirty": True}}
    assert "git 01234567-dirty" in figures.stamp_text(dirty)


def test_report_has_every_section_table_and_figure_link(two_arm):
    text = two_arm["report"].read_text(encoding="utf-8")
    for heading in (
        "## In brief",
        "## Results by arm",
        "## Paired differences",
        "## Figures",
        "## How many runs",
        "## Assumptions",
        "## What this comparison does and does not show",
        "## Provenance",
    ):
        assert heading in text, heading
    for arm in ("whole_staff", "start_small"):
        assert f"`{arm}`" in text
    assert "| Outcome | `whole_staff` (baseline) | `start_small` |" in text
    assert (
        "| Outcome | Unit | Mean difference | 95% CI | Wilcoxon p | Effect size (d_z) | Seeds |"
        in text
    )
    for name in figures.FIGURE_FILES:
        if name != "interaction":
            assert f"]({name}.png)" in text, name
    assert SHA in text
    assert "python -m experiments.compare test" in text
    assert "start_small: scenario=new_forest strategy=start_small" in text
    assert "docs/PARAMETERS.md" in text and "docs/ODD.md" in text
    assert not (two_arm["out"] / ".report.md.tmp").exists()


def test_report_numbers_come_from_the_inputs(two_arm):
    text = two_arm["report"].read_text(encoding="utf-8")
    row = two_arm["paired"].set_index("outcome").loc["uptake_final"]
    assert row["mean_diff"] == pytest.approx(0.05)
    # half-width 0.0088 (0.88 points) -> two decimals in percentage points
    assert f"{row['ci_low'] * 100:+.2f} to {row['ci_high'] * 100:+.2f}" == "+4.12 to +5.88"
    assert (
        "a paired difference (`start_small` minus `whole_staff`) of +5.00 percentage points" in text
    )
    assert "(95% CI +4.12 to +5.88)" in text
    assert "| +5.00 | +4.12 to +5.88 |" in text
    # which arm did better is generated from the CIs: uptake clear, pupil effect not
    assert "`start_small` did better than `whole_staff` on spread and uptake" in text
    assert "no statistically clear difference in the pupil effect" in text
    # Wilcoxon p for the pupil effect, and identical outcomes reported as such
    p = two_arm["paired"].set_index("outcome").loc["pupil_effect", "wilcoxon_p"]
    assert f"| {p:.3f} |" in text
    assert "no (identical in every seed)" in text
    # the comparison table: uptake of the baseline, mean 54.0% with its CI
    base = make_runs(TWO_ARMS).query("arm == 'whole_staff'")["uptake_final"]
    assert base.mean() == pytest.approx(0.54)
    assert re.search(r"\| 54\.0 \(\d+\.\d to \d+\.\d\) \|", text)
    # hours per adopter is missing for one seed: flagged with its n
    assert "[n=4]" in text
    # replications: seeds for +-0.02 on uptake, the largest over arms
    reps = two_arm["reps"].query("outcome == 'uptake_final'")
    assert f"needs about {reps['seeds_for_0.02'].max()} seeds per arm" in text


def test_report_is_honest_about_what_it_does_not_show(two_arm):
    text = two_arm["report"].read_text(encoding="utf-8")
    limits = text.split("## What this comparison does and does not show", 1)[1]
    limits = limits.split("## Provenance", 1)[0]
    for phrase in (
        "not a forecast",
        "modelled, not measured",
        "[assume]",
        "simulation noise",
        "multiple comparisons",
    ):
        assert phrase.lower() in limits.lower(), phrase


def test_report_formatting_helpers():
    assert report.fmt_estimate(0.05, 0.0412, 0.0588, "share", diff=True) == (
        "+5.00",
        "+4.12 to +5.88",
    )
    assert report.fmt_estimate(-455.47, -464.9, -446.0, "hours", diff=True) == (
        "-455.5",
        "-464.9 to -446.0",
    )
    assert report.fmt_estimate(0.1393, 0.1362, 0.1423, "sd") == ("0.1393", "0.1362 to 0.1423")
    assert report.describe_seeds(range(30)) == "0–29 (30 seeds)"
    assert report.describe_seeds([5, 1, 9]) == "5, 1, 9 (3 seeds)"


def test_counted_puts_every_noun_in_agreement_with_its_number():
    from sim.outcome_registry import counted, years_text

    assert counted(1, "seed") == "1 seed" and counted(2, "seed") == "2 seeds"
    assert (
        counted(0, "school") == "0 schools"
        and counted(1_000, "paired seed") == "1,000 paired seeds"
    )
    assert counted(1, "analysis", "analyses") == "1 analysis"
    assert counted(3, "analysis", "analyses") == "3 analyses"
    assert years_text(1) == "1 school year" and years_text(2) == "2 school years"
    assert years_text("1-2 (per arm)") == "1-2 (per arm) school years"
    assert counted(2.0, "seed") == "2 seeds" and counted(np.int64(1), "seed") == "1 seed"
    assert report.describe_seeds([7]) == "7 (1 seed)" and report.describe_seeds(1) == "1 seed"


@pytest.mark.parametrize("n", [1, 2])
def test_report_prose_counts_agree_in_number(two_arm, tmp_path, n):
    """Every count the report writes in words: "1 seed" and "2 seeds", never "1 seeds"."""
    summary, paired, reps = analyse(make_runs(TWO_ARMS), "whole_staff")
    for table in (summary, paired, reps):
        table["n"] = n
    reps["seeds_for_0.02"] = n
    meta = dict(two_arm["meta"], years=n, seeds=list(range(n)))
    meta["school_wins"] = [
        {
            "arm": "start_small",
            "outcome": "uptake",
            "schools": n,
            "share_arm_better": 1.0,
            "share_baseline_better": 0.0,
            "share_tied": 0.0,
        }
    ]
    text = report.render_report(tmp_path, meta, summary, paired, reps, {})
    wrong = re.findall(
        r"\b1 (?:paired )?(?:seeds|school years|arms|school-runs|parameters)\b", text
    )
    assert not wrong, wrong
    s = "" if n == 1 else "s"
    for phrase in (
        f"{n} paired seed{s} of the `new_forest`",
        f"{n} school year{s}",
        f"on {n} seed{s} per arm",
        f"With {n} seed{s}, each arm",
        f"about {n} seed{s} per arm",
        f"{n} school-run{s})",
    ):
        assert phrase in text, phrase
