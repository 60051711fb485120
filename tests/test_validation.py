"""Validation against the literature: the seven patterns of MODEL.md §9 and lever directions.

Marked ``validation`` so they can be run alone (``pytest -m validation``); CI runs them.
Every arm is the documented defaults plus the overrides named; arms share seeds (common random
numbers) so differences are paired. Statistics, targets and tolerances are in
``experiments/patterns.py`` (one function per pattern) and below.
"""

import numpy as np
import pytest
from scipy import stats

from experiments.patterns import PATTERNS, paired_ci, run_arm

pytestmark = pytest.mark.validation

#: Paired seeds per arm for the patterns (Seri & Secchi 2017: enough that the 95% CIs of the
#: headline differences exclude zero by a margin; measured in experiments/patterns.py).
PATTERN_SEEDS = range(40)


#: Checks at their literature target that the model does not meet yet, with the section of
#: docs/ODD.md that gives the measured figure. They are computed and printed like every other
#: check (``make patterns``); their bands are not widened, and every other check of the same
#: pattern is asserted.
KNOWN_MISSES = {
    "primary, high trust: start small loses (CI < 0)": "11.4",
    "secondary, high trust: start small loses (CI < 0)": "11.4",
}


@pytest.mark.parametrize("pattern", PATTERNS, ids=[p.__name__ for p in PATTERNS])
def test_pattern(pattern):
    result = pattern(PATTERN_SEEDS)
    failed = [name for name, ok in result.checks.items() if not ok and name not in KNOWN_MISSES]
    assert not failed, f"{result.name}: {failed}; statistics: {result.statistics}"


def test_every_known_miss_is_a_real_check_documented_with_its_figure():
    """A known miss must name a check a pattern makes, and ODD §11.4 must state it."""
    from pathlib import Path

    odd = (Path(__file__).resolve().parent.parent / "docs" / "ODD.md").read_text("utf-8")
    known_issues = odd.split("### 11.4")[1].split("\n## ")[0]
    source = (Path(__file__).resolve().parent.parent / "experiments" / "patterns.py").read_text(
        "utf-8"
    )
    for name in KNOWN_MISSES:
        assert f"`{name}`" in known_issues, name
        assert name.split(", ", 1)[-1] in source, name  # the check's text (after the school type)


def test_every_known_lever_miss_is_a_lever_documented_with_its_figure():
    """A known lever miss must name a checked lever and an outcome the run summary has, and the
    section of docs/ODD.md it names must give the lever's name and that outcome."""
    from pathlib import Path

    import sim

    odd = (Path(__file__).resolve().parent.parent / "docs" / "ODD.md").read_text("utf-8")
    outcomes = sim.simulate("new_forest").summary
    for lever, (section, early) in KNOWN_LEVER_MISSES.items():
        assert lever in LEVERS, lever
        assert early in outcomes and early != "uptake_final", early
        text = odd.split(f"### {section}")[1].split("\n## ")[0]
        assert f"`{lever}`" in text and f"`{early}`" in text, (lever, section)


#: lever: (switched off, less of it, more of it), as overrides of the New Forest defaults.
#: "Switched off" is the lever entirely absent (false, 0, no pilot); for levers that cannot be
#: absent (plan priorities, session frequency, support years, trust climate, participants) it is
#: the far end of the allowed range. For switches, "less" is "off".
def switch(key: str) -> tuple[list[str], list[str], list[str]]:
    """A lever that is on or off: off, less (= off) and more (= on)."""
    return [f"{key}=false"], [f"{key}=false"], [f"{key}=true"]


LEVERS = {
    "improvement_plan": switch("leadership.in_improvement_plan"),
    "performance_targets": switch("leadership.in_performance_targets"),
    "governors": switch("leadership.governors_engaged"),
    "fewer_plan_priorities": (
        ["leadership.plan_priorities=6"],
        ["leadership.plan_priorities=6"],
        ["leadership.plan_priorities=1"],
    ),
    "release": switch("leadership.release_for_workshops"),
    "collab_hours": (
        ["leadership.collab_hours_per_week=0"],
        ["leadership.collab_hours_per_week=0.5"],
        ["leadership.collab_hours_per_week=2"],
    ),
    "session_frequency": (
        ["leadership.session_frequency=termly"],
        ["leadership.session_frequency=termly"],
        ["leadership.session_frequency=fortnightly"],
    ),
    "research_lead": switch("leadership.research_lead"),
    "distributed_leadership": (
        ["leadership.distributed_leadership=0"],
        ["leadership.distributed_leadership=0.1"],
        ["leadership.distributed_leadership=0.9"],
    ),
    "involvement": (
        ["leadership.involvement=0"],
        ["leadership.involvement=0.1"],
        ["leadership.involvement=0.9"],
    ),
    "howto_support": (
        ["leadership.howto_support=0"],
        ["leadership.howto_support=0.1"],
        ["leadership.howto_support=0.9"],
    ),
    "support_years": (["pln.support_years=1"], ["pln.support_years=1"], ["pln.support_years=2"]),
    "focus_alignment": (
        ["pln.focus_alignment=0"],
        ["pln.focus_alignment=0.2"],
        ["pln.focus_alignment=1.0"],
    ),
    "homogeneity": (["pln.homogeneity=0"], ["pln.homogeneity=0.1"], ["pln.homogeneity=1.0"]),
    "trust_climate": (
        ["schools.trust_climate=0.4"],
        ["schools.trust_climate=0.4"],
        ["schools.trust_climate=0.8"],
    ),
    "participants": (
        ["selection.per_school=2", "selection.leaders_per_school=1"],
        ["selection.per_school=2", "selection.leaders_per_school=1"],
        ["selection.per_school=4", "selection.leaders_per_school=2"],
    ),
    "pilot_share": (
        ["strategy=start_small", "strategy.pilot_share=0"],
        ["strategy=start_small", "strategy.pilot_share=0.1"],
        ["strategy=start_small", "strategy.pilot_share=0.4"],
    ),
}

