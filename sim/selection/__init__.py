"""Participant selection: who each school sends to the PLN (MODEL.md §4.4).

A selection policy is a :class:`~sim.selection.base.SelectionPolicy` in a file of its own here,
registered with :func:`sim.registry.register`, with a preset ``configs/selection/<name>.yaml``;
``selection.policy`` chooses it, and its choices are the registered names (declared once).
"""

from typing import Any

from sim.selection.base import SelectionPolicy, select_participants

__all__ = ["SELECTION_POLICIES", "SelectionPolicy", "select_participants"]


def __getattr__(name: str) -> Any:
    if name == "SELECTION_POLICIES":  # the registered policies by name (found on first use)
        from sim import registry

        registry.discover()
        return registry.modules("selection")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
