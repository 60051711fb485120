"""Mobilisation strategies: who is exposed to the innovation back in school, when, and how.

Each strategy is a :class:`~sim.strategies.base.Strategy` in a file of its own here, registered
with :func:`sim.registry.register`; the :class:`~sim.processes.mobilisation.Mobilisation`
process runs the configured one (``strategy.name``). A new strategy is one new file here plus
one preset ``configs/strategy/<name>.yaml``: the registry finds the file, adds its parameters to
the ``strategy`` section and its name to the choices, without an edit elsewhere.
"""

from typing import Any

from sim.strategies.base import Strategy, make_strategy

__all__ = ["STRATEGIES", "Strategy", "make_strategy"]


def __getattr__(name: str) -> Any:
    if name == "STRATEGIES":  # the registered strategies by name (found on first use)
        from sim import registry

        registry.discover()
        return registry.modules("strategy")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