#: Paired seeds per lever arm, set by a power calculation on the weakest levers (one-sided paired
#: t test at p < 0.01 with power 0.9 needs ((2.33 + 1.28) * sd / effect)^2 pairs). Measured at
#: the earlier calibrated defaults over 200 seeds: homogeneity 0 -> 1 raised 3-year uptake by
#: 0.0056 (paired sd 0.0109): 49 pairs; the pilot share 0 -> 0.4 by 0.0048 (sd 0.0165): 154
#: pairs, so it gets 160. At the current defaults the pilot share's 3-year effect is a known miss
#: (``KNOWN_LEVER_MISSES``); its year-1 effect, +0.0036 (sd 0.0070), needs 49 pairs.
DIRECTION_SEEDS = range(60)
LEVER_SEEDS = {"pilot_share": range(160)}

#: Levers whose effect on 3-year uptake the model does not show at its calibrated defaults:
#: lever -> (section of docs/ODD.md that gives the measured figure, the earlier outcome on which
#: the lever must still act). Their 3-year significance is computed but not asserted; the effect
#: on the earlier outcome is asserted instead, so the check still fails if the lever does
#: nothing, and "more of it never lowers uptake" is asserted as for every lever. When the 3-year
#: effect becomes significant again, the check fails until the entry is removed.
KNOWN_LEVER_MISSES = {"pilot_share": ("11.4", "uptake_year_1")}


def _p_one_sided(diff: np.ndarray, alternative: str = "greater") -> float:
    """One-sided paired t test that the differences are above (or below) zero; 1 if all are 0."""
    return (
        float(stats.ttest_1samp(diff, 0.0, alternative=alternative).pvalue) if diff.any() else 1.0
    )


@pytest.mark.parametrize("lever", LEVERS)
def test_a_lever_raises_expected_uptake_and_more_of_it_never_lowers_it(lever):
    """60 paired seeds, 160 for the pilot share (see ``DIRECTION_SEEDS``); uptake at 3 years.

    * Against the lever switched off: (more) - (off) must be significantly positive (one-sided
      paired t test, p < 0.01), so the test fails when a lever does nothing (all differences 0)
      as well as when it lowers uptake. The weakest lever asserted at 3 years, homogeneity,
      gives p ~ 6e-6 (60 seeds). For a known lever miss (``KNOWN_LEVER_MISSES``) the same test
      is made on its earlier outcome instead, and the 3-year one must still be missed.
    * Between less and more of it: the mean paired difference must be at least -0.01 and not
      significantly negative (one-sided, p < 0.01). The one exception MODEL.md allows, pressure
      before persuasion under low trust, is pattern 7 (start small beats whole-staff when trust
      is low).
    """
    runs: dict[tuple[str, ...], dict[str, np.ndarray]] = {}  # an arm given twice is run once
    arms = {}
    for name, overrides in zip(("off", "less", "more"), LEVERS[lever], strict=True):
        if tuple(overrides) not in runs:
            seeds = LEVER_SEEDS.get(lever, DIRECTION_SEEDS)
            runs[tuple(overrides)] = run_arm(overrides, seeds)
        arms[name] = runs[tuple(overrides)]
    effect = arms["more"]["uptake_final"] - arms["off"]["uptake_final"]
    p_effect = _p_one_sided(effect)
    if lever in KNOWN_LEVER_MISSES:
        _, early = KNOWN_LEVER_MISSES[lever]
        assert p_effect >= 0.01, (lever, "the known miss now passes: remove it", p_effect)
        effect = arms["more"][early] - arms["off"][early]
        p_effect = _p_one_sided(effect)
    assert p_effect < 0.01, (
        lever,
        "no effect over the lever switched off",
        effect.mean(),
        p_effect,
    )
    diff = arms["more"]["uptake_final"] - arms["less"]["uptake_final"]
    mean, _, _ = paired_ci(diff)
    p_lower = _p_one_sided(diff, "less")
    assert mean >= -0.01 and p_lower >= 0.01, (lever, mean, p_lower)


def test_pressure_before_persuasion_can_lower_uptake_under_low_trust():
    """The documented exception: under low trust and high resistance a whole-staff launch
    (pressure) leaves more staff resistant than starting small (40 paired seeds)."""
    low = ("schools.trust_climate=0.3", "decision.resistance_rate=0.8")
    whole = run_arm(["strategy=whole_staff", *low], range(40))
    small = run_arm(["strategy=start_small", *low], range(40))
    _, lo, _ = paired_ci(whole["resistant_peak"] - small["resistant_peak"])
    assert lo > 0
