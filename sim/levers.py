"""The per-school leadership levers of a running model, in one place.

:class:`Levers` holds the current value of every per-school ``leadership.*`` parameter (the
levers of ODD §4.4) for every school, and what the processes derive from them: formalisation,
the school's signal, how-to support with a research lead, session period, collaboration hours.
The configuration holds the levers' values at the start of a run; processes read them from
``model.levers`` every week, so a lever changed mid-run
(:meth:`sim.model.KnowledgeMobilisationModel.set_lever`) takes effect from the next week. Every
change bumps :attr:`Levers.version`, which invalidates whatever processes derived from them.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from sim.params import ConfigError, check_value, scalar_type
from sim.processes.leadership import LeadershipConfig
from sim.school_year import SESSION_PERIOD_WEEKS

__all__ = ["LEVER_NAMES", "Levers"]

_FIELDS = {f.name: f for f in dataclasses.fields(LeadershipConfig)}

#: The levers: the per-school parameters of the ``leadership`` section, in declaration order.
LEVER_NAMES: tuple[str, ...] = tuple(n for n, f in _FIELDS.items() if f.metadata["per_school"])

_DTYPES = {
    name: {float: float, int: np.int64, bool: bool}.get(scalar_type(_FIELDS[name]), object)
    for name in LEVER_NAMES
}


class Levers:
    """Current per-school leadership levers (arrays of length ``n_schools``, read-only).

    Args:
        leadership: The validated ``leadership`` section (per-school values as lists).

    Attributes:
        version: Bumped by every change; caches derived from levers compare it.

    """

    def __init__(self, leadership: LeadershipConfig) -> None:
        self._scalars = leadership
        self._values: dict[str, np.ndarray] = {}
        for name in LEVER_NAMES:
            values = np.asarray(getattr(leadership, name), dtype=_DTYPES[name])
            values.flags.writeable = False
            self._values[name] = values
        self.n = len(self._values[LEVER_NAMES[0]])
        self.version = 0
        self._derive()

    def __getattr__(self, name: str) -> Any:
        values = self.__dict__.get("_values", {})
        if name in values:
            return values[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def get(self, name: str) -> np.ndarray:
        """The current values of lever ``name``, one per school."""
        self._check_name(name)
        return self._values[name]

    def set(self, school: int | None, name: str, value: Any) -> None:
        """Set lever ``name`` for one school (its index) or, with ``None``, for every school.

        Raises:
            ConfigError: Unknown lever or school, or a value the configuration would reject.

        """
        if school is not None:
            if isinstance(school, bool) or not isinstance(school, int | np.integer):
                raise ConfigError(f"school must be a school index or None (got {school!r})")
            self.set_many([school], name, [value])
            return
        self._check_name(name)
        self._assign(name, slice(None), [self._checked(name, value)])

    def set_many(self, schools: Any, name: str, values: Any) -> None:
        """Set lever ``name`` for several schools at once, one value each: one change.

        Processes that change a lever in many schools in one week (new priorities, departing
        heads) use this, so the derived values are recomputed once, not once per school.

        Raises:
            ConfigError: Unknown lever or school, or a value the configuration would reject.

        """
        self._check_name(name)
        schools = np.asarray(schools)
        if schools.dtype == bool or not np.issubdtype(schools.dtype, np.integer):
            raise ConfigError(f"schools must be school indices (got {schools.dtype})")
        if len(values) != len(schools):
            raise ConfigError(f"leadership.{name}: {len(values)} values for {len(schools)} schools")
        bad = schools[(schools < 0) | (schools >= self.n)]
        if len(bad):
            raise ConfigError(
                f"school = {int(bad[0])} is out of range; allowed: 0 to {self.n - 1}, or None"
            )
        if len(schools):
            self._assign(name, schools, [self._checked(name, v) for v in values])

    def _checked(self, name: str, value: Any) -> Any:
        if isinstance(value, np.generic):
            value = value.item()
        check_value(f"leadership.{name}", value, _FIELDS[name])
        return value

    def _assign(self, name: str, where: Any, values: list) -> None:
        array = self._values[name].copy()
        array[where] = values if len(values) > 1 else values[0]
        array.flags.writeable = False
        self._values[name] = array
        self.version += 1
        self._derive()

    def _check_name(self, name: str) -> None:
        if name not in self._values:
            raise ConfigError(
                f"unknown lever {name!r}; choose one of: {', '.join(LEVER_NAMES)}"
                + " (other leadership.* keys are the same for every school and fixed for a run)"
            )

    def _derive(self) -> None:
        """What the processes read, derived from the levers (ODD §4.4)."""
        v, lv = self._values, self._scalars
        #: F: formalisation, the share of plan, targets and governors that carry the work.
        self.formalisation = (
            np.asarray(v["in_improvement_plan"], float)
            + np.asarray(v["in_performance_targets"], float)
            + np.asarray(v["governors_engaged"], float)
        ) / 3.0
        involvement = np.asarray(v["involvement"], float)
        priorities = np.asarray(v["plan_priorities"], float)
        #: P_s = F (0.5 + 0.5 L) / (1 + d (priorities - 1)): the school's signal.
        self.signal = (
            self.formalisation
            * (0.5 + 0.5 * involvement)
            / (1.0 + lv.priority_dilution * (priorities - 1))
        )
        #: H: how-to support (a research lead works through knowledge and fit instead,
        #: sim.processes.leadership).
        self.howto = np.asarray(v["howto_support"], float).copy()
        self.collab_hours = np.asarray(v["collab_hours_per_week"], float)
        self.session_period = np.array([SESSION_PERIOD_WEEKS[f] for f in v["session_frequency"]])
        self.release = np.asarray(v["release_for_workshops"], bool)
        self.research_lead = np.asarray(v["research_lead"], bool)
        #: Allocated weekly collaboration hours of a school's research lead.
        self.research_lead_hours = lv.research_lead_hours * self.research_lead
        for name in ("formalisation", "signal", "howto", "collab_hours", "session_period"):
            getattr(self, name).flags.writeable = False
