"""The outcome registry: every summary outcome declared once, and read the same everywhere.

Checks that a run's summary has exactly the declared outcomes, that the tables, the report and
the figures take an outcome's label and unit from the registry, and the interval methods the
registry declares (scipy's t interval, and a bootstrap where a t interval leaves the range).
"""

import re
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

import sim
from experiments import analysis, figures, report
from sim import outcome_registry as registry

sys.path.insert(0, str(Path(__file__).parent))
from test_figures_report import TWO_ARMS, make_meta, make_runs  # noqa: E402

ODD = Path(__file__).resolve().parent.parent / "docs" / "ODD.md"


@pytest.mark.parametrize("years", [1, 3])
def test_summary_has_exactly_the_registered_outcomes(years):
    result = sim.simulate("new_forest", seed=1, overrides=[f"years={years}"])
    summary = result.summary
    assert list(summary) == [k for k in summary if registry.outcome(k)]  # every key declared
    assert set(summary) == set(registry.expected_names(years))  # every declared key present
    for year in range(1, years + 1):
        assert f"uptake_year_{year}" in summary and f"spread_year_{year}" in summary
    assert f"uptake_year_{years + 1}" not in summary
    weekly = [o for o in registry.OUTCOMES if o.series]
    assert len(weekly) == 6
    for o in weekly:  # the weekly column ends where the summary does (hours: adds up to it)
        series = result.timeseries[o.series]
        end = series.sum() if o.name == "teacher_hours" else series.iloc[-1]
        assert end == pytest.approx(summary[o.name], rel=1e-12), o.name
        assert registry.for_series(o.series) is o


def test_an_undeclared_or_missing_outcome_is_refused():
    names = registry.expected_names(2)
    registry.check_summary(dict.fromkeys(names, 0.0), complete_years=2)
    with pytest.raises(ValueError, match=r"undeclared \['uptake_rate'\]"):
        registry.check_summary(dict.fromkeys([*names, "uptake_rate"], 0.0), complete_years=2)
    with pytest.raises(ValueError, match=r"missing \['spread_year_2'\]"):
        registry.check_summary(dict.fromkeys(set(names) - {"spread_year_2"}), complete_years=2)
    with pytest.raises(KeyError, match="not a declared outcome"):
        registry.outcome("uptake_rate")


def test_each_outcome_is_declared_once_with_what_readers_need():
    names = [o.name for o in registry.OUTCOMES]
    assert len(names) == len(set(names))
    for o in registry.OUTCOMES:
        assert o.kind in registry.KINDS and o.interval in ("t", "bootstrap")
        assert o.label and o.unit and o.description.endswith((".", ")")), o.name
        assert o.direction in (-1, 0, 1)
    for name in registry.HEADLINE:
        o = registry.outcome(name)
        assert o.short and o.phrase and o.aggregate == "mean"
    assert registry.HEADLINE == ("spread_final", "uptake_final", "pupil_effect")
    assert set(registry.REPORT_TABLE) <= set(registry.TABULATED)
    # Shares counted in schools (eighths in New Forest) get a bootstrap, not a t interval.
    assert registry.outcome("schools_lapsed_share").interval == "bootstrap"
    assert registry.outcome("uptake_year_4").label == "Uptake at the end of year 4"


def test_formats_show_display_units():
    spread = registry.outcome("spread_final")
    assert spread.format_level(0.9545) == "95.5%"
    assert spread.format_diff(0.0035) == "+0.4 percentage points"
    assert spread.format_diff_ci(0.0035, -0.0008, 0.0077) == (
        "+0.35 percentage points (95% CI -0.08 to +0.77)"
    )
    assert registry.outcome("teacher_hours").format_level(26107.6) == "26,108 teacher-hours"
    assert registry.outcome("pupils_reached").format_level(312.0) == "312.0 pupils"
    assert registry.outcome("pupil_effect").format_diff(-0.00574) == "-0.006 SD"
    assert registry.outcome("uptake_final").label_for(3).startswith("Uptake after 3 school years")
    assert registry.outcome("uptake_final").label_for(None).startswith("Uptake after the horizon")


def test_odd_lists_every_registered_outcome():
    section = ODD.read_text(encoding="utf-8").split("**`RunResult.summary`**", 1)[1]
    section = section.split("**`RunResult.timeseries`**", 1)[0]
    listed = re.findall(r"^\| `([\w<>]+)` \|", section, flags=re.M)
    declared = [o.name.replace("{year}", "<y>") for o in registry.OUTCOMES]
    assert sorted(listed) == sorted(declared)


# -- intervals --------------------------------------------------------------------------------


