"""Configuration schema: structured configs for Hydra, with validation, assembled from the modules.

Every parameter is declared once, with :func:`~sim.params.param`, in the module whose mechanism it
drives (a process, a strategy, a mode, a selection policy, or the set-up of schools and
networks), carrying its default, allowed range or choices, unit and source tag.
:func:`sim.registry.sections` collects those declarations into one section per name, and
:class:`Config` is made of them. Hydra uses the dataclasses as the schema (typos and wrong types
are rejected while composing); :meth:`Config.validate` then checks ranges, choices, per-school
list lengths and each module's rules across parameters (:meth:`sim.module.Module.check`), and
raises :class:`ConfigError` with a one-line message naming the key and what is allowed.
``docs/PARAMETERS.md`` is generated from the same metadata.

Per-school parameters (``per_school=True``) accept one value for every school or a list with one
value per school. Assigning a key a section does not declare raises :class:`ConfigError`.
"""

from __future__ import annotations

import copy
import dataclasses
import pickle
import sys
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import numpy as np
from hydra.core.config_store import ConfigStore

from sim import registry
from sim.params import (
    SECTION_KEYS,
    ConfigError,
    Section,
    check_value,
    param,
    per_school,
    scalar_type,
)
from sim.processes.practice import COLLABORATION_DEPTH
from sim.school_year import SESSION_PERIOD_WEEKS

__all__ = [
    "COLLABORATION_DEPTH",
    "cached_copy",
    "Config",
    "ConfigError",
    "SESSION_PERIOD_WEEKS",
    "Section",
    "check_value",
    "iter_params",
    "param",
    "scalar_type",
]

#: Every section, by name, in schema order (assembled from the registered modules).
SECTIONS: dict[str, type] = registry.sections()

# The section classes under their usual names (``sim.config.DecisionConfig``, ...).
globals().update({cls.__name__: cls for cls in SECTIONS.values()})


class _Run(Section):
    """Methods of :class:`Config` (its fields are assembled below)."""

    @property
    def n_schools(self) -> int:
        """Number of schools, set by the length of ``schools.teachers``."""
        teachers = self.schools.teachers  # type: ignore[attr-defined]
        return len(teachers) if isinstance(teachers, list | tuple) else 1

    def validate(self) -> Config:
        """Check every value against its declared range and the cross-parameter rules.

        Per-school values are normalised to lists of length ``n_schools``.

        Returns:
            The validated configuration itself.

        Raises:
            ConfigError: One line naming the offending key and what is allowed.

        """
        _validate_section(self, "", n_schools=None)
        n = self.n_schools
        for name in SECTIONS:
            _validate_section(getattr(self, name), name + ".", n_schools=n)
        self.check_rules()
        from sim.limits import check_memory, check_model_size
        from sim.system import check_system  # a generated system: what its set-up honours

        check_system(self)  # type: ignore[arg-type]
        check_model_size(self)  # the documented maxima, then the memory of one run
        check_memory([self])
        return self  # type: ignore[return-value]

    def check_rules(self) -> None:
        """Check every module's rules across parameters (:meth:`sim.module.Module.check`)."""
        for module in _modules_in_use(self):
            module.check(self)  # type: ignore[arg-type]


_TOP_LEVEL = [
    ("scenario", str, param("new_forest", source="[seed 000]", help="name of the scenario preset")),
    ("seed", int, param(0, low=0, source="-", help="run seed; all random streams derive from it")),
    (
        "years",
        int,
        param(3, low=1, unit="years", source="[seed 004; Hutchings et al. 2012]", help="horizon"),
    ),
    (
        "record",
        str,
        param(
            "schools",
            choices=("schools", "slots"),
            source="-",
            help="what is recorded each week: per-school totals, or every staff slot (memory!)",
        ),
    ),
]

#: A whole run's configuration: scenario name, seed, horizon and one section per module.
Config = dataclasses.make_dataclass(
    "Config",
    _TOP_LEVEL
    + [(name, cls, dataclasses.field(default_factory=cls)) for name, cls in SECTIONS.items()],
    bases=(_Run,),
    namespace={
        "__doc__": "A whole run's configuration: scenario, seed, horizon, one section per module."
    },
    module=__name__,
)

