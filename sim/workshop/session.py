"""The workshop page's state, independent of the browser: controls, models, events, monitors.

One :class:`WorkshopSession` per browser session holds one model, or two stepping together on
the same seed in side-by-side mode. Everything the page shows (monitors, the headline, the
difference between the sides, the events on the curves, the run's table) is computed here, so
it is tested without a browser (``tests/test_workshop.py``).
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.compose import available_options, build_config
from sim.config import SESSION_PERIOD_WEEKS, Config, ConfigError
from sim.heterogeneity import draw_schools
from sim.model import KnowledgeMobilisationModel
from sim.modes import MODES
from sim.network_import import NEEDS_FILES
from sim.population import STAGE_NAMES, Stage
from sim.processes.calendar import WEEKS_PER_TERM, WEEKS_PER_YEAR
from sim.selection import SELECTION_POLICIES
from sim.strategies import STRATEGIES
from sim.workshop.levers import LEVERS, format_value, lever, scenario_value
from sim.workshop.words import EVENT_NAMES, OPPOSITE_STRATEGY, option_name

__all__ = [
    "CHOICES",
    "Controls",
    "Decision",
    "Event",
    "Monitors",
    "Side",
    "WorkshopSession",
    "scenario_config",
]

#: The environment variable naming a folder of network files (``staff.csv``, ``ties.csv``,
#: ``schools.csv``; docs/NETWORK_DATA.md) the page offers as the scenario ``from_files``
#: (``make workshop NETWORK=folder`` sets it).
NETWORK_ENV = "PLN_WORKSHOP_NETWORK"


def page_network(folder: str | None = None) -> tuple[str, ...]:
    """The ``network.*`` overrides of a folder of network files.

    The folder defaults to the one the page was started with (:data:`NETWORK_ENV`); no folder
    gives no overrides.
    """
    folder = os.environ.get(NETWORK_ENV, "") if folder is None else folder
    if not folder:
        return ()
    return tuple(
        f"network.{k}={Path(folder, k + '.csv').resolve()}" for k in ("staff", "ties", "schools")
    )


def scenario_overrides(scenario: str) -> tuple[str, ...]:
    """Overrides a scenario needs beyond its preset: the page's network files for ``from_files``."""
    return page_network() if scenario in NEEDS_FILES["scenario"] else ()


def check_network(folder: str) -> int:
    """Check a network folder before the page starts: 0, or 2 with a one-line error on stderr."""
    import sys

    try:
        build_config("from_files", 0, page_network(folder))
    except ConfigError as exc:  # the network files' errors included (NetworkDataError)
        print(f"error: NETWORK={folder}: {exc}", file=sys.stderr)
        return 2
    return 0


def load_kernels() -> None:
    """Run the page's own models for a year, so the model's compiled kernels are on disk.

    The first model run after an install or a change to the code compiles them (about 15 s on
    two cores); later runs load them from Numba's cache in a second. ``make workshop`` calls
    this before starting the server, so the compiling does not fall on the first person to
    press Run.
    """
    WorkshopSession(Controls(side_by_side=True)).step(52)


#: Allowed values of every choice control (the page offers exactly these).
CHOICES = {
    # Generated national systems (scenario england: 420,000 staff) are not offered: the page
    # runs listed schools live. Scenarios that need an imported network's files are offered
    # when the page was started with them (NETWORK_ENV).
    "scenario": tuple(
        o
        for o in available_options("scenario")
        if o != "england" and (o not in NEEDS_FILES["scenario"] or page_network())
    ),
    "strategy": ("whole_staff", "start_small", "broadcast", "none"),
    "mode": tuple(MODES),
    "selection": tuple(p for p in SELECTION_POLICIES if p not in NEEDS_FILES["selection"]),
    "session_frequency": tuple(SESSION_PERIOD_WEEKS),
}
assert set(CHOICES["strategy"]) == set(STRATEGIES), "a strategy is missing from the page"

SIDE_KEYS = ("strategy", "mode", "selection")