def test_t_interval_is_scipys():
    x = np.array([0.41, 0.52, 0.47, 0.55, 0.49, np.nan])
    ci = stats.ttest_1samp(x[:-1], 0.0).confidence_interval()
    assert analysis.mean_interval(x, "t") == pytest.approx((ci.low, ci.high), rel=1e-12)
    assert analysis.mean_interval([0.3, 0.3, 0.3], "t") == (0.3, 0.3)
    assert all(np.isnan(analysis.mean_interval([0.3], "bootstrap")))
    with pytest.raises(ValueError, match="interval method 'z'"):
        analysis.mean_interval(x, "z")


def test_bootstrap_keeps_a_share_of_eighths_in_its_range():
    """200 runs of a share counted in eighths, mostly 0: the t interval goes below 0, the
    bootstrap interval does not, and both cover the mean."""
    lapsed = np.zeros(200)
    lapsed[:3] = 0.125
    t_low, _ = analysis.mean_interval(lapsed, "t")
    low, high = analysis.mean_interval(lapsed, "bootstrap")
    assert t_low < 0 <= low <= lapsed.mean() <= high <= 0.125
    assert analysis.mean_interval(lapsed, "bootstrap") == (low, high)  # reproducible


# -- one label everywhere ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def tables():
    runs = make_runs(TWO_ARMS)
    runs["cfg.years"] = 1
    summary = analysis.summary_table(runs)
    paired = analysis.paired_table(runs, "whole_staff")
    reps = analysis.replications_table(runs)
    return runs, summary, paired, reps


def test_tables_carry_registered_labels_units_and_methods(tables):
    _, summary, paired, _ = tables
    for table in (summary, paired):
        assert set(table["outcome"]) <= set(registry.TABULATED)
        for row in table.itertuples():
            o = registry.outcome(row.outcome)
            assert (row.label, row.unit, row.interval) == (o.label_for(1), o.unit, o.interval)
    lapsed = summary.query("outcome == 'schools_lapsed_share'")
    assert (lapsed["ci_low"] >= 0).all()  # the old t interval went to -2.8%


def test_report_uses_the_tables_labels_and_units(tables, tmp_path):
    _, summary, paired, reps = tables
    meta = make_meta({"whole_staff": [], "start_small": []}, "whole_staff")
    text = report.write_report(tmp_path, meta, summary, paired, reps, {}).read_text()
    by_arm = text.split("## Results by arm", 1)[1].split("## Paired differences", 1)[0]
    for name in registry.REPORT_TABLE:
        o = registry.outcome(name)
        label = summary.query("outcome == @name")["label"].iloc[0]
        unit = f" ({o.display_unit})" if o.display_unit else ""
        assert f"| {label}{unit} |" in by_arm, name
    diffs = text.split("### `start_small` minus `whole_staff`", 1)[1].split("## Figures", 1)[0]
    for row in paired.itertuples():
        o = registry.outcome(row.outcome)
        assert f"| {row.label} | {o.diff_unit or o.unit} |" in diffs, row.outcome
    bootstrapped = [o for o in registry.OUTCOMES if o.interval == "bootstrap" and o.report_table]
    assert len(bootstrapped) >= 2  # schools lapsed and schools still implementing: shares of few
    listed = by_arm.split("except for ", 1)[1].split(": a bootstrap", 1)[0]
    for o in bootstrapped:
        label = summary.query("outcome == @o.name")["label"].iloc[0]
        assert label[0].lower() + label[1:] in listed, o.name


def test_figures_use_the_same_labels_and_units(tables, tmp_path, monkeypatch):
    runs, summary, _, _ = tables
    drawn = []
    monkeypatch.setattr(figures, "_finish", lambda fig, path, meta, data: drawn.append(fig))
    meta = make_meta({"whole_staff": [], "start_small": []}, "whole_staff")
    outcomes = ("uptake_final", "pupil_effect", "teacher_hours", "schools_lapsed_share")
    figures.paired_differences(runs, tmp_path / "p.png", meta, outcomes)
    axes = drawn[0].axes
    for ax, name in zip(axes, outcomes, strict=True):
        o = registry.outcome(name)
        label = summary.query("outcome == @name")["label"].iloc[0]
        assert ax.get_title().replace("\n", " ") == label
        assert ax.get_xlabel() == f"Difference ({o.diff_unit})"
    factors = {"arm": {"whole_staff": "whole staff", "start_small": "start small"}}
    figures.interaction_plot(runs, factors, tmp_path / "i.png", meta, "schools_lapsed_share")
    ylabel = drawn[1].axes[0].get_ylabel().replace("\n", " ")
    assert ylabel == registry.outcome("schools_lapsed_share").label_for(1)
