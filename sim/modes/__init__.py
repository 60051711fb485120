"""Mobilisation modes (seed 003), orthogonal to the rollout strategy.

A mode is a :class:`~sim.modes.base.Mode` in a file of its own here, registered with
:func:`sim.registry.register`, with a preset ``configs/mode/<name>.yaml``. It sets how visible
each person's practice is to colleagues and how deep collaboration is for those the work has
reached; ``mode.name`` chooses it. Built in: ``none``, ``champions``, ``learning_conversations``
and ``both`` (the two together).
"""

from sim import registry
from sim.modes.base import Mode, make_mode

__all__ = ["MODES", "Mode", "make_mode"]


#: ``MODES``: the registered mode modules by name (the registry's live mapping).
__getattr__ = registry.exporter(__name__, "MODES", "mode")