@functools.lru_cache(maxsize=64)
def scenario_config(scenario: str, seed: int = 0) -> Config:
    """The resolved configuration of a scenario preset for a seed.

    Its levers are the page's defaults. Per-school values the scenario gives as distributions
    are this seed's draws: the values the run uses.
    """
    return draw_schools(
        build_config(scenario, seed, scenario_overrides(scenario)), copy_config=False
    )


@dataclass(frozen=True)
class Side:
    """What differs between the two sides of a side-by-side comparison."""

    strategy: str = "whole_staff"
    mode: str = "none"
    selection: str = "mixed"

    def name(self, kind: str) -> str:
        """Display name of one of this side's choices (``strategy``, ``mode``, ``selection``)."""
        return option_name(kind, getattr(self, kind))


@dataclass(frozen=True)
class Controls:
    """Every control of the page.

    Lever values not set by the user are the scenario's (read from its config); side A's
    choices default to the scenario's, side B's to the opposite of A's strategy.

    Attributes:
        scenario: Scenario preset.
        seed: Run seed (both sides share it).
        side_by_side: Two sides stepping together.
        a: Side A's choices, or ``None`` for the scenario's.
        b: Side B's choices, or ``None`` to follow A with the opposite strategy.
        levers: The user's lever values, as ``(config key, value)`` pairs.

    """

    scenario: str = "new_forest"
    seed: int = 0
    side_by_side: bool = False
    a: Side | None = None
    b: Side | None = None
    levers: tuple[tuple[str, Any], ...] = ()

    @property
    def side_a(self) -> Side:
        """Side A's choices in force."""
        if self.a is not None:
            return self.a
        cfg = scenario_config(self.scenario)
        return Side(cfg.strategy.name, cfg.mode.name, cfg.selection.policy)

    @property
    def side_b(self) -> Side:
        """Side B's choices in force (by default A's, with the opposite strategy)."""
        if self.b is not None:
            return self.b
        a = self.side_a
        return replace(a, strategy=OPPOSITE_STRATEGY[a.strategy])

    @property
    def sides(self) -> list[Side]:
        """The sides that run: A, or A and B."""
        return [self.side_a, self.side_b] if self.side_by_side else [self.side_a]

    @property
    def identical_sides(self) -> bool:
        """Side by side with the same choices on both sides (nothing to compare)."""
        return self.side_by_side and self.side_a == self.side_b

    def lever_value(self, key: str) -> tuple[Any, bool]:
        """A lever's value, and whether the scenario's value differs between schools."""
        mine = dict(self.levers)
        if key in mine:
            return mine[key], False
        try:
            cfg = scenario_config(self.scenario, self.seed)
        except ConfigError:  # an invalid seed: the page reports it; show seed 0's schools
            cfg = scenario_config(self.scenario, 0)
        return scenario_value(cfg, key)

    def with_lever(self, key: str, value: Any) -> Controls:
        """A copy with a lever set (for every school)."""
        mine = dict(self.levers)
        mine[key] = value
        return replace(self, levers=tuple(sorted(mine.items())))

    def with_side(self, side: str, **choices: str) -> Controls:
        """A copy with some of side ``a`` or ``b``'s choices changed."""
        current = self.side_a if side == "a" else self.side_b
        return replace(self, **{side: replace(current, **choices)})

    def with_values(self, **changes: Any) -> Controls:
        """A copy with controls changed: ``a_strategy=...``, ``seed=...``, ``levers`` by key."""
        out = self
        for key, value in changes.items():
            prefix, _, name = key.partition("_")
            if prefix in ("a", "b") and name in SIDE_KEYS:
                out = out.with_side(prefix, **{name: value})
            elif "." in key:
                out = out.with_lever(key, value)
            elif key == "scenario":
                out = replace(out, scenario=value, a=None, b=None, levers=())
            else:
                out = replace(out, **{key: value})
        return out

    def overrides(self, side: Side) -> list[str]:
        """Model overrides for one side, in the command line's vocabulary."""
        out = [*scenario_overrides(self.scenario)]
        out += [f"strategy={side.strategy}", f"mode={side.mode}", f"selection={side.selection}"]
        for key, value in self.levers:
            text = str(value).lower() if isinstance(value, bool) else str(value)
            out.append(f"{key}={text}")
        return out