SECTION_KEYS.update({cls: name + "." for name, cls in SECTIONS.items()})

# Hydra config groups: every registered strategy, mode and selection policy is an option of its
# group. Its YAML preset (configs/<group>/<name>.yaml) is that option where there is one; a module
# without a preset yet is stored here, so that ``group=name`` works for every registered module.
for _kind in registry.PLUGGABLE:
    _base = registry.kind_base(_kind)
    for _name in registry.modules(_kind):
        if not (registry.CONFIG_DIR / _kind / f"{_name}.yaml").exists():
            ConfigStore.instance().store(group=_kind, name=_name, node={_base.selector: _name})


#: Prepared copies of configurations (pickled), by ``(kind, repr)``, most recently used last.
_CACHED: OrderedDict[tuple[Any, str], bytes] = OrderedDict()
#: How many prepared configurations a process keeps.
CACHED_COPIES = 64


def cached_copy(kind: Any, config: Any, prepare: Callable[[Any], Any]) -> Any:
    """``prepare(copy.deepcopy(config))``, computed once per distinct configuration.

    ``prepare`` (validating, drawing the schools, setting the no-PLN values) must be a pure
    function of the configuration's values; ``repr`` shows every value (arrays in full), so the
    result is kept per ``(kind, repr(config))`` (:data:`CACHED_COPIES` of them, pickled:
    unpickling is a third of the time of a deep copy) and each call gets its own copy. A batch of runs of one
    configuration (seeds of a sweep cell, the no-PLN run of each arm) prepares it once. A
    configuration that imports its network from files (``network.staff``) is prepared afresh
    every time, as the files may change; a ``prepare`` that raises caches nothing.
    """
    if config.network.staff:
        return prepare(copy.deepcopy(config))
    with np.printoptions(threshold=sys.maxsize):  # an array's repr in full, never "..."
        key = (kind, repr(config))
    blob = _CACHED.get(key)
    if blob is None:
        prepared = prepare(copy.deepcopy(config))
        _CACHED[key] = pickle.dumps(prepared, protocol=pickle.HIGHEST_PROTOCOL)
        while len(_CACHED) > CACHED_COPIES:
            _CACHED.popitem(last=False)
        return prepared
    _CACHED.move_to_end(key)
    return pickle.loads(blob)


def _modules_in_use(config: Any) -> list[Any]:
    """Modules whose rules apply: set-up sections, every process, the chosen plug-ins."""
    chosen = [s for s in SECTIONS.values() if hasattr(s, "check")]
    chosen += list(registry.modules("process").values())
    for kind in ("selection", "strategy", "mode"):
        base = registry.kind_base(kind)
        chosen.append(registry.get(kind, getattr(getattr(config, base.section), base.selector)))
    return chosen


def _validate_section(section: Any, prefix: str, n_schools: int | None) -> None:
    for f in dataclasses.fields(section):
        value = getattr(section, f.name)
        if dataclasses.is_dataclass(value):
            continue
        key = prefix + f.name
        if f.metadata.get("per_school") and isinstance(value, dict):
            from sim.heterogeneity import check_distribution

            if key == "schools.teachers":  # its length sets the number of schools
                raise ConfigError(f"{key} must be a number or a list, not a distribution")
            check_distribution(key, value, f)
            continue
        if f.metadata.get("per_school"):
            value = per_school(key, value, n_schools)
            for v in value:
                check_value(key, v, f)
            setattr(section, f.name, value)
        elif isinstance(value, list):
            for v in value:
                check_value(key, v, f)
        else:
            check_value(key, value, f)


def iter_params(section: Any = None, prefix: str = "") -> Any:
    """Yield ``(key, default, metadata)`` for every parameter of the schema, in order."""
    section = Config() if section is None else section
    for f in dataclasses.fields(section):
        value = getattr(section, f.name)
        if dataclasses.is_dataclass(value):
            yield from iter_params(value, prefix + f.name + ".")
        else:
            yield prefix + f.name, value, f.metadata
