"""Mobilisation strategies: who is exposed to the innovation back in school, when, and how.

Each strategy is a :class:`~sim.strategies.base.Strategy` in a file of its own here, registered
with :func:`sim.registry.register`; the :class:`~sim.processes.mobilisation.Mobilisation`
process runs the configured one (``strategy.name``). A new strategy is one new file here plus
one preset ``configs/strategy/<name>.yaml``: the registry finds the file, adds its parameters to
the ``strategy`` section and its name to the choices, without an edit elsewhere.
"""

from sim import registry
from sim.strategies.base import Strategy, make_strategy

__all__ = ["STRATEGIES", "Strategy", "make_strategy"]


#: ``STRATEGIES``: the registered strategy modules by name (the registry's live mapping).
__getattr__ = registry.exporter(__name__, "STRATEGIES", "strategy")