@dataclass(frozen=True)
class Monitors:
    """The numbers the page shows for one model."""

    uptake_pct: float
    use_pct: float
    spread_pct: float
    pupils_reached: float
    teacher_hours: float
    resistant: int
    week: int
    year: int
    term: int

    @property
    def when(self) -> str:
        """Calendar position, e.g. 'Year 1, autumn term, week 14'."""
        if self.week == 0:
            return "Before the first week"
        terms = ("autumn", "spring", "summer")
        return f"Year {self.year}, {terms[self.term - 1]} term, week {self.week}"


@dataclass(frozen=True)
class Event:
    """Something that happened in a week of one side's run, marked on its curve.

    Attributes:
        week: Teaching week (1 = the first week).
        kind: A key of :data:`sim.workshop.words.EVENT_NAMES`.
        schools: The schools concerned (0-based), empty for the whole network.
        detail: Extra words (a decision's lever and value).

    """

    week: int
    kind: str
    schools: tuple[int, ...] = ()
    detail: str = ""

    @property
    def mark(self) -> str:
        """The one-letter mark drawn on the curve."""
        return EVENT_NAMES[self.kind][0]

    def describe(self, n_schools: int) -> str:
        """One line, e.g. 'week 5: whole-staff launch (all 8 schools)'."""
        text = f"week {self.week}: {EVENT_NAMES[self.kind][1]}"
        if self.detail:
            text += f": {self.detail}"
        if self.schools and self.kind != "decision":
            if len(self.schools) == n_schools and n_schools > 1:
                text += f" (all {n_schools} schools)"
            else:
                names = ", ".join(str(s + 1) for s in self.schools)
                text += f" (school{'s' if len(self.schools) > 1 else ''} {names})"
        return text


@dataclass(frozen=True)
class Decision:
    """A lever changed during the run.

    Attributes:
        week: Weeks completed when it was made (it takes effect from the next week).
        key: The lever's config key.
        value: Its new value.
        school: The school (0-based), or ``None`` for every school.
        sides: The sides it applies to (0 for A, 1 for B).

    """

    week: int
    key: str
    value: Any
    school: int | None
    sides: tuple[int, ...]

    def what(self) -> str:
        """The change in words, e.g. 'In the improvement plan: yes (school 3)'."""
        lv = lever(self.key)
        where = "every school" if self.school is None else f"school {self.school + 1}"
        return f"{lv.name}: {format_value(lv, self.value)} ({where})"

    def describe(self, session: WorkshopSession) -> str:
        """One line for the debrief, naming the week and the sides."""
        names = session.side_names()
        if len(names) == 1:
            whom = ""
        elif len(self.sides) == 2:
            whom = ", both sides"
        else:
            whom = f", side {'AB'[self.sides[0]]} ({names[self.sides[0]]}) only"
        return f"after week {self.week}{whom}: {self.what()}"


@dataclass
class _Watch:
    """What one model looked like before a step (to detect events)."""

    exposed: np.ndarray
    control_taken: np.ndarray
    out_of_sight: np.ndarray
    support_ended: bool


def _schools(mask: np.ndarray) -> tuple[int, ...]:
    return tuple(int(s) for s in np.flatnonzero(mask))


