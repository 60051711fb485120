"""The workshop page's state, independent of the browser: controls, models, monitors.

One :class:`WorkshopSession` per browser session holds one model, or two stepping together on
the same seed in side-by-side mode. Everything the page shows is computed here, so it is tested
without a browser (``tests/test_workshop.py``).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace

import numpy as np

from sim.compose import available_options, build_config
from sim.config import SESSION_PERIOD_WEEKS, ConfigError
from sim.model import KnowledgeMobilisationModel
from sim.modes import MODES
from sim.network_import import NEEDS_FILES
from sim.population import STAGE_NAMES, Stage
from sim.processes.calendar import WEEKS_PER_TERM, WEEKS_PER_YEAR
from sim.selection import SELECTION_POLICIES
from sim.strategies import STRATEGIES

__all__ = ["Controls", "WorkshopSession", "Monitors", "CHOICES"]

#: Allowed values of every choice control (the page offers exactly these).
#: Scenarios and policies that need an imported network's files are not offered.
CHOICES = {
    "scenario": tuple(o for o in available_options("scenario") if o not in NEEDS_FILES["scenario"]),
    "strategy": tuple(sorted(STRATEGIES)),
    "mode": tuple(MODES),
    "selection": tuple(p for p in SELECTION_POLICIES if p not in NEEDS_FILES["selection"]),
    "session_frequency": tuple(SESSION_PERIOD_WEEKS),
}


@dataclass(frozen=True)
class Side:
    """What differs between the two sides of a side-by-side comparison."""

    strategy: str = "whole_staff"
    mode: str = "none"
    selection: str = "mixed"


@dataclass(frozen=True)
class Controls:
    """Every control of the page, with the model defaults."""

    scenario: str = "new_forest"
    a: Side = field(default_factory=Side)
    b: Side = field(default_factory=lambda: Side(strategy="start_small"))
    side_by_side: bool = False
    in_improvement_plan: bool = True
    in_performance_targets: bool = True
    governors_engaged: bool = False
    plan_priorities: int = 3
    release_for_workshops: bool = True
    collab_hours_per_week: float = 1.0
    session_frequency: str = "half_termly"
    distributed_leadership: float = 0.5
    involvement: float = 0.5
    howto_support: float = 0.5
    trust_climate: float = 0.6
    seed: int = 0

    def overrides(self, side: Side) -> list[str]:
        """Model overrides for one side, in the CLI's vocabulary."""
        lv = "leadership."
        return [
            f"strategy={side.strategy}",
            f"mode={side.mode}",
            f"selection={side.selection}",
            f"{lv}in_improvement_plan={str(self.in_improvement_plan).lower()}",
            f"{lv}in_performance_targets={str(self.in_performance_targets).lower()}",
            f"{lv}governors_engaged={str(self.governors_engaged).lower()}",
            f"{lv}plan_priorities={self.plan_priorities}",
            f"{lv}release_for_workshops={str(self.release_for_workshops).lower()}",
            f"{lv}collab_hours_per_week={self.collab_hours_per_week}",
            f"{lv}session_frequency={self.session_frequency}",
            f"{lv}distributed_leadership={self.distributed_leadership}",
            f"{lv}involvement={self.involvement}",
            f"{lv}howto_support={self.howto_support}",
            f"schools.trust_climate={self.trust_climate}",
        ]

    def with_values(self, **changes) -> Controls:
        """A copy with some controls changed (``a_strategy=...`` changes side A's strategy)."""
        sides = {"a": self.a, "b": self.b}
        plain = {}
        for key, value in changes.items():
            prefix, _, name = key.partition("_")
            if prefix in sides and name in ("strategy", "mode", "selection"):
                sides[prefix] = replace(sides[prefix], **{name: value})
            else:
                plain[key] = value
        return replace(self, a=sides["a"], b=sides["b"], **plain)


@dataclass(frozen=True)
class Monitors:
    """The numbers the page shows for one model."""

    uptake_pct: float
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


class WorkshopSession:
    """One browser's models and controls.

    Args:
        controls: Initial controls (defaults: New Forest, whole-staff rollout).

    """

    def __init__(self, controls: Controls | None = None) -> None:
        self.controls = controls or Controls()
        self.error: str | None = None
        #: Seconds the page last took to draw this session, and whether it has drawn the
        #: latest step (the run loop waits for it).
        self.render_seconds = 0.0
        self.drawn = threading.Event()
        self.models: list[KnowledgeMobilisationModel] = []
        self.setup()

    # -- actions -------------------------------------------------------------------------------

    def setup(self, controls: Controls | None = None) -> bool:
        """Build fresh models from the controls; on invalid input keep an error message."""
        controls = controls or self.controls
        try:
            sides = [controls.a, controls.b] if controls.side_by_side else [controls.a]
            models = [
                KnowledgeMobilisationModel(
                    build_config(controls.scenario, controls.seed, controls.overrides(side)),
                    validated=True,
                )
                for side in sides
            ]
        except ConfigError as exc:
            self.error = str(exc)
            return False
        self.controls, self.models, self.error = controls, models, None
        return True

    def reset(self) -> bool:
        """Start again with the current controls."""
        return self.setup(self.controls)

    def step(self, weeks: int = 1) -> None:
        """Advance every model by ``weeks`` weeks (side by side: together)."""
        for _ in range(weeks):
            for model in self.models:
                model.step()

    @property
    def running_possible(self) -> bool:
        """Whether any model can still step."""
        return any(m.running for m in self.models)

    # -- what the page shows ---------------------------------------------------------------------

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
            spread_pct=100.0 * (adopters & others).sum() / max(others.sum(), 1),
            pupils_reached=float(staff.pupils[users].sum()),
            teacher_hours=hours,
            resistant=int(staff.resistant.sum()),
            week=week,
            year=year + 1,
            term=week_of_year // WEEKS_PER_TERM + 1,
        )

    def uptake_series(self, side: int = 0) -> np.ndarray:
        """Uptake share per week so far (weeks 1..now)."""
        model = self.models[side]
        if model.week == 0:
            return np.zeros(0)
        st = model.record.totals().stages.sum(axis=1)
        return (st[:, Stage.ADOPTED] + st[:, Stage.EMBEDDED]) / model.staff.n

    def stage_shares(self, side: int = 0) -> np.ndarray:
        """Share of staff at each stage per week so far: (weeks, stages)."""
        model = self.models[side]
        if model.week == 0:
            return np.zeros((0, len(STAGE_NAMES)))
        return model.record.totals().stages.sum(axis=1) / model.staff.n

    def gap(self) -> float | None:
        """Uptake of side B minus side A now, in percentage points (side by side only)."""
        if len(self.models) < 2:
            return None
        return self.monitors(1).uptake_pct - self.monitors(0).uptake_pct
