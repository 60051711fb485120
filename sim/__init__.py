"""Knowledge mobilisation from a Professional Learning Network into schools: an agent-based model.

Quick start::

    import sim
    result = sim.simulate()                       # New Forest, seed 0, three years
    result.summary["uptake_final"]
    result.timeseries.plot(x="week", y="uptake")
    sim.simulate("new_forest", seed=3, overrides=("strategy.name=none",))

The names below are loaded on first use, so importing one module of the package (say
``sim.processes.decision``) imports only what that module needs.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

#: Public names and the modules that define them.
_EXPORTS = {
    "Config": "sim.config",
    "ConfigError": "sim.params",
    "KnowledgeMobilisationModel": "sim.model",
    "RunResult": "sim.results",
    "build_config": "sim.compose",
    "simulate": "sim.results",
}

__all__ = [*_EXPORTS, "__version__"]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