@dataclass
class _Arm:
    """One side's model, its events and its decisions."""

    side: Side
    model: KnowledgeMobilisationModel
    events: list[Event] = field(default_factory=list)
    #: Schools whose whole staff has been pressed to try it (launched, or the pilot widened):
    #: later sessions that require trying press them again, but that is not news.
    launched: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.launched = np.zeros(self.model.schools.n, bool)

    def watch(self) -> _Watch:
        m = self.model
        return _Watch(m.exposed, m.control_taken, m.out_of_sight, bool(m.now.support_ended))

    def step(self) -> None:
        """Step one week and record what happened."""
        m = self.model
        if not m.running:
            return
        before = self.watch()
        m.step()
        week, now, staff = m.week, m.now, m.staff
        found: list[Event] = []
        if now.workshop_week and now.attended_workshop.any():
            found.append(Event(week, "workshop", _schools(_by_school(now.attended_workshop, m))))
        pressured = _by_school(now.pressured, m)
        first = pressured & ~self.launched
        if first.any():
            kind = "widened" if self.side.strategy == "start_small" else "launch"
            found.append(Event(week, kind, _schools(first)))
        self.launched |= pressured
        newly = m.exposed & ~before.exposed & ~pressured[staff.school]
        if newly.any():
            found.append(Event(week, "pilot", _schools(_by_school(newly, m))))
        if now.support_ended and not before.support_ended:
            found.append(Event(week, "support_ended"))
        taken = m.control_taken > before.control_taken  # counts: leaders can take it back again
        if taken.any():
            found.append(Event(week, "control_back", _schools(taken)))
        gone = m.out_of_sight & ~before.out_of_sight
        if gone.any():
            found.append(Event(week, "out_of_sight", _schools(gone)))
        self.events.extend(found)


def _by_school(who: np.ndarray, model: KnowledgeMobilisationModel) -> np.ndarray:
    return np.bincount(model.staff.school[who], minlength=model.schools.n) > 0


