"""Mobilisation strategies: who is exposed to the innovation back in school, when, and how.

Each strategy is a module of one interface (:class:`~sim.strategies.base.Strategy`) that
registers itself under its name; the :class:`~sim.processes.mobilisation.Mobilisation` process
runs the configured one. A new strategy plugs in by subclassing ``Strategy`` with a
``@register_strategy("name")`` decorator and importing its module here, without editing others.
"""

from sim.strategies import (  # noqa: F401  (register the built-in strategies)
    broadcast,
    none,
    start_small,
    whole_staff,
)
from sim.strategies.base import STRATEGIES, Strategy, make_strategy, register_strategy

__all__ = ["STRATEGIES", "Strategy", "make_strategy", "register_strategy"]
