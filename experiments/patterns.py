"""Pattern-oriented validation: MODEL.md §9's seven patterns and §9b's diverging schools.

    python -m experiments.patterns [--seeds 40] [key=value ...]

Each pattern is computed by a function returning its statistics, the targets and whether it
holds; ``tests/test_validation.py`` asserts them and this script prints them. Arms of a pattern run
on the same seeds (common random numbers), so differences are paired. Nothing here special-cases
a scenario: every arm is the documented defaults plus the overrides shown. ``key=value``
arguments (the ``base`` of each pattern function: a parameter set, e.g. a posterior draw) go
before every arm's own overrides; the calibration's second stage checks posterior draws this way
(``experiments.calibrate``, ``filter``).
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import stats

import sim
from experiments.analysis import mean_interval
from sim.config import ConfigError

__all__ = ["PatternResult", "PATTERNS", "run_arm", "paired_ci"]


@dataclass
class PatternResult:
    """The outcome of one pattern check."""

    name: str
    statement: str
    replications: int
    statistics: dict[str, float]
    checks: dict[str, bool] = field(default_factory=dict)

    @property
    def holds(self) -> bool:
        """Whether every check of the pattern passes."""
        return all(self.checks.values())


def run_arm(
    overrides: Sequence[str], seeds: Sequence[int], scenario: str = "new_forest"
) -> dict[str, np.ndarray]:
    """Summaries of one arm over the given seeds, as arrays keyed by outcome."""
    config = sim.build_config(scenario=scenario, overrides=tuple(overrides))
    rows = []
    for seed in seeds:
        config.seed = seed
        rows.append(sim.simulate(config=config).summary)
    keys = rows[0].keys()
    return {k: np.array([np.nan if r[k] is None else r[k] for r in rows], float) for k in keys}


def paired_ci(diff: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """Mean of paired differences and its t-based confidence interval."""
    low, high = mean_interval(diff, "t", level)
    return float(np.mean(diff)), low, high


def out_of_sight(seeds: Sequence[int], base: Sequence[str] = ()) -> PatternResult:
    """1. Without mobilisation or with minimal leadership, spread stays low (<= 10%)."""
    none = run_arm([*base, "strategy=none"], seeds)
    minimal = run_arm([*base, "leadership=minimal"], seeds)
    full = run_arm([*base, "leadership=full"], seeds)
    gap, lo, _ = paired_ci(full["spread_final"] - none["spread_final"])
    s = {
        "spread_none": none["spread_final"].mean(),
        "spread_minimal": minimal["spread_final"].mean(),
        "spread_full": full["spread_final"].mean(),
        "full_minus_none": gap,
        "full_minus_none_ci_low": lo,
        "participants_knowledge_none": none["participants_knowledge"].mean(),
    }
    checks = {
        "none <= 0.10": s["spread_none"] <= 0.10,
        "minimal <= 0.10": s["spread_minimal"] <= 0.10,
        "full - none >= 0.15 (CI low)": lo >= 0.15,
        "participants learn (k >= 0.5)": s["participants_knowledge_none"] >= 0.5,
    }
    return PatternResult("out_of_sight", out_of_sight.__doc__, len(seeds), s, checks)


def passive_dissemination(seeds: Sequence[int], base: Sequence[str] = ()) -> PatternResult:
    """2. Passive dissemination: near-zero uptake and a pupil effect of about zero."""
    arm = run_arm([*base], seeds, scenario="passive_dissemination")
    effect, lo, hi = paired_ci(arm["pupil_effect"])
    s = {
        "uptake": arm["uptake_final"].mean(),
        "pupil_effect": effect,
        "pupil_effect_ci_low": lo,
        "pupil_effect_ci_high": hi,
    }
    checks = {
        "uptake <= 0.02": s["uptake"] <= 0.02,
        "|pupil effect| CI within 0.01": lo >= -0.01 and hi <= 0.01,
    }
    return PatternResult(
        "passive_dissemination", passive_dissemination.__doc__, len(seeds), s, checks
    )


def time_not_sufficient(seeds: Sequence[int], base: Sequence[str] = ()) -> PatternResult:
    """3. Time is necessary but not sufficient: time alone < full support; no time blocks spread."""
    time_only = run_arm([*base, "leadership=time_only"], seeds)
    formal_only = run_arm([*base, "leadership=formalise_only"], seeds)
    full = run_arm([*base, "leadership=full"], seeds)
    diff = full["spread_final"] - time_only["spread_final"]
    gap, lo, _ = paired_ci(diff)
    p = stats.wilcoxon(diff, alternative="greater").pvalue
    s = {
        "spread_time_only": time_only["spread_final"].mean(),
        "spread_formalise_only": formal_only["spread_final"].mean(),
        "spread_full": full["spread_final"].mean(),
        "full_minus_time_only": gap,
        "wilcoxon_p": p,
    }
    checks = {
        "full > time only (p < 0.01)": p < 0.01 and gap > 0,
        "formalised without time <= 0.10": s["spread_formalise_only"] <= 0.10,
    }
    return PatternResult("time_not_sufficient", time_not_sufficient.__doc__, len(seeds), s, checks)


SELECTIONS = (
    "opinion_formers",
    "random",
    "mixed",
    "senior_leaders",
    "middle_leaders",
    "early_career",
)


def who_you_send(seeds: Sequence[int], base: Sequence[str] = ()) -> PatternResult:
    """4. Who you send matters, moderately.

    Opinion formers beat random selection by roughly 5-15 points of 3-year spread;
    early-career participants do worst.
    """
    arms = {pol: run_arm([*base, f"selection={pol}"], seeds) for pol in SELECTIONS}
    gap, lo, hi = paired_ci(
        arms["opinion_formers"]["spread_final"] - arms["random"]["spread_final"]
    )
    means = {pol: a["spread_final"].mean() for pol, a in arms.items()}
    s = {f"spread_{pol}": m for pol, m in means.items()}
    s.update({"opinion_formers_minus_random": gap, "ci_low": lo, "ci_high": hi})
    checks = {
        "OF - random in [0.05, 0.15]": 0.05 <= gap <= 0.15,
        "OF - random > 0 (CI)": lo > 0,
        "early career lowest": min(means, key=means.get) == "early_career",
    }
    return PatternResult("who_you_send", who_you_send.__doc__, len(seeds), s, checks)


def small_pupil_effects(seeds: Sequence[int], base: Sequence[str] = ()) -> PatternResult:
    """5. Pupil effects are small within 3 years: network-wide effect at defaults in 0.00-0.06."""
    arm = run_arm([*base], seeds)
    effect, lo, hi = paired_ci(arm["pupil_effect"])
    s = {"pupil_effect": effect, "ci_low": lo, "ci_high": hi}
    checks = {"mean effect in [0.00, 0.06]": 0.0 <= effect <= 0.06}
    return PatternResult("small_pupil_effects", small_pupil_effects.__doc__, len(seeds), s, checks)


UNFORMALISED = (
    "leadership.in_improvement_plan=false",
    "leadership.in_performance_targets=false",
    "leadership.governors_engaged=false",
)


def fragile_sustainability(seeds: Sequence[int], base: Sequence[str] = ()) -> PatternResult:
    """6. Sustainability is fragile.

    With support ending after year 1 and no formalisation, at least a third of schools fall
    below half their peak uptake by year 3.
    """
    arm = run_arm([*base, "pln.support_years=1", *UNFORMALISED], seeds)
    share = np.nanmean(arm["schools_lapsed_share"])
    s = {"schools_lapsed_share": share}
    checks = {"share >= 1/3": share >= 1 / 3}
    return PatternResult(
        "fragile_sustainability", fragile_sustainability.__doc__, len(seeds), s, checks
    )


LOW_TRUST = ("schools.trust_climate=0.3", "decision.resistance_rate=0.8")
HIGH_TRUST = ("schools.trust_climate=0.85", "decision.resistance_rate=0.05")
#: School types for pattern 7: primaries in year-group teams, secondaries in departments.
SCHOOL_TYPES = {"primary": "new_forest", "secondary": "secondary_trust"}


def no_universal_winner(seeds: Sequence[int], base: Sequence[str] = ()) -> PatternResult:
    """7. No universal winner.

    Start-small beats whole-staff on 3-year spread when trust is low and resistance high, and
    loses when trust is high and resistance low, in primaries and in secondaries alike.
    """
    s: dict[str, float] = {}
    checks: dict[str, bool] = {}
    for kind, scenario in SCHOOL_TYPES.items():
        for climate, overrides in (("low_trust", LOW_TRUST), ("high_trust", HIGH_TRUST)):
            small = run_arm([*base, "strategy=start_small", *overrides], seeds, scenario)
            whole = run_arm([*base, "strategy=whole_staff", *overrides], seeds, scenario)
            gap, lo, hi = paired_ci(small["spread_final"] - whole["spread_final"])
            tag = f"{kind}_{climate}"
            s[f"{tag}_small_minus_whole"] = gap
            s[f"{tag}_ci_low"] = lo
            s[f"{tag}_ci_high"] = hi
            s[f"{tag}_resistant_peak_whole"] = whole["resistant_peak"].mean()
            s[f"{tag}_resistant_peak_small"] = small["resistant_peak"].mean()
            if climate == "low_trust":
                checks[f"{kind}, low trust: start small wins (CI > 0)"] = lo > 0
            else:
                checks[f"{kind}, high trust: start small loses (CI < 0)"] = hi < 0
    return PatternResult("no_universal_winner", no_universal_winner.__doc__, len(seeds), s, checks)


#: Floor on the mean between-school sd of 3-year uptake within a network (New Forest).
SCHOOL_SD_FLOOR = 0.10


def schools_diverge(seeds: Sequence[int], base: Sequence[str] = ()) -> PatternResult:
    """8. Schools diverge (MODEL.md §9b).

    Inside one network, schools' 3-year uptake differs: the between-school standard deviation
    stays at or above 0.10 both at the scenario's defaults and with full leadership support.
    """
    default = run_arm([*base], seeds)
    full = run_arm([*base, "leadership=full"], seeds)
    s = {
        "school_uptake_sd_default": float(np.nanmean(default["school_uptake_sd"])),
        "school_uptake_sd_full": float(np.nanmean(full["school_uptake_sd"])),
        "schools_implementing_default": float(np.nanmean(default["schools_implementing_share"])),
        "spread_full": float(full["spread_final"].mean()),
    }
    checks = {
        f"default: sd >= {SCHOOL_SD_FLOOR}": s["school_uptake_sd_default"] >= SCHOOL_SD_FLOOR,
        f"full support: sd >= {SCHOOL_SD_FLOOR}": s["school_uptake_sd_full"] >= SCHOOL_SD_FLOOR,
    }
    return PatternResult("schools_diverge", schools_diverge.__doc__, len(seeds), s, checks)


PATTERNS = (
    out_of_sight,
    passive_dissemination,
    time_not_sufficient,
    who_you_send,
    small_pupil_effects,
    fragile_sustainability,
    no_universal_winner,
    schools_diverge,
)


def main(argv: list[str] | None = None) -> int:
    """Print every pattern's statistics beside its targets."""
    parser = argparse.ArgumentParser(prog="python -m experiments.patterns", description=__doc__)
    parser.add_argument("--seeds", type=int, default=40, help="paired seeds per arm (>= 2)")
    parser.add_argument(
        "overrides", nargs="*", metavar="key=value", help="set before every arm's own overrides"
    )
    args = parser.parse_args(argv)
    if args.seeds < 2:
        parser.error("--seeds must be at least 2")
    try:
        sim.build_config(scenario="new_forest", overrides=tuple(args.overrides)).validate()
    except ConfigError as exc:
        parser.error(str(exc))
    logging.getLogger("MESA").setLevel(logging.WARNING)
    seeds = range(args.seeds)
    failed = 0
    for pattern in PATTERNS:
        r = pattern(seeds, args.overrides)
        failed += not r.holds
        print(f"\n{r.name} ({r.replications} paired seeds): {'HOLDS' if r.holds else 'FAILS'}")
        print("  " + " ".join(r.statement.split()))
        for k, v in r.statistics.items():
            print(f"    {k:45s} {v: .4f}")
        for k, ok in r.checks.items():
            print(f"    [{'x' if ok else ' '}] {k}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