class WorkshopSession:
    """One browser's models and controls.

    Args:
        controls: Initial controls (default: the New Forest, its own choices).

    """

    def __init__(self, controls: Controls | None = None) -> None:
        self.controls = controls or Controls()
        self.error: str | None = None
        self.arms: list[_Arm] = []
        #: Decisions made during the run (lever changes), in order.
        self.decisions: list = []
        self.setup()

    # -- actions -------------------------------------------------------------------------------

    def setup(self, controls: Controls | None = None) -> bool:
        """Build fresh models from the controls; on invalid input keep an error message."""
        controls = controls or self.controls
        try:
            if controls.scenario not in CHOICES["scenario"]:
                allowed = ", ".join(CHOICES["scenario"])
                raise ConfigError(f"scenario = {controls.scenario!r}; choose one of: {allowed}")
            arms = [
                _Arm(
                    side,
                    KnowledgeMobilisationModel(
                        build_config(controls.scenario, controls.seed, controls.overrides(side)),
                        validated=True,
                    ),
                )
                for side in controls.sides
            ]
        except ConfigError as exc:
            self.error = str(exc)
            return False
        self.controls, self.arms, self.error = controls, arms, None
        self.decisions = []
        return True

    def reset(self) -> bool:
        """Start again with the current controls."""
        return self.setup(self.controls)

    def step(self, weeks: int = 1) -> None:
        """Advance every model by ``weeks`` weeks (side by side: together)."""
        for _ in range(weeks):
            for arm in self.arms:
                arm.step()

    def decide(
        self, key: str, value: Any, school: int | None = None, side: int | None = None
    ) -> None:
        """Change a leadership lever from the next week, in one school or all, on one side or both.

        The change is marked on the curve of each side it applies to (a "D" at this week).

        Raises:
            ConfigError: Not a lever that can change during a run, or a value it does not allow.

        """
        if not key.startswith("leadership."):
            raise ConfigError(f"{key} cannot change during a run; only leadership levers can")
        if self.week == 0:
            raise ConfigError("nothing has run yet: change the lever and press Set up instead")
        sides = tuple(range(len(self.arms))) if side is None else (side,)
        for i in sides:
            self.arms[i].model.set_lever(school, key.partition(".")[2], value)
        decision = Decision(self.week, key, value, school, sides)
        for i in sides:
            n = self.arms[i].model.schools.n
            schools = tuple(range(n)) if school is None else (school,)
            self.arms[i].events.append(Event(self.week, "decision", schools, decision.what()))
        self.decisions.append(decision)

    @property
    def models(self) -> list[KnowledgeMobilisationModel]:
        """The running models (one per side)."""
        return [arm.model for arm in self.arms]

    @property
    def week(self) -> int:
        """Weeks completed."""
        return self.arms[0].model.week if self.arms else 0

    @property
    def horizon(self) -> int:
        """Weeks in the run."""
        return self.arms[0].model.horizon_weeks if self.arms else 0

    @property
    def running_possible(self) -> bool:
        """Whether any model can still step."""
        return any(m.running for m in self.models)

    def end_of_year(self) -> int:
        """The last week of the current school year (the next one if this one just ended)."""
        return min((self.week // WEEKS_PER_YEAR + 1) * WEEKS_PER_YEAR, self.horizon)

    # -- what the page shows ---------------------------------------------------------------------

    def side_names(self) -> list[str]:
        """What the sides are called: by what differs between them (strategy first)."""
        sides = [arm.side for arm in self.arms]
        if len(sides) == 1:
            return [sides[0].name("strategy")]
        for kind in SIDE_KEYS:
            if getattr(sides[0], kind) != getattr(sides[1], kind):
                return [s.name(kind) for s in sides]
        same = sides[0].name("strategy")
        return [f"{same} (A)", f"{same} (B)"]

    def monitors(self, side: int = 0) -> Monitors:
        """Monitors of one side."""
        model = self.models[side]
        week = model.week
        staff = model.staff
        adopters = np.isin(staff.stage, (Stage.ADOPTED, Stage.EMBEDDED))
        users = np.isin(staff.stage, (Stage.TRIALLING, Stage.ADOPTED, Stage.EMBEDDED))
        others = ~staff.participant
        hours = float(model.record.hours[:week].sum())
        year, week_of_year = divmod(max(week - 1, 0), WEEKS_PER_YEAR)
        return Monitors(
            uptake_pct=100.0 * adopters.mean(),
            use_pct=100.0 * users.mean(),
            spread_pct=100.0 * (adopters & others).sum() / max(others.sum(), 1),
            pupils_reached=float(staff.pupils[users].sum()),
            teacher_hours=hours,
            resistant=int(staff.resistant.sum()),
            week=week,
            year=year + 1,
            term=week_of_year // WEEKS_PER_TERM + 1,
        )

    def _stages(self, side: int) -> np.ndarray:
        model = self.models[side]
        if model.week == 0:
            return np.zeros((0, len(STAGE_NAMES)))
        return model.record.totals().stages.sum(axis=1)

    def uptake_series(self, side: int = 0) -> np.ndarray:
        """Share of staff who adopted or embedded the practice, per week so far."""
        st = self._stages(side)
        return (st[:, Stage.ADOPTED] + st[:, Stage.EMBEDDED]) / self.models[side].staff.n

    def stage_shares(self, side: int = 0) -> np.ndarray:
        """Share of staff at each stage per week so far: (weeks, stages)."""
        return self._stages(side) / self.models[side].staff.n

    def resistant_series(self, side: int = 0) -> np.ndarray:
        """Resistant staff per week so far."""
        model = self.models[side]
        if model.week == 0:
            return np.zeros(0)
        return model.record.totals().resistant.sum(axis=1)

    def pupils_series(self, side: int = 0) -> np.ndarray:
        """Pupils taught by staff using the practice, per week so far."""
        model = self.models[side]
        if model.week == 0:
            return np.zeros(0)
        return model.record.totals().pupils_reached.sum(axis=1)

    def events(self, side: int = 0) -> list[Event]:
        """What has happened so far on one side, in order."""
        return list(self.arms[side].events)

    def gap(self) -> float | None:
        """Uptake of side B minus side A now, in percentage points (side by side only)."""
        if len(self.arms) < 2:
            return None
        return self.monitors(1).uptake_pct - self.monitors(0).uptake_pct

    def headline(self) -> str:
        """One line for the room, e.g. 'Start small: 42% using it, 6 resisting · ...'."""
        parts = []
        for i, name in enumerate(self.side_names()):
            m = self.monitors(i)
            if i == 0:
                parts.append(f"{name}: {m.uptake_pct:.0f}% using it, {m.resistant} resisting")
            else:
                parts.append(f"{name}: {m.uptake_pct:.0f}%, {m.resistant} resisting")
        return " · ".join(parts)

    def difference(self) -> str | None:
        """The difference between the sides in words (side by side only).

        E.g. 'Start small ahead by 7 points, 5 fewer resisting, 120 more pupils reached,
        40 fewer teacher-hours'. Names the side ahead on uptake; ties are said as such.
        """
        if len(self.arms) < 2:
            return None
        one_sided = any(len(d.sides) == 1 for d in self.decisions)
        if self.controls.identical_sides and not one_sided:
            return "A and B are the same choices: there is no difference to see."
        a, b = self.monitors(0), self.monitors(1)
        names = self.side_names()
        lead = 1 if b.uptake_pct > a.uptake_pct else 0
        ahead, behind = (b, a) if lead == 1 else (a, b)
        points = ahead.uptake_pct - behind.uptake_pct
        if round(points) == 0:
            words = [f"{names[0]} and {names[1]} level on uptake"]
        else:
            words = [
                f"{names[lead]} ahead by {points:.0f} point{'s' if round(points) != 1 else ''}"
            ]
        words.append(_more_fewer(ahead.resistant - behind.resistant, "resisting"))
        words.append(_more_fewer(ahead.pupils_reached - behind.pupils_reached, "pupils reached"))
        words.append(_more_fewer(ahead.teacher_hours - behind.teacher_hours, "teacher-hours"))
        return ", ".join(w for w in words if w)

    def table(self) -> pd.DataFrame:
        """The run so far: one row per side and week, with stages, monitors and events."""
        frames = []
        names = self.side_names()
        for i, arm in enumerate(self.arms):
            model = arm.model
            weeks = model.week
            if weeks == 0:
                continue
            counts = self._stages(i)
            frame = pd.DataFrame(
                {
                    "side": "AB"[i],
                    "choice": names[i],
                    "strategy": arm.side.strategy,
                    "mode": arm.side.mode,
                    "selection": arm.side.selection,
                    "seed": model.config.seed,
                    "week": np.arange(1, weeks + 1),
                    "year": np.arange(weeks) // WEEKS_PER_YEAR + 1,
                }
            )
            for s, stage in enumerate(STAGE_NAMES):
                frame[f"staff_{stage}"] = counts[:, s].astype(int)
            frame["uptake_pct"] = 100.0 * self.uptake_series(i)
            frame["resistant"] = self.resistant_series(i).astype(int)
            frame["pupils_reached"] = self.pupils_series(i)
            frame["teacher_hours"] = np.cumsum(model.record.hours[:weeks].sum(axis=1))
            n = model.schools.n
            happened: dict[int, list[str]] = {}
            for ev in arm.events:
                happened.setdefault(ev.week, []).append(ev.describe(n).partition(": ")[2])
            frame["events"] = ["; ".join(happened.get(w, [])) for w in range(1, weeks + 1)]
            frames.append(frame)
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    def levers_in_force(self) -> list[tuple[str, str]]:
        """Every lever's display name and value as set up (for the debrief)."""
        out = []
        for lv in LEVERS:
            value, varies = self.controls.lever_value(lv.key)
            out.append(
                (lv.name, format_value(lv, value) + (" (varies by school)" if varies else ""))
            )
        return out


def _more_fewer(diff: float, what: str) -> str:
    """'5 fewer resisting', '120 more pupils reached', or '' when equal."""
    if round(diff) == 0:
        return "as many resisting" if what == "resisting" else ""
    return f"{abs(diff):,.0f} {'more' if diff > 0 else 'fewer'} {what}"
