"""Participant selection: who each school sends to the PLN (MODEL.md §4.4).

A selection policy is a :class:`~sim.selection.base.SelectionPolicy` in a file of its own here,
registered with :func:`sim.registry.register`, with a preset ``configs/selection/<name>.yaml``;
``selection.policy`` chooses it, and its choices are the registered names (declared once).
"""

from sim import registry
from sim.selection.base import SelectionPolicy, select_participants

__all__ = ["SELECTION_POLICIES", "SelectionPolicy", "select_participants"]


#: ``SELECTION_POLICIES``: the registered selection modules by name (the registry's live mapping).
__getattr__ = registry.exporter(__name__, "SELECTION_POLICIES", "selection")
