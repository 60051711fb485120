"""Every outcome of a run, declared once: name, label, unit, headline, aggregation and format.

The run summary (:func:`sim.results.summarise`, :func:`sim.simulate`) produces exactly the
outcomes declared here (checked on every run); the tables and statistics
(``experiments/analysis.py``), the figures, the report, the headline printed by
``python -m experiments.compare`` and the workshop page take their labels, units, interval
methods and number formats from here, so an outcome reads the same everywhere.

    from sim.outcome_registry import outcome
    o = outcome("spread_final")
    o.label_for(years=3)        # 'Spread after 3 school years: staff who were not PLN ...'
    o.format_level(0.9545)      # '95.5%'
    o.format_diff(0.0035)       # '+0.3 percentage points'

Two outcomes are families with one member per complete school year: ``uptake_year_<y>`` and
``spread_year_<y>`` (declared once with ``per_year=True``).
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

__all__ = [
    "CHECKPOINT_YEARS",
    "HEADLINE",
    "KINDS",
    "OUTCOMES",
    "REPORT_TABLE",
    "TABULATED",
    "Kind",
    "Outcome",
    "check_summary",
    "expected_names",
    "for_series",
    "ordinal",
    "outcome",
    "counted",
    "years_text",
]


@dataclass(frozen=True)
class Kind:
    """How values of one kind are shown: multiplied by ``factor``, in ``unit`` or ``diff_unit``.

    ``decimals`` is the default number of decimals (when no interval says how precise a value
    is); ``min_decimals`` the fewest ever shown.
    """

    name: str
    factor: float
    unit: str
    diff_unit: str
    decimals: int
    min_decimals: int

    def decimals_for(self, half_width: float | None = None) -> int:
        """Decimals that show a 95% CI half-width (in display units) to two significant digits.

        Within this kind's bounds; the default when the half-width is missing or zero.
        """
        if not _finite(half_width) or float(half_width) <= 0:
            return self.decimals
        digits = 1 - math.floor(math.log10(float(half_width)))
        return int(min(4, max(self.min_decimals, digits)))

    def number(
        self, value: Any, decimals: int | None = None, sign: bool = False, scaled: bool = True
    ) -> str:
        """A stored value in display units, without a unit ("n/a" if missing).

        ``scaled=False`` when ``value`` is already in display units.
        """
        if not _finite(value):
            return "n/a"
        x = float(value) * (self.factor if scaled else 1.0)
        decimals = self.decimals if decimals is None else decimals
        if round(x, decimals) == 0:
            x = 0.0
        text = f"{x:,.{decimals}f}"
        return "+" + text if sign and x > 0 else text

    def interval(self, low: Any, high: Any, diff: bool = False, decimals: int | None = None) -> str:
        """``"low to high"`` in display units (signed for differences); "n/a" if missing.

        Decimals follow the half-width (:meth:`decimals_for`) unless given.
        """
        if not (_finite(low) and _finite(high)):
            return "n/a"
        if decimals is None:
            decimals = self.decimals_for((float(high) - float(low)) / 2 * self.factor)
        return f"{self.number(low, decimals, diff)} to {self.number(high, decimals, diff)}"


#: Display kinds. A share is stored from 0 to 1 and shown in % (a difference in percentage
#: points); counts and indices are shown as stored.
KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        Kind("share", 100.0, "%", "percentage points", 1, 1),
        Kind("sd", 1.0, "SD", "SD", 3, 3),
        Kind("hours", 1.0, "teacher-hours", "teacher-hours", 0, 0),
        Kind("weeks", 1.0, "weeks", "weeks", 1, 0),
        Kind("count", 1.0, "", "", 1, 0),
        Kind("index", 1.0, "", "", 3, 2),
    )
}


@dataclass(frozen=True)
class Outcome:
    """One summary outcome.

    Attributes:
        name: Key in ``RunResult.summary`` (a family's pattern, e.g. ``uptake_year_{year}``).
        label: Plain-language label; ``{years}`` becomes "3 school years" (or "the horizon"),
            ``{year}`` a family member's year.
        kind: Display kind (a key of :data:`KINDS`): decides the scale, units and decimals.
        unit: Unit of the stored value (what the CSV tables hold), e.g. "share (0 to 1)".
        description: One plain sentence: what the number is.
        short: A few words for running text ("spread").
        phrase: The outcome as the object of a sentence ("spread to staff who ...").
        headline: 0 if not a headline outcome; else its place in the report's answer (1 first).
        aggregate: How runs are aggregated over seeds: "mean" (tabulated per arm and as paired
            differences), or None (kept per run only).
        interval: 95% interval of a mean over seeds (and of a mean paired difference): "t"
            (Student's t) or "bootstrap" (BCa bootstrap, for bounded or discrete outcomes whose
            means a t interval would put outside their range).
        report_table: Shown in the report's comparison table and common-random-numbers table.
        direction: +1 if higher is better, -1 if lower is better, 0 where that is a judgement
            the model cannot make (e.g. staff time: a cost, but also the means of taking it up).
        per_year: A family with one member per complete school year.
        series: Column of the weekly tables (``RunResult.timeseries``) with the same quantity
            week by week, if there is one (what the workshop page's monitors show).

    """

    name: str
    label: str
    kind: Literal["share", "sd", "hours", "weeks", "count", "index"]
    unit: str
    description: str
    short: str = ""
    phrase: str = ""
    headline: int = 0
    aggregate: Literal["mean"] | None = "mean"
    interval: Literal["t", "bootstrap"] = "t"
    report_table: bool = False
    direction: int = 0
    per_year: bool = False
    series: str | None = None

    @property
    def scale(self) -> Kind:
        """The display kind."""
        return KINDS[self.kind]

    @property
    def display_unit(self) -> str:
        """Unit of a level as shown ("%" for shares; the stored unit's noun for counts)."""
        return self.scale.unit or (self.unit if self.kind == "count" else "")

    @property
    def diff_unit(self) -> str:
        """Unit of a difference as shown ("percentage points" for shares)."""
        return self.scale.diff_unit or (self.unit if self.kind == "count" else "")

    def label_for(self, years: int | None = None, year: int | str | None = None) -> str:
        """The label, with the horizon (``years``) and a family member's ``year`` filled in."""
        return self.label.format(years=years_text(years), year=year)

    def with_unit(self, text: str, diff: bool = False) -> str:
        """``text`` followed by its display unit ("95.5%", "+0.3 percentage points")."""
        unit = self.diff_unit if diff else self.display_unit
        if not unit or text == "n/a":
            return text
        return f"{text}%" if unit == "%" else f"{text} {unit}"

    def format_level(self, value: Any, decimals: int | None = None) -> str:
        """A level with its unit, e.g. ``"95.5%"`` or ``"26,108 teacher-hours"``."""
        return self.with_unit(self.scale.number(value, decimals))

    def format_diff(self, value: Any, decimals: int | None = None) -> str:
        """A difference with its sign and unit, e.g. ``"+0.3 percentage points"``."""
        return self.with_unit(self.scale.number(value, decimals, sign=True), diff=True)

    def format_interval(self, low: Any, high: Any, diff: bool = False) -> str:
        """``"low to high"`` in display units (signed for differences); "n/a" if missing."""
        return self.scale.interval(low, high, diff)

    def format_diff_ci(self, mean: Any, low: Any, high: Any) -> str:
        """A difference and its 95% CI, with as many decimals as the CI supports.

        E.g. ``"+0.35 percentage points (95% CI -0.08 to +0.77)"``.
        """
        half = (float(high) - float(low)) / 2 * self.scale.factor if _finite(low) else None
        decimals = self.scale.decimals_for(half if _finite(high) else None)
        ci = self.scale.interval(low, high, diff=True, decimals=decimals)
        return f"{self.format_diff(mean, decimals)} (95% CI {ci})"


def _finite(x: Any) -> bool:
    try:
        return x is not None and math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def counted(n: Any, noun: str, plural: str | None = None) -> str:
    """A count with its noun in agreement: ``"1 seed"``, ``"2 paired seeds"``, ``"1,000 schools"``.

    Every count the report, its figures and the commands' messages put in words goes through
    this (the Jinja2 filter ``counted`` in the report's templates). ``plural`` is for nouns
    whose plural is not the singular plus "s". A count given as text (``"1-2 (per arm)"``)
    takes the plural.
    """
    many = plural or noun + "s"
    if isinstance(n, float) and n.is_integer():
        n = int(n)
    if not isinstance(n, numbers.Integral):
        return f"{n} {many}"
    return f"{int(n):,} {noun if n == 1 else many}"


def ordinal(n: int) -> str:
    """``"1st"``, ``"2nd"``, ``"3rd"``, ``"4th"``, ``"11th"``, ``"22nd"``: a rank in words."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def years_text(years: int | None) -> str:
    """``"3 school years"``, ``"1 school year"``, or ``"the horizon"`` when unknown."""
    if years is None:
        return "the horizon"
    return counted(years, "school year")


_SHARE = "share (0 to 1)"
_HOURS = (
    "allocated collaboration time of all staff every week, research leads' hours, and the hours "
    "of staff attending workshops and sessions"
)

#: Every outcome of ``RunResult.summary``, in the order tables list them.
OUTCOMES: tuple[Outcome, ...] = (
    Outcome(
        "uptake_final",
        "Uptake after {years}: staff who adopted or embedded the practice",
        "share",
        _SHARE,
        "Share of all staff who adopted or embedded the practice at the horizon.",
        short="uptake",
        phrase="uptake among all staff",
        headline=2,
        report_table=True,
        direction=1,
        series="uptake",
    ),
    Outcome(
        "use_final",
        "Use after {years}: staff using or trialling the practice",
        "share",
        _SHARE,
        "Uptake plus the share of staff trialling the practice, at the horizon.",
        short="use",
        direction=1,
        series="use",
    ),
    Outcome(
        "spread_final",
        "Spread after {years}: staff who were not PLN participants using it",
        "share",
        _SHARE,
        "Share of staff who were not PLN participants and adopted or embedded the practice, at "
        "the horizon.",
        short="spread",
        phrase="spread to staff who did not attend the PLN",
        headline=1,
        report_table=True,
        direction=1,
        series="spread",
    ),
    Outcome(
        "mean_spread",
        "Average spread over the run (how early it spread)",
        "share",
        _SHARE,
        "Mean of the weekly spread over the run: the area under the spread curve per week.",
        direction=1,
    ),
    Outcome(
        "pupil_effect",
        "Pupil effect, modelled, against the same world without the PLN",
        "sd",
        "SD",
        "Pupil-weighted gain of classes at the horizon with the PLN minus without it (same "
        "seed), in standard deviations: modelled, not measured.",
        short="the pupil effect",
        phrase="the modelled pupil effect",
        headline=3,
        report_table=True,
        direction=1,
    ),
    Outcome(
        "pupils_reached",
        "Pupils taught by staff using the practice, at the end",
        "count",
        "pupils",
        "Pupils taught by staff trialling, adopted or embedded at the horizon.",
        direction=1,
        series="pupils_reached",
    ),
    Outcome(
        "teacher_hours",
        "Staff time spent over the whole run",
        "hours",
        "teacher-hours",
        f"Teacher-hours over the run: {_HOURS}.",
        report_table=True,
        series="teacher_hours",
    ),
    Outcome(
        "hours_per_adopter",
        "Staff time per member of staff using the practice",
        "hours",
        "teacher-hours",
        "Teacher-hours over the run per member of staff adopted or embedded at the horizon "
        "(undefined if nobody was).",
        report_table=True,
        direction=-1,
    ),
    Outcome(
        "schools_lapsed_share",
        "Schools that fell below half their peak uptake",
        "share",
        "share of schools (0 to 1)",
        "Among schools whose uptake ever rose above zero, the share whose uptake at the horizon "
        "is below half their peak (undefined if none rose; Datnow 2005).",
        interval="bootstrap",  # a few schools: values in eighths, mostly 0
        report_table=True,
        direction=-1,
    ),
    Outcome(
        "schools_implementing_share",
        "Schools still implementing at moderate-to-high intensity",
        "share",
        "share of schools (0 to 1)",
        "Share of schools whose uptake at the horizon is at least a third of their staff "
        "(MODEL.md §9b: 25-60% after three years; Datnow 2005, 5 of 13 schools).",
        interval="bootstrap",  # a few schools: values in eighths
        report_table=True,
    ),
    Outcome(
        "resistant_peak",
        "Peak number of resistant staff",
        "count",
        "staff",
        "Highest weekly count of staff resisting the practice.",
        interval="bootstrap",  # small whole numbers
        direction=-1,
    ),
    Outcome(
        "participants_knowledge",
        "PLN participants' knowledge (0 to 1)",
        "index",
        "index (0 to 1)",
        "Mean knowledge of the current PLN participants at the horizon.",
        direction=1,
    ),
    Outcome(
        "weeks_to_half_uptake",
        "Weeks until half the staff used it (runs that got there)",
        "weeks",
        "weeks",
        "First teaching week with uptake of at least 50% (undefined if never).",
        interval="bootstrap",  # whole weeks, and only the runs that got there
        direction=-1,
    ),
    Outcome(
        "uptake_year_{year}",
        "Uptake at the end of year {year}",
        "share",
        _SHARE,
        "Uptake in the last teaching week of each complete school year (sustainability "
        "checkpoints).",
        direction=1,
        per_year=True,
    ),
    Outcome(
        "spread_year_{year}",
        "Spread at the end of year {year}",
        "share",
        _SHARE,
        "Spread in the last teaching week of each complete school year.",
        direction=1,
        per_year=True,
    ),
    # Kept per run (runs.csv), not aggregated over seeds.
    Outcome(
        "weeks", "Weeks simulated", "weeks", "weeks", "Teaching weeks simulated.", aggregate=None
    ),
    Outcome(
        "staff",
        "Staff in the network",
        "count",
        "staff",
        "Staff posts in the network's schools.",
        aggregate=None,
    ),
    Outcome(
        "participants",
        "Staff sent to the PLN",
        "count",
        "staff",
        "Staff selected for the PLN at the start.",
        aggregate=None,
    ),
    Outcome("schools", "Schools", "count", "schools", "Schools in the network.", aggregate=None),
    Outcome("pupils", "Pupils", "count", "pupils", "Pupils taught by all staff.", aggregate=None),
    Outcome(
        "mean_knowledge",
        "Knowledge of all staff (0 to 1)",
        "index",
        "index (0 to 1)",
        "Mean knowledge of all staff at the horizon.",
        aggregate=None,
    ),
    Outcome(
        "mean_quality",
        "Quality of use, all staff (0 to 1)",
        "index",
        "index (0 to 1)",
        "Mean quality of use of all staff at the horizon (0 for staff not using it).",
        aggregate=None,
    ),
    Outcome(
        "weeks_to_quarter_uptake",
        "Weeks until a quarter of the staff used it (runs that got there)",
        "weeks",
        "weeks",
        "First teaching week with uptake of at least 25% (undefined if never).",
        aggregate=None,
        direction=-1,
    ),
    Outcome(
        "peak_uptake",
        "Highest weekly uptake",
        "share",
        _SHARE,
        "Highest uptake in any week of the run.",
        aggregate=None,
        direction=1,
    ),
    Outcome(
        "resistant_final",
        "Resistant staff at the end",
        "count",
        "staff",
        "Staff resisting the practice at the horizon.",
        aggregate=None,
        direction=-1,
        series="resistant",
    ),
    Outcome(
        "embedded_final",
        "Staff who embedded the practice, at the end",
        "count",
        "staff",
        "Staff for whom the practice is routine at the horizon.",
        aggregate=None,
        direction=1,
    ),
    Outcome(
        "lapsed_final",
        "Staff who stopped using the practice, at the end",
        "count",
        "staff",
        "Staff who had used the practice and stopped (lapsed), at the horizon.",
        aggregate=None,
        direction=-1,
    ),
    Outcome(
        "pupil_gain",
        "Pupils' cumulative gain, modelled (not against a world without the PLN)",
        "sd",
        "SD",
        "Pupil-weighted mean cumulative gain of classes over all pupils at the horizon, in "
        "standard deviations (absolute, not relative to the run without the PLN).",
        aggregate=None,
        direction=1,
    ),
    Outcome(
        "school_uptake_sd",
        "Variation of uptake between schools (standard deviation)",
        "share",
        _SHARE,
        "Standard deviation (ddof 0) of the schools' uptake at the horizon.",
        aggregate=None,
    ),
)

_BY_NAME = {o.name: o for o in OUTCOMES}
_FAMILIES = {
    re.compile("^" + re.escape(o.name).replace(r"\{year\}", r"(\d+)") + "$"): o
    for o in OUTCOMES
    if o.per_year
}


def _member(family: Outcome, year: int | str) -> Outcome:
    return replace(
        family,
        name=family.name.format(year=year),
        label=family.label.replace("{year}", str(year)),
        per_year=False,
    )


def outcome(name: str) -> Outcome:
    """The outcome declared under ``name`` (a family member, e.g. ``uptake_year_3``, included).

    Raises:
        KeyError: ``name`` is not a declared outcome.

    """
    if name in _BY_NAME and not _BY_NAME[name].per_year:
        return _BY_NAME[name]
    for pattern, family in _FAMILIES.items():
        m = pattern.match(name)
        if m:
            return _member(family, m.group(1))
    raise KeyError(f"{name!r} is not a declared outcome (see sim/outcome_registry.py)")


def for_series(column: str) -> Outcome:
    """The outcome measured week by week in ``column`` of ``RunResult.timeseries``.

    For live displays (the workshop page's monitors): ``for_series("uptake").format_level(u)``.

    Raises:
        KeyError: no outcome has that weekly column.

    """
    for o in OUTCOMES:
        if o.series == column:
            return o
    raise KeyError(f"no outcome is measured weekly as {column!r}")


def expected_names(complete_years: int) -> list[str]:
    """Every summary key of a run with ``complete_years`` complete school years, in order."""
    names = []
    for o in OUTCOMES:
        if o.per_year:
            names += [o.name.format(year=y) for y in range(1, complete_years + 1)]
        else:
            names.append(o.name)
    return names


def check_summary(summary: Mapping[str, Any], complete_years: int) -> None:
    """Check that a run's summary has exactly the declared outcomes.

    Raises:
        ValueError: naming the undeclared keys and the declared outcomes missing from it.

    """
    expected = expected_names(complete_years)
    extra = [k for k in summary if k not in expected]
    missing = [k for k in expected if k not in summary]
    if extra or missing:
        raise ValueError(
            f"summary outcomes do not match sim/outcome_registry.py: undeclared {extra}, "
            f"missing {missing}"
        )


def _tabulated(names: Iterable[Outcome], years: Iterable[int]) -> tuple[str, ...]:
    out = []
    for o in names:
        out += [o.name.format(year=y) for y in years] if o.per_year else [o.name]
    return tuple(out)


#: Sustainability checkpoints tabulated from the per-year families (``support_duration`` runs
#: five years); a table keeps those its runs reach.
CHECKPOINT_YEARS: tuple[int, ...] = (3, 5)
#: Outcomes aggregated over seeds (summary and paired tables), in table order.
TABULATED: tuple[str, ...] = _tabulated(
    [o for o in OUTCOMES if o.aggregate == "mean"], CHECKPOINT_YEARS
)
#: Headline outcomes, in the order the report's answer discusses them.
HEADLINE: tuple[str, ...] = tuple(
    o.name for o in sorted((o for o in OUTCOMES if o.headline), key=lambda o: o.headline)
)
#: Outcomes of the report's comparison table, in table order.
REPORT_TABLE: tuple[str, ...] = tuple(o.name for o in OUTCOMES if o.report_table)
